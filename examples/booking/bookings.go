package booking

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// The statuses of a booking document.
const (
	Pending   = "PENDING"
	Confirmed = "CONFIRMED"
	Cancelled = "CANCELLED"
)

// Booking is the booking's document in MongoDB.
type Booking struct {
	ID       string `bson:"_id"`
	Traveler string `bson:"traveler"`
	Hotel    string `bson:"hotel"`
	Flight   string `bson:"flight"`
	Status   string `bson:"status"`
}

// Bookings keeps the booking documents. The saga that creates a document
// owns it: only its steps change it.
type Bookings struct{ Coll *mongo.Collection }

// Create inserts b, PENDING, as step CreateBooking of saga sagaID.
func (bs Bookings) Create(ctx context.Context, sagaID string, b Booking) (barrier.Outcome, error) {
	b.Status = Pending
	return mongobarrier.InsertDoc(ctx, bs.Coll, barrier.Key{SagaID: sagaID, Step: StepCreateBooking}, b)
}

// Cancel is CreateBooking's compensation: the document becomes CANCELLED
// or, if it was never created, a CANCELLED tombstone takes its id so that
// a late Create is refused.
func (bs Bookings) Cancel(ctx context.Context, sagaID, id string) (barrier.Outcome, error) {
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Cancelled}}}}
	return mongobarrier.CompensateDoc(ctx, bs.Coll, barrier.Key{SagaID: sagaID, Step: StepCreateBooking},
		id, nil, set, Booking{ID: id, Status: Cancelled})
}

// Confirm is step ConfirmBooking: PENDING becomes CONFIRMED.
func (bs Bookings) Confirm(ctx context.Context, sagaID, id string) (barrier.Outcome, error) {
	pending := bson.D{{Key: "status", Value: Pending}}
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: Confirmed}}}}
	return mongobarrier.UpdateDoc(ctx, bs.Coll, barrier.Key{SagaID: sagaID, Step: StepConfirmBooking}, id, pending, set)
}

// Get reads the booking id.
func (bs Bookings) Get(ctx context.Context, id string) (Booking, error) {
	var b Booking
	if err := bs.Coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&b); err != nil {
		return Booking{}, fmt.Errorf("read booking %s: %w", id, err)
	}
	return b, nil
}
