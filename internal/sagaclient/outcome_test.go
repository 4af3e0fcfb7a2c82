package sagaclient

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
		{"completed", workflows.SagaState{OrderID: "o-3", Status: workflows.StatusCompleted}, nil, Completed,
			workflows.SagaState{OrderID: "o-3", Status: workflows.StatusCompleted}},
		{"compensated", workflows.SagaState{}, temporal.NewNonRetryableApplicationError("order compensated",
			workflows.ErrTypeCompensated, errors.New("forced failure"), state), Compensated, state},
		{"rejected", workflows.SagaState{}, temporal.NewNonRetryableApplicationError("order rejected",
			workflows.ErrTypeRejected, nil, rejected), Rejected, rejected},
		{"compensation failed", workflows.SagaState{}, temporal.NewNonRetryableApplicationError("compensation failed",
			workflows.ErrTypeCompensationFailed, nil, state), CompensationFailed, state},
		{"cancelled", workflows.SagaState{}, temporal.NewCanceledError(state), Cancelled, state},
		{"another application error", workflows.SagaState{}, temporal.NewApplicationError("boom", "Other"), Failed,
			workflows.SagaState{}},
	}
	for _, tc := range cases {
		err := tc.err
		if err != nil {
			err = overTheWire(t, err)
		}
		o, derr := Decode(tc.result, err)
		if derr != nil {
			t.Errorf("%s: %v", tc.name, derr)
			continue
		}
		if o.Kind != tc.kind || o.State.OrderID != tc.wantState.OrderID || o.State.Status != tc.wantState.Status ||
			o.State.FailedStep != tc.wantState.FailedStep || o.State.Error != tc.wantState.Error {
			t.Errorf("%s: got %s %+v, want %s %+v", tc.name, o.Kind, o.State, tc.kind, tc.wantState)
		}
		if (tc.kind == Completed) != (o.Error == "") {
			t.Errorf("%s: error %q", tc.name, o.Error)
		}
	}

	o, err := Decode(workflows.SagaState{}, overTheWire(t, temporal.NewCanceledError(state)))
	if err != nil || !slices.Equal(o.State.CompensationsRun(), []string{"CancelOrder", "CancelShipment"}) || o.Status() != "COMPENSATED" {
		t.Errorf("cancelled: compensations %v, status %s, %v", o.State.CompensationsRun(), o.Status(), err)
	}
}

func TestDecodeOutcomeWithoutState(t *testing.T) {
	terminated := temporal.GetDefaultFailureConverter().FailureToError(&failurepb.Failure{
		Message: "terminated by operator", FailureInfo: &failurepb.Failure_TerminatedFailureInfo{TerminatedFailureInfo: &failurepb.TerminatedFailureInfo{}},
	})
	o, err := Decode(workflows.SagaState{}, terminated)
	if err != nil || o.Kind != Failed || o.HasState() || o.Status() != "FAILED" || o.Error == "" {
		t.Errorf("terminated: %+v, %v", o, err)
	}
}

func TestDecodeOutcomeInfrastructure(t *testing.T) {
	for _, err := range []error{context.DeadlineExceeded, serviceerror.NewUnavailable("connection refused")} {
		if o, derr := Decode(workflows.SagaState{}, err); derr == nil {
			t.Errorf("%v decoded as the outcome %+v; want it returned as an error", err, o)
		}
	}
}
