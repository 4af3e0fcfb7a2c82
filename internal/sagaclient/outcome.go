// Package sagaclient is the client side of the order saga: how a saga
// ended, decoded from what Temporal returns, for the starter and the
// fault-injection runner alike.
package sagaclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/workflows"
)

// The outcomes of a saga.
const (
	// Completed: the order is confirmed.
	Completed = "completed"
	// Compensated: a step failed and the finished steps were undone.
	Compensated = "compensated"
	// Cancelled: the saga was cancelled and the finished steps undone.
	Cancelled = "cancelled"
	// Rejected: the order was refused before any side effect.
	Rejected = "rejected"
	// CompensationFailed: a compensation failed for good; an operator
	// must look at the saga.
	CompensationFailed = "compensation_failed"
	// Failed: anything else (terminated, timed out, an unexpected error).
	Failed = "failed"
)

// Kinds lists the outcomes in the order summaries print them.
var Kinds = []string{Completed, Compensated, Cancelled, Rejected,
	CompensationFailed, Failed}

// Outcome is how one saga ended.
type Outcome struct {
	OrderID    string `json:"order_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Kind is one of the outcome constants (Completed, ...).
	Kind string `json:"outcome"`
	// State is the saga's final state; it is empty (no OrderID) when the saga
	// ended without reporting one, such as when it was terminated.
	State workflows.SagaState `json:"state"`
	// Error is the failure Temporal recorded for the saga ("" when completed).
	Error string `json:"error,omitempty"`
}

// HasState reports whether the saga reported its final state.
func (o Outcome) HasState() bool { return o.State.OrderID != "" }

// Status is the saga's final SagaStatus, or the outcome in capitals when
// the saga reported no state.
func (o Outcome) Status() string {
	if o.HasState() {
		return string(o.State.Status)
	}
	return strings.ToUpper(o.Kind)
}

// Wait waits for the run of an order's saga to end and decodes how it
// ended. The error is for a wait that failed (server unreachable, ctx done),
// never for a saga that failed.
func Wait(ctx context.Context, tc client.Client, orderID, runID string) (Outcome, error) {
	id := workflows.WorkflowID(orderID)
	var state workflows.SagaState
	err := tc.GetWorkflow(ctx, id, runID).Get(ctx, &state)
	o, derr := Decode(state, err)
	if derr != nil {
		return Outcome{}, fmt.Errorf("wait for the outcome of order %s: %w", orderID, derr)
	}
	o.OrderID, o.WorkflowID, o.RunID = orderID, id, runID
	return o, nil
}

// Decode classifies what WorkflowRun.Get returned for an order saga:
// its result on success; on failure, the saga's own error (OrderSaga attaches
// its final SagaState as the details of its ApplicationError or
// CanceledError). It returns an error only when getErr is not a saga's
// outcome, such as an unreachable server.
func Decode(result workflows.SagaState, getErr error) (Outcome, error) {
	if getErr == nil {
		return Outcome{Kind: Completed, State: result}, nil
	}
	cause := getErr
	var execErr *temporal.WorkflowExecutionError
	if errors.As(getErr, &execErr) && execErr.Unwrap() != nil {
		cause = execErr.Unwrap()
	}
	o := Outcome{Kind: Failed, Error: cause.Error()}
	var (
		appErr     *temporal.ApplicationError
		canceled   *temporal.CanceledError
		terminated *temporal.TerminatedError
		timeout    *temporal.TimeoutError
	)
	switch {
	case errors.As(cause, &canceled):
		o.Kind, o.Error = Cancelled, "cancelled"
		if canceled.HasDetails() {
			if err := canceled.Details(&o.State); err != nil {
				return Outcome{}, fmt.Errorf("decode the state of a cancelled saga: %w", err)
			}
		}
	case errors.As(cause, &appErr):
		o.Error = appErr.Message()
		switch appErr.Type() {
		case workflows.ErrTypeCompensated:
			o.Kind = Compensated
		case workflows.ErrTypeRejected:
			o.Kind = Rejected
		case workflows.ErrTypeCompensationFailed:
			o.Kind = CompensationFailed
		}
		if appErr.HasDetails() {
			if err := appErr.Details(&o.State); err != nil {
				return Outcome{}, fmt.Errorf("decode the state of a %s saga: %w", o.Kind, err)
			}
		}
	case errors.As(cause, &terminated), errors.As(cause, &timeout), execErr != nil:
		// An outcome without a state: the saga did not end by itself.
	default:
		return Outcome{}, getErr
	}
	return o, nil
}
