package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
)

// pruneEvents deletes one batch: the oldest events before $1 whose saga no
// workflow of $2 protects and that the read store has consumed (at or
// before the position ($4, $5)), at most $3 of them, found by a range scan
// of an index (events_occurred_at, migration 0003, or events_position) and
// deleted by primary key.
var pruneEvents = `DELETE FROM events WHERE id = ANY (ARRAY (
	SELECT id FROM events
	WHERE occurred_at < $1 AND ` + pgbarrier.NotProtectedSQL("saga_id", "$2") + `
	AND (tx_id, id) <= ($4::text::xid8, $5)
	ORDER BY occurred_at
	LIMIT $3))`

// PruneEvents deletes at most limit domain events (barrier.DefaultPruneBatch
// when limit is not positive) that occurred before cutoff, of sagas that
// protected does not hold, that a reader has consumed (at or before
// consumed), oldest first, in one statement (its own short transaction),
// and returns how many it deleted. Call it again until it returns less than
// limit. The rule is the barrier's (pgbarrier.PruneRows): an event goes when
// its saga can no longer run, so DuplicateEvents still sees every event of
// a saga that can; and never before the read store has it, however far
// behind the projector is (the zero Position prunes nothing).
func PruneEvents(ctx context.Context, db pgbarrier.Execer, cutoff time.Time, protected barrier.Protected, consumed Position, limit int) (int, error) {
	if limit <= 0 {
		limit = barrier.DefaultPruneBatch
	}
	tag, err := db.Exec(ctx, pruneEvents, cutoff, protected.IDs(), limit, strconv.FormatUint(consumed.TxID, 10), consumed.ID)
	if err != nil {
		return 0, fmt.Errorf("prune events before %s: %w", cutoff.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}
