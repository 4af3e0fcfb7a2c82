package workflows_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/sagaflow/sagaflow/workflows"
)

// operator sends Workflow Updates to the saga under test and keeps their
// answers by key (the test environment answers once the update ran).
type operator struct {
	env     *testsuite.TestWorkflowEnvironment
	mu      sync.Mutex
	answers map[string]*answer
}

type answer struct {
	result   workflows.ActionResult
	err      error
	rejected bool
}

func newOperator(env *testsuite.TestWorkflowEnvironment) *operator {
	return &operator{env: env, answers: map[string]*answer{}}
}

func (o *operator) send(key, update string, req any) {
	a := &answer{}
	o.mu.Lock()
	o.answers[key] = a
	o.mu.Unlock()
	o.env.UpdateWorkflow(update, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) {
			o.mu.Lock()
			defer o.mu.Unlock()
			a.err, a.rejected = err, true
		},
		OnComplete: func(v any, err error) {
			o.mu.Lock()
			defer o.mu.Unlock()
			a.err = err
			if res, ok := v.(workflows.ActionResult); ok {
				a.result = res
			}
		},
	}, req)
}

func (o *operator) answer(key string) answer {
	o.mu.Lock()
	defer o.mu.Unlock()
	if a := o.answers[key]; a != nil {
		return *a
	}
	return answer{}
}

// refused checks that the action key was refused by its validator with a
// message that holds each of words.
func (o *operator) refused(t *testing.T, key string, words ...string) {
	t.Helper()
	a := o.answer(key)
	if !a.rejected || a.err == nil {
		t.Errorf("%s: %+v, want refused", key, a)
		return
	}
	for _, w := range words {
		if !strings.Contains(a.err.Error(), w) {
			t.Errorf("%s: refused with %q, want it to say %q", key, a.err, w)
		}
	}
}

// RefundPayment fails until an operator acts (the demo's
// FailCompensation). The actions that do not apply are refused, before
// they reach the history, with what is wrong; a step is named by itself or
// by its compensation, in any case, or not at all when only one fails.
func TestOperatorActionsOnAFailingCompensation(t *testing.T) {
	f := &fakes{}
	env := newEnv(t, f)
	op := newOperator(env)
	in := validOrder()
	in.Demo.FailAt = workflows.StepCreateShipment
	in.Demo.FailCompensation = workflows.StepChargePayment
	env.RegisterDelayedCallback(func() {
		op.send("retry before any failure", workflows.UpdateRetry, workflows.RetryRequest{Operator: "ops"})
	}, 0)
	var atRetry int
	env.RegisterDelayedCallback(func() {
		op.send("retry without operator", workflows.UpdateRetry, workflows.RetryRequest{Step: "ChargePayment", Operator: " "})
		op.send("retry an unknown step", workflows.UpdateRetry, workflows.RetryRequest{Step: "Teleport", Operator: "ops"})
		op.send("retry a step not failing", workflows.UpdateRetry, workflows.RetryRequest{Step: "ReleaseStock", Operator: "ops"})
		op.send("retry the pivot not failing", workflows.UpdateRetry, workflows.RetryRequest{Step: "ConfirmOrder", Operator: "ops"})
		op.send("resolve without operator", workflows.UpdateResolve, workflows.ResolveRequest{Step: "ChargePayment", Reason: "done"})
		op.send("resolve without reason", workflows.UpdateResolve, workflows.ResolveRequest{Step: "ChargePayment", Operator: "ops", Reason: "  "})
		op.send("resolve without step", workflows.UpdateResolve, workflows.ResolveRequest{Operator: "ops", Reason: "done"})
		op.send("resolve the pivot", workflows.UpdateResolve, workflows.ResolveRequest{Step: "ConfirmOrder", Operator: "ops", Reason: "done"})
		op.send("resolve PriceOrder", workflows.UpdateResolve, workflows.ResolveRequest{Step: "priceorder", Operator: "ops", Reason: "done"})
		op.send("resolve a compensation done", workflows.UpdateResolve, workflows.ResolveRequest{Step: "CancelShipment", Operator: "ops", Reason: "done"})
		op.send("resolve an unknown step", workflows.UpdateResolve, workflows.ResolveRequest{Step: "Teleport", Operator: "ops", Reason: "done"})
		atRetry = len(f.attemptsOf("RefundPayment"))
		op.send("retry the one failing", workflows.UpdateRetry, workflows.RetryRequest{Operator: "ops"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		op.send("retry by compensation", workflows.UpdateRetry, workflows.RetryRequest{Step: "refundpayment", Operator: "ops"})
	}, 90*time.Minute)
	env.RegisterDelayedCallback(func() {
		op.send("resolve", workflows.UpdateResolve, workflows.ResolveRequest{Step: "chargePAYMENT", Operator: "ada", Reason: "refunded by hand, ticket 42"})
	}, 2*time.Hour)
	state, errType := outcome(t, env, in)

	op.refused(t, "retry before any failure", "nothing to act on", "o1")
	op.refused(t, "retry without operator", "operator")
	op.refused(t, "retry an unknown step", "Teleport", "CancelOrder", "ReleaseStock", "RefundPayment", "CancelShipment")
	op.refused(t, "retry a step not failing", "ReleaseStock is not failing (step done, compensation ReleaseStock)", "ChargePayment", "RefundPayment")
	op.refused(t, "retry the pivot not failing", "ConfirmOrder is not failing (step pending)")
	op.refused(t, "resolve without operator", "operator")
	op.refused(t, "resolve without reason", "reason")
	op.refused(t, "resolve without step", "name the step")
	op.refused(t, "resolve the pivot", "ConfirmOrder has no compensation")
	op.refused(t, "resolve PriceOrder", "PriceOrder has no compensation")
	op.refused(t, "resolve a compensation done", "CancelShipment is not failing", "compensated")
	op.refused(t, "resolve an unknown step", "Teleport")

	for _, key := range []string{"retry the one failing", "retry by compensation"} {
		a := op.answer(key)
		want := workflows.ActionResult{Step: "ChargePayment", Compensation: "RefundPayment", Outcome: workflows.ActionRetried,
			Status: workflows.StatusCompensationFailing}
		if a.err != nil || a.result != want {
			t.Errorf("%s: %+v, %v; want %+v", key, a.result, a.err, want)
		}
	}
	// The retry ran RefundPayment at once: an attempt at 1h, one at 90m.
	for _, when := range []time.Duration{time.Hour, 90 * time.Minute} {
		found := false
		for _, at := range f.attemptsOf("RefundPayment")[atRetry:] {
			found = found || at.Since == when
		}
		if !found {
			t.Errorf("no attempt of RefundPayment when retried at %s", when)
		}
	}
	if a := op.answer("resolve"); a.err != nil || a.result.Step != "ChargePayment" || a.result.Outcome != workflows.ActionResolved {
		t.Errorf("resolve: %+v, %v", a.result, a.err)
	}
	if errType != workflows.ErrTypeCompensated || state.Status != workflows.StatusCompensatedByHand {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	charge := state.Step(workflows.StepChargePayment)
	if charge.Status != workflows.StepResolved || charge.Resolution == nil || charge.Resolution.By != "ada" ||
		charge.Resolution.Reason != "refunded by hand, ticket 42" || !charge.FailingSince.IsZero() {
		t.Fatalf("ChargePayment %+v, resolution %+v", charge, charge.Resolution)
	}
	if at := charge.Resolution.At.Sub(f.start); at != 2*time.Hour {
		t.Fatalf("resolved at %s, want 2h", at)
	}
	if run := state.CompensationsRun(); strings.Join(run, ",") != "CancelOrder,ReleaseStock,CancelShipment" {
		t.Fatalf("compensations run %v", run)
	}
	if got := f.statuses; strings.Join(got, ",") != "RUNNING,COMPENSATING,COMPENSATION_FAILING,COMPENSATING,COMPENSATED_BY_HAND" {
		t.Fatalf("SagaStatus went %v", got)
	}
}

// ConfirmOrder's store is down: the saga is PIVOT_STUCK, and a retry (the
// only failing step needs no name) runs the pivot again at once; the pivot
// cannot be resolved.
func TestOperatorRetriesThePivot(t *testing.T) {
	f := &fakes{down: map[string]time.Duration{workflows.StepConfirmOrder: 2 * time.Hour}}
	env := newEnv(t, f)
	op := newOperator(env)
	env.RegisterDelayedCallback(func() {
		op.send("retry", workflows.UpdateRetry, workflows.RetryRequest{Operator: "ops"})
		op.send("resolve", workflows.UpdateResolve, workflows.ResolveRequest{Step: "ConfirmOrder", Operator: "ops", Reason: "x"})
		op.send("retry a compensation", workflows.UpdateRetry, workflows.RetryRequest{Step: "CancelOrder", Operator: "ops"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		op.send("retry when back", workflows.UpdateRetry, workflows.RetryRequest{Step: "confirmorder", Operator: "ops"})
	}, 2*time.Hour+time.Second)
	state, errType := outcome(t, env, validOrder())
	if errType != "" || state.Status != workflows.StatusCompleted {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	want := workflows.ActionResult{Step: "ConfirmOrder", Outcome: workflows.ActionRetried, Status: workflows.StatusPivotStuck}
	if a := op.answer("retry"); a.err != nil || a.result != want {
		t.Errorf("retry: %+v, %v; want %+v", a.result, a.err, want)
	}
	if a := op.answer("retry when back"); a.err != nil || a.result.Step != "ConfirmOrder" {
		t.Errorf("retry when back: %+v, %v", a.result, a.err)
	}
	op.refused(t, "resolve", "ConfirmOrder has no compensation")
	op.refused(t, "retry a compensation", "CancelOrder is not failing", "ConfirmOrder")
	var at []time.Duration
	for _, a := range f.attemptsOf(workflows.StepConfirmOrder) {
		at = append(at, a.Since)
	}
	for _, when := range []time.Duration{time.Hour, 2*time.Hour + time.Second} {
		found := false
		for _, s := range at {
			found = found || s == when
		}
		if !found {
			t.Errorf("no attempt of ConfirmOrder when retried at %s", when)
		}
	}
	if last := at[len(at)-1]; last != 2*time.Hour+time.Second {
		t.Errorf("the pivot succeeded at %s, want when retried at 2h1s", last)
	}
}
