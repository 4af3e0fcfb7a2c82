package workflows_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/workflows"
)

// noDeadline reports whether an activity's ScheduleToCloseTimeout is none:
// the test environment shows none as the saga's run timeout.
func noDeadline(d time.Duration) bool { return d == 0 || d == sagaRunTimeout }

// When one of ReserveStock and ChargePayment fails, the other, still
// running, is cancelled: the saga compensates at once instead of waiting
// for it, and both compensations run.
func TestAFailingStepCancelsItsRunningSibling(t *testing.T) {
	for _, c := range []struct{ fails, slow string }{
		{workflows.StepChargePayment, workflows.StepReserveStock},
		{workflows.StepReserveStock, workflows.StepChargePayment},
	} {
		t.Run(c.fails, func(t *testing.T) {
			f := &fakes{fail: map[string]error{c.fails: business("OUT_OF_LUCK")}, delay: map[string]time.Duration{c.slow: time.Hour}}
			env := newEnv(t, f)
			state, errType := outcome(t, env, validOrder())
			if errType != workflows.ErrTypeCompensated || state.FailedStep != c.fails {
				t.Fatalf("error %q, state %+v", errType, state)
			}
			if took := env.Now().Sub(f.start); took >= time.Hour {
				t.Fatalf("the saga took %s: it waited for %s instead of cancelling it", took, c.slow)
			}
			if st := state.Step(c.slow); !strings.Contains(st.LastError, "canceled") || st.Attempts != 0 {
				t.Fatalf("%s: %+v, want cancelled", c.slow, st)
			}
			want := []string{"RefundPayment", "ReleaseStock", "CancelOrder"}
			if comps := compensations(f.called()); !slices.Equal(comps, want) {
				t.Fatalf("compensations %v, want %v", comps, want)
			}
		})
	}
}

// ReserveStock and ChargePayment run at the same time: two steps of an
// hour each take an hour.
func TestReserveStockAndChargePaymentRunInParallel(t *testing.T) {
	f := &fakes{delay: map[string]time.Duration{workflows.StepReserveStock: time.Hour, workflows.StepChargePayment: time.Hour}}
	env := newEnv(t, f)
	state, errType := outcome(t, env, validOrder())
	if errType != "" || state.Status != workflows.StatusCompleted {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	for _, step := range []string{workflows.StepReserveStock, workflows.StepChargePayment} {
		if at := f.attemptsOf(step); len(at) != 1 || at[0].Since != time.Hour {
			t.Errorf("%s ended at %+v, want after an hour", step, at)
		}
	}
	if took := env.Now().Sub(f.start); took != time.Hour {
		t.Fatalf("the saga took %s, want 1h", took)
	}
}

// A forward step retries an infrastructure error 200ms, then twice as
// long, up to 10s apart, within a deadline of 2 minutes (15s per attempt),
// then fails and the saga compensates.
func TestForwardStepsRetryWithinTwoMinutes(t *testing.T) {
	for _, local := range []bool{false, true} {
		t.Run(map[bool]string{false: "activities", true: "local steps"}[local], func(t *testing.T) {
			f := &fakes{down: map[string]time.Duration{workflows.StepCreateShipment: time.Hour}}
			env := newEnv(t, f)
			in := validOrder()
			in.LocalSteps = local
			state, errType := outcome(t, env, in)
			if errType != workflows.ErrTypeCompensated || state.FailedStep != workflows.StepCreateShipment {
				t.Fatalf("error %q, state %+v", errType, state)
			}
			want := []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"}
			if comps := compensations(f.called()); !slices.Equal(comps, want) {
				t.Fatalf("compensations %v, want %v", comps, want)
			}
			ship := f.attemptsOf(workflows.StepCreateShipment)
			for _, at := range ship {
				if at.Info.ScheduleToCloseTimeout != 2*time.Minute || at.Info.StartToCloseTimeout != 15*time.Second || at.Since > 2*time.Minute {
					t.Fatalf("attempt %d at %s: schedule-to-close %s, start-to-close %s; want 2m, 15s, within 2m",
						at.Info.Attempt, at.Since, at.Info.ScheduleToCloseTimeout, at.Info.StartToCloseTimeout)
				}
			}
			if g := gaps(ship); len(g) < 7 || g[0] != 200*time.Millisecond || g[1] != 400*time.Millisecond || slices.Max(g) != 10*time.Second {
				t.Fatalf("waits between attempts %v: want 200ms, 400ms, ... up to 10s", g)
			}
		})
	}
}

// The pivot's first round is a forward step's with a deadline of a minute:
// then the saga shows PIVOT_STUCK and the server retries the pivot, as an
// activity without a deadline, until it succeeds; nothing is compensated.
func TestThePivotsFirstRoundLastsAMinute(t *testing.T) {
	for _, local := range []bool{false, true} {
		t.Run(map[bool]string{false: "activities", true: "local steps"}[local], func(t *testing.T) {
			f := &fakes{down: map[string]time.Duration{workflows.StepConfirmOrder: 2 * time.Hour}}
			env := newEnv(t, f)
			in := validOrder()
			in.LocalSteps = local
			var stuck workflows.SagaState
			env.RegisterDelayedCallback(func() { stuck = queryState(t, env) }, time.Hour)
			state, errType := outcome(t, env, in)
			if errType != "" || state.Status != workflows.StatusCompleted {
				t.Fatalf("error %q, state %+v", errType, state)
			}
			if comps := compensations(f.called()); len(comps) > 0 {
				t.Fatalf("compensations %v ran", comps)
			}
			pivot := stuck.Step(workflows.StepConfirmOrder)
			if stuck.Status != workflows.StatusPivotStuck || pivot.Status != workflows.StepRunning || !strings.Contains(pivot.LastError, "unavailable") ||
				pivot.FailingSince.Sub(pivot.StartedAt) > time.Minute {
				t.Fatalf("after an hour: %s, ConfirmOrder %+v; want PIVOT_STUCK within its first minute", stuck.Status, pivot)
			}
			if done := state.Step(workflows.StepConfirmOrder); done.Status != workflows.StepDone || !done.FailingSince.IsZero() {
				t.Fatalf("ConfirmOrder at the end: %+v", done)
			}
			at := f.attemptsOf(workflows.StepConfirmOrder)
			split := slices.IndexFunc(at[1:], func(a stepAttempt) bool { return a.Info.Attempt == 1 }) + 1
			if split < 2 {
				t.Fatalf("attempts %+v: want a first round, then the server's retries", at)
			}
			for _, a := range at[:split] {
				if a.Info.IsLocalActivity != local || a.Info.ScheduleToCloseTimeout != time.Minute || a.Info.StartToCloseTimeout != 15*time.Second {
					t.Fatalf("first round attempt at %s: local %t, schedule-to-close %s, start-to-close %s; want local=%t, 1m, 15s",
						a.Since, a.Info.IsLocalActivity, a.Info.ScheduleToCloseTimeout, a.Info.StartToCloseTimeout, local)
				}
			}
			rest := at[split:]
			for _, a := range rest {
				if a.Info.IsLocalActivity || !noDeadline(a.Info.ScheduleToCloseTimeout) || a.Info.StartToCloseTimeout != 15*time.Second {
					t.Fatalf("server retry at %s: local %t, schedule-to-close %s; want an activity without deadline",
						a.Since, a.Info.IsLocalActivity, a.Info.ScheduleToCloseTimeout)
				}
			}
			if g := gaps(rest); len(g) < 10 || g[0] != time.Second || slices.Max(g) != 5*time.Minute {
				t.Fatalf("waits between the server's retries %v: want 1s, 2s, ... up to 5m", g)
			}
			if last := rest[len(rest)-1].Since; last < 2*time.Hour || last > 2*time.Hour+5*time.Minute {
				t.Fatalf("the pivot succeeded at %s, want within 5 minutes of the store's return at 2h", last)
			}
			if got := f.statuses[len(f.statuses)-2:]; !slices.Equal(got, []string{"PIVOT_STUCK", "COMPLETED"}) {
				t.Fatalf("SagaStatus went %v", f.statuses)
			}
		})
	}
}

// A compensation that keeps failing after its first round (3 attempts)
// shows COMPENSATION_FAILING while the server retries it,
// 1s, then twice as long, up to 5 minutes apart, until it succeeds; then
// the saga goes on and ends COMPENSATED.
func TestAFailingCompensationIsRetriedUpToFiveMinutesApart(t *testing.T) {
	f := &fakes{fail: map[string]error{"CreateShipment": business("INVALID_ADDRESS")}, down: map[string]time.Duration{"CancelShipment": 2 * time.Hour}}
	env := newEnv(t, f)
	var failing workflows.SagaState
	env.RegisterDelayedCallback(func() { failing = queryState(t, env) }, time.Hour)
	state, errType := outcome(t, env, validOrder())
	if errType != workflows.ErrTypeCompensated || state.Status != workflows.StatusCompensated {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	if done := state.Step(workflows.StepCreateShipment); done.Status != workflows.StepCompensated || done.CompensationOutcome != "applied" || done.CompensationRounds != 2 {
		t.Fatalf("CreateShipment at the end: %+v; want compensated in round 2, applied", done)
	}
	ship := failing.Step(workflows.StepCreateShipment)
	if failing.Status != workflows.StatusCompensationFailing || ship.Status != workflows.StepCompensating || ship.CompensationRounds != 2 ||
		ship.FailingSince.IsZero() || !strings.Contains(ship.LastError, "unavailable") {
		t.Fatalf("after an hour: %s, CreateShipment %+v; want COMPENSATION_FAILING in round 2", failing.Status, ship)
	}
	at := f.attemptsOf("CancelShipment")
	// (The test environment caps the first round's waits at 1s.)
	if len(at) < 10 || at[2].Info.Attempt != 3 || at[2].Since > 3*time.Second || at[3].Info.Attempt != 1 || at[3].Since != at[2].Since {
		t.Fatalf("CancelShipment attempts at %v: want 3, then the server's retries at once", sinces(at))
	}
	if g := gaps(at[3:]); g[0] != time.Second || slices.Max(g) != 5*time.Minute {
		t.Fatalf("waits between the server's retries %v: want 1s, 2s, ... up to 5m", g)
	}
	if last := at[len(at)-1].Since; last < 2*time.Hour || last > 2*time.Hour+5*time.Minute {
		t.Fatalf("CancelShipment succeeded at %s, want within 5 minutes of 2h", last)
	}
	want := []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"}
	if comps := slices.Compact(compensations(f.called())); !slices.Equal(comps, want) {
		t.Fatalf("compensations %v, want %v", comps, want)
	}
}

func gaps(at []stepAttempt) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(at); i++ {
		out = append(out, at[i].Since-at[i-1].Since)
	}
	return out
}

func sinces(at []stepAttempt) []time.Duration {
	out := make([]time.Duration, len(at))
	for i, a := range at {
		out[i] = a.Since
	}
	return out
}

// PriceOrder changes nothing, but an infrastructure failure is not a
// refusal of the order: the saga fails as compensated (nothing to undo),
// not rejected.
func TestPriceOrderUnavailableIsNotARejection(t *testing.T) {
	f := &fakes{down: map[string]time.Duration{workflows.StepPriceOrder: time.Hour}}
	env := newEnv(t, f)
	state, errType := outcome(t, env, validOrder())
	if errType != workflows.ErrTypeCompensated || state.Status != workflows.StatusCompensated || state.FailedStep != workflows.StepPriceOrder {
		t.Fatalf("error %q, state %+v; want compensated at PriceOrder", errType, state)
	}
	if calls := f.called(); slices.ContainsFunc(calls, func(c string) bool { return c != workflows.StepPriceOrder }) {
		t.Fatalf("calls %v", calls)
	}
}

// A compensation refused for good (a non-retryable error) does not stop the
// others; the saga ends COMPENSATION_FAILED with a CompensationFailed error
// naming it (a saga started on a build before versionFinalStatuses ends
// COMPENSATION_FAILING, as it did then).
func TestACompensationRefusedForGood(t *testing.T) {
	for _, c := range []struct {
		name    string
		version workflow.Version
		final   workflows.SagaStatus
	}{
		{"current", 1, workflows.StatusCompensationFailed},
		{"earlier build", workflow.DefaultVersion, workflows.StatusCompensationFailing},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakes{fail: map[string]error{"CreateShipment": business("INVALID_ADDRESS"), "RefundPayment": business("ACCOUNT_CLOSED")}}
			env := newEnv(t, f)
			env.OnGetVersion("order-saga", workflow.DefaultVersion, 1).Return(c.version)
			env.ExecuteWorkflow(workflows.OrderSaga, validOrder())
			var appErr *temporal.ApplicationError
			if !errors.As(env.GetWorkflowError(), &appErr) || appErr.Type() != workflows.ErrTypeCompensationFailed || !appErr.NonRetryable() ||
				!strings.Contains(appErr.Message(), "RefundPayment") {
				t.Fatalf("error %v, want a non-retryable %s naming RefundPayment", env.GetWorkflowError(), workflows.ErrTypeCompensationFailed)
			}
			var state workflows.SagaState
			if err := appErr.Details(&state); err != nil {
				t.Fatal(err)
			}
			charge := state.Step(workflows.StepChargePayment)
			if state.Status != c.final || charge.Status != workflows.StepCompensationFailed || charge.LastError != "ACCOUNT_CLOSED" {
				t.Fatalf("status %s, ChargePayment %+v", state.Status, charge)
			}
			if run := state.CompensationsRun(); !slices.Equal(run, []string{"CancelOrder", "ReleaseStock", "CancelShipment"}) {
				t.Fatalf("compensations run %v", run)
			}
			// Failing when RefundPayment is refused, compensating again
			// for the others, then the final status.
			want := []string{"RUNNING", "COMPENSATING", "COMPENSATION_FAILING", "COMPENSATING", string(c.final)}
			if !slices.Equal(f.statuses, want) {
				t.Fatalf("SagaStatus went %v, want %v", f.statuses, want)
			}
		})
	}
}

// A cancellation that arrives while the saga compensates does not stop the
// compensations: each runs, in reverse, and the saga ends cancelled.
func TestCancellationDuringCompensationLetsItFinish(t *testing.T) {
	f := &fakes{fail: map[string]error{"CreateShipment": business("INVALID_ADDRESS")}, delay: map[string]time.Duration{"RefundPayment": time.Hour}}
	env := newEnv(t, f)
	var during workflows.SagaState
	env.RegisterDelayedCallback(func() {
		during = queryState(t, env)
		env.CancelWorkflow()
	}, time.Minute)
	state, errType := outcome(t, env, validOrder())
	if during.Status != workflows.StatusCompensating || during.Step(workflows.StepChargePayment).Status != workflows.StepCompensating {
		t.Fatalf("when cancelled: %s %+v; want it compensating RefundPayment", during.Status, during.Step(workflows.StepChargePayment))
	}
	if errType != "canceled" || state.Status != workflows.StatusCompensated {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	want := []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"}
	if comps := compensations(f.called()); !slices.Equal(comps, want) {
		t.Fatalf("compensations %v, want %v", comps, want)
	}
}

// Every step's idempotency keys use the saga id: the workflow id and its
// run chain's first run id (the workflow id alone for sagas started before
// versionSagaIDPerRun).
func TestSagaIDIsTheWorkflowIDAndItsFirstRun(t *testing.T) {
	id := workflows.WorkflowID("o1")
	for _, c := range []struct {
		name    string
		version workflow.Version
		want    string
	}{
		// The test environment gives no first run id.
		{"current", 1, id + "/"},
		{"earlier build", workflow.DefaultVersion, id},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakes{fail: map[string]error{"CreateShipment": business("INVALID_ADDRESS")}}
			env := newEnv(t, f)
			env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
			env.OnGetVersion("order-saga", workflow.DefaultVersion, 1).Return(c.version)
			if _, errType := outcome(t, env, validOrder()); errType != workflows.ErrTypeCompensated {
				t.Fatalf("error %q", errType)
			}
			want := c.want
			f.mu.Lock()
			defer f.mu.Unlock()
			n := 0
			for _, at := range f.attempts {
				if at.Name == workflows.StepPriceOrder {
					continue
				}
				n++
				if at.Ref.SagaID != want || at.Ref.OrderID != "o1" {
					t.Errorf("%s got ref %+v, want saga id %q", at.Name, at.Ref, want)
				}
			}
			if n < 7 {
				t.Fatalf("%d activities checked", n)
			}
		})
	}
}

// The state reports the attempt that failed a step, as its error says.
func TestFailedStepReportsItsAttempt(t *testing.T) {
	f := &fakes{down: map[string]time.Duration{workflows.StepCreateOrder: time.Hour}}
	env := newEnv(t, f)
	state, errType := outcome(t, env, validOrder())
	created := state.Step(workflows.StepCreateOrder)
	last := f.attemptsOf(workflows.StepCreateOrder)
	if errType != workflows.ErrTypeCompensated || len(last) < 2 || created.Attempts != int(last[len(last)-1].Info.Attempt) {
		t.Fatalf("error %q, CreateOrder %+v after %d attempts", errType, created, len(last))
	}
	if got := state.Step(workflows.StepPriceOrder); got.Attempts != 1 || got.Outcome != "applied" {
		t.Fatalf("PriceOrder %+v", got)
	}
}
