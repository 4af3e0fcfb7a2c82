package main

import (
	"context"
	"errors"
	"slices"
	"testing"

	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/workflows"
)

// overTheWire turns a workflow's error into what a client reads back: a
// Failure proto, decoded with its details still encoded.
func overTheWire(t *testing.T, err error) error {
	t.Helper()
	fc := temporal.GetDefaultFailureConverter()
	return fc.FailureToError(fc.ErrorToFailure(err))
}

func compensatedState() workflows.SagaState {
	return workflows.SagaState{
		OrderID: "o-1", CustomerID: "alice", Region: "eu", Status: workflows.StatusCompensated, Total: 2500,
		FailedStep: workflows.StepCreateShipment, Error: "forced failure",
		Steps: []workflows.StepState{
			{Name: workflows.StepCreateOrder, Status: workflows.StepCompensated, Compensation: "CancelOrder"},
			{Name: workflows.StepCreateShipment, Status: workflows.StepCompensated, Compensation: "CancelShipment"},
			{Name: workflows.StepConfirmOrder, Status: workflows.StepPending},
		},
	}
}

func TestDecodeOutcome(t *testing.T) {
	state := compensatedState()
	rejected := workflows.SagaState{OrderID: "o-2", Status: workflows.StatusRejected, FailedStep: workflows.StepPriceOrder, Error: "unknown SKU"}
	cases := []struct {
		name      string
		result    workflows.SagaState
		err       error
		kind      string
		wantState workflows.SagaState
	}{
		{"completed", workflows.SagaState{OrderID: "o-3", Status: workflows.StatusCompleted}, nil, outcomeCompleted,
			workflows.SagaState{OrderID: "o-3", Status: workflows.StatusCompleted}},
		{"compensated", workflows.SagaState{}, temporal.NewNonRetryableApplicationError("order compensated",
			workflows.ErrTypeCompensated, errors.New("forced failure"), state), outcomeCompensated, state},
		{"rejected", workflows.SagaState{}, temporal.NewNonRetryableApplicationError("order rejected",
			workflows.ErrTypeRejected, nil, rejected), outcomeRejected, rejected},
		{"compensation failed", workflows.SagaState{}, temporal.NewNonRetryableApplicationError("compensation failed",
			workflows.ErrTypeCompensationFailed, nil, state), outcomeCompensationFailed, state},
		{"cancelled", workflows.SagaState{}, temporal.NewCanceledError(state), outcomeCancelled, state},
		{"another application error", workflows.SagaState{}, temporal.NewApplicationError("boom", "Other"), outcomeFailed,
			workflows.SagaState{}},
	}
	for _, tc := range cases {
		err := tc.err
		if err != nil {
			err = overTheWire(t, err)
		}
		o, derr := decodeOutcome(tc.result, err)
		if derr != nil {
			t.Errorf("%s: %v", tc.name, derr)
			continue
		}
		if o.Kind != tc.kind || o.State.OrderID != tc.wantState.OrderID || o.State.Status != tc.wantState.Status ||
			o.State.FailedStep != tc.wantState.FailedStep || o.State.Error != tc.wantState.Error {
			t.Errorf("%s: got %s %+v, want %s %+v", tc.name, o.Kind, o.State, tc.kind, tc.wantState)
		}
		if (tc.kind == outcomeCompleted) != (o.Error == "") {
			t.Errorf("%s: error %q", tc.name, o.Error)
		}
	}

	o, err := decodeOutcome(workflows.SagaState{}, overTheWire(t, temporal.NewCanceledError(state)))
	if err != nil || !slices.Equal(o.State.CompensationsRun(), []string{"CancelOrder", "CancelShipment"}) || o.status() != "COMPENSATED" {
		t.Errorf("cancelled: compensations %v, status %s, %v", o.State.CompensationsRun(), o.status(), err)
	}
}

func TestDecodeOutcomeWithoutState(t *testing.T) {
	terminated := temporal.GetDefaultFailureConverter().FailureToError(&failurepb.Failure{
		Message: "terminated by operator", FailureInfo: &failurepb.Failure_TerminatedFailureInfo{TerminatedFailureInfo: &failurepb.TerminatedFailureInfo{}},
	})
	o, err := decodeOutcome(workflows.SagaState{}, terminated)
	if err != nil || o.Kind != outcomeFailed || o.hasState() || o.status() != "FAILED" || o.Error == "" {
		t.Errorf("terminated: %+v, %v", o, err)
	}
}

func TestDecodeOutcomeInfrastructure(t *testing.T) {
	for _, err := range []error{context.DeadlineExceeded, serviceerror.NewUnavailable("connection refused")} {
		if o, derr := decodeOutcome(workflows.SagaState{}, err); derr == nil {
			t.Errorf("%v decoded as the outcome %+v; want it returned as an error", err, o)
		}
	}
}

func TestScenarioCheck(t *testing.T) {
	s := scenario{Want: outcomeCompensated, WantStep: workflows.StepChargePayment}
	ok := outcome{Kind: outcomeCompensated, State: workflows.SagaState{FailedStep: workflows.StepChargePayment}}
	if got := s.check(ok); got != "" {
		t.Errorf("check(expected outcome) = %q", got)
	}
	bad := outcome{Kind: outcomeCompensated, State: workflows.SagaState{FailedStep: workflows.StepReserveStock}}
	if got, want := s.check(bad), "want compensated at ChargePayment, got compensated at ReserveStock"; got != want {
		t.Errorf("check = %q, want %q", got, want)
	}
}

func TestPlanBatch(t *testing.T) {
	f := batchFlags{count: 200, concurrency: 8, failShare: 0.3, seed: 42}
	a, err := planBatch(f, "b-x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := planBatch(f, "b-y")
	failing := 0
	regions := map[string]bool{}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Customer != b[i].Customer || a[i].Region != b[i].Region {
			t.Fatalf("order %d differs with the same seed: %+v vs %+v", i, a[i].scenario, b[i].scenario)
		}
		if a[i].Want != outcomeCompleted {
			failing++
		}
		regions[a[i].Region] = true
	}
	if failing < 30 || failing > 90 {
		t.Errorf("%d of 200 orders planned to fail with a share of 0.3", failing)
	}
	if len(regions) != len(workflows.Regions) {
		t.Errorf("regions used: %v", regions)
	}
	for share, wantFailing := range map[float64]int{0: 0, 1: 50} {
		orders, err := planBatch(batchFlags{count: 50, failShare: share, seed: 1}, "b")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range orders {
			if o.Want != outcomeCompleted {
				n++
			}
		}
		if n != wantFailing {
			t.Errorf("fail share %g: %d failing orders, want %d", share, n, wantFailing)
		}
	}
}
