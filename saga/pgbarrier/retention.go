package pgbarrier

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

// Execer runs one statement in a transaction of its own: a pgxpool.Pool or
// a pgx.Conn outside a transaction.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// pruneRows deletes one batch: the oldest rows written before $1 whose
// saga no workflow of $2 protects, at most $3 of them. The inner query is
// a range scan of saga_barrier_created_at; the delete finds its rows by
// their physical address (barrier rows are never updated, so it does not
// move).
var pruneRows = `DELETE FROM saga_barrier WHERE ctid = ANY (ARRAY (
	SELECT ctid FROM saga_barrier
	WHERE created_at < $1 AND ` + NotProtectedSQL("saga_id", "$2") + `
	ORDER BY created_at
	LIMIT $3))`

// PruneRows deletes at most limit barrier rows (barrier.DefaultPruneBatch when
// limit is not positive) written before cutoff, of sagas that protected
// does not hold, oldest first, in one statement (its own short
// transaction: no lock outlives it), and returns how many it deleted. Call
// it again until it returns less than limit.
//
// The caller guarantees that no step of an unprotected saga with a row
// older than cutoff can run again (see barrier.Protected): a pruned saga's forward
// step would otherwise run again, its compensation find nothing to undo
// and record a null compensation.
func PruneRows(ctx context.Context, db Execer, cutoff time.Time, protected barrier.Protected, limit int) (int, error) {
	limit = barrier.BatchLimit(limit)
	tag, err := db.Exec(ctx, pruneRows, cutoff, protected.IDs(), limit)
	if err != nil {
		return 0, fmt.Errorf("prune %s rows before %s: %w", Table, cutoff.Format(time.RFC3339), err)
	}
	return int(tag.RowsAffected()), nil
}

// NotProtectedSQL is the PostgreSQL condition that barrier.Protected.Has is
// false for the saga id in column, given the protected workflow ids as the
// text[] parameter param ("$2", say): PruneRows' rule, for prunes of other
// tables keyed by saga id (a service's event log), so that every prune
// applies one rule.
func NotProtectedSQL(column, param string) string {
	return "NOT (" + column + " = ANY (" + param + "::text[]) OR regexp_replace(" + column + ", '/[^/]*$', '') = ANY (" + param + "::text[]))"
}
