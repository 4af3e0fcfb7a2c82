package main

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/workflows"
)

// operatorFlags are the flags retry and resolve share.
type operatorFlags struct {
	step, reason, operator string
	// query selects the sagas to act on instead of one ORDER; yes acts on
	// them (without it they are only listed), concurrency at a time.
	query       string
	yes         bool
	concurrency int
	// timeout bounds the wait for one saga's answer.
	timeout time.Duration
}

// operation is one operator action, ready to send to any number of sagas.
type operation struct {
	// verb is the command: retry or resolve.
	verb string
	// request is what every saga is sent: a workflows.RetryRequest or
	// ResolveRequest.
	request any
	send    func(ctx context.Context, tc client.Client, orderID, runID string) (workflows.ActionResult, error)
}

// retryOperation checks retry's flags and builds its operation.
func retryOperation(f operatorFlags, osUser string, operatorSet bool) (operation, error) {
	// The step goes as the operator named it (a step or its compensation),
	// so that the saga's answers use the operator's words.
	req := workflows.RetryRequest{Step: strings.TrimSpace(f.step)}
	if req.Step != "" {
		if _, err := workflows.StepOf(req.Step); err != nil {
			return operation{}, fmt.Errorf("--step: %w", err)
		}
	}
	var err error
	if req.Operator, err = operatorName(f.operator, operatorSet, osUser); err != nil {
		return operation{}, err
	}
	return operation{verb: "retry", request: req,
		send: func(ctx context.Context, tc client.Client, orderID, runID string) (workflows.ActionResult, error) {
			return sagaclient.Retry(ctx, tc, orderID, runID, req)
		}}, nil
}

// resolveOperation checks resolve's flags and builds its operation: a step
// with a compensation, a reason and an operator, before anything is sent.
func resolveOperation(f operatorFlags, osUser string, operatorSet bool) (operation, error) {
	name := strings.TrimSpace(f.step)
	if name == "" {
		return operation{}, fmt.Errorf("--step is required: the step (or its compensation) whose compensation was done by hand, one of %s",
			strings.Join(resolvableSteps(), ", "))
	}
	step, err := workflows.StepOf(name)
	if err != nil {
		return operation{}, fmt.Errorf("--step: %w", err)
	}
	if workflows.Compensations[step] == "" {
		what := "it changes nothing, so it has no compensation"
		if step == workflows.StepConfirmOrder {
			what = "it is the pivot, which has no compensation (a stuck pivot is retried: starter retry ORDER)"
		}
		return operation{}, fmt.Errorf("--step %s cannot be resolved: %s; want one of %s", f.step, what, strings.Join(resolvableSteps(), ", "))
	}
	reason := strings.TrimSpace(f.reason)
	if reason == "" {
		return operation{}, errors.New(`--reason is required: say what was done by hand, such as --reason "refunded by bank transfer, ticket 4711"`)
	}
	req := workflows.ResolveRequest{Step: name, Reason: reason}
	if req.Operator, err = operatorName(f.operator, operatorSet, osUser); err != nil {
		return operation{}, err
	}
	return operation{verb: "resolve", request: req,
		send: func(ctx context.Context, tc client.Client, orderID, runID string) (workflows.ActionResult, error) {
			return sagaclient.Resolve(ctx, tc, orderID, runID, req)
		}}, nil
}

// resolvableSteps are the steps with a compensation, and the compensations.
func resolvableSteps() []string {
	var out []string
	for _, step := range workflows.Steps {
		if c := workflows.Compensations[step]; c != "" {
			out = append(out, step+" ("+c+")")
		}
	}
	return out
}

// operatorName is who acts: --operator when given, else the OS user (USER,
// or the account's name).
func operatorName(flag string, set bool, osUser string) (string, error) {
	if set {
		if name := strings.TrimSpace(flag); name != "" {
			return name, nil
		}
		return "", errors.New("--operator is empty: say who acts, for the saga's audit trail")
	}
	if osUser != "" {
		return osUser, nil
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	return "", errors.New("--operator NAME is needed: the OS user is unknown (USER is not set and the account has no name), and the saga records who acts")
}

// targetOf checks the ORDER argument against --query: exactly one of them.
func targetOf(args []string, f operatorFlags) (order string, err error) {
	switch {
	case len(args) == 1 && f.query != "":
		return "", fmt.Errorf("give ORDER or --query, not both (ORDER is %s)", args[0])
	case len(args) == 0 && f.query == "":
		return "", errors.New("give the ORDER to act on, or --query to select sagas, such as --query 'SagaStatus=\"COMPENSATION_FAILING\"'")
	case f.query == "" && f.yes:
		return "", errors.New("--yes goes with --query: an ORDER is acted on at once")
	case f.concurrency < 1:
		return "", fmt.Errorf("--concurrency is %d, want at least 1", f.concurrency)
	case f.timeout <= 0:
		return "", fmt.Errorf("--timeout is %s, want a positive duration", f.timeout)
	}
	if len(args) == 1 {
		return args[0], nil
	}
	return "", nil
}

// addOperatorFlags adds the flags retry and resolve share.
func addOperatorFlags(cmd *cobra.Command, f *operatorFlags, verb string) {
	fl := cmd.Flags()
	fl.StringVar(&f.operator, "operator", "", "who acts, recorded by the saga (default: the OS user, $USER)")
	fl.StringVar(&f.query, "query", "", "act on every running saga this visibility query matches, instead of one ORDER; lists them, and "+verb+"s them only with --yes")
	fl.BoolVar(&f.yes, "yes", false, "with --query: "+verb+" every saga listed (without it nothing is sent)")
	fl.IntVar(&f.concurrency, "concurrency", 8, "with --query: sagas acted on at once")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up on a saga that has not answered after this long (it needs a worker on its task queue)")
}

func (c *cli) retryCommand() *cobra.Command {
	var f operatorFlags
	cmd := &cobra.Command{
		Use:   "retry (ORDER | --query QUERY) [--step STEP] [--operator NAME]",
		Short: "Run a saga's failing compensation, or its stuck pivot, now instead of after its backoff",
		Long: `retry sends the saga the Workflow Update "retry": its failing compensation
(status COMPENSATION_FAILING) or its stuck pivot ConfirmOrder (PIVOT_STUCK)
runs again now, instead of after what is left of the server's backoff. The
saga records who asked (--operator, default the OS user).

--step names the step or compensation to retry (ChargePayment or
RefundPayment, say); without it, the one that is failing. The saga refuses,
and says why, when it is not failing or stuck, when the step is not the
failing one, or when it has closed; nothing is then written to its history.

--query selects sagas by a visibility query instead of one ORDER (only
running sagas): they are listed with their failing step, and retried only
with --yes, --concurrency at a time, with a report per saga.

Exit status: 0 when every saga was retried (or its step had already
succeeded), 1 when a saga refused or could not be reached, 2 on an error
before anything was sent.`,
		Example: `  starter retry o-1a2b3c4d5e6f
  starter retry o-1a2b3c4d5e6f --step RefundPayment --operator ada
  starter retry --query 'SagaStatus="PIVOT_STUCK"'          # lists them, sends nothing
  starter retry --query 'SagaStatus="PIVOT_STUCK"' --yes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			order, err := targetOf(args, f)
			if err != nil {
				return err
			}
			op, err := retryOperation(f, c.user, cmd.Flags().Changed("operator"))
			if err != nil {
				return err
			}
			return c.operate(cmd.Context(), op, order, f)
		},
	}
	cmd.Flags().StringVar(&f.step, "step", "", "the step or compensation to retry (default: the failing one)")
	addOperatorFlags(cmd, &f, "retry")
	return cmd
}

func (c *cli) resolveCommand() *cobra.Command {
	var f operatorFlags
	cmd := &cobra.Command{
		Use:   "resolve (ORDER | --query QUERY) --step STEP --reason TEXT [--operator NAME]",
		Short: "Declare a saga's failing compensation done by hand; the saga goes on with the others",
		Long: `resolve sends the saga the Workflow Update "resolve": the compensation of
--step, which keeps failing, is declared done by hand, for --reason, by
--operator (default the OS user). The saga stops retrying it, records the
resolution in the step's state, runs the compensations left, and ends
COMPENSATED_BY_HAND.

Nothing in the stores changes: what was done by hand happened elsewhere
(a refund by bank transfer, say). starter verify lists every saga resolved
by hand with its reason, and does not count the effect the compensation
would have undone (the payment still captured, for RefundPayment) as a
breach for that order.

--step (a step or its compensation: ChargePayment or RefundPayment) and
--reason are required, and checked before anything is sent; the pivot
ConfirmOrder has no compensation and cannot be resolved. The saga refuses,
and says why, when it is not failing, when the step's compensation is not the
failing one, or when it has closed; nothing is then written to its history.

--query selects sagas by a visibility query instead of one ORDER (only
running sagas): they are listed with their failing step, and resolved only
with --yes, --concurrency at a time, with a report per saga.

Exit status: 0 when every saga was resolved, 1 when a saga refused or
could not be reached, 2 on an error before anything was sent.`,
		Example: `  starter resolve o-1a2b3c4d5e6f --step RefundPayment --reason "refunded by bank transfer, ticket 4711"
  starter resolve --query 'SagaStatus="COMPENSATION_FAILING"' --step RefundPayment --reason "refunds done by hand, INC-12"
  starter resolve --query 'SagaStatus="COMPENSATION_FAILING"' --step RefundPayment --reason "refunds done by hand, INC-12" --yes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			order, err := targetOf(args, f)
			if err != nil {
				return err
			}
			op, err := resolveOperation(f, c.user, cmd.Flags().Changed("operator"))
			if err != nil {
				return err
			}
			return c.operate(cmd.Context(), op, order, f)
		},
	}
	cmd.Flags().StringVar(&f.step, "step", "", "the step, or its compensation, whose compensation was done by hand (required)")
	cmd.Flags().StringVar(&f.reason, "reason", "", "what was done by hand, for the audit trail (required)")
	addOperatorFlags(cmd, &f, "resolve")
	return cmd
}

// operate dials Temporal and sends op to the saga of order, or to the sagas
// f.query selects.
func (c *cli) operate(ctx context.Context, op operation, order string, f operatorFlags) error {
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	if order == "" {
		return c.operateBulk(ctx, tc, op, f)
	}
	return c.operateOne(ctx, tc, op, order, f.timeout)
}
