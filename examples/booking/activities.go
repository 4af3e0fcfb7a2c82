package booking

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// Activities are the saga's steps and compensations, each one barrier call.
// The saga id is the workflow id, which retries and resets keep.
type Activities struct {
	Inventory Inventory
	Bookings  Bookings
}

func sagaID(ctx context.Context) string { return activity.GetInfo(ctx).WorkflowExecution.ID }

// ErrRefused is the type of the non-retryable error of a step its barrier
// refuses for good: it arrived after its compensation (a late retry), or
// the booking's id belongs to another saga.
const ErrRefused = "Refused"

// final makes the barrier's refusals non-retryable: retrying them cannot
// succeed. Other errors (a database that does not answer) stay retryable.
func final(err error) error {
	if errors.Is(err, barrier.ErrCompensated) || errors.Is(err, mongobarrier.ErrOwnedByOtherSaga) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrRefused, err)
	}
	return err
}

// CreateBooking records the booking, PENDING.
func (a *Activities) CreateBooking(ctx context.Context, t Trip) error {
	_, err := a.Bookings.Create(ctx, sagaID(ctx), Booking{ID: t.ID, Traveler: t.Traveler, Hotel: t.Hotel, Flight: t.Flight})
	return final(err)
}

// CancelBooking compensates CreateBooking.
func (a *Activities) CancelBooking(ctx context.Context, t Trip) error {
	_, err := a.Bookings.Cancel(ctx, sagaID(ctx), t.ID)
	return err
}

// ReserveRoom holds a room of the trip's hotel.
func (a *Activities) ReserveRoom(ctx context.Context, t Trip) error {
	_, err := a.Inventory.Hold(ctx, sagaID(ctx), StepReserveRoom, "room", t.Hotel, t.ID)
	return final(err)
}

// ReleaseRoom compensates ReserveRoom.
func (a *Activities) ReleaseRoom(ctx context.Context, t Trip) error {
	_, err := a.Inventory.Release(ctx, sagaID(ctx), StepReserveRoom, "room", t.ID)
	return err
}

// ReserveSeat holds a seat of the trip's flight.
func (a *Activities) ReserveSeat(ctx context.Context, t Trip) error {
	_, err := a.Inventory.Hold(ctx, sagaID(ctx), StepReserveSeat, "seat", t.Flight, t.ID)
	return final(err)
}

// ReleaseSeat compensates ReserveSeat.
func (a *Activities) ReleaseSeat(ctx context.Context, t Trip) error {
	_, err := a.Inventory.Release(ctx, sagaID(ctx), StepReserveSeat, "seat", t.ID)
	return err
}

// ConfirmBooking marks the booking CONFIRMED: the saga's last step.
func (a *Activities) ConfirmBooking(ctx context.Context, t Trip) error {
	_, err := a.Bookings.Confirm(ctx, sagaID(ctx), t.ID)
	return final(err)
}
