package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/logging"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/internal/workers"
	"github.com/sagaflow/sagaflow/workflows"
)

// e2e runs starter commands in-process against the real stack, with an
// in-process worker pool on the real stores.
type e2e struct {
	t   *testing.T
	ctx context.Context
	cfg config.Config
	tc  client.Client
}

func newE2E(t *testing.T) *e2e {
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	st, err := stores.Open(ctx, cfg, stores.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	z, err := logging.New(logging.FormatJSON, "error", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Logger: logging.Temporal(z), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	acts := &activities.Activities{Inventory: st.Inventory, Payments: st.Payments, Orders: st.Orders, Shipping: st.Shipping}
	queues, err := workers.QueuesFor("", workflows.Regions)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := workers.Start(tc, acts, queues, workers.Options{StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Stop)
	return &e2e{t: t, ctx: ctx, cfg: cfg, tc: tc}
}

// run executes a starter command line in-process and returns its output.
func (e *e2e) run(args ...string) (string, error) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{cfg: e.cfg, out: &out, errOut: &errOut}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(e.ctx)
	if errOut.Len() > 0 {
		e.t.Logf("starter %s: stderr:\n%s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), err
}

// runJSON runs a command with --json and decodes its output into v.
func (e *e2e) runJSON(v any, args ...string) error {
	e.t.Helper()
	out, err := e.run(append(args, "--json")...)
	if out != "" {
		if jerr := json.Unmarshal([]byte(out), v); jerr != nil {
			e.t.Fatalf("starter %s: output is not JSON: %v\n%s", strings.Join(args, " "), jerr, out)
		}
	}
	return err
}

// eventually polls cond every 200ms until it holds or timeout passes.
func (e *e2e) eventually(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within %s", what, timeout)
		}
		select {
		case <-e.ctx.Done():
			e.t.Fatalf("%s: %v", what, e.ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestEndToEnd(t *testing.T) {
	e := newE2E(t)
	if out, err := e.run("seed"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	order := testenv.ID("e2e")

	t.Run("place --wait completes", func(t *testing.T) {
		var p placed
		if err := e.runJSON(&p, "place", "--order", order, "--customer", "alice", "--item", "SKU-1:2", "--region", "us", "--wait"); err != nil {
			t.Fatal(err)
		}
		if !p.New || p.TaskQueue != "orders-us" || p.Outcome == nil || p.Outcome.Kind != sagaclient.Completed ||
			p.Outcome.State.Status != workflows.StatusCompleted || p.Outcome.State.Total != 2500 {
			t.Fatalf("placed %+v, outcome %+v", p, p.Outcome)
		}
	})

	t.Run("placing again reports the existing saga", func(t *testing.T) {
		before, err := e.tc.DescribeWorkflowExecution(e.ctx, workflows.WorkflowID(order), "")
		if err != nil {
			t.Fatal(err)
		}
		var p placed
		if err := e.runJSON(&p, "place", "--order", order, "--customer", "bob", "--item", "SKU-2:1"); err != nil {
			t.Fatal(err)
		}
		after, err := e.tc.DescribeWorkflowExecution(e.ctx, workflows.WorkflowID(order), "")
		if err != nil {
			t.Fatal(err)
		}
		runID := before.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		if p.New || p.RunID != runID || after.GetWorkflowExecutionInfo().GetExecution().GetRunId() != runID ||
			p.Status != string(workflows.StatusCompleted) {
			t.Fatalf("second place: %+v; run %s before, %s after", p, runID, after.GetWorkflowExecutionInfo().GetExecution().GetRunId())
		}
		out, err := e.run("place", "--order", order)
		if err != nil || !strings.Contains(out, "already has a saga") {
			t.Errorf("text output: %v\n%s", err, out)
		}
	})

	t.Run("a malformed --item starts nothing", func(t *testing.T) {
		id := testenv.ID("e2e-bad")
		_, err := e.run("place", "--order", id, "--item", "SKU-1")
		if err == nil || !strings.Contains(err.Error(), `--item "SKU-1"`) || !strings.Contains(err.Error(), "SKU:QTY") {
			t.Fatalf("error = %v; want one naming the value and the form", err)
		}
		_, err = e.tc.DescribeWorkflowExecution(e.ctx, workflows.WorkflowID(id), "")
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			t.Fatalf("describe after a refused place: %v; want NotFound", err)
		}
	})

	t.Run("status", func(t *testing.T) {
		var s sagaStatus
		if err := e.runJSON(&s, "status", order); err != nil {
			t.Fatal(err)
		}
		if s.State.Status != workflows.StatusCompleted || len(s.State.Steps) != len(workflows.Steps) || s.Outcome != sagaclient.Completed {
			t.Fatalf("status %+v", s)
		}
		for _, st := range s.State.Steps {
			if st.Status != workflows.StepDone || st.Attempts < 1 {
				t.Errorf("step %+v", st)
			}
		}
		out, err := e.run("status", order)
		if err != nil || !strings.Contains(out, "CreateShipment") || !strings.Contains(out, "COMPLETED") {
			t.Errorf("text status: %v\n%s", err, out)
		}
		if _, err := e.run("status", "no-such-order-"+order); err == nil || !strings.Contains(err.Error(), "no saga for order no-such-order-") {
			t.Errorf("unknown order: %v", err)
		}
	})

	t.Run("list --status COMPLETED includes the order", func(t *testing.T) {
		e.eventually("the order listed as COMPLETED", 30*time.Second, func() bool {
			var sagas []listed
			if err := e.runJSON(&sagas, "list", "--status", "COMPLETED", "--customer", "alice", "--limit", "1000"); err != nil {
				t.Fatal(err)
			}
			return slices.ContainsFunc(sagas, func(l listed) bool { return l.OrderID == order && l.Status == "COMPLETED" })
		})
		if _, err := e.run("list", "--status", "DONE"); err == nil || !strings.Contains(err.Error(), "not a saga status") {
			t.Errorf("bad status: %v", err)
		}
	})

	t.Run("cancel a paused order", func(t *testing.T) {
		id := testenv.ID("e2e-cancel")
		var p placed
		if err := e.runJSON(&p, "place", "--order", id, "--pause-before", "CreateShipment", "--pause", "1m"); err != nil || !p.New {
			t.Fatalf("place: %+v, %v", p, err)
		}
		e.eventually("the saga paused before CreateShipment", 30*time.Second, func() bool {
			var s sagaStatus
			if err := e.runJSON(&s, "status", id); err != nil {
				t.Fatal(err)
			}
			return paused(s.State)
		})
		var r cancelled
		if err := e.runJSON(&r, "cancel", id, "--wait"); err != nil {
			t.Fatal(err)
		}
		if !r.Requested || r.Outcome == nil || r.Outcome.Kind != sagaclient.Cancelled || r.Outcome.State.Status != workflows.StatusCompensated ||
			r.Outcome.State.FailedStep != workflows.StepCreateShipment {
			t.Fatalf("cancel: %+v, outcome %+v", r, r.Outcome)
		}
		for _, comp := range []string{"CancelOrder", "ReleaseStock", "RefundPayment"} {
			if !slices.Contains(r.Outcome.State.CompensationsRun(), comp) {
				t.Errorf("compensations run %v lack %s", r.Outcome.State.CompensationsRun(), comp)
			}
		}
		out, err := e.run("cancel", id)
		if err != nil || !strings.Contains(out, "already closed") {
			t.Errorf("cancelling again: %v\n%s", err, out)
		}
		if _, err := e.run("cancel", "no-such-order-"+id); err == nil || !strings.Contains(err.Error(), "no saga for order") {
			t.Errorf("unknown order: %v", err)
		}
	})

	t.Run("batch", func(t *testing.T) {
		var s struct {
			batchSummary
			Latency map[string]float64 `json:"latency"` // written in milliseconds
		}
		if err := e.runJSON(&s, "batch", "--count", "20", "--concurrency", "8", "--seed", "1"); err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range s.Outcomes {
			total += n
		}
		if s.Count != 20 || total != 20 || len(s.Orders) != 20 || s.Unexpected != 0 {
			t.Fatalf("summary %+v", s.batchSummary)
		}
		if l := s.Latency; l["max_ms"] <= 0 || l["p50_ms"] > l["p95_ms"] || l["p95_ms"] > l["p99_ms"] || l["p99_ms"] > l["max_ms"] {
			t.Errorf("latency %v", l)
		}
		for _, o := range s.Orders {
			if !slices.Contains([]string{sagaclient.Completed, sagaclient.Compensated, sagaclient.Rejected}, o.Outcome) || !terminal(o.Status) {
				t.Errorf("order %s ended %s (%s)", o.OrderID, o.Outcome, o.Status)
			}
		}
	})
}

// TestWithoutWorker checks what a user sees when no worker serves a task
// queue: the demo's check and the state query both say how to start one.
func TestWithoutWorker(t *testing.T) {
	cfg := testenv.Config(t, config.EnvTemporalAddress)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := &cli{cfg: cfg, out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	tc, err := c.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()

	nowhere := testenv.ID("nowhere")
	err = awaitWorkers(ctx, tc, []string{workflows.TaskQueue(nowhere)}, time.Second)
	if err == nil || !strings.Contains(err.Error(), workflows.TaskQueue(nowhere)) || !strings.Contains(err.Error(), "go run ./worker") {
		t.Errorf("awaitWorkers on an unserved queue: %v", err)
	}

	// A saga on a task queue no worker polls cannot answer its query.
	in := workflows.OrderInput{OrderID: testenv.ID("e2e-noworker"), CustomerID: "alice", Region: "eu"}
	id := workflows.WorkflowID(in.OrderID)
	if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue(nowhere)}, workflows.OrderSaga, in); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tc.TerminateWorkflow(context.Background(), id, "", "test cleanup"); err != nil {
			t.Errorf("terminate %s: %v", id, err)
		}
	}()
	start := time.Now()
	_, err = readStatus(ctx, tc, in.OrderID)
	if err == nil || !strings.Contains(err.Error(), "no worker polls the task queue "+workflows.TaskQueue(nowhere)) ||
		!strings.Contains(err.Error(), "go run ./worker") {
		t.Errorf("status without a worker: %v", err)
	}
	if d := time.Since(start); d > queryTimeout+5*time.Second {
		t.Errorf("status took %s", d)
	}
}

// TestUnreachableServer checks that a command names the server it cannot reach.
func TestUnreachableServer(t *testing.T) {
	cfg := config.Config{TemporalAddress: "127.0.0.1:1", TemporalNamespace: "default"}
	c := &cli{cfg: cfg, out: &bytes.Buffer{}, errOut: &bytes.Buffer{}}
	root := c.rootCommand()
	root.SetArgs([]string{"status", "o-1"})
	err := root.ExecuteContext(t.Context())
	if err == nil || !strings.Contains(err.Error(), "cannot reach Temporal at 127.0.0.1:1") {
		t.Errorf("error = %v", err)
	}
}
