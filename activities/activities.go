// Package activities holds the order saga's steps and compensations as
// Temporal activities: methods on one struct that holds the four services.
//
// Each activity calls one service operation, which is idempotent per
// (saga id, step) through the barrier, and classifies its error once, here:
// a business error (services.Error) becomes a non-retryable application
// error whose type is the business code, so the saga compensates; anything
// else stays retryable, so Temporal retries it.
//
// Cleanup (cleanup.go) holds the activities of the retention cleanup,
// which prunes the barrier records of sagas that can no longer run.
package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// Activities are the saga's steps; register one value with the worker.
type Activities struct {
	Inventory *inventory.Service
	Payments  *payments.Service
	Orders    *orders.Service
	Shipping  *shipping.Service
}

// ForcedFailureCode is the business error code of a failure forced for a
// demonstration (StepInput.Fail).
const ForcedFailureCode = "FORCED_FAILURE"

// Ref names the saga and its order; compensations need nothing more.
type Ref struct {
	SagaID  string `json:"saga_id"`
	OrderID string `json:"order_id"`
}

// UndoInput names the saga and order a compensation undoes.
type UndoInput struct {
	Ref
	// Fail makes every attempt fail with a retryable error, as a payment
	// provider that is down would: a compensation that keeps failing until
	// an operator resolves it (demo).
	Fail bool `json:"fail,omitempty"`
}

// Result is what a step or compensation reports.
type Result struct {
	// Outcome is the barrier's verdict: applied, duplicate,
	// null-compensation or already-compensated.
	Outcome string `json:"outcome"`
	// Attempt is the activity attempt that succeeded, from 1.
	Attempt int32 `json:"attempt"`
}

// Failure is attached as details to every error an activity returns.
type Failure struct {
	Attempt int32 `json:"attempt"`
}

func result(ctx context.Context, out barrier.Outcome) Result {
	return Result{Outcome: out.String(), Attempt: activity.GetInfo(ctx).Attempt}
}

// classify turns a service error into what Temporal needs: business errors
// non-retryable with their code as type, the rest retryable. Both carry the
// attempt number. The activity logger names the step and the attempt; a
// business refusal is logged by its code alone, since its message can hold
// balances and amounts.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	attempt := activity.GetInfo(ctx).Attempt
	logger := activity.GetLogger(ctx)
	if code := services.Code(err); code != "" {
		logger.Info("step refused", "code", code)
		return temporal.NewApplicationErrorWithOptions(err.Error(), code, temporal.ApplicationErrorOptions{
			NonRetryable: true, Cause: err, Details: []any{Failure{Attempt: attempt}},
		})
	}
	logger.Warn("step failed, will be retried", "error", err)
	return temporal.NewApplicationErrorWithOptions(err.Error(), "INFRASTRUCTURE", temporal.ApplicationErrorOptions{
		Cause: err, Details: []any{Failure{Attempt: attempt}},
	})
}

// forced returns the forced business failure of a demonstration run.
func forced(step string) error {
	return fmt.Errorf("%s failed on request (demo): %w", step, &services.Error{Code: ForcedFailureCode, Message: "forced failure"})
}

// unavailable returns the retryable failure of a compensation that fails on
// request (UndoInput.Fail).
func unavailable(compensation string) error {
	return fmt.Errorf("%s failed on request (demo --fail-compensation): the service is unavailable", compensation)
}

// IsBusinessFailure reports whether err, as the workflow sees it, is a
// business refusal (non-retryable) rather than an infrastructure failure
// that outlasted its retries.
func IsBusinessFailure(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.NonRetryable()
}
