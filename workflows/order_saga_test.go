package workflows_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
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
	// statuses are the SagaStatus values upserted, in order; failedStep
	// the last FailedStep upserted.
	statuses   []string
	failedStep string
	// shipInput is the last input CreateShipment received.
	shipInput activities.ShipInput
}

func (f *fakes) record(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
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

func business(code string) error {
	return temporal.NewNonRetryableApplicationError(code, code, nil)
}

func (f *fakes) install(env *testsuite.TestWorkflowEnvironment) {
	ok := activities.Result{Outcome: "applied", Attempt: 1}
	env.OnActivity(a.PriceOrder, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.PriceInput) (activities.PriceResult, error) {
			return activities.PriceResult{Result: ok, Total: 2500}, f.record("PriceOrder")
		})
	env.OnActivity(a.CreateOrder, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.CreateOrderInput) (activities.Result, error) {
			return ok, f.record("CreateOrder")
		})
	env.OnActivity(a.CancelOrder, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.CancelOrderInput) (activities.Result, error) {
			return ok, f.record("CancelOrder")
		})
	env.OnActivity(a.ReserveStock, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ReserveInput) (activities.Result, error) {
			return ok, f.record("ReserveStock")
		})
	env.OnActivity(a.ChargePayment, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ChargeInput) (activities.Result, error) {
			return ok, f.record("ChargePayment")
		})
	env.OnActivity(a.CreateShipment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ShipInput) (activities.ShipResult, error) {
			f.shipInput = in
			if in.Fail {
				return activities.ShipResult{}, business(activities.ForcedFailureCode)
			}
			return activities.ShipResult{Result: ok, Tracking: "TRK-1"}, f.record("CreateShipment")
		})
	env.OnActivity(a.ConfirmOrder, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ConfirmInput) (activities.Result, error) {
			return ok, f.record("ConfirmOrder")
		})
	for name, fn := range map[string]any{"ReleaseStock": a.ReleaseStock, "RefundPayment": a.RefundPayment, "CancelShipment": a.CancelShipment} {
		env.OnActivity(fn, mock.Anything, mock.Anything).Return(
			func(context.Context, activities.UndoInput) (activities.Result, error) { return ok, f.record(name) })
	}
}

func newEnv(t *testing.T, f *fakes) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.OrderSaga)
	env.RegisterActivity(a)
	f.install(env)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		attrs := args.Get(0).(temporal.SearchAttributes)
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

// checkCancellationAtThePivot cancels a saga of order() while its pivot runs
// and checks that it completes with no compensation.
func checkCancellationAtThePivot(t *testing.T, order func() workflows.OrderInput) {
	t.Helper()
	f := &fakes{}
	env := newEnv(t, f)
	env.OnActivity(a.ConfirmOrder, mock.Anything, mock.Anything).After(time.Hour).Return(activities.Result{Outcome: "applied", Attempt: 1}, nil)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	state, errType := outcome(t, env, order())
	if errType != "" || state.Status != workflows.StatusCompleted {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	if comps := compensations(f.called()); len(comps) > 0 {
		t.Fatalf("compensations %v ran after the pivot", comps)
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
