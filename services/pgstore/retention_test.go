package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// events returns a pool on a migrated inventory schema (its events table).
func events(t *testing.T) (*pgxpool.Pool, context.Context) {
	t.Helper()
	ctx := testenv.Context(t)
	pool := testenv.Postgres(t, testenv.Inventory)
	if err := inventory.New(pool).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return pool, ctx
}

func event(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sagaID string, at time.Time) {
	t.Helper()
	if _, err := pool.Exec(ctx, `INSERT INTO events (saga_id, order_id, kind, detail, occurred_at) VALUES ($1, 'o', 'k', '{}', $2)`,
		sagaID, at); err != nil {
		t.Fatal(err)
	}
}

// TestPruneEventsRemovesOnlyOldUnprotectedEventsInBatches: 12 old events of
// unprotected sagas go in batches of 5 (three statements); old events of
// protected sagas and events newer than the cutoff stay.
func TestPruneEventsRemovesOnlyOldUnprotectedEventsInBatches(t *testing.T) {
	pool, ctx := events(t)
	now := time.Now()
	old, cutoff := now.Add(-10*24*time.Hour), now.Add(-24*time.Hour)
	for i := range 12 {
		event(t, ctx, pool, fmt.Sprintf("order-old%d/run", i), old.Add(time.Duration(i)*time.Minute))
	}
	kept := []string{"order-kept/run-1", "order-bare", "order-a/b/run-2"}
	for _, id := range kept {
		event(t, ctx, pool, id, old)
	}
	event(t, ctx, pool, "order-recent/run", cutoff.Add(time.Second))
	event(t, ctx, pool, "order-fresh/run", now)
	protected := barrier.NewProtected("order-kept", "order-bare", "order-a/b")

	var calls []int
	for {
		n, err := pgstore.PruneEvents(ctx, pool, cutoff, protected, pgstore.PositionAfterAll, 5)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, n)
		if n < 5 || len(calls) > 10 {
			break
		}
	}
	if !slices.Equal(calls, []int{5, 5, 2}) {
		t.Fatalf("batches removed %v, want [5 5 2]", calls)
	}
	rows, err := pool.Query(ctx, `SELECT saga_id FROM events ORDER BY saga_id`)
	if err != nil {
		t.Fatal(err)
	}
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	wantLeft := append(slices.Clone(kept), "order-recent/run", "order-fresh/run")
	slices.Sort(wantLeft)
	if !slices.Equal(left, wantLeft) {
		t.Fatalf("events left of %v, want %v", left, wantLeft)
	}
}

// TestPruneEventsKeepsWhatTheReaderHasNotRead: ten old events of sagas
// that can no longer run, a reader that has read the first four: the
// prune removes those four, however often it runs, and the other six stay
// until the reader has them; with no position (the zero one) nothing goes.
func TestPruneEventsKeepsWhatTheReaderHasNotRead(t *testing.T) {
	pool, ctx := events(t)
	old, cutoff := time.Now().Add(-10*24*time.Hour), time.Now().Add(-24*time.Hour)
	for i := range 10 {
		event(t, ctx, pool, fmt.Sprintf("order-%d/run", i), old)
	}
	all, err := pgstore.ReadEvents(ctx, pool, pgstore.Position{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 10 {
		t.Fatalf("read %d events, want 10", len(all))
	}
	none := barrier.NewProtected()
	if n, err := pgstore.PruneEvents(ctx, pool, cutoff, none, pgstore.Position{}, 100); err != nil || n != 0 {
		t.Fatalf("prune with no reader position removed %d (%v), want 0", n, err)
	}
	read := all[3].Position
	for range 3 {
		if _, err := pgstore.PruneEvents(ctx, pool, cutoff, none, read, 100); err != nil {
			t.Fatal(err)
		}
	}
	left, err := pgstore.ReadEvents(ctx, pool, pgstore.Position{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 6 || left[0].Position != all[4].Position {
		t.Fatalf("%d events left, first at %v; want the 6 after %v", len(left), left[0].Position, read)
	}
}

// TestPruneEventsReadsAnIndex: on a log of 20,000 events, the batch of a
// cleanup whose reader is at the head of the log is a range scan of
// events_occurred_at (migration 0003); that of a reader far behind reads an
// index too: never a scan of the table.
func TestPruneEventsReadsAnIndex(t *testing.T) {
	pool, ctx := events(t)
	if _, err := pool.Exec(ctx, `INSERT INTO events (saga_id, order_id, kind, detail, occurred_at)
		SELECT 'order-' || i || '/run', 'o', 'k', '{}', now() - i * interval '1 minute'
		FROM generate_series(1, 20000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	var head, headID, firstID int64
	if err := pool.QueryRow(ctx, `SELECT max(tx_id::text::bigint), max(id), min(id) FROM events`).Scan(&head, &headID, &firstID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		pos   pgstore.Position
		index string
	}{
		{"at the head", pgstore.Position{TxID: uint64(head), ID: headID}, "events_occurred_at"},
		{"far behind", pgstore.Position{TxID: uint64(head), ID: firstID + 10}, ""},
	} {
		rows, err := pool.Query(ctx, "EXPLAIN "+pgstore.PruneEventsSQL, time.Now().Add(-24*time.Hour), []string{"order-1"}, 5000,
			strconv.FormatUint(c.pos.TxID, 10), c.pos.ID)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "Index Scan using "+c.index) || strings.Contains(plan, "Seq Scan") {
			t.Errorf("reader %s: the batch does not read %s:\n%s", c.name, c.index, plan)
		}
	}
}
