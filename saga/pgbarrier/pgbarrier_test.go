package pgbarrier_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/internal/storetest"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
)

// counter is a one-row table that forward steps increment and compensations
// decrement, so every double effect shows in its value.
func setup(t *testing.T) (*pgxpool.Pool, context.Context) {
	t.Helper()
	ctx := storetest.Context(t)
	pool := storetest.Postgres(t)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := pgbarrier.CreateTable(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return pool, ctx
}

func add(delta int) func(pgx.Tx) error {
	return func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), `UPDATE counter SET n = n + $1`, delta)
		return err
	}
}

func value(t *testing.T, ctx context.Context, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(ctx, `SELECT n FROM counter`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// want fails the test unless a barrier call returned outcome.
func want(t *testing.T, what string, got barrier.Outcome, err error, outcome barrier.Outcome) {
	t.Helper()
	if err != nil || got != outcome {
		t.Fatalf("%s: %v, %v; want %v", what, got, err, outcome)
	}
}

func TestForwardAndCompensateRunOnce(t *testing.T) {
	pool, ctx := setup(t)
	key := barrier.Key{SagaID: "s1", Step: "Step"}
	for i, want := range []barrier.Outcome{barrier.Applied, barrier.Duplicate} {
		if got, err := pgbarrier.Forward(ctx, pool, key, add(1)); err != nil || got != want {
			t.Fatalf("forward %d: %v, %v; want %v", i, got, err, want)
		}
	}
	for i, want := range []barrier.Outcome{barrier.Applied, barrier.AlreadyCompensated} {
		if got, err := pgbarrier.Compensate(ctx, pool, key, add(-1)); err != nil || got != want {
			t.Fatalf("compensate %d: %v, %v; want %v", i, got, err, want)
		}
	}
	if _, err := pgbarrier.Forward(ctx, pool, key, add(1)); !errors.Is(err, barrier.ErrCompensated) {
		t.Fatalf("forward after compensate: %v", err)
	}
	if n := value(t, ctx, pool); n != 0 {
		t.Fatalf("counter %d, want 0", n)
	}
}

func TestNullCompensationBlocksLateForward(t *testing.T) {
	pool, ctx := setup(t)
	key := barrier.Key{SagaID: "s1", Step: "Step"}
	if got, err := pgbarrier.Compensate(ctx, pool, key, add(-1)); err != nil || got != barrier.NullCompensation {
		t.Fatalf("compensate: %v, %v", got, err)
	}
	if _, err := pgbarrier.Forward(ctx, pool, key, add(1)); !errors.Is(err, barrier.ErrCompensated) {
		t.Fatalf("late forward: %v", err)
	}
	if n := value(t, ctx, pool); n != 0 {
		t.Fatalf("counter %d, want 0", n)
	}
}

func TestFailedForwardLeavesNoTrace(t *testing.T) {
	pool, ctx := setup(t)
	key := barrier.Key{SagaID: "s1", Step: "Step"}
	boom := errors.New("boom")
	_, err := pgbarrier.Forward(ctx, pool, key, func(tx pgx.Tx) error {
		if err := add(1)(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("forward: %v", err)
	}
	if got, err := pgbarrier.Forward(ctx, pool, key, add(1)); err != nil || got != barrier.Applied {
		t.Fatalf("retry: %v, %v", got, err)
	}
	if n := value(t, ctx, pool); n != 1 {
		t.Fatalf("counter %d, want 1", n)
	}
}

// A forward step and its compensation racing: whichever wins, the net
// effect is zero and the loser does nothing harmful.
func TestForwardRacingCompensationNetsZero(t *testing.T) {
	pool, ctx := setup(t)
	for i := range 40 {
		key := barrier.Key{SagaID: fmt.Sprintf("s%d", i), Step: "Step"}
		var wg sync.WaitGroup
		var fwdErr, compErr error
		wg.Add(2)
		go func() { defer wg.Done(); _, fwdErr = pgbarrier.Forward(ctx, pool, key, add(1)) }()
		go func() { defer wg.Done(); _, compErr = pgbarrier.Compensate(ctx, pool, key, add(-1)) }()
		wg.Wait()
		if compErr != nil || (fwdErr != nil && !errors.Is(fwdErr, barrier.ErrCompensated)) {
			t.Fatalf("race %d: forward %v, compensate %v", i, fwdErr, compErr)
		}
	}
	if n := value(t, ctx, pool); n != 0 {
		t.Fatalf("counter %d after races, want 0", n)
	}
}
