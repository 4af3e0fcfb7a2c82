package orders

import (
	"context"
	"time"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services/mongostore"
)

// PruneTombstones removes at most limit cancelled tombstones (orders
// cancelled before they were created) older than cutoff whose saga
// protected does not hold, and returns how many it removed
// (mongostore.PruneTombstones). Orders that were created are never
// removed: they refuse a reused order id for good.
func (s *Service) PruneTombstones(ctx context.Context, cutoff time.Time, protected barrier.Protected, limit int) (int, error) {
	return mongostore.PruneTombstones(ctx, s.coll, s.now(), cutoff, protected, limit)
}
