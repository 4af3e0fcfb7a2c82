package bench

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// Outcome is how one order ended, as its client saw it.
type Outcome int

// The outcomes of an order.
const (
	// Completed: the order was placed (confirmed).
	Completed Outcome = iota + 1
	// OutOfStock: refused, not enough stock; nothing changed for good.
	OutOfStock
	// Refused: refused by another business rule.
	Refused
)

// The modes, in the order a run measures them.
const (
	ModeFloor         = "floor"
	ModeBare          = "bare"
	ModeBareLocal     = "bare-local"
	ModeSagaflow      = "sagaflow"
	ModeSagaflowLocal = "sagaflow-local"
	ModeCoordinated   = "coordinated"
)

// Modes lists every mode.
var Modes = []string{ModeFloor, ModeBare, ModeBareLocal, ModeSagaflow, ModeSagaflowLocal, ModeCoordinated}

// usesStock reports whether a mode touches the stores (the bare modes do not).
func usesStock(mode string) bool { return mode != ModeBare && mode != ModeBareLocal }

// orderFunc places one order the way a mode implements the order update.
// An error is a failure of the infrastructure or the harness, not a
// business refusal.
type orderFunc func(ctx context.Context, o Order) (Outcome, error)

// businessOutcome maps a business error to its outcome; ok is false for
// any other error.
func businessOutcome(err error) (Outcome, bool) {
	switch {
	case errors.Is(err, services.ErrOutOfStock):
		return OutOfStock, true
	case services.IsBusiness(err):
		return Refused, true
	}
	return 0, false
}

// hasErrorType reports whether an application error of type typ is
// anywhere in err's chain (a saga's failure wraps its step's error).
func hasErrorType(err error, typ string) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) {
			return false
		}
		if appErr.Type() == typ {
			return true
		}
		err = appErr
	}
	return false
}

// refusedByStep reports whether a saga's failure was caused by a business
// refusal of one of its steps (a non-retryable application error other
// than the saga's own), not by an infrastructure failure that outlasted
// its retries.
func refusedByStep(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) {
			return false
		}
		switch appErr.Type() {
		case workflows.ErrTypeCompensated, workflows.ErrTypeRejected, workflows.ErrTypeCompensationFailed:
		default:
			return appErr.NonRetryable()
		}
		err = appErr
	}
	return false
}

// orderError wraps the error of an order's step.
func orderError(o Order, step string, err error) error {
	return fmt.Errorf("order %s: %s: %w", o.ID, step, err)
}
