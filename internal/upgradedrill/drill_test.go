package upgradedrill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// The longest the drill waits for one condition.
const waitLimit = 30 * time.Second

// TestUpgradeDrill replaces a worker of BuildA by one of BuildB under
// sagas parked mid-flight, on the local stack's Temporal server, and checks
// that each saga ends as the single-gate rule says: a saga runs the design
// of the build that started it from start to end.
//
//  1. mid-step (Ship running on A when A stops): A's path, Ship redone
//     and Confirm run on B;
//  2. mid-compensation-retry (Ship refused, Refund failing and retried by
//     the server when A stops): compensated, each compensation once, in
//     reverse order of A's registration;
//  3. paused before Ship: A's path to the end, without B's Check, though
//     it reaches that point live on B;
//  4. started on B: B's path throughout, its version recorded.
//
// Build B then replays all four histories. Its sub-tests show that the
// drill fails when build B ships its changes without the gate, and that
// build A cannot come back once B has started sagas.
func TestUpgradeDrill(t *testing.T) {
	d := newDrill(t)
	a := d.worker(t, "A", BuildA, worker.BlockWorkflow)

	// Park three sagas on build A.
	midStep := d.start(t, "mid-step", &plan{blockShip: true}, Input{})
	comp := &plan{refuseShip: true}
	comp.refundFails.Store(true)
	midComp := d.start(t, "mid-compensation", comp, Input{})
	paused := d.start(t, "paused", &plan{}, Input{PauseBeforeShip: true})

	waitUntil(t, d.ctx, "the mid-step saga's Ship to block", func() (bool, error) {
		select {
		case <-midStep.plan.entered:
			return true, nil
		default:
			return false, nil
		}
	})
	var compStatus Status
	waitUntil(t, d.ctx, "the mid-compensation saga's Refund to fail and be retried by the server", func() (bool, error) {
		st, err := d.status(midComp.id)
		if err != nil || st.Compensations[Refund] != "failing" {
			return false, err
		}
		compStatus = st
		refund, err := d.pending(midComp.id, Refund)
		return refund > 1, err // the server-retried activity is past its first attempt
	})
	waitUntil(t, d.ctx, "the paused saga to pause before Ship", func() (bool, error) {
		st, err := d.status(paused.id)
		return st.Stage == StagePaused, err
	})
	equal(t, "mid-step saga's effects on A", d.fakes.effects(midStep.id), "Reserve@A", "Charge@A")
	equal(t, "mid-compensation saga's effects on A", d.fakes.effects(midComp.id), "Reserve@A", "Charge@A", "CancelShip@A")
	equal(t, "paused saga's effects on A", d.fakes.effects(paused.id), "Reserve@A", "Charge@A")
	if compStatus.Stage != StageCompensating || compStatus.Compensations[CancelShip] != "done" || compStatus.Compensations[Release] != "pending" {
		t.Errorf("mid-compensation saga before the deploy: %+v; want compensating, CancelShip done, Refund failing, Release pending", compStatus)
	}

	// The deploy: stop A, start B on the same task queue, under the same
	// workflow type.
	a.Stop()
	d.fakes.stop("A")
	waitUntil(t, d.ctx, "the mid-step saga's Ship on A to be interrupted", func() (bool, error) {
		return d.fakes.count(midStep.id, Ship, "A", interrupted) == 1, nil
	})
	d.worker(t, "B", BuildB, worker.BlockWorkflow)

	// Move the parked sagas on, and start one on B.
	close(midStep.plan.release)
	comp.refundFails.Store(false)
	if err := d.c.SignalWorkflow(d.ctx, paused.id, "", SignalResume, nil); err != nil {
		t.Fatalf("resume %s: %v", paused.id, err)
	}
	fresh := d.start(t, "new", &plan{}, Input{})

	// (1) Mid-step: A's order, the Ship that A's worker lost redone on B.
	equal(t, "mid-step saga's steps", d.result(t, midStep).Steps, Reserve, Charge, Ship, Confirm)
	equal(t, "mid-step saga's effects", d.fakes.effects(midStep.id), "Reserve@A", "Charge@A", "Ship@B", "Confirm@B")

	// (2) Mid-compensation-retry: compensated; each compensation applied
	// once, in reverse order of registration on A; Ship's business error
	// is the saga's.
	ctx, cancel := context.WithTimeout(d.ctx, waitLimit)
	defer cancel()
	err := midComp.run.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "ShipRefused" {
		t.Errorf("mid-compensation saga ended with %v; want the ShipRefused error of its Ship%s", err, d.stuck(midComp.id))
	}
	equal(t, "mid-compensation saga's effects", d.fakes.effects(midComp.id),
		"Reserve@A", "Charge@A", "CancelShip@A", "Refund@B", "Release@B")
	if n := d.fakes.count(midComp.id, Refund, "A", failed); n < FirstRoundAttempts+1 {
		t.Errorf("Refund failed %d times on A; want its first round (%d) and a server retry", n, FirstRoundAttempts)
	}
	if n := d.fakes.count(midComp.id, Ship, "", refused); n != 1 {
		t.Errorf("Ship refused %d times; want once (a business error is not retried)", n)
	}

	// (3) Paused before Ship: A's path to the end. It reaches the added
	// Check live on B, but its version (A's, no marker) keeps it out.
	equal(t, "paused saga's steps", d.result(t, paused).Steps, Reserve, Charge, Ship, Confirm)
	equal(t, "paused saga's effects", d.fakes.effects(paused.id), "Reserve@A", "Charge@A", "Ship@B", "Confirm@B")

	// (4) Started on B: B's path.
	equal(t, "new saga's steps", d.result(t, fresh).Steps, Charge, Reserve, Check, Ship, Confirm)
	equal(t, "new saga's effects", d.fakes.effects(fresh.id), "Charge@B", "Reserve@B", "Check@B", "Ship@B", "Confirm@B")

	if late := d.fakes.late(); len(late) > 0 {
		t.Errorf("activity attempts started on a stopped worker: %+v", late)
	}

	// The histories: who ran the workflow tasks, and which version of the
	// gate each saga recorded (A's sagas none: B never records one for a
	// saga it did not start).
	histories := map[string]*historypb.History{}
	for _, s := range []*started{midStep, midComp, paused, fresh} {
		histories[s.name] = d.history(t, s.id)
	}
	for _, name := range []string{"mid-step", "mid-compensation", "paused"} {
		if ids := taskIdentities(histories[name]); !movedFromAToB(ids) {
			t.Errorf("%s saga's workflow tasks ran on %v; want build A's worker, then build B's only", name, ids)
		}
	}
	if ids := taskIdentities(histories["new"]); slices.Contains(ids, identity("A")) {
		t.Errorf("new saga's workflow tasks ran on %v; want build B's only", ids)
	}
	for name, want := range map[string]map[string]workflow.Version{
		"mid-step":         {},
		"mid-compensation": {},
		"paused":           {},
		"new":              {ChangeDrill: versionChargeFirstCheck},
	} {
		if got := drillVersions(t, histories[name]); !maps.Equal(got, want) {
			t.Errorf("%s saga recorded the versions %v; want %v", name, got, want)
		}
	}

	t.Run("build B replays every drill saga", func(t *testing.T) {
		for name, h := range histories {
			if err := replay(BuildB, h); err != nil {
				t.Errorf("build B does not replay the %s saga: %v", name, err)
			}
		}
	})

	// The proof that the drill can fail: build B with its changes shipped
	// without the gate (B's path for every saga) does not replay the
	// sagas parked on A.
	t.Run("without GetVersion build B breaks the parked sagas", func(t *testing.T) {
		for _, name := range []string{"mid-step", "mid-compensation", "paused"} {
			if err := replay(withoutGetVersion, histories[name]); !isNonDeterminism(err) {
				t.Errorf("build B without GetVersion replays the %s saga with %v; want a non-determinism error", name, err)
			}
		}
		// Nor can build A come back once B has started sagas.
		if err := replay(BuildA, histories["new"]); !isNonDeterminism(err) {
			t.Errorf("build A replays the saga B started with %v; want a non-determinism error", err)
		}
	})

	// Live: a saga paused on A and resumed on build B without GetVersion
	// meets the non-determinism error. A production worker (the SDK's
	// default policy, BlockWorkflow) would leave the saga stuck, retrying
	// its workflow task until a fixed build replaces the worker; this
	// worker fails the saga instead, to hand the error to the test.
	t.Run("live: without GetVersion a parked saga breaks", func(t *testing.T) {
		d := newDrill(t)
		a := d.worker(t, "A", BuildA, worker.BlockWorkflow)
		s := d.start(t, "paused", &plan{}, Input{PauseBeforeShip: true})
		waitUntil(t, d.ctx, "the saga to pause before Ship", func() (bool, error) {
			st, err := d.status(s.id)
			return st.Stage == StagePaused, err
		})
		a.Stop()
		d.fakes.stop("A")
		d.worker(t, "B", withoutGetVersion, worker.FailWorkflow)
		if err := d.c.SignalWorkflow(d.ctx, s.id, "", SignalResume, nil); err != nil {
			t.Fatalf("resume %s: %v", s.id, err)
		}
		if err := s.run.Get(d.ctx, nil); !isNonDeterminism(err) || !strings.Contains(err.Error(), "nondeterministic") {
			t.Errorf("the saga resumed on build B without GetVersion ended with %v; want a non-determinism failure", err)
		}
		equal(t, "broken saga's effects", d.fakes.effects(s.id), "Reserve@A", "Charge@A")
	})
}

// drill is one run of the drill: a client, a task queue of its own, the
// fake activities' records.
type drill struct {
	ctx   context.Context
	c     client.Client
	queue string
	fakes *fakes
}

// newDrill dials the stack's Temporal server (skipping without the stack,
// failing under CI=true) and takes a new task queue.
func newDrill(t *testing.T) *drill {
	t.Helper()
	cfg := testenv.Config(t, config.EnvTemporalAddress)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Logger: quiet(), Timeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &drill{ctx: ctx, c: c, queue: testenv.ID("upgradedrill"), fakes: newFakes()}
}

// quiet is a logger that discards the SDK's lines.
func quiet() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// identity is the worker identity of build.
func identity(build string) string { return "upgradedrill-build-" + build }

// worker starts a worker of build on the drill's task queue, with wf
// registered as WorkflowName, the fake activities and the given panic
// policy (what it does with a non-determinism error); it stops when the
// test ends, if not before.
func (d *drill) worker(t *testing.T, build string, wf func(workflow.Context, Input) (Result, error), policy worker.WorkflowPanicPolicy) worker.Worker {
	t.Helper()
	w := worker.New(d.c, d.queue, worker.Options{
		Identity: identity(build), WorkflowPanicPolicy: policy,
		// A graceful stop, as the saga worker's: running activities get
		// this long to finish, then their context is cancelled.
		WorkerStopTimeout: 2 * time.Second,
	})
	w.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivity(&activities{build: build, f: d.fakes})
	if err := w.Start(); err != nil {
		t.Fatalf("start worker of build %s: %v", build, err)
	}
	t.Cleanup(w.Stop) // Stop is idempotent
	return w
}

// started is one started drill saga.
type started struct {
	name, id string
	plan     *plan
	run      client.WorkflowRun
}

// start starts a drill saga whose activities behave as p says; it is
// terminated when the test ends if it still runs.
func (d *drill) start(t *testing.T, name string, p *plan, in Input) *started {
	t.Helper()
	s := &started{name: name, id: testenv.ID("drill-" + name)}
	s.plan = d.fakes.plan(s.id, p)
	run, err := d.c.ExecuteWorkflow(d.ctx, client.StartWorkflowOptions{
		ID: s.id, TaskQueue: d.queue, WorkflowExecutionTimeout: 5 * time.Minute,
		// A workflow task that the server hands to a poll of the worker
		// being stopped is lost, and retried after this timeout (10s by
		// default): short, to keep the drill short.
		WorkflowTaskTimeout: 3 * time.Second,
	}, WorkflowName, in)
	if err != nil {
		t.Fatalf("start %s: %v", s.id, err)
	}
	s.run = run
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.c.TerminateWorkflow(ctx, s.id, "", "upgrade drill over") // an ended saga refuses: fine
	})
	return s
}

// result waits for a saga that must complete and returns its result.
func (d *drill) result(t *testing.T, s *started) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, waitLimit)
	defer cancel()
	var r Result
	if err := s.run.Get(ctx, &r); err != nil {
		t.Fatalf("%s saga: %v%s", s.name, err, d.stuck(s.id))
	}
	return r
}

// stuck says why a saga that did not end in time is stuck, when its
// workflow task keeps failing (a non-determinism error, say).
func (d *drill) stuck(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	desc, err := d.c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil || desc.GetPendingWorkflowTask().GetAttempt() < 2 {
		return ""
	}
	why := fmt.Sprintf("; its workflow task is on attempt %d", desc.GetPendingWorkflowTask().GetAttempt())
	it := d.c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			break
		}
		if a := e.GetWorkflowTaskFailedEventAttributes(); a != nil {
			why = fmt.Sprintf("; its workflow task is on attempt %d and failed with %s", desc.GetPendingWorkflowTask().GetAttempt(), a.GetFailure().GetMessage())
		}
	}
	return why
}

// status queries a saga's Status.
func (d *drill) status(id string) (Status, error) {
	v, err := d.c.QueryWorkflow(d.ctx, id, "", QueryStatus)
	if err != nil {
		return Status{}, err
	}
	var st Status
	return st, v.Get(&st)
}

// pending returns the attempt of the saga's pending activity of type name
// (0: none is pending).
func (d *drill) pending(id, name string) (int32, error) {
	desc, err := d.c.DescribeWorkflowExecution(d.ctx, id, "")
	if err != nil {
		return 0, err
	}
	for _, a := range desc.GetPendingActivities() {
		if a.GetActivityType().GetName() == name {
			return a.GetAttempt(), nil
		}
	}
	return 0, nil
}

// fetchHistory returns a saga's history as it stands.
func (d *drill) fetchHistory(id string) (*historypb.History, error) {
	it := d.c.GetWorkflowHistory(d.ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, e)
	}
	return h, nil
}

// history returns a saga's history.
func (d *drill) history(t *testing.T, id string) *historypb.History {
	t.Helper()
	h, err := d.fetchHistory(id)
	if err != nil {
		t.Fatalf("history of %s: %v", id, err)
	}
	return h
}

// replay replays h through wf registered as WorkflowName.
func replay(wf func(workflow.Context, Input) (Result, error), h *historypb.History) error {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: WorkflowName})
	return r.ReplayWorkflowHistory(quiet(), h)
}

// withoutGetVersion is BuildB with its changes shipped carelessly: B's
// path for every saga, without workflow.GetVersion. Its version func
// ignores the history and answers the newest version, 1, for sagas that
// have no marker too (those BuildA started).
func withoutGetVersion(ctx workflow.Context, in Input) (Result, error) {
	return buildB(ctx, in, func(_ workflow.Context, _ string, _, maxV workflow.Version) workflow.Version {
		return maxV
	})
}

// isNonDeterminism reports whether err is the SDK's non-determinism error.
func isNonDeterminism(err error) bool {
	return err != nil && strings.Contains(err.Error(), "[TMPRL1100]")
}

// taskIdentities lists the identities of the workers that completed the
// history's workflow tasks, in order.
func taskIdentities(h *historypb.History) []string {
	var ids []string
	for _, e := range h.Events {
		if a := e.GetWorkflowTaskCompletedEventAttributes(); a != nil {
			ids = append(ids, a.GetIdentity())
		}
	}
	return ids
}

// movedFromAToB reports whether ids are build A's worker, then build B's,
// each at least once, and no other.
func movedFromAToB(ids []string) bool {
	i := 0
	for i < len(ids) && ids[i] == identity("A") {
		i++
	}
	if i == 0 || i == len(ids) {
		return false
	}
	for _, id := range ids[i:] {
		if id != identity("B") {
			return false
		}
	}
	return true
}

// drillVersions returns the versions a history recorded, by change id, the
// saga engine's own (saga-server-retries-...) aside: BuildB's gate,
// ChangeDrill, and nothing else (a stray change id shows up here).
func drillVersions(t *testing.T, h *historypb.History) map[string]workflow.Version {
	t.Helper()
	dc := converter.GetDefaultDataConverter()
	out := map[string]workflow.Version{}
	for _, e := range h.Events {
		a := e.GetMarkerRecordedEventAttributes()
		if a == nil || a.GetMarkerName() != "Version" {
			continue
		}
		var id string
		var v workflow.Version
		if err := dc.FromPayloads(a.GetDetails()["change-id"], &id); err != nil {
			t.Fatalf("version marker: %v", err)
		}
		if err := dc.FromPayloads(a.GetDetails()["version"], &v); err != nil {
			t.Fatalf("version marker %s: %v", id, err)
		}
		if !strings.HasPrefix(id, "saga-server-retries-") {
			out[id] = v
		}
	}
	return out
}

// equal fails the test unless got is want.
func equal(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v; want %v", what, got, want)
	}
}

// waitUntil checks cond until it holds, failing the test after waitLimit;
// an error of cond counts as "not yet" and is reported if it lasts.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waited %s for %s (last error: %v)", waitLimit, what, last)
		case <-tick.C:
		}
	}
}
