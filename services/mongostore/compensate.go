package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

// Undo describes a compensation on a status-bearing document: move the
// saga's document with _id ID from status From to status To (setting Set
// too), or, when no document exists, insert Tombstone under that _id so that
// a late forward insert is refused by the unique _id.
type Undo struct {
	ID, SagaID string
	From, To   string
	Set        bson.D
	Tombstone  any
}

// Compensate runs u. It returns the outcome, or, when the document is the
// saga's but in a status other than From or To, outcome 0 and that status
// for the caller to judge. Each attempt is one conditional single-document
// operation; a tombstone insert that loses a race with a late forward insert
// finds the document on the next round and moves it.
func Compensate(ctx context.Context, coll *mongo.Collection, u Undo) (barrier.Outcome, string, error) {
	set := append(bson.D{{Key: "status", Value: u.To}}, u.Set...)
	for range 2 {
		res, err := coll.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: u.ID}, {Key: "saga_id", Value: u.SagaID}, {Key: "status", Value: u.From}},
			bson.D{{Key: "$set", Value: set}})
		if err != nil {
			return 0, "", fmt.Errorf("update %s %q: %w", coll.Name(), u.ID, err)
		}
		if res.MatchedCount == 1 {
			return barrier.Applied, "", nil
		}
		var existing struct {
			SagaID string `bson:"saga_id"`
			Status string `bson:"status"`
		}
		found, err := FindByID(ctx, coll, u.ID, &existing)
		if err != nil {
			return 0, "", err
		}
		if found {
			switch {
			case existing.SagaID != u.SagaID:
				return barrier.NullCompensation, "", nil // this saga never created it
			case existing.Status == u.To:
				return barrier.AlreadyCompensated, "", nil
			case existing.Status != u.From:
				return 0, existing.Status, nil
			}
			continue // it was in From a moment ago: try again
		}
		_, err = coll.InsertOne(ctx, u.Tombstone)
		if err == nil {
			return barrier.NullCompensation, "", nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return 0, "", fmt.Errorf("insert tombstone %s %q: %w", coll.Name(), u.ID, err)
		}
	}
	return 0, "", fmt.Errorf("%s %q changed during compensation; try again", coll.Name(), u.ID)
}
