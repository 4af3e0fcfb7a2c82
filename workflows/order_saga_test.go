package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

var a *activities.Activities

func validOrder() workflows.OrderInput {
	return workflows.OrderInput{
		OrderID: "o1", CustomerID: "alice", Region: "eu",
		Items:  []services.Item{{SKU: "SKU-1", Quantity: 2}},
		ShipTo: services.Address{Name: "Ada", Street: "Main 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
	}
}

// fakes mocks every activity and records the calls in order.
type fakes struct {
	mu    sync.Mutex
	calls []string
	// fail maps an activity to the error it returns; failTimes bounds how
	// many times (0: always).
	fail      map[string]error
	failTimes map[string]int
	// down maps an activity to how long after the start its service is
	// down: until then it fails with a retryable error.
	down map[string]time.Duration
	// delay maps an activity to how long each of its attempts takes, on
	// the test clock.
	delay map[string]time.Duration
	// statuses are the SagaStatus values upserted, in order; failedStep
	// the last FailedStep upserted.
	statuses   []string
	failedStep string
	// shipInput is the last input CreateShipment received.
	shipInput activities.ShipInput
	// attempts records every attempt of every activity.
	attempts []stepAttempt
	// logs and metrics are what the saga logged and counted.
	logs    *logRecorder
	metrics *metricsRecorder
	env     *testsuite.TestWorkflowEnvironment
	// start is when the saga starts, on the test clock (which starts at
	// the wall clock's now: local activities mix the two).
	start time.Time
}

// stepAttempt is one attempt of an activity.
type stepAttempt struct {
	Name string
	// Since is how long after the saga's start it started, on the test
	// clock.
	Since time.Duration
	Info  activity.Info
	// Ref is the saga and order the activity was given.
	Ref activities.Ref
}

// runaway is more activity attempts than any saga of these tests makes.
const runaway = 1000

// sagaRunTimeout bounds every saga of newEnv, on the test clock, so that a
// saga that retries without end fails its test instead of hanging it.
const sagaRunTimeout = 24 * time.Hour

// attempt records an attempt of name with the activity's info and ref, and
// returns its error: fail's, a retryable one while its service is down or
// when failing is set (a compensation the demo fails), or nil.
func (f *fakes) attempt(ctx context.Context, name string, ref activities.Ref, failing bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	at := stepAttempt{Name: name, Ref: ref}
	if activity.IsActivity(ctx) {
		at.Info = activity.GetInfo(ctx)
	}
	if f.env != nil {
		at.Since = f.env.Now().Sub(f.start)
	}
	f.attempts = append(f.attempts, at)
	if len(f.attempts) > runaway {
		// A bug that runs activities again at once, without end, never
		// moves the test clock to the run timeout: stop instead of hanging.
		fmt.Fprintf(os.Stderr, "FAIL: %d activity attempts: the saga retries without end\n", len(f.attempts))
		os.Exit(1)
	}
	if d, ok := f.down[name]; failing || (ok && at.Since < d) {
		return temporal.NewApplicationErrorWithOptions(name+": service unavailable", "INFRASTRUCTURE",
			temporal.ApplicationErrorOptions{Details: []any{activities.Failure{Attempt: at.Info.Attempt}}})
	}
	err, ok := f.fail[name]
	if !ok {
		return nil
	}
	if n, bounded := f.failTimes[name]; bounded {
		if n == 0 {
			return nil
		}
		f.failTimes[name] = n - 1
	}
	return err
}

func (f *fakes) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// attemptsOf returns the attempts of the activity name, in order.
func (f *fakes) attemptsOf(name string) []stepAttempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []stepAttempt
	for _, at := range f.attempts {
		if at.Name == name {
			out = append(out, at)
		}
	}
	return out
}

func business(code string) error {
	return temporal.NewNonRetryableApplicationError(code, code, nil)
}

// result is an activity's result: applied, by the attempt that ran.
func result(ctx context.Context) activities.Result {
	return activities.Result{Outcome: "applied", Attempt: activity.GetInfo(ctx).Attempt}
}

func (f *fakes) install(env *testsuite.TestWorkflowEnvironment) {
	on := func(activity any, name string, fn any) {
		env.OnActivity(activity, mock.Anything, mock.Anything).AfterFn(func() time.Duration { return f.delay[name] }).Return(fn)
	}
	on(a.PriceOrder, "PriceOrder", func(ctx context.Context, _ activities.PriceInput) (activities.PriceResult, error) {
		return activities.PriceResult{Result: result(ctx), Total: 2500}, f.attempt(ctx, "PriceOrder", activities.Ref{}, false)
	})
	on(a.CreateOrder, "CreateOrder", func(ctx context.Context, in activities.CreateOrderInput) (activities.Result, error) {
		return result(ctx), f.attempt(ctx, "CreateOrder", in.Ref, false)
	})
	on(a.CancelOrder, "CancelOrder", func(ctx context.Context, in activities.CancelOrderInput) (activities.Result, error) {
		return result(ctx), f.attempt(ctx, "CancelOrder", in.Ref, in.Fail)
	})
	on(a.ReserveStock, "ReserveStock", func(ctx context.Context, in activities.ReserveInput) (activities.Result, error) {
		return result(ctx), f.attempt(ctx, "ReserveStock", in.Ref, false)
	})
	on(a.ChargePayment, "ChargePayment", func(ctx context.Context, in activities.ChargeInput) (activities.Result, error) {
		return result(ctx), f.attempt(ctx, "ChargePayment", in.Ref, false)
	})
	on(a.CreateShipment, "CreateShipment", func(ctx context.Context, in activities.ShipInput) (activities.ShipResult, error) {
		f.mu.Lock()
		f.shipInput = in
		f.mu.Unlock()
		if in.Fail {
			return activities.ShipResult{}, business(activities.ForcedFailureCode)
		}
		return activities.ShipResult{Result: result(ctx), Tracking: "TRK-1"}, f.attempt(ctx, "CreateShipment", in.Ref, false)
	})
	on(a.ConfirmOrder, "ConfirmOrder", func(ctx context.Context, in activities.ConfirmInput) (activities.Result, error) {
		return result(ctx), f.attempt(ctx, "ConfirmOrder", in.Ref, false)
	})
	for name, fn := range map[string]any{"ReleaseStock": a.ReleaseStock, "RefundPayment": a.RefundPayment, "CancelShipment": a.CancelShipment} {
		on(fn, name, func(ctx context.Context, in activities.UndoInput) (activities.Result, error) {
			return result(ctx), f.attempt(ctx, name, in.Ref, in.Fail)
		})
	}
}

// newEnv returns a test environment with every activity mocked by f, and f recording the SagaStatus and
// FailedStep upserts, the logs and the metrics.
func newEnv(t *testing.T, f *fakes) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	f.logs, f.metrics = &logRecorder{}, &metricsRecorder{}
	suite.SetLogger(log.NewStructuredLogger(slog.New(f.logs)))
	suite.SetMetricsHandler(f.metrics)
	env := suite.NewTestWorkflowEnvironment()
	f.env, f.start = env, env.Now()
	env.SetWorkflowRunTimeout(sagaRunTimeout)
	env.RegisterWorkflow(workflows.OrderSaga)
	env.RegisterActivity(a)
	f.install(env)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		attrs := args.Get(0).(temporal.SearchAttributes)
		f.mu.Lock()
		defer f.mu.Unlock()
		if v, ok := attrs.GetKeyword(workflows.AttrSagaStatus); ok {
			f.statuses = append(f.statuses, v)
		}
		if v, ok := attrs.GetKeyword(workflows.AttrFailedStep); ok {
			f.failedStep = v
		}
	}).Return(nil)
	return env
}

// outcome runs the saga and returns its final state and error type.
func outcome(t *testing.T, env *testsuite.TestWorkflowEnvironment, in workflows.OrderInput) (workflows.SagaState, string) {
	t.Helper()
	env.ExecuteWorkflow(workflows.OrderSaga, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("saga did not complete")
	}
	var state workflows.SagaState
	err := env.GetWorkflowError()
	if err == nil {
		if err := env.GetWorkflowResult(&state); err != nil {
			t.Fatal(err)
		}
		return state, ""
	}
	var appErr *temporal.ApplicationError
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &appErr):
		if appErr.HasDetails() {
			if derr := appErr.Details(&state); derr != nil {
				t.Fatalf("details: %v", derr)
			}
		}
		return state, appErr.Type()
	case errors.As(err, &canceled):
		if derr := canceled.Details(&state); derr != nil {
			t.Fatalf("details: %v", derr)
		}
		return state, "canceled"
	}
	t.Fatalf("unexpected error %v", err)
	return state, ""
}

func queryState(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.SagaState {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryState)
	if err != nil {
		t.Fatal(err)
	}
	var s workflows.SagaState
	if err := v.Get(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// sagaStatus is the last SagaStatus the saga set.
func (f *fakes) sagaStatus() string {
	if len(f.statuses) == 0 {
		return ""
	}
	return f.statuses[len(f.statuses)-1]
}

// compensations keeps the compensation activities of calls, in order.
func compensations(calls []string) []string {
	var out []string
	for _, call := range calls {
		for _, comp := range workflows.Compensations {
			if call == comp {
				out = append(out, call)
			}
		}
	}
	return out
}

func TestSuccess(t *testing.T) {
	f := &fakes{}
	env := newEnv(t, f)
	state, errType := outcome(t, env, validOrder())
	if errType != "" || state.Status != workflows.StatusCompleted || state.Total != 2500 || state.Tracking != "TRK-1" {
		t.Fatalf("state %+v, error %q", state, errType)
	}
	for _, st := range state.Steps {
		if st.Status != workflows.StepDone || st.Attempts != 1 {
			t.Errorf("step %s: %+v", st.Name, st)
		}
	}
	calls := f.called()
	if calls[0] != "PriceOrder" || calls[1] != "CreateOrder" || calls[4] != "CreateShipment" || calls[5] != "ConfirmOrder" || len(calls) != 6 {
		t.Fatalf("calls %v", calls)
	}
	if s := f.sagaStatus(); s != "COMPLETED" {
		t.Fatalf("SagaStatus %s", s)
	}
	if q := queryState(t, env); q.Status != workflows.StatusCompleted {
		t.Fatalf("query: %+v", q)
	}
}

func TestFailureAtEachStepCompensatesInReverse(t *testing.T) {
	checkFailureAtEachStep(t, validOrder, nil)
}

// checkFailureAtEachStep fails a saga of order() at each step with a
// business error and checks that exactly the registered compensations ran,
// in reverse, and what the state and the search attributes say; then
// extra, when set, with the compensations expected and the environment's
// activity kinds.
func checkFailureAtEachStep(t *testing.T, order func() workflows.OrderInput, extra func(t *testing.T, k *kinds, want []string)) {
	t.Helper()
	cases := []struct {
		step string
		want []string // compensations, in order
	}{
		{"CreateOrder", []string{"CancelOrder"}},
		{"ReserveStock", []string{"RefundPayment", "ReleaseStock", "CancelOrder"}},
		{"ChargePayment", []string{"RefundPayment", "ReleaseStock", "CancelOrder"}},
		{"CreateShipment", []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"}},
		{"ConfirmOrder", []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"}},
	}
	for _, c := range cases {
		t.Run(c.step, func(t *testing.T) {
			f := &fakes{fail: map[string]error{c.step: business("OUT_OF_LUCK")}}
			env := newEnv(t, f)
			k := watchKinds(env)
			state, errType := outcome(t, env, order())
			if errType != workflows.ErrTypeCompensated || state.Status != workflows.StatusCompensated || state.FailedStep != c.step {
				t.Fatalf("error %q, state %+v", errType, state)
			}
			if comps := compensations(f.called()); !slices.Equal(comps, c.want) {
				t.Fatalf("compensations %v, want %v", comps, c.want)
			}
			if st := state.Step(c.step); st.LastError == "" || (st.Status != workflows.StepFailed && st.Status != workflows.StepCompensated) {
				t.Fatalf("failed step state %+v", st)
			}
			if s := f.sagaStatus(); s != "COMPENSATED" {
				t.Fatalf("SagaStatus %s", s)
			}
			if f.failedStep != c.step {
				t.Fatalf("FailedStep %q", f.failedStep)
			}
			if extra != nil {
				extra(t, k, c.want)
			}
		})
	}
}

func TestForcedFailureReachesTheActivity(t *testing.T) {
	f := &fakes{}
	env := newEnv(t, f)
	in := validOrder()
	in.Demo.FailAt = workflows.StepCreateShipment
	state, errType := outcome(t, env, in)
	if !f.shipInput.Fail || errType != workflows.ErrTypeCompensated || state.FailedStep != workflows.StepCreateShipment {
		t.Fatalf("fail flag %t, error %q, state %+v", f.shipInput.Fail, errType, state)
	}
}

func TestUnpriceableOrderIsRejectedWithoutSideEffects(t *testing.T) {
	f := &fakes{fail: map[string]error{"PriceOrder": business("UNKNOWN_SKU")}}
	env := newEnv(t, f)
	state, errType := outcome(t, env, validOrder())
	if errType != workflows.ErrTypeRejected || state.Status != workflows.StatusRejected || state.FailedStep != "PriceOrder" {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	if calls := f.called(); !slices.Equal(calls, []string{"PriceOrder"}) {
		t.Fatalf("calls %v", calls)
	}
}

func TestInvalidInputIsRejectedBeforeAnyActivity(t *testing.T) {
	cases := map[string]func(*workflows.OrderInput){
		"empty items":    func(in *workflows.OrderInput) { in.Items = nil },
		"zero quantity":  func(in *workflows.OrderInput) { in.Items[0].Quantity = 0 },
		"dollar in id":   func(in *workflows.OrderInput) { in.OrderID = "a$b" },
		"no customer":    func(in *workflows.OrderInput) { in.CustomerID = "" },
		"unknown region": func(in *workflows.OrderInput) { in.Region = "mars" },
		"bad country":    func(in *workflows.OrderInput) { in.ShipTo.Country = "Germany" },
		"bad fail step":  func(in *workflows.OrderInput) { in.Demo.FailAt = "Nope" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			f := &fakes{}
			env := newEnv(t, f)
			in := validOrder()
			mutate(&in)
			state, errType := outcome(t, env, in)
			if errType != workflows.ErrTypeRejected || state.Status != workflows.StatusRejected || state.Error == "" {
				t.Fatalf("error %q, state %+v", errType, state)
			}
			if calls := f.called(); len(calls) != 0 {
				t.Fatalf("activities ran: %v", calls)
			}
		})
	}
}

func TestCompensationThatFailsTwiceThenSucceeds(t *testing.T) {
	f := &fakes{
		fail:      map[string]error{"CreateShipment": business("INVALID_ADDRESS"), "RefundPayment": errors.New("payments database unreachable")},
		failTimes: map[string]int{"RefundPayment": 6}, // the first round's three attempts, then three of the server's retries
	}
	env := newEnv(t, f)
	state, errType := outcome(t, env, validOrder())
	if errType != workflows.ErrTypeCompensated || state.Status != workflows.StatusCompensated {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	refund := state.Step(workflows.StepChargePayment)
	if refund.Status != workflows.StepCompensated || refund.CompensationRounds != 2 || !strings.Contains(refund.LastError, "unreachable") ||
		!refund.FailingSince.IsZero() {
		t.Fatalf("ChargePayment state %+v", refund)
	}
	want := []string{"RUNNING", "COMPENSATING", "COMPENSATION_FAILING", "COMPENSATING", "COMPENSATED"}
	if !slices.Equal(f.statuses, want) {
		t.Fatalf("SagaStatus went %v, want %v", f.statuses, want)
	}
}

func TestCancellationAtEachStageCompensatesWhatWasRegistered(t *testing.T) {
	checkCancellationAtEachStage(t, validOrder)
}

// checkCancellationAtEachStage cancels sagas of order() paused before each
// stage and checks that exactly the registered compensations ran, in reverse.
func checkCancellationAtEachStage(t *testing.T, order func() workflows.OrderInput) {
	t.Helper()
	cases := []struct {
		pauseBefore string
		want        []string
	}{
		{"PriceOrder", nil},
		{"CreateOrder", []string{"CancelOrder"}},
		{"ReserveStock", []string{"RefundPayment", "ReleaseStock", "CancelOrder"}},
		{"CreateShipment", []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"}},
	}
	for _, c := range cases {
		t.Run(c.pauseBefore, func(t *testing.T) {
			f := &fakes{}
			env := newEnv(t, f)
			env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
			in := order()
			in.Demo = workflows.Demo{PauseBefore: c.pauseBefore, Pause: time.Hour}
			state, errType := outcome(t, env, in)
			if errType != "canceled" || state.Status != workflows.StatusCompensated || state.FailedStep != c.pauseBefore {
				t.Fatalf("error %q, state %+v", errType, state)
			}
			if comps := compensations(f.called()); !slices.Equal(comps, c.want) {
				t.Fatalf("compensations %v, want %v", comps, c.want)
			}
		})
	}
}

func TestCancellationAtThePivotDoesNotUndoTheOrder(t *testing.T) {
	checkCancellationAtThePivot(t, validOrder)
}

// checkCancellationAtThePivot cancels a saga of order() while its pivot,
// which takes an hour, runs, and checks that it completes with no
// compensation.
func checkCancellationAtThePivot(t *testing.T, order func() workflows.OrderInput) {
	t.Helper()
	f := &fakes{delay: map[string]time.Duration{workflows.StepConfirmOrder: time.Hour}}
	env := newEnv(t, f)
	var atCancel workflows.SagaState
	env.RegisterDelayedCallback(func() {
		atCancel = queryState(t, env)
		env.CancelWorkflow()
	}, time.Minute)
	state, errType := outcome(t, env, order())
	if pivot := atCancel.Step(workflows.StepConfirmOrder); atCancel.Status != workflows.StatusRunning || pivot.Status != workflows.StepRunning {
		t.Fatalf("when cancelled: %s, ConfirmOrder %s; want the pivot running", atCancel.Status, pivot.Status)
	}
	if errType != "" || state.Status != workflows.StatusCompleted || state.Step(workflows.StepConfirmOrder).Status != workflows.StepDone {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	if comps := compensations(f.called()); len(comps) > 0 {
		t.Fatalf("compensations %v ran after the pivot", comps)
	}
	if at := f.attemptsOf(workflows.StepConfirmOrder); len(at) != 1 || at[0].Since != time.Hour {
		t.Fatalf("ConfirmOrder ran %+v, want once, for an hour", at)
	}
}

// The saga sets OrderId, CustomerId and SagaStatus=RUNNING itself unless its
// input says the start set them (or it runs local steps) and they are there
// with the right values. A saga whose input predates AttributesAtStart
// upserts them as its recorded history does.
func TestStartUpsertIsSkippedOnlyWhenTheStartSetTheAttributes(t *testing.T) {
	marked := validOrder()
	marked.AttributesAtStart = true
	cases := []struct {
		name      string
		in        workflows.OrderInput
		withAttrs bool
		want      []string
	}{
		{"marked, started with the attributes", marked, true, []string{"COMPLETED"}},
		{"local steps, started with the attributes", localOrder(), true, []string{"COMPLETED"}},
		{"marked, started without", marked, false, []string{"RUNNING", "COMPLETED"}},
		{"local steps, started without", localOrder(), false, []string{"RUNNING", "COMPLETED"}},
		{"unmarked, started with the attributes", validOrder(), true, []string{"RUNNING", "COMPLETED"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &fakes{}
			env := newEnv(t, f)
			if c.withAttrs {
				env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
					workflows.AttrOrderID.ValueSet(c.in.OrderID), workflows.AttrCustomerID.ValueSet(c.in.CustomerID),
					workflows.AttrSagaStatus.ValueSet(string(workflows.StatusRunning))))
			}
			if _, errType := outcome(t, env, c.in); errType != "" || !slices.Equal(f.statuses, c.want) {
				t.Fatalf("error %q, SagaStatus went %v, want %v", errType, f.statuses, c.want)
			}
		})
	}
}
