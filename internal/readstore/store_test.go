package readstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// store returns a migrated read store on a schema of the test's own.
func store(t *testing.T) (*readstore.Store, *pgxpool.Pool, context.Context) {
	t.Helper()
	ctx := testenv.Context(t)
	pool := testenv.Postgres(t, testenv.Reporting)
	s := readstore.New(pool)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s, pool, ctx
}

// batches splits events into one batch per source, in their order, the
// PostgreSQL ones with their last position.
func batches(events []readstore.Event) []readstore.Batch {
	var out []readstore.Batch
	for _, src := range readstore.Sources {
		b := readstore.Batch{Source: src}
		for _, e := range events {
			if e.Source == src {
				if !readstore.IsDocumentSource(src) {
					e.ID = readstore.PGEventID(src, e.Position.ID)
				} else {
					e.ID = readstore.DocEventID(src, e.OrderID, e.Index)
				}
				b.Events = append(b.Events, e)
			}
		}
		if !readstore.IsDocumentSource(src) {
			last := b.Events[len(b.Events)-1].Position
			b.Position = &last
		}
		out = append(out, b)
	}
	return out
}

// TestApplyHasItsEffectOnceWhateverIsRedelivered: the events of a
// compensated order, delivered twice per source (a new leader reading
// from a position its predecessor had passed): the second delivery
// applies nothing, and the views and counters are those of one delivery.
func TestApplyHasItsEffectOnceWhateverIsRedelivered(t *testing.T) {
	s, _, ctx := store(t)
	lease, ok, err := s.Acquire(ctx, readstore.LeaseName, "test", time.Minute, time.Second)
	if err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	bs := batches(compensated(t, "o1"))
	total := 0
	for _, b := range bs {
		applied, err := s.Apply(ctx, lease, b)
		if err != nil {
			t.Fatal(err)
		}
		total += len(applied)
	}
	if total != 8 {
		t.Fatalf("applied %d events, want 8", total)
	}
	for _, b := range bs {
		if applied, err := s.Apply(ctx, lease, b); err != nil || len(applied) != 0 {
			t.Fatalf("redelivered %s batch applied %d (%v), want 0", b.Source, len(applied), err)
		}
	}
	f, timeline, err := s.Order(ctx, "o1")
	if err != nil {
		t.Fatal(err)
	}
	if f.Outcome() != readstore.OutcomeCompensated || len(timeline) != 8 || f.OrdersSeq != 2 || f.ShippingSeq != 2 {
		t.Fatalf("view %+v with %d timeline entries", f, len(timeline))
	}
	sources := map[string]bool{}
	for i, e := range timeline {
		sources[e.Source] = true
		if i > 0 && e.OccurredAt.Before(timeline[i-1].OccurredAt) {
			t.Fatalf("timeline out of order at %d", i)
		}
	}
	if len(sources) != 4 {
		t.Fatalf("timeline from %d services, want 4", len(sources))
	}
	c, ok, err := s.Customer(ctx, "alice")
	if err != nil || !ok || c != (readstore.CustomerCounts{Orders: 1, Cancelled: 1, Captured: 1000, Refunded: 1000}) {
		t.Fatalf("customer alice %+v %v %v", c, ok, err)
	}
	skus, regions, err := s.Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(skus) != 2 || skus[0].Released != 2 || skus[0].RevenueRefunded != 600 || len(regions) != 1 || regions[0].Released != 3 {
		t.Fatalf("report %+v %+v", skus, regions)
	}
}

// TestAFencedLeaderWritesNothing: leader A holds a write open across its
// lease's expiry; B cannot take over until A's write ends, then does; every
// later write of A is refused with ErrFenced and changes nothing, and no
// commit is written after B's grant with A's epoch.
func TestAFencedLeaderWritesNothing(t *testing.T) {
	s, pool, ctx := store(t)
	start := time.Now()
	a, ok, err := s.Acquire(ctx, readstore.LeaseName, "a", time.Second, 200*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("acquire a: %v %v", ok, err)
	}
	if _, ok, _ := s.Acquire(ctx, readstore.LeaseName, "b", time.Second, 200*time.Millisecond); ok {
		t.Fatal("b took a lease a holds")
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // committed below; ends it when the test stops early
	if err := a.Fence(ctx, tx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // a's lease expires while its write is open (not yet WriteIdleBound)
	if _, ok, err := s.Acquire(ctx, readstore.LeaseName, "b", time.Second, 300*time.Millisecond); ok || err != nil {
		t.Fatalf("b took the lease during a's open write (%v)", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	b, ok, err := s.Acquire(ctx, readstore.LeaseName, "b", time.Minute, time.Second)
	if err != nil || !ok || b.Epoch != a.Epoch+1 {
		t.Fatalf("b after a's write: %+v %v %v", b, ok, err)
	}
	bs := batches(compensated(t, "o1"))
	if applied, err := s.Apply(ctx, a, bs[0]); !errors.Is(err, readstore.ErrFenced) || len(applied) != 0 {
		t.Fatalf("a's write after the takeover: %d, %v; want ErrFenced", len(applied), err)
	}
	if _, err := s.Renew(ctx, a, time.Minute); !errors.Is(err, readstore.ErrFenced) {
		t.Fatalf("a renewed after the takeover: %v", err)
	}
	if _, _, err := s.Order(ctx, "o1"); !errors.Is(err, readstore.ErrUnknownOrder) {
		t.Fatalf("a fenced write left a view: %v", err)
	}
	if applied, err := s.Apply(ctx, b, bs[0]); err != nil || len(applied) != 2 {
		t.Fatalf("b's write: %d, %v", len(applied), err)
	}
	if n, err := s.FencedWrites(ctx, start); err != nil || n != 0 {
		t.Fatalf("fenced writes %d (%v), want 0", n, err)
	}
	// The count itself: a commit of a's epoch written after b's grant.
	if _, err := pool.Exec(ctx, `INSERT INTO projector_commits (name, epoch, source, events) VALUES ($1, $2, 'orders', 1)`,
		readstore.LeaseName, a.Epoch); err != nil {
		t.Fatal(err)
	}
	if n, err := s.FencedWrites(ctx, start); err != nil || n != 1 {
		t.Fatalf("fenced writes after a forged one: %d (%v), want 1", n, err)
	}
}

// TestAWriterCutOffMidWriteReleasesTheLeaseRow: a leader whose write
// idles (paused, cut off) is ended by the server after
// readstore.WriteIdleBound, so a standby takes over once the lease has
// expired, without waiting for the writer.
func TestAWriterCutOffMidWriteReleasesTheLeaseRow(t *testing.T) {
	s, pool, ctx := store(t)
	a, ok, err := s.Acquire(ctx, readstore.LeaseName, "a", time.Second, 200*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("acquire a: %v %v", ok, err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // the server ends it
	if err := a.Fence(ctx, tx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(readstore.WriteIdleBound + time.Second)
	b, ok, err := s.Acquire(ctx, readstore.LeaseName, "b", time.Minute, 500*time.Millisecond)
	if err != nil || !ok || b.Epoch != a.Epoch+1 {
		t.Fatalf("b after a's write idled %s: %+v %v %v", readstore.WriteIdleBound, b, ok, err)
	}
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("a's idle write committed after the server's bound")
	}
}

// TestTheEpochFencesTheSameHolder: a holder that lost its lease and took it
// again (a new epoch) cannot write with its old grant: the epoch, not the
// name, is the fencing token.
func TestTheEpochFencesTheSameHolder(t *testing.T) {
	s, _, ctx := store(t)
	old, ok, err := s.Acquire(ctx, readstore.LeaseName, "a", 500*time.Millisecond, time.Second)
	if err != nil || !ok {
		t.Fatalf("acquire: %v %v", ok, err)
	}
	time.Sleep(time.Second)
	current, ok, err := s.Acquire(ctx, readstore.LeaseName, "a", time.Minute, time.Second)
	if err != nil || !ok || current.Epoch != old.Epoch+1 {
		t.Fatalf("acquire again: %+v %v %v", current, ok, err)
	}
	bs := batches(compensated(t, "o1"))
	if applied, err := s.Apply(ctx, old, bs[0]); !errors.Is(err, readstore.ErrFenced) || len(applied) != 0 {
		t.Fatalf("write with the old grant: %d, %v; want ErrFenced", len(applied), err)
	}
	if applied, err := s.Apply(ctx, current, bs[0]); err != nil || len(applied) != 2 {
		t.Fatalf("write with the current grant: %d, %v", len(applied), err)
	}
}
