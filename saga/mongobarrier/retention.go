package mongobarrier

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

// A tombstone that CompensateDoc writes carries, beside its saga's id and
// step marker, saga.tombstone: true and saga.at, the time it was written
// (a BSON date, the writing process's clock). Business documents never
// carry them, so PruneTombstones cannot delete one.
const (
	tombstonePath   = MarkerField + ".tombstone"
	tombstoneAtPath = MarkerField + ".at"
)

// TombstoneIndex is the name of the index PruneTombstones reads: saga.at,
// sparse, so that it holds the tombstones alone.
const TombstoneIndex = "saga_at"

// tombstoneMarks are the marker fields of a tombstone written at t.
func tombstoneMarks(t time.Time) []bson.E {
	return []bson.E{{Key: "tombstone", Value: true}, {Key: "at", Value: t.UTC()}}
}

// CreateTombstoneIndex creates TombstoneIndex on coll if it does not
// exist. Call it from the collection's setup, beside its own indexes.
func CreateTombstoneIndex(ctx context.Context, coll *mongo.Collection) error {
	model := mongo.IndexModel{
		Keys:    bson.D{{Key: tombstoneAtPath, Value: 1}},
		Options: options.Index().SetName(TombstoneIndex).SetSparse(true),
	}
	if _, err := coll.Indexes().CreateOne(ctx, model); err != nil {
		return fmt.Errorf("create index %s on %s: %w", TombstoneIndex, coll.Name(), err)
	}
	return nil
}

// PruneTombstones deletes at most limit tombstones of coll (barrier.DefaultPruneBatch
// when limit is not positive) written before cutoff, of sagas that
// protected does not hold, oldest first, and returns how many it deleted.
// Call it again until it returns less than limit. It reads the tombstones
// in TombstoneIndex's order, skips the protected ones, and deletes the rest
// with one delete that names them and repeats the age condition. Business
// documents, and tombstones written before tombstones carried their time
// (see StampTombstones), are never deleted.
//
// Deleting a tombstone lets its _id be inserted again: the caller
// guarantees that no step of an unprotected saga with a tombstone older than
// cutoff can run again (see barrier.Protected), so no late insert of that saga can
// come, and a document another saga inserts there later is that saga's
// own.
func PruneTombstones(ctx context.Context, coll *mongo.Collection, cutoff time.Time, protected barrier.Protected, limit int) (int, error) {
	limit = barrier.BatchLimit(limit)
	old := bson.D{
		{Key: tombstonePath, Value: true},
		{Key: tombstoneAtPath, Value: bson.D{{Key: "$lt", Value: cutoff.UTC()}}},
	}
	cur, err := coll.Find(ctx, old, options.Find().
		SetSort(bson.D{{Key: tombstoneAtPath, Value: 1}, {Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: MarkerField + ".id", Value: 1}}).
		SetBatchSize(int32(min(limit, 1000))))
	if err != nil {
		return 0, fmt.Errorf("prune %s tombstones: read: %w", coll.Name(), err)
	}
	ids := bson.A{}
	for len(ids) < limit && cur.Next(ctx) {
		sagaID, _ := cur.Current.Lookup(MarkerField, "id").StringValueOK()
		if protected.Has(sagaID) {
			continue
		}
		ids = append(ids, cur.Current.Lookup("_id"))
	}
	err = cur.Err()
	_ = cur.Close(ctx) // the error that matters is the read's
	if err != nil {
		return 0, fmt.Errorf("prune %s tombstones: read: %w", coll.Name(), err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := coll.DeleteMany(ctx, append(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, old...))
	if err != nil {
		return 0, fmt.Errorf("prune %s tombstones: delete: %w", coll.Name(), err)
	}
	return int(res.DeletedCount), nil
}

// StampTombstones gives at most limit tombstones of coll that were written
// before tombstones carried their time (they match legacy, an application
// filter such as {tombstone: true}, and have a saga marker but no saga.at)
// the marks of a tombstone written at at, and returns how many it changed.
// Stamped with the time of the stamping rather than of the writing (which
// the barrier does not know), such a tombstone lives one retention longer
// than it needs to, never shorter. Call it again until it returns less
// than limit.
func StampTombstones(ctx context.Context, coll *mongo.Collection, legacy bson.D, at time.Time, limit int) (int, error) {
	limit = barrier.BatchLimit(limit)
	for _, e := range legacy {
		if touchesMarker(e.Key) {
			return 0, fmt.Errorf("stamp %s tombstones: filter names %q, the barrier's field", coll.Name(), e.Key)
		}
	}
	unstamped := append(legacy[:len(legacy):len(legacy)],
		bson.E{Key: MarkerField + ".id", Value: bson.D{{Key: "$exists", Value: true}}},
		bson.E{Key: tombstoneAtPath, Value: bson.D{{Key: "$exists", Value: false}}})
	cur, err := coll.Find(ctx, unstamped, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return 0, fmt.Errorf("stamp %s tombstones: read: %w", coll.Name(), err)
	}
	var docs []struct {
		ID bson.RawValue `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return 0, fmt.Errorf("stamp %s tombstones: read: %w", coll.Name(), err)
	}
	if len(docs) == 0 {
		return 0, nil
	}
	ids := make(bson.A, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	set := bson.D{}
	for _, e := range tombstoneMarks(at) {
		set = append(set, bson.E{Key: MarkerField + "." + e.Key, Value: e.Value})
	}
	res, err := coll.UpdateMany(ctx, append(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, unstamped...),
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return 0, fmt.Errorf("stamp %s tombstones: update: %w", coll.Name(), err)
	}
	return int(res.ModifiedCount), nil
}
