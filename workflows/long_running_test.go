package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/internal/historycount"
	"github.com/sagaflow/sagaflow/workflows"
)

// maxHistory is the most events a saga's history may have, however long it
// waits (issue 11).
const maxHistory = 200

// outage fakes the activities of a saga whose services are down until a
// moment of the test environment's clock, and counts every call.
type outage struct {
	env *testsuite.TestWorkflowEnvironment
	// down maps an activity to the moment it starts to succeed; it fails
	// with a retryable error before.
	down map[string]time.Time
	// failing makes the named compensations fail whenever UndoInput.Fail
	// is set (the demo's --fail-compensation), and ConfirmInput.Fail the
	// pivot with a business error.
	mu        sync.Mutex
	attempts  map[string]int
	succeeded map[string]int
	statuses  []string
}

func newOutage(t *testing.T, down map[string]time.Time) (*outage, *testsuite.TestWorkflowEnvironment, *historycount.Counter) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	counter := &historycount.Counter{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{counter}})
	env.RegisterWorkflow(workflows.OrderSaga)
	env.RegisterActivity(a)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.WorkflowID(validOrder().OrderID)})
	o := &outage{env: env, down: down, attempts: map[string]int{}, succeeded: map[string]int{}}
	ok := activities.Result{Outcome: "applied", Attempt: 1}
	env.OnActivity(a.PriceOrder, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.PriceInput) (activities.PriceResult, error) {
			return activities.PriceResult{Result: ok, Total: 2500}, o.call(ctx, "PriceOrder", false)
		})
	env.OnActivity(a.CreateOrder, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.CreateOrderInput) (activities.Result, error) {
			return ok, o.call(ctx, "CreateOrder", false)
		})
	env.OnActivity(a.ReserveStock, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.ReserveInput) (activities.Result, error) {
			return ok, o.call(ctx, "ReserveStock", false)
		})
	env.OnActivity(a.ChargePayment, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.ChargeInput) (activities.Result, error) {
			return ok, o.call(ctx, "ChargePayment", false)
		})
	env.OnActivity(a.CreateShipment, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.ShipInput) (activities.ShipResult, error) {
			return activities.ShipResult{Result: ok, Tracking: "TRK-1"}, o.call(ctx, "CreateShipment", false)
		})
	env.OnActivity(a.ConfirmOrder, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.ConfirmInput) (activities.Result, error) {
			if in.Fail {
				return ok, business(activities.ForcedFailureCode)
			}
			return ok, o.call(ctx, "ConfirmOrder", false)
		})
	env.OnActivity(a.CancelOrder, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CancelOrderInput) (activities.Result, error) {
			return ok, o.call(ctx, "CancelOrder", in.Fail)
		})
	for name, fn := range map[string]any{"ReleaseStock": a.ReleaseStock, "RefundPayment": a.RefundPayment, "CancelShipment": a.CancelShipment} {
		env.OnActivity(fn, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.UndoInput) (activities.Result, error) {
				return ok, o.call(ctx, name, in.Fail)
			})
	}
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if v, ok := args.Get(0).(temporal.SearchAttributes).GetKeyword(workflows.AttrSagaStatus); ok {
			o.mu.Lock()
			o.statuses = append(o.statuses, v)
			o.mu.Unlock()
		}
	}).Return(nil)
	return o, env, counter
}

// call records an attempt of name and fails it while its service is down
// (or always, when fail is set).
func (o *outage) call(ctx context.Context, name string, fail bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts[name]++
	if until, ok := o.down[name]; fail || (ok && o.env.Now().Before(until)) {
		return temporal.NewApplicationErrorWithOptions(name+": service unavailable", "INFRASTRUCTURE", temporal.ApplicationErrorOptions{
			Details: []any{activities.Failure{Attempt: activity.GetInfo(ctx).Attempt}},
		})
	}
	o.succeeded[name]++
	return nil
}

func (o *outage) counts(name string) (attempts, succeeded int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.attempts[name], o.succeeded[name]
}

func (o *outage) sagaStatuses() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.statuses)
}

const thirtyDays = 30 * 24 * time.Hour

// TestCompensationFailingFor30Days: the shipping service is down for 30
// days. CreateShipment fails until its 2-minute deadline, the saga
// compensates, and CancelShipment keeps failing: the saga shows
// COMPENSATION_FAILING within a minute and keeps it, the server retries
// CancelShipment at most a minute apart for 30 simulated days, and when the
// service is back every compensation is applied once and the saga ends
// COMPENSATED. Its history is counted with historycount (the events of each
// command and result, an upper bound checked against the real server by
// TestHistoryCountBoundsTheServer): at most 200 events.
func TestCompensationFailingFor30Days(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	back := start.Add(thirtyDays)
	o, env, counter := newOutage(t, map[string]time.Time{"CreateShipment": back, "CancelShipment": back})
	env.SetStartTime(start)
	in := validOrder()
	var atOneMinute, atDay10 workflows.SagaState
	env.RegisterDelayedCallback(func() { atOneMinute = queryState(t, env) }, 3*time.Minute)
	env.RegisterDelayedCallback(func() { atDay10 = queryState(t, env) }, 10*24*time.Hour)
	state, errType := outcome(t, env, in)

	if errType != workflows.ErrTypeCompensated || state.Status != workflows.StatusCompensated {
		t.Fatalf("ended %q %+v", errType, state)
	}
	if elapsed := env.Now().Sub(start); elapsed < thirtyDays {
		t.Fatalf("the saga ended after %s, before the service came back", elapsed)
	}
	for _, c := range []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"} {
		if _, ok := o.counts(c); ok != 1 {
			t.Errorf("%s applied %d times, want once", c, ok)
		}
	}
	// Five minutes apart at most for 30 days: 8,640 attempts and more.
	if attempts, _ := o.counts("CancelShipment"); attempts < 30*24*60/5 {
		t.Errorf("CancelShipment tried %d times in 30 days, want at least one every 5 minutes", attempts)
	}
	for when, s := range map[string]workflows.SagaState{"after 3 minutes": atOneMinute, "on day 10": atDay10} {
		ship := s.Step(workflows.StepCreateShipment)
		if s.Status != workflows.StatusCompensationFailing || ship.Status != workflows.StepCompensating || ship.FailingSince.IsZero() || ship.LastError == "" {
			t.Errorf("%s: status %s, CreateShipment %+v; want COMPENSATION_FAILING with CancelShipment failing", when, s.Status, ship)
		}
	}
	want := []string{"RUNNING", "COMPENSATING", "COMPENSATION_FAILING", "COMPENSATING", "COMPENSATED"}
	if got := o.sagaStatuses(); !slices.Equal(got, want) {
		t.Errorf("SagaStatus went %v, want %v", got, want)
	}
	events := counter.Events(workflows.WorkflowID(in.OrderID))
	t.Logf("history after 30 days: %d events (counted), CancelShipment attempts: %d", events, must(o.counts("CancelShipment")))
	if events == 0 || events > maxHistory {
		t.Fatalf("history of %d events, want at most %d", events, maxHistory)
	}
}

// TestPivotFailingFor30Days: ConfirmOrder, the pivot, fails for 30 days.
// The saga shows PIVOT_STUCK within its first minute, the server retries
// the pivot, and the saga completes when the store is back, without
// compensating, in at most 200 events; with local steps too (the first
// round is a local activity, the rest regular ones).
func TestPivotFailingFor30Days(t *testing.T) {
	for _, local := range []bool{false, true} {
		t.Run(map[bool]string{false: "activities", true: "local steps"}[local], func(t *testing.T) {
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			o, env, counter := newOutage(t, map[string]time.Time{"ConfirmOrder": start.Add(thirtyDays)})
			env.SetStartTime(start)
			in := validOrder()
			in.LocalSteps = local
			var stuck workflows.SagaState
			env.RegisterDelayedCallback(func() { stuck = queryState(t, env) }, 24*time.Hour)
			state, errType := outcome(t, env, in)
			if errType != "" || state.Status != workflows.StatusCompleted {
				t.Fatalf("ended %q %+v", errType, state)
			}
			if pivot := stuck.Step(workflows.StepConfirmOrder); stuck.Status != workflows.StatusPivotStuck || pivot.FailingSince.IsZero() || pivot.LastError == "" {
				t.Errorf("on day 1: %s %+v, want PIVOT_STUCK", stuck.Status, pivot)
			}
			if _, ok := o.counts("ConfirmOrder"); ok != 1 {
				t.Errorf("ConfirmOrder applied %d times", ok)
			}
			for _, c := range []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"} {
				if attempts, _ := o.counts(c); attempts != 0 {
					t.Errorf("%s ran after the pivot", c)
				}
			}
			if got, want := o.sagaStatuses(), []string{"PIVOT_STUCK", "COMPLETED"}; !slices.Equal(got[len(got)-2:], want) {
				t.Errorf("SagaStatus went %v, want ... %v", got, want)
			}
			events := counter.Events(workflows.WorkflowID(in.OrderID))
			t.Logf("history after 30 days: %d events (counted)", events)
			if events == 0 || events > maxHistory {
				t.Fatalf("history of %d events, want at most %d", events, maxHistory)
			}
		})
	}
}

func must(n, _ int) int { return n }

// reply is what an operator action got: filled in by the test
// environment's callbacks, which run after UpdateWorkflow returns.
type reply struct {
	result   workflows.ActionResult
	err      error
	answered bool
}

// update sends an operator action through the test environment.
func update(env *testsuite.TestWorkflowEnvironment, name string, arg any) *reply {
	r := &reply{}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(e error) { r.err, r.answered = e, true },
		OnComplete: func(v any, e error) {
			r.answered = true
			if e != nil {
				r.err = e
				return
			}
			r.result, _ = v.(workflows.ActionResult)
		},
	}, arg)
	return r
}

// TestOperatorActions: RefundPayment fails until an operator acts. The
// actions that do not apply are refused with a reason; a retry runs it again
// at once; a resolution by hand ends it, records who and why, and the saga
// goes on with the other compensations and ends COMPENSATED_BY_HAND.
func TestOperatorActions(t *testing.T) {
	o, env, _ := newOutage(t, nil)
	in := validOrder()
	in.Demo.FailAt = workflows.StepConfirmOrder
	in.Demo.FailCompensation = workflows.StepChargePayment
	refusals := map[string]struct {
		update string
		arg    any
	}{
		"unknown step":       {workflows.UpdateResolve, workflows.ResolveRequest{Step: "Teleport", Operator: "ops", Reason: "x"}},
		"the pivot":          {workflows.UpdateResolve, workflows.ResolveRequest{Step: "ConfirmOrder", Operator: "ops", Reason: "x"}},
		"no reason":          {workflows.UpdateResolve, workflows.ResolveRequest{Step: "RefundPayment", Operator: "ops"}},
		"not failing":        {workflows.UpdateResolve, workflows.ResolveRequest{Step: "CancelShipment", Operator: "ops", Reason: "x"}},
		"retry not failing":  {workflows.UpdateRetry, workflows.RetryRequest{Step: "ReleaseStock", Operator: "ops"}},
		"retry, no operator": {workflows.UpdateRetry, workflows.RetryRequest{}},
	}
	var (
		early, retried, resolved *reply
		refused                  = map[string]*reply{}
		before, afterRetry       int
		during                   workflows.SagaState
	)
	env.RegisterDelayedCallback(func() {
		early = update(env, workflows.UpdateRetry, workflows.RetryRequest{Operator: "ops"})
	}, time.Millisecond)
	env.RegisterDelayedCallback(func() {
		for name, r := range refusals {
			refused[name] = update(env, r.update, r.arg)
		}
		before, _ = o.counts("RefundPayment")
		retried = update(env, workflows.UpdateRetry, workflows.RetryRequest{Step: "ChargePayment", Operator: "ops"})
	}, 2*time.Hour)
	// A minute after the retry: the backoff is 5 minutes by then, so an
	// attempt within the minute is the retry's.
	env.RegisterDelayedCallback(func() { afterRetry, _ = o.counts("RefundPayment") }, 2*time.Hour+time.Minute)
	env.RegisterDelayedCallback(func() {
		during = queryState(t, env)
		resolved = update(env, workflows.UpdateResolve,
			workflows.ResolveRequest{Step: "RefundPayment", Operator: "ada", Reason: "refunded in the provider's console, ticket 42"})
	}, 3*time.Hour)
	state, errType := outcome(t, env, in)

	if !early.answered || early.err == nil {
		t.Errorf("a retry before anything failed: %+v, want refused", early)
	}
	for name, r := range refused {
		if !r.answered || r.err == nil {
			t.Errorf("%s: %+v, want refused", name, r)
			continue
		}
		t.Logf("%s: refused: %v", name, r.err)
	}
	if retried.err != nil || retried.result.Outcome != workflows.ActionRetried || retried.result.Compensation != "RefundPayment" {
		t.Errorf("retry: %+v", retried)
	}
	if afterRetry <= before {
		t.Errorf("retry: RefundPayment not attempted again within a minute (%d attempts before, %d after)", before, afterRetry)
	}
	if during.Status != workflows.StatusCompensationFailing || during.Step(workflows.StepChargePayment).FailingSince.IsZero() {
		t.Errorf("before the resolution: %+v", during)
	}
	if resolved.err != nil || resolved.result.Outcome != workflows.ActionResolved || resolved.result.Step != workflows.StepChargePayment ||
		resolved.result.Status != workflows.StatusCompensating {
		t.Errorf("resolve: %+v", resolved)
	}
	if errType != workflows.ErrTypeCompensated || state.Status != workflows.StatusCompensatedByHand {
		t.Fatalf("ended %q %+v", errType, state)
	}
	charge := state.Step(workflows.StepChargePayment)
	if charge.Status != workflows.StepResolved || charge.Resolution == nil || charge.Resolution.By != "ada" ||
		charge.Resolution.Reason != "refunded in the provider's console, ticket 42" || charge.Resolution.At.IsZero() {
		t.Errorf("ChargePayment %+v, resolution %+v", charge, charge.Resolution)
	}
	for _, c := range []string{"CancelShipment", "ReleaseStock", "CancelOrder"} {
		if _, ok := o.counts(c); ok != 1 {
			t.Errorf("%s applied %d times, want once", c, ok)
		}
	}
	if _, ok := o.counts("RefundPayment"); ok != 0 {
		t.Errorf("RefundPayment applied %d times: it fails until resolved", ok)
	}
	if got := o.sagaStatuses(); got[len(got)-1] != string(workflows.StatusCompensatedByHand) {
		t.Errorf("SagaStatus went %v", got)
	}
}

// TestOperatorRetriesAStuckPivot: ConfirmOrder's store is back after two
// hours, when the server's next attempt may be five minutes away; an
// operator's retry runs it at once and the saga completes.
func TestOperatorRetriesAStuckPivot(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	back := start.Add(2 * time.Hour)
	_, env, _ := newOutage(t, map[string]time.Time{"ConfirmOrder": back})
	env.SetStartTime(start)
	var retried *reply
	env.RegisterDelayedCallback(func() {
		retried = update(env, workflows.UpdateRetry, workflows.RetryRequest{Step: "ConfirmOrder", Operator: "ops"})
	}, 2*time.Hour+10*time.Second)
	state, errType := outcome(t, env, validOrder())
	if errType != "" || state.Status != workflows.StatusCompleted {
		t.Fatalf("ended %q %+v", errType, state)
	}
	if retried == nil || retried.err != nil || retried.result.Step != workflows.StepConfirmOrder ||
		(retried.result.Outcome != workflows.ActionRetried && retried.result.Outcome != workflows.ActionSucceeded) {
		t.Fatalf("retry: %+v", retried)
	}
	if ended := env.Now().Sub(back); ended > time.Minute {
		t.Fatalf("the saga completed %s after the store came back, want at once after the retry", ended)
	}
}
