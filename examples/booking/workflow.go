package booking

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/saga"
)

// The steps of BookTrip, which name their barrier records.
const (
	StepCreateBooking  = "CreateBooking"
	StepReserveRoom    = "ReserveRoom"
	StepReserveSeat    = "ReserveSeat"
	StepConfirmBooking = "ConfirmBooking"
)

// Trip is what BookTrip books. Its workflow id should be derived from ID
// ("trip-" + ID), so that starting the same trip twice is refused.
type Trip struct {
	ID       string
	Traveler string
	Hotel    string
	Flight   string
}

// Result is BookTrip's result: BOOKED, or CANCELLED with the reason.
type Result struct {
	Status string
	Reason string
}

// BookTrip is the saga. Each step's compensation is registered before the
// step runs (a step that timed out may still have happened). A sold-out
// resource ends the saga with its compensations run and a CANCELLED
// result; any other failure retries (the activities' default policy)
// until the step succeeds or is declared non-retryable.
func BookTrip(ctx workflow.Context, t Trip) (Result, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumInterval: 10 * time.Second, NonRetryableErrorTypes: []string{ErrSoldOut}},
	})
	var a *Activities
	s := saga.New(ctx, saga.Options{})
	steps := []struct {
		name       string
		do, undo   any
		undoneName string
	}{
		{StepCreateBooking, a.CreateBooking, a.CancelBooking, "CancelBooking"},
		{StepReserveRoom, a.ReserveRoom, a.ReleaseRoom, "ReleaseRoom"},
		{StepReserveSeat, a.ReserveSeat, a.ReleaseSeat, "ReleaseSeat"},
		{StepConfirmBooking, a.ConfirmBooking, nil, ""},
	}
	for _, step := range steps {
		if step.undo != nil {
			if err := s.Add(step.undoneName, step.undo, t); err != nil {
				return Result{}, err
			}
		}
		if err := workflow.ExecuteActivity(ctx, step.do, t).Get(ctx, nil); err != nil {
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || appErr.Type() != ErrSoldOut {
				return Result{}, s.Abort(err)
			}
			if err := s.Compensate(); err != nil {
				return Result{}, err
			}
			return Result{Status: Cancelled, Reason: appErr.Message()}, nil
		}
	}
	return Result{Status: "BOOKED"}, nil
}
