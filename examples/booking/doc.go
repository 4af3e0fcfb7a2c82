// Package booking is a worked example of a saga built on sagaflow's saga
// engine alone (github.com/sagaflow/sagaflow/saga and its barriers): a
// trip booking that takes two scarce resources, a hotel room and a flight
// seat, kept in PostgreSQL, and records the booking as a MongoDB document.
//
// BookTrip runs four steps, registering each compensation before its step:
//
//	CreateBooking (MongoDB)     undone by CancelBooking
//	ReserveRoom   (PostgreSQL)  undone by ReleaseRoom
//	ReserveSeat   (PostgreSQL)  undone by ReleaseSeat
//	ConfirmBooking (MongoDB)    the last step: nothing after it can fail
//
// When a room or a seat is sold out the step fails with a non-retryable
// error of type ErrSoldOut, and the saga undoes what it did, in reverse
// order. Every step and compensation goes through a barrier (pgbarrier for
// the rooms and seats, mongobarrier for the booking document), so retries,
// a compensation of a step that never ran, and a step that arrives after
// its compensation change nothing twice.
//
// docs/saga-engine.md in the sagaflow repository walks through it.
package booking
