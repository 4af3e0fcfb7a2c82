package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
)

// Insert is a forward step that creates the saga's document doc with _id
// id. When the _id exists already it returns Duplicate if the document is
// the saga's and live, services.ErrStepCompensated if it is in the
// cancelled status (compensated, or a tombstone), and
// services.ErrOrderExists if another saga owns it.
func Insert(ctx context.Context, coll *mongo.Collection, id, sagaID string, doc any, cancelled string) (barrier.Outcome, error) {
	_, err := coll.InsertOne(ctx, doc)
	if err == nil {
		return barrier.Applied, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return 0, fmt.Errorf("insert %s %q: %w", coll.Name(), id, err)
	}
	var existing struct {
		SagaID string `bson:"saga_id"`
		Status string `bson:"status"`
	}
	found, err := FindByID(ctx, coll, id, &existing)
	if err != nil {
		return 0, err
	}
	switch {
	case !found:
		return 0, fmt.Errorf("insert %s %q: duplicate key but no document; try again", coll.Name(), id)
	case existing.SagaID != sagaID:
		return 0, fmt.Errorf("%s %q owned by saga %s: %w", coll.Name(), id, existing.SagaID, services.ErrOrderExists)
	case existing.Status == cancelled:
		return 0, fmt.Errorf("%s %q: %w", coll.Name(), id, services.ErrStepCompensated)
	}
	return barrier.Duplicate, nil
}
