package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/workflows"
)

// The outcomes of a saga, as the starter reports them.
const (
	// outcomeCompleted: the order is confirmed.
	outcomeCompleted = "completed"
	// outcomeCompensated: a step failed and the finished steps were undone.
	outcomeCompensated = "compensated"
	// outcomeCancelled: the saga was cancelled and the finished steps undone.
	outcomeCancelled = "cancelled"
	// outcomeRejected: the order was refused before any side effect.
	outcomeRejected = "rejected"
	// outcomeCompensationFailed: a compensation failed for good; an operator
	// must look at the saga.
	outcomeCompensationFailed = "compensation_failed"
	// outcomeFailed: anything else (terminated, timed out, an unexpected error).
	outcomeFailed = "failed"
)

// outcomeKinds lists the outcomes in the order summaries print them.
var outcomeKinds = []string{outcomeCompleted, outcomeCompensated, outcomeCancelled, outcomeRejected,
	outcomeCompensationFailed, outcomeFailed}

// outcome is how one saga ended.
type outcome struct {
	OrderID    string `json:"order_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Kind is one of the outcome* constants.
	Kind string `json:"outcome"`
	// State is the saga's final state; it is empty (no OrderID) when the saga
	// ended without reporting one, such as when it was terminated.
	State workflows.SagaState `json:"state"`
	// Error is the failure Temporal recorded for the saga ("" when completed).
	Error string `json:"error,omitempty"`
}

// hasState reports whether the saga reported its final state.
func (o outcome) hasState() bool { return o.State.OrderID != "" }

// status is the saga's final SagaStatus, or the outcome in capitals when
// the saga reported no state.
func (o outcome) status() string {
	if o.hasState() {
		return string(o.State.Status)
	}
	return strings.ToUpper(o.Kind)
}

// waitOutcome waits for the run of an order's saga to end and decodes how it
// ended. The error is for a wait that failed (server unreachable, ctx done),
// never for a saga that failed.
func waitOutcome(ctx context.Context, tc client.Client, orderID, runID string) (outcome, error) {
	id := workflows.WorkflowID(orderID)
	var state workflows.SagaState
	err := tc.GetWorkflow(ctx, id, runID).Get(ctx, &state)
	o, derr := decodeOutcome(state, err)
	if derr != nil {
		return outcome{}, fmt.Errorf("wait for the outcome of order %s: %w", orderID, derr)
	}
	o.OrderID, o.WorkflowID, o.RunID = orderID, id, runID
	return o, nil
}

// decodeOutcome classifies what WorkflowRun.Get returned for an order saga:
// its result on success; on failure, the saga's own error (OrderSaga attaches
// its final SagaState as the details of its ApplicationError or
// CanceledError). It returns an error only when getErr is not a saga's
// outcome, such as an unreachable server.
func decodeOutcome(result workflows.SagaState, getErr error) (outcome, error) {
	if getErr == nil {
		return outcome{Kind: outcomeCompleted, State: result}, nil
	}
	cause := getErr
	var execErr *temporal.WorkflowExecutionError
	if errors.As(getErr, &execErr) && execErr.Unwrap() != nil {
		cause = execErr.Unwrap()
	}
	o := outcome{Kind: outcomeFailed, Error: cause.Error()}
	var (
		appErr     *temporal.ApplicationError
		canceled   *temporal.CanceledError
		terminated *temporal.TerminatedError
		timeout    *temporal.TimeoutError
	)
	switch {
	case errors.As(cause, &canceled):
		o.Kind, o.Error = outcomeCancelled, "cancelled"
		if canceled.HasDetails() {
			if err := canceled.Details(&o.State); err != nil {
				return outcome{}, fmt.Errorf("decode the state of a cancelled saga: %w", err)
			}
		}
	case errors.As(cause, &appErr):
		o.Error = appErr.Message()
		switch appErr.Type() {
		case workflows.ErrTypeCompensated:
			o.Kind = outcomeCompensated
		case workflows.ErrTypeRejected:
			o.Kind = outcomeRejected
		case workflows.ErrTypeCompensationFailed:
			o.Kind = outcomeCompensationFailed
		}
		if appErr.HasDetails() {
			if err := appErr.Details(&o.State); err != nil {
				return outcome{}, fmt.Errorf("decode the state of a %s saga: %w", o.Kind, err)
			}
		}
	case errors.As(cause, &terminated), errors.As(cause, &timeout), execErr != nil:
		// An outcome without a state: the saga did not end by itself.
	default:
		return outcome{}, getErr
	}
	return o, nil
}

// writeOutcome prints an outcome as aligned "label value" lines.
func writeOutcome(w io.Writer, o outcome) {
	kv := newKV(w)
	kv.add("order", fmt.Sprintf("%s (saga %s, run %s)", o.OrderID, o.WorkflowID, o.RunID))
	kv.add("outcome", o.Kind)
	if o.hasState() {
		s := o.State
		kv.add("status", string(s.Status))
		kv.add("customer", fmt.Sprintf("%s, region %s, total %s", s.CustomerID, s.Region, money(s.Total)))
		if s.Tracking != "" && o.Kind == outcomeCompleted {
			kv.add("tracking", s.Tracking)
		}
		if s.FailedStep != "" {
			kv.add("failed step", s.FailedStep)
		}
		if s.Error != "" {
			kv.add("error", s.Error)
		}
		if o.Kind != outcomeCompleted {
			kv.add("compensations", orNone(strings.Join(s.CompensationsRun(), ", ")))
		}
	} else if o.Error != "" {
		kv.add("error", o.Error)
	}
	kv.flush()
}
