package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// PruneBarrier removes at most limit barrier rows older than cutoff whose
// saga protected does not hold (pgbarrier.PruneRows) and returns how many it
// removed. The order_sagas claims are never removed: they refuse a reused
// order id for good.
func (s *Service) PruneBarrier(ctx context.Context, cutoff time.Time, protected barrier.Protected, limit int) (int, error) {
	n, err := pgbarrier.PruneRows(ctx, s.pool, cutoff, protected, limit)
	if err != nil {
		return n, fmt.Errorf("payments: %w", err)
	}
	return n, nil
}

// PruneEvents removes at most limit domain events older than cutoff whose
// saga protected does not hold and that a reader has consumed (at or
// before consumed; pgstore.PruneEvents) and returns how many it removed.
func (s *Service) PruneEvents(ctx context.Context, cutoff time.Time, protected barrier.Protected, consumed pgstore.Position, limit int) (int, error) {
	n, err := pgstore.PruneEvents(ctx, s.pool, cutoff, protected, consumed, limit)
	if err != nil {
		return n, fmt.Errorf("payments: %w", err)
	}
	return n, nil
}
