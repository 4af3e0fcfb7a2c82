package readstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Fence is the check every write makes first, for tests that hold a write
// open across a takeover.
func (l Lease) Fence(ctx context.Context, tx pgx.Tx) error { return l.fence(ctx, tx) }
