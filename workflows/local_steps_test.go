package workflows_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/sagaflow/sagaflow/workflows"
)

// kinds records which activities ran as local activities and which as
// regular ones.
type kinds struct {
	mu             sync.Mutex
	local, regular []string
}

func watchKinds(env *testsuite.TestWorkflowEnvironment) *kinds {
	k := &kinds{}
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.local = append(k.local, info.ActivityType.Name)
	})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.regular = append(k.regular, info.ActivityType.Name)
	})
	return k
}

func localOrder() workflows.OrderInput {
	in := validOrder()
	in.LocalSteps = true
	return in
}

func TestLocalStepsSuccessRunsEveryStepLocally(t *testing.T) {
	f := &fakes{}
	env := newEnv(t, f)
	k := watchKinds(env)
	state, errType := outcome(t, env, localOrder())
	if errType != "" || state.Status != workflows.StatusCompleted || state.Total != 2500 || state.Tracking != "TRK-1" {
		t.Fatalf("state %+v, error %q", state, errType)
	}
	for _, st := range state.Steps {
		if st.Status != workflows.StepDone || st.Attempts != 1 {
			t.Errorf("step %s: %+v", st.Name, st)
		}
	}
	slices.Sort(k.local)
	want := slices.Clone(workflows.Steps)
	slices.Sort(want)
	if !slices.Equal(k.local, want) || len(k.regular) != 0 {
		t.Fatalf("local activities %v, regular %v; want every step local", k.local, k.regular)
	}
	if s := f.sagaStatus(); s != "COMPLETED" {
		t.Fatalf("SagaStatus %s", s)
	}
}

func TestLocalStepsFailureAtEachStepCompensatesInReverse(t *testing.T) {
	checkFailureAtEachStep(t, localOrder, func(t *testing.T, k *kinds, want []string) {
		if !slices.Equal(k.regular, want) {
			t.Fatalf("regular activities %v: want the compensations %v, as regular activities", k.regular, want)
		}
	})
}

func TestLocalStepsRetryInfrastructureErrors(t *testing.T) {
	f := &fakes{
		fail:      map[string]error{"ReserveStock": errors.New("inventory database unreachable")},
		failTimes: map[string]int{"ReserveStock": 2},
	}
	env := newEnv(t, f)
	state, errType := outcome(t, env, localOrder())
	if errType != "" || state.Status != workflows.StatusCompleted {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	if n := countOf(f.called(), "ReserveStock"); n != 3 {
		t.Fatalf("ReserveStock ran %d times, want 3 (two failures, then success)", n)
	}
}

func TestLocalStepsGiveUpAfterTheForwardDeadline(t *testing.T) {
	f := &fakes{fail: map[string]error{"CreateShipment": errors.New("shipping database unreachable")}}
	env := newEnv(t, f)
	state, errType := outcome(t, env, localOrder())
	if errType != workflows.ErrTypeCompensated || state.FailedStep != workflows.StepCreateShipment {
		t.Fatalf("error %q, state %+v", errType, state)
	}
	want := []string{"CancelShipment", "RefundPayment", "ReleaseStock", "CancelOrder"}
	if comps := compensations(f.called()); !slices.Equal(comps, want) {
		t.Fatalf("compensations %v, want %v", comps, want)
	}
	if n := countOf(f.called(), "CreateShipment"); n < 5 {
		t.Fatalf("CreateShipment ran %d times: want retries until the deadline", n)
	}
}

func TestLocalStepsCancellationCompensatesWhatWasRegistered(t *testing.T) {
	checkCancellationAtEachStage(t, localOrder)
}

func TestLocalStepsCancellationAtThePivotDoesNotUndoTheOrder(t *testing.T) {
	checkCancellationAtThePivot(t, localOrder)
}

func countOf(calls []string, name string) int {
	n := 0
	for _, c := range calls {
		if c == name {
			n++
		}
	}
	return n
}
