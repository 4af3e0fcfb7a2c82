package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/workflows"
)

// demoPause is how long the cancelled demo order pauses before
// CreateShipment; it is cancelled as soon as it is seen paused.
const demoPause = 20 * time.Second

// demoOrder is one order of the demo and how it ended.
type demoOrder struct {
	placedOrder
	Compensations []string `json:"compensations_run"`

	cancel bool
	runID  string
	// failing are the failing activities of a saga left COMPENSATION_FAILING.
	failing []pendingActivity
}

// demoReport is what demo reports.
type demoReport struct {
	Seed       seedResult   `json:"seed"`
	Orders     []demoOrder  `json:"orders"`
	Unexpected int          `json:"unexpected"`
	Verify     verifyReport `json:"verify"`
	Links      *webLinks    `json:"web_ui,omitempty"`
	CLI        string       `json:"temporal_cli"`
	// Operate is what to do about the order whose compensation fails until
	// an operator acts.
	Operate *demoOperate `json:"operate,omitempty"`
}

// demoOperate is the demo order left COMPENSATION_FAILING, and the
// commands that look at it and resolve it.
type demoOperate struct {
	OrderID        string            `json:"order_id"`
	Failing        []pendingActivity `json:"failing"`
	StatusCommand  string            `json:"status_command"`
	ResolveCommand string            `json:"resolve_command"`
}

func (c *cli) demoCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show every saga outcome: seed, place one order per scenario, wait, verify the stores",
		Long: `demo is what "make demo" runs once the stack is up. It needs a worker
(go run ./worker) and checks that one polls each region's task queue. It
seeds the demo data, then places one order per scenario, with fresh ids:
two successes (different regions), out of stock, insufficient funds, an
unsupported destination, a failure forced at CreateShipment (every step
compensated), a cancellation mid-flight (paused before CreateShipment, then
cancelled), and a compensation that fails until an operator acts
(RefundPayment fails at every attempt after a failure at ConfirmOrder). It
waits for every outcome, except the last: that saga does not end by itself,
so the demo waits until it is COMPENSATION_FAILING and prints the starter
status and starter resolve commands for it. It prints the outcomes, runs the
invariant checker (as verify does; the saga still compensating counts as in
flight) and prints Web UI links and a Temporal CLI command to look at the
sagas.

Exit status 1 when an order did not reach its expected outcome or the
checker finds a breach.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return c.demo(ctx)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Minute, "give up when the demo has not ended after this long")
	return cmd
}

func (c *cli) demo(ctx context.Context) error {
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := awaitWorkers(ctx, tc, c.taskQueues(), 5*time.Second); err != nil {
		return err
	}
	var rep demoReport
	if rep.Seed, err = c.seed(ctx); err != nil {
		return err
	}
	c.say("%s\n", rep.Seed)

	prefix := "demo-" + time.Now().UTC().Format("20060102-150405")
	rep.Orders = planDemo(prefix)
	for i := range rep.Orders {
		o := &rep.Orders[i]
		p, err := startSaga(ctx, tc, c.dc, o.in, c.taskQueue(o.in.Region))
		if err != nil {
			return err
		}
		if !p.New {
			return fmt.Errorf("order id %s is taken by an earlier saga: run the demo again", o.OrderID)
		}
		o.runID = p.RunID
	}
	c.say("placed %d orders, %s-1 to %s-%d; waiting for their outcomes...\n", len(rep.Orders), prefix, prefix, len(rep.Orders))
	if err := c.waitDemo(ctx, tc, rep.Orders); err != nil {
		return err
	}
	for _, o := range rep.Orders {
		if o.Unexpected != "" {
			rep.Unexpected++
		}
	}
	for _, o := range rep.Orders {
		if o.in.Demo.FailCompensation != "" && o.Outcome == stillFailing {
			rep.Operate = &demoOperate{OrderID: o.OrderID, Failing: o.failing,
				StatusCommand: statusCommand(o.OrderID), ResolveCommand: resolveCommand(o.OrderID, o.in.Demo.FailCompensation)}
		}
	}
	if rep.Verify, err = c.verify(ctx, tc, invariants.Options{}); err != nil {
		return err
	}
	rep.Links = c.webLinks(prefix)
	rep.CLI = temporalCLI(c.cfg) + ` workflow list --query 'SagaStatus="COMPENSATED"'`
	if err := c.print(rep, func(w io.Writer) { writeDemo(w, rep) }); err != nil {
		return err
	}
	var problems []string
	if rep.Unexpected > 0 {
		problems = append(problems, fmt.Sprintf("%d order(s) did not reach their expected outcome", rep.Unexpected))
	}
	if n := rep.Verify.Breaches(); n > 0 {
		problems = append(problems, fmt.Sprintf("the invariant checker found %d breach(es)", n))
	}
	if len(problems) > 0 {
		return failedResult("demo failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// say prints progress text, except under --json.
func (c *cli) say(format string, args ...any) {
	if !c.json {
		fmt.Fprintf(c.out, format, args...)
	}
}

// planDemo lays out the demo's orders, one per scenario, ids prefix-N.
func planDemo(prefix string) []demoOrder {
	type spec struct {
		region, customer string
		items            []services.Item
		shape            func(*workflows.OrderInput) scenario
		cancel           bool
	}
	specs := []spec{
		{"eu", "alice", []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 1}}, succeed, false},
		{"us", "bob", []services.Item{{SKU: "SKU-4", Quantity: 3}}, succeed, false},
		{"apac", "alice", nil, outOfStock, false},
		{"eu", "carol", nil, insufficientFunds, false},
		{"us", "bob", []services.Item{{SKU: "SKU-1", Quantity: 1}}, unsupportedDestination, false},
		{"eu", "alice", []services.Item{{SKU: "SKU-2", Quantity: 1}}, func(in *workflows.OrderInput) scenario {
			return forcedFailure(in, workflows.StepConfirmOrder)
		}, false},
		{"apac", "bob", []services.Item{{SKU: "SKU-3", Quantity: 1}}, func(in *workflows.OrderInput) scenario {
			in.Demo = workflows.Demo{PauseBefore: workflows.StepCreateShipment, Pause: demoPause}
			return scenario{Name: "cancelled mid-flight", Want: sagaclient.Cancelled, WantStep: workflows.StepCreateShipment}
		}, true},
		{"eu", "bob", []services.Item{{SKU: "SKU-4", Quantity: 2}}, compensationFailing, false},
	}
	orders := make([]demoOrder, len(specs))
	for i, s := range specs {
		in := workflows.OrderInput{OrderID: fmt.Sprintf("%s-%d", prefix, i+1), CustomerID: s.customer, Region: s.region,
			Items: s.items, ShipTo: defaultShipTo[s.region]}
		sc := s.shape(&in)
		orders[i] = demoOrder{placedOrder: placedOrder{OrderID: in.OrderID, Region: in.Region, Customer: in.CustomerID, scenario: sc, in: in}, cancel: s.cancel}
	}
	return orders
}

// waitDemo waits for every demo order's outcome, cancelling the one meant
// to be cancelled once it is paused.
func (c *cli) waitDemo(ctx context.Context, tc client.Client, orders []demoOrder) error {
	var wg sync.WaitGroup
	errs := make([]error, len(orders))
	for i := range orders {
		o := &orders[i]
		wg.Go(func() {
			if o.cancel {
				if err := c.cancelWhenPaused(ctx, tc, o); err != nil {
					errs[i] = err
					return
				}
			}
			if o.in.Demo.FailCompensation != "" {
				errs[i] = c.awaitFailing(ctx, tc, o)
				return
			}
			out, err := sagaclient.Wait(ctx, tc, o.OrderID, o.runID)
			if err != nil {
				errs[i] = err
				return
			}
			o.record(out)
			o.Compensations = out.State.CompensationsRun()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// awaitFailing waits until the saga of an order whose compensation fails
// until an operator acts is COMPENSATION_FAILING, and records its state; it
// does not wait for an end that will not come.
func (c *cli) awaitFailing(ctx context.Context, tc client.Client, o *demoOrder) error {
	d, err := awaitSagaStatus(ctx, tc, o.OrderID, workflows.StatusCompensationFailing, failingWait)
	if err != nil {
		return err
	}
	o.failing = failing(pendingActivities(d))
	s, err := queryState(ctx, tc, o.OrderID, o.runID, c.taskQueue(o.Region))
	if err != nil {
		return err
	}
	o.recordRunning(s)
	o.Compensations = s.CompensationsRun()
	return nil
}

// cancelWhenPaused waits until the order's saga has reserved and charged and
// pauses before CreateShipment, then cancels it.
func (c *cli) cancelWhenPaused(ctx context.Context, tc client.Client, o *demoOrder) error {
	deadline := time.Now().Add(demoPause)
	for time.Now().Before(deadline) {
		s, err := queryState(ctx, tc, o.OrderID, o.runID, c.taskQueue(o.Region))
		if err != nil {
			return err
		}
		if s.Status != workflows.StatusRunning {
			return nil // ended early: the outcome check reports it
		}
		if paused(s) {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for order %s to pause: %w", o.OrderID, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := tc.CancelWorkflow(ctx, workflows.WorkflowID(o.OrderID), o.runID); err != nil {
		return fmt.Errorf("cancel order %s: %w", o.OrderID, err)
	}
	c.say("cancelled order %s while it paused before %s\n", o.OrderID, workflows.StepCreateShipment)
	return nil
}

// paused reports whether a saga has reserved and charged and not yet begun
// CreateShipment, which is where a demo pause holds it.
func paused(s workflows.SagaState) bool {
	done := func(step string) bool { st := s.Step(step); return st != nil && st.Status == workflows.StepDone }
	ship := s.Step(workflows.StepCreateShipment)
	return done(workflows.StepReserveStock) && done(workflows.StepChargePayment) && ship != nil && ship.Status == workflows.StepPending
}

// webLinks are Web UI pages that list sagas.
type webLinks struct {
	// Demo lists this demo's sagas.
	Demo string `json:"demo_sagas"`
	// Compensated lists every compensated saga.
	Compensated string `json:"compensated_sagas"`
	// Failing lists the sagas whose compensation keeps failing.
	Failing string `json:"compensation_failing_sagas"`
}

// webLinks returns the Web UI pages for the demo whose ids start with
// prefix (nil when the UI's address is unknown).
func (c *cli) webLinks(prefix string) *webLinks {
	if c.cfg.TemporalUIURL == "" {
		return nil
	}
	link := func(query string) string {
		return strings.TrimRight(c.cfg.TemporalUIURL, "/") + "/namespaces/" + url.PathEscape(c.cfg.TemporalNamespace) +
			"/workflows?query=" + strings.ReplaceAll(url.QueryEscape(query), "+", "%20")
	}
	return &webLinks{
		Demo:        link(fmt.Sprintf(`OrderId STARTS_WITH "%s-"`, prefix)),
		Compensated: link(`SagaStatus="COMPENSATED"`),
		Failing:     link(`SagaStatus="COMPENSATION_FAILING"`),
	}
}

// temporalCLI is how to run the Temporal CLI here: "temporal" when it is on
// the PATH, else the one `make up` built, with the server's address and
// namespace when they are not the CLI's defaults.
func temporalCLI(cfg config.Config) string {
	bin := "temporal"
	if _, err := exec.LookPath(bin); err != nil {
		if root, err := config.RepoRoot(); err == nil {
			bin = filepath.Join(root, ".tools", "bin", "temporal")
			if wd, err := os.Getwd(); err == nil {
				if rel, err := filepath.Rel(wd, bin); err == nil && !strings.HasPrefix(rel, "..") {
					bin = "./" + rel
				}
			}
		}
	}
	if cfg.TemporalAddress != "" && cfg.TemporalAddress != "127.0.0.1:7233" && cfg.TemporalAddress != "localhost:7233" {
		bin += " --address " + cfg.TemporalAddress
	}
	if cfg.TemporalNamespace != "" && cfg.TemporalNamespace != "default" {
		bin += " --namespace " + cfg.TemporalNamespace
	}
	return bin
}

func writeDemo(w io.Writer, rep demoReport) {
	fmt.Fprintln(w)
	t := newTable(w, "ORDER", "REGION", "CUSTOMER", "SCENARIO", "OUTCOME", "FAILED STEP", "COMPENSATIONS RUN", "CHECK")
	for _, o := range rep.Orders {
		check := "ok"
		if o.Unexpected != "" {
			check = "UNEXPECTED: " + o.Unexpected
		}
		t.row(o.OrderID, o.Region, o.Customer, o.Name, o.Outcome, o.FailedStep, strings.Join(o.Compensations, ", "), check)
	}
	t.flush()
	fmt.Fprintln(w, "\ninvariant checker (as `starter verify`, which also lists the sagas resolved by hand):")
	fmt.Fprint(w, rep.Verify.Report.String())
	fmt.Fprintf(w, "sagas resolved by hand (%s): %d\n", workflows.StatusCompensatedByHand, len(rep.Verify.Resolved))
	if rep.Links != nil {
		fmt.Fprintln(w, "\nWeb UI:")
		kv := newKV(w)
		kv.add("this demo's sagas", rep.Links.Demo)
		kv.add("compensated sagas", rep.Links.Compensated)
		kv.add("failing compensations", rep.Links.Failing)
		kv.flush()
	}
	if op := rep.Operate; op != nil {
		fmt.Fprintf(w, "\norder %s is %s and stays so until an operator acts: %s\n", op.OrderID,
			workflows.StatusCompensationFailing, orDash(failingText(op.Failing, 100)))
		kv := newKV(w)
		kv.add("see why", op.StatusCommand)
		kv.add("resolve it", op.ResolveCommand)
		kv.flush()
	}
	fmt.Fprintf(w, "\nTemporal CLI:\n  %s\n", rep.CLI)
}
