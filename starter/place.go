package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/workflows"
)

// memoStartToken is the memo field holding the random token of the start
// request that created a saga: the SDK does not say whether a start with
// WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING created a run or returned the
// running one, the token does.
const memoStartToken = "start_token"

// placed is what starting an order's saga found or did.
type placed struct {
	OrderID    string `json:"order_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	TaskQueue  string `json:"task_queue"`
	// New is false when the order already had a saga, running or closed: it
	// is reported, and no second saga runs.
	New bool `json:"new"`
	// Status is the saga's SagaStatus when it was placed or found.
	Status string `json:"saga_status"`
	// Execution is Temporal's status of the run: Running, Completed, Failed, ...
	Execution string `json:"execution_status"`
	// Outcome is how the saga ended, with --wait.
	Outcome *sagaclient.Outcome `json:"outcome,omitempty"`
	// FailCompensation is the step whose compensation fails until an
	// operator resolves it (--fail-compensation); ResolveCommand resolves
	// it and StatusCommand follows the saga.
	FailCompensation string `json:"fail_compensation,omitempty"`
	ResolveCommand   string `json:"resolve_command,omitempty"`
	StatusCommand    string `json:"status_command,omitempty"`
	// Failing are the saga's failing activities once it is
	// COMPENSATION_FAILING (--fail-compensation with --wait).
	Failing []pendingActivity `json:"failing,omitempty"`
}

// placeFlags are the flags of place.
type placeFlags struct {
	order, customer, region, shipTo string
	items                           []string
	wait                            bool
	failAt, pauseBefore             string
	pause                           time.Duration
	failCompensation                string
}

// input builds and validates the order the flags describe.
func (f placeFlags) input() (workflows.OrderInput, error) {
	in := workflows.OrderInput{OrderID: f.order, CustomerID: f.customer, Region: f.region,
		Demo: workflows.Demo{FailAt: f.failAt, PauseBefore: f.pauseBefore, Pause: f.pause}}
	if in.OrderID == "" {
		in.OrderID = newOrderID("o")
	}
	if (f.pauseBefore == "") != (f.pause == 0) {
		return in, errors.New("--pause-before STEP and --pause DURATION go together: give both or neither")
	}
	if f.failCompensation != "" {
		step, at, err := failCompensation(f.failCompensation, f.failAt)
		if err != nil {
			return in, err
		}
		in.Demo.FailCompensation, in.Demo.FailAt = step, at
	}
	items, err := parseItems(f.items)
	if err != nil {
		return in, err
	}
	in.Items = items
	if f.shipTo != "" {
		if in.ShipTo, err = parseShipTo(f.shipTo); err != nil {
			return in, err
		}
	} else {
		in.ShipTo = defaultShipTo[f.region] // unknown region: Validate names it
	}
	in, err = workflows.Validate(in)
	if err != nil {
		return in, fmt.Errorf("order %s is invalid: %w", in.OrderID, err)
	}
	return in, nil
}

func (c *cli) placeCommand() *cobra.Command {
	var f placeFlags
	cmd := &cobra.Command{
		Use:   "place",
		Short: "Place one order: start its saga, and with --wait print how it ended",
		Long: `place validates an order and starts its saga (workflow id order-<order>) on
the region's task queue (orders-<region>). Starting an order that already has
a saga, running or closed, reports that saga and never runs a second one.

With --wait it waits for the outcome and prints the final state: status,
failed step, error and the compensations that ran. Exit status 1 then means
the order did not complete.

--fail-at and --pause-before/--pause shape the run for demonstrations: a
business failure forced at a step, or a pause before a step, long enough to
cancel the saga mid-flight.

--fail-compensation STEP (a step or its compensation: ChargePayment or
RefundPayment) makes that step's compensation fail at every attempt until an
operator resolves it; without --fail-at the saga fails at ConfirmOrder, so
that every compensation runs. The saga then stays COMPENSATION_FAILING, with
the server retrying the compensation, and never ends by itself: place prints
the starter resolve command that ends it. With --wait, place waits until the
saga is COMPENSATION_FAILING (exit 0), not for an outcome.`,
		Example: `  starter place --customer alice --item SKU-1:2 --item SKU-2:1 --wait
  starter place --region us --ship-to "John Doe;1 Main Street;Springfield;62701;US"
  starter place --fail-at CreateShipment --wait
  starter place --fail-compensation RefundPayment --wait
  starter place --order o-42 --pause-before CreateShipment --pause 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := f.input()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			tc, err := c.dial(ctx)
			if err != nil {
				return err
			}
			defer tc.Close()
			p, err := startSaga(ctx, tc, c.dc, in, c.taskQueue(in.Region))
			if err != nil {
				return err
			}
			if p.Execution == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING.String() {
				c.warnWithoutWorker(ctx, tc, p.TaskQueue)
			}
			if in.Demo.FailCompensation != "" && p.New {
				return c.placeFailingCompensation(ctx, tc, p, in, f.wait)
			}
			if !f.wait {
				return c.print(p, func(w io.Writer) { writePlaced(w, p) })
			}
			if !c.json {
				writePlaced(c.out, p)
				fmt.Fprintln(c.out, "waiting for the outcome...")
			}
			o, err := sagaclient.Wait(ctx, tc, p.OrderID, p.RunID)
			if err != nil {
				return err
			}
			p.Outcome = &o
			if err := c.print(p, func(w io.Writer) { writeOutcome(w, o) }); err != nil {
				return err
			}
			if o.Kind != sagaclient.Completed {
				return failedResult("order %s did not complete: it ended %s", o.OrderID, o.Kind)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.order, "order", "", "order id (default: a fresh one, o-<random>)")
	fl.StringVar(&f.customer, "customer", "alice", "customer id (an account: alice, bob, carol, cust-001 to cust-100)")
	fl.StringSliceVar(&f.items, "item", []string{"SKU-1:1"}, "an item as SKU:QTY; repeat the flag (or separate with commas) for several")
	fl.StringVar(&f.region, "region", "eu", "region, one of "+strings.Join(workflows.Regions, ", "))
	fl.StringVar(&f.shipTo, "ship-to", "", `destination as "`+shipToForm+`" (default: the region's demo address)`)
	fl.BoolVar(&f.wait, "wait", false, "wait for the outcome and print the final state")
	fl.StringVar(&f.failAt, "fail-at", "", "force a business failure at this step (demo): one of "+strings.Join(workflows.ForceableSteps, ", "))
	fl.StringVar(&f.pauseBefore, "pause-before", "", "pause before this step (demo), to cancel mid-flight; needs --pause")
	fl.DurationVar(&f.pause, "pause", 0, "how long --pause-before pauses, such as 30s or 1m")
	fl.StringVar(&f.failCompensation, "fail-compensation", "",
		"make this step's compensation fail until an operator resolves it (demo): a step or its compensation, not PriceOrder nor the pivot; without --fail-at the saga fails at ConfirmOrder, so that every compensation runs")
	return cmd
}

// warnWithoutWorker warns on stderr when no worker polls taskQueue: the
// saga waits until one does.
func (c *cli) warnWithoutWorker(ctx context.Context, tc client.Client, taskQueue string) {
	n, err := livePollers(ctx, tc, taskQueue)
	switch {
	case err != nil:
		fmt.Fprintf(c.errOut, "starter: warning: cannot tell whether a worker polls %s: %v\n", taskQueue, err)
	case n == 0:
		fmt.Fprintf(c.errOut, "starter: warning: no worker polls %s, so the saga waits until one does; %s\n", taskQueue, workerHint)
	}
}

// startSaga starts the saga of a validated order, or finds the one the order
// already has: a running saga is returned by the conflict policy, a closed
// one is refused by the reuse policy and reported. The search attributes,
// the summary and the details the Web UI shows are set at start
// (sagaclient.StartOptions), so the order is listed at once. dc is the
// client's data converter, which the memo is decoded with; queue the task
// queue the saga runs on.
func startSaga(ctx context.Context, tc client.Client, dc converter.DataConverter, in workflows.OrderInput, queue string) (placed, error) {
	token := randomHex(16)
	opts, in := sagaclient.StartOptions(in)
	opts.TaskQueue = queue
	opts.Memo = map[string]any{memoStartToken: token}
	id := opts.ID
	var runID string
	run, err := tc.ExecuteWorkflow(ctx, opts, workflows.OrderSaga, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &already):
		runID = already.RunId // closed, and the reuse policy refused a second run
	case err != nil:
		return placed{}, fmt.Errorf("start the saga of order %s: %w", in.OrderID, err)
	default:
		runID = run.GetRunID()
	}
	d, err := tc.DescribeWorkflowExecution(ctx, id, runID)
	if err != nil {
		return placed{}, fmt.Errorf("describe the saga of order %s: %w", in.OrderID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	return placed{
		OrderID:    in.OrderID,
		WorkflowID: id,
		RunID:      runID,
		TaskQueue:  info.GetTaskQueue(),
		New:        memoString(dc, info.GetMemo(), memoStartToken) == token,
		Status:     keyword(info.GetSearchAttributes(), workflows.AttrSagaStatus),
		Execution:  info.GetStatus().String(),
	}, nil
}

// writePlaced prints what place did, in the manner of `temporal workflow start`.
func writePlaced(w io.Writer, p placed) {
	if p.New {
		fmt.Fprintf(w, "started the saga of order %s\n", p.OrderID)
	} else {
		fmt.Fprintf(w, "order %s already has a saga: reporting it, nothing started\n", p.OrderID)
	}
	kv := newKV(w)
	kv.add("workflow id", p.WorkflowID)
	kv.add("run id", p.RunID)
	kv.add("task queue", p.TaskQueue)
	if !p.New {
		kv.add("status", fmt.Sprintf("%s (execution %s)", orDash(p.Status), p.Execution))
	}
	kv.flush()
}
