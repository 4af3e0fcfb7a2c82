package mongobarrier_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// Rental is a car rental: one document, created by a saga's step.
type Rental struct {
	ID     string `bson:"_id"`
	Car    string `bson:"car"`
	Status string `bson:"status"` // BOOKED or CANCELLED
}

// Rentals is a service with one saga step on MongoDB: RentCar creates the
// rental's document, CancelRental (its compensation) marks it cancelled,
// or leaves a tombstone under its id when the step never ran, so that a
// late retry of the step cannot create it.
type Rentals struct{ Coll *mongo.Collection }

// RentCar is the step: the document and the barrier's marker are one write.
func (r Rentals) RentCar(ctx context.Context, sagaID, rentalID, car string) (barrier.Outcome, error) {
	key := barrier.Key{SagaID: sagaID, Step: "RentCar"}
	return mongobarrier.InsertDoc(ctx, r.Coll, key, Rental{ID: rentalID, Car: car, Status: "BOOKED"})
}

// CancelRental is the step's compensation.
func (r Rentals) CancelRental(ctx context.Context, sagaID, rentalID string) (barrier.Outcome, error) {
	key := barrier.Key{SagaID: sagaID, Step: "RentCar"}
	cancel := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "CANCELLED"}}}}
	return mongobarrier.CompensateDoc(ctx, r.Coll, key, rentalID, nil, cancel, Rental{ID: rentalID, Status: "CANCELLED"})
}

func (r Rentals) status(ctx context.Context, rentalID string) string {
	var rental Rental
	if err := r.Coll.FindOne(ctx, bson.D{{Key: "_id", Value: rentalID}}).Decode(&rental); err != nil {
		log.Fatal(err)
	}
	return rental.Status
}

func Example() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(os.Getenv("MONGO_URI")))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	rentals := Rentals{Coll: client.Database(exampleDB).Collection("rentals")}

	// Saga trip-1's step runs twice (a retry after a lost reply): one rental.
	for range 2 {
		out, err := rentals.RentCar(ctx, "trip-1", "rental-1", "VW Golf")
		fmt.Println("rent:", out, err)
	}

	// A later step of trip-1 fails: the rental is cancelled once, and a
	// late retry of the step is refused.
	for range 2 {
		out, err := rentals.CancelRental(ctx, "trip-1", "rental-1")
		fmt.Println("cancel:", out, err)
	}
	_, err = rentals.RentCar(ctx, "trip-1", "rental-1", "VW Golf")
	fmt.Println("late rent refused:", errors.Is(err, barrier.ErrCompensated))
	fmt.Println("rental-1:", rentals.status(ctx, "rental-1"))

	// Saga trip-2 is compensated before its step ran (the step timed out):
	// a tombstone takes the rental's id, so the late step cannot rent.
	out, err := rentals.CancelRental(ctx, "trip-2", "rental-2")
	fmt.Println("cancel trip-2:", out, err)
	_, err = rentals.RentCar(ctx, "trip-2", "rental-2", "Fiat 500")
	fmt.Println("late rent refused:", errors.Is(err, barrier.ErrCompensated))
	fmt.Println("rental-2:", rentals.status(ctx, "rental-2"))
	// Output:
	// rent: applied <nil>
	// rent: duplicate <nil>
	// cancel: applied <nil>
	// cancel: already-compensated <nil>
	// late rent refused: true
	// rental-1: CANCELLED
	// cancel trip-2: null-compensation <nil>
	// late rent refused: true
	// rental-2: CANCELLED
}
