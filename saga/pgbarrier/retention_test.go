package pgbarrier_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/internal/storetest"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
)

// oldRow inserts a barrier row written at a given time, as the barrier
// writes them (forward and compensate rows of a step).
func oldRow(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sagaID, op string, at time.Time) {
	t.Helper()
	if _, err := pool.Exec(ctx, `INSERT INTO saga_barrier (saga_id, step, op, origin, created_at) VALUES ($1, 'Step', $2, $2, $3)`,
		sagaID, op, at); err != nil {
		t.Fatal(err)
	}
}

func sagaIDs(t *testing.T, ctx context.Context, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(ctx, `SELECT DISTINCT saga_id FROM saga_barrier ORDER BY saga_id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestPruneRowsRemovesOnlyOldUnprotectedRowsInBatches: 12 old rows of
// unprotected sagas go in batches of 5 (three statements), oldest first;
// the old rows of protected sagas (by new-style saga id, by bare workflow
// id, and of a workflow id holding '/') and every row newer than the
// cutoff stay, and the steps they guard still behave.
func TestPruneRowsRemovesOnlyOldUnprotectedRowsInBatches(t *testing.T) {
	pool, ctx := setup(t)
	now := time.Now()
	old, cutoff := now.Add(-10*24*time.Hour), now.Add(-24*time.Hour)
	var doomed []string
	for i := range 6 {
		id := fmt.Sprintf("order-old%d/run-%d", i, i)
		doomed = append(doomed, id)
		oldRow(t, ctx, pool, id, "forward", old.Add(time.Duration(i)*time.Minute))
		oldRow(t, ctx, pool, id, "compensate", old.Add(time.Duration(i)*time.Minute))
	}
	kept := []string{"order-kept/run-1", "order-bare", "order-a/b/run-2", "order-a/b"}
	for _, id := range kept {
		oldRow(t, ctx, pool, id, "forward", old)
		oldRow(t, ctx, pool, id, "compensate", old)
	}
	// A row just newer than the cutoff, and a saga of today.
	oldRow(t, ctx, pool, "order-recent/run-3", "forward", cutoff.Add(time.Second))
	fresh := barrier.Key{SagaID: "order-fresh/run-4", Step: "Step"}
	got, err := pgbarrier.Forward(ctx, pool, fresh, add(1))
	want(t, "fresh forward", got, err, barrier.Applied)
	protected := barrier.NewProtected("order-kept", "order-bare", "order-a/b")

	calls := storetest.PruneAll(t, func(limit int) (int, error) {
		return pgbarrier.PruneRows(ctx, pool, cutoff, protected, limit)
	}, 5)
	if !slices.Equal(calls, []int{5, 5, 2}) {
		t.Fatalf("batches removed %v, want [5 5 2]", calls)
	}
	left := sagaIDs(t, ctx, pool)
	for _, id := range doomed {
		if slices.Contains(left, id) {
			t.Errorf("old unprotected saga %s kept", id)
		}
	}
	for _, id := range append(kept, "order-recent/run-3", fresh.SagaID) {
		if !slices.Contains(left, id) {
			t.Errorf("saga %s pruned", id)
		}
	}
	// The protected sagas' steps are still refused after their
	// compensation; the fresh one is still a duplicate.
	for _, id := range kept {
		if _, err := pgbarrier.Forward(ctx, pool, barrier.Key{SagaID: id, Step: "Step"}, add(1)); !errors.Is(err, barrier.ErrCompensated) {
			t.Errorf("late forward of protected %s: %v, want refused", id, err)
		}
	}
	got, err = pgbarrier.Forward(ctx, pool, fresh, add(1))
	want(t, "fresh retry", got, err, barrier.Duplicate)
	if n := value(t, ctx, pool); n != 1 {
		t.Fatalf("counter %d, want 1", n)
	}
}

// TestPruneRowsReadsTheCreatedAtIndex: on a table of 20,000 rows, the batch
// is a range scan of saga_barrier_created_at, not a sequential scan.
func TestPruneRowsReadsTheCreatedAtIndex(t *testing.T) {
	pool, ctx := setup(t)
	if _, err := pool.Exec(ctx, `INSERT INTO saga_barrier (saga_id, step, op, origin, created_at)
		SELECT 'order-' || i || '/run', 'Step', 'forward', 'forward', now() - i * interval '1 minute'
		FROM generate_series(1, 20000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE saga_barrier`); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(-24 * time.Hour)
	rows, err := pool.Query(ctx, "EXPLAIN "+pgbarrier.PruneRowsSQL, cutoff, []string{"order-1"}, 5000)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if !strings.Contains(plan, "Index Scan using saga_barrier_created_at") || strings.Contains(plan, "Seq Scan") {
		t.Fatalf("the batch does not read saga_barrier_created_at:\n%s", plan)
	}
	t.Logf("plan:\n%s", plan)
}
