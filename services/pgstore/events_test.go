package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/services/pgstore"
)

// TestReadEventsNeverSkipsAnEventThatCommitsLate makes the trap of ordered
// outboxes happen: transaction A appends an event and stays open; B
// appends a later one and commits. A reader by id alone would read B's
// event, move past it, and never see A's. ReadEvents returns neither
// while A is open (so no position past A's can be taken), and both, A's
// first, once A commits.
func TestReadEventsNeverSkipsAnEventThatCommitsLate(t *testing.T) {
	pool, ctx := events(t)
	txA, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx) //nolint:errcheck // committed below
	if err := pgstore.AppendEvent(ctx, txA, "order-a/run", "order-a", "StockReserved", []string{}); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		return pgstore.AppendEvent(ctx, tx, "order-b/run", "order-b", "StockReserved", []string{})
	}); err != nil {
		t.Fatal(err)
	}
	var committedB int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE order_id = 'order-b'`).Scan(&committedB); err != nil || committedB != 1 {
		t.Fatalf("B's event is not committed: %d (%v)", committedB, err)
	}
	got, err := pgstore.ReadEvents(ctx, pool, pgstore.Position{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("with A open the reader got %d event(s), first of %s: a reader resuming after it skips A's", len(got), got[0].OrderID)
	}
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got = readUntil(t, ctx, pool, 2)
	if got[0].OrderID != "order-a" || got[1].OrderID != "order-b" || !got[0].Position.Less(got[1].Position) {
		t.Fatalf("after A's commit the reader got %s then %s, want order-a then order-b", got[0].OrderID, got[1].OrderID)
	}
	again, err := pgstore.ReadEvents(ctx, pool, got[1].Position, 10)
	if err != nil || len(again) != 0 {
		t.Fatalf("after the last position: %d events (%v), want none", len(again), err)
	}
}

// readUntil reads from the start until it gets n events: another test's
// write transaction, open anywhere in the cluster, holds the reader back
// until it ends.
func readUntil(t *testing.T, ctx context.Context, pool *pgxpool.Pool, n int) []pgstore.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := pgstore.ReadEvents(ctx, pool, pgstore.Position{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %d events in 30 s, want %d", len(got), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
