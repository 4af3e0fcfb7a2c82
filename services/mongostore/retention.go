package mongostore

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
)

// Both services mark the tombstones they hand to mongobarrier.CompensateDoc
// with the business field tombstone: true (their Tombstone fields, left
// out of every other document). Tombstones written before the barrier
// stamped its own carry that field alone; LegacyTombstones finds them.
var LegacyTombstones = bson.D{{Key: "tombstone", Value: true}}

// LegacyTombstoneIndex serves PruneTombstones' search for LegacyTombstones:
// sparse, it holds the tombstones alone.
var LegacyTombstoneIndex = Index{Name: "tombstone", Keys: bson.D{{Key: "tombstone", Value: 1}}, Sparse: true}

// PruneTombstones removes one batch of coll's tombstones older than cutoff
// whose saga protected does not hold (mongobarrier.PruneTombstones), after
// stamping at most limit tombstones written before tombstones carried
// their time with now (mongobarrier.StampTombstones: they go one retention and
// margin later). It returns how many it removed. Business documents are
// never removed.
func PruneTombstones(ctx context.Context, coll *mongo.Collection, now, cutoff time.Time, protected barrier.Protected, limit int) (int, error) {
	if _, err := mongobarrier.StampTombstones(ctx, coll, LegacyTombstones, now, limit); err != nil {
		return 0, fmt.Errorf("%s: %w", coll.Database().Name(), err)
	}
	n, err := mongobarrier.PruneTombstones(ctx, coll, cutoff, protected, limit)
	if err != nil {
		return n, fmt.Errorf("%s: %w", coll.Database().Name(), err)
	}
	return n, nil
}
