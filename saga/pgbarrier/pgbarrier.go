// Package pgbarrier is the saga engine's idempotency barrier for steps
// whose effect is one local PostgreSQL transaction (pgx v5): the
// activity-side half of the engine for PostgreSQL. (Package saga is the
// workflow side; saga/barrier holds the key and outcomes both barriers
// share; saga/mongobarrier is the MongoDB form.)
//
// A barrier row keyed by (saga id, step, op) is inserted in the same local
// transaction as the step's business change. That one mechanism gives the
// three guarantees a saga step needs under at-least-once execution:
//
//   - idempotence: a second Forward (or Compensate) finds its row and does
//     nothing;
//   - null compensation: a Compensate that finds no forward row records a
//     forward row on the step's behalf and changes nothing;
//   - hang safety: a Forward that arrives after the step's compensation (a
//     late retry of a step that timed out) finds the compensate row and is
//     refused with barrier.ErrCompensated, whether or not the step had run.
//
// Concurrent Forward and Compensate calls for one step serialize on the
// primary key for the length of one local transaction; no lock outlives it.
//
// Records are kept until no step of their saga can run again: PruneRows
// removes, a batch at a time, those older than a cutoff that no protected
// workflow owns (see barrier.Protected).
package pgbarrier

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sagaflow/sagaflow/saga/barrier"
)

// Table is the name of the barrier table.
const Table = "saga_barrier"

// schema creates the barrier table. origin says who wrote a forward row: the
// step itself, or its compensation standing in for a step that never ran.
const schema = `
CREATE TABLE IF NOT EXISTS saga_barrier (
	saga_id    text        NOT NULL,
	step       text        NOT NULL,
	op         text        NOT NULL CHECK (op IN ('forward', 'compensate')),
	origin     text        NOT NULL CHECK (origin IN ('forward', 'compensate')),
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (saga_id, step, op)
)`

// createdAtIndex serves PruneRows: a batch of the oldest rows is a range
// scan of this index, whatever the table's size.
const createdAtIndex = `CREATE INDEX IF NOT EXISTS saga_barrier_created_at ON saga_barrier (created_at)`

// DB is what the barrier needs of a connection or pool.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// CreateTable creates the barrier table and its index on created_at (which
// PruneRows reads) if they do not exist. Call it from the service's schema
// migration, in the same database as its business tables. On a large
// table made before the index existed, the first call builds the index
// and blocks the table's writes meanwhile; create it beforehand with
// CREATE INDEX CONCURRENTLY saga_barrier_created_at ON saga_barrier
// (created_at) to avoid that.
func CreateTable(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, schema); err != nil {
		return fmt.Errorf("create %s: %w", Table, err)
	}
	if _, err := tx.Exec(ctx, createdAtIndex); err != nil {
		return fmt.Errorf("create %s index on created_at: %w", Table, err)
	}
	return nil
}

// Forward runs apply in a transaction guarded by the barrier. apply runs at
// most once per key, and never after the key's compensation. An error from
// apply rolls everything back, including the barrier row, so the step may be
// tried again.
func Forward(ctx context.Context, db DB, key barrier.Key, apply func(pgx.Tx) error) (barrier.Outcome, error) {
	var outcome barrier.Outcome
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		inserted, err := insert(ctx, tx, key, "forward", "forward")
		if err != nil {
			return err
		}
		if !inserted {
			var compensated bool
			if err := tx.QueryRow(ctx,
				`SELECT EXISTS (SELECT 1 FROM saga_barrier WHERE saga_id = $1 AND step = $2 AND op = 'compensate')`,
				key.SagaID, key.Step).Scan(&compensated); err != nil {
				return fmt.Errorf("barrier %s: read compensate row: %w", key, err)
			}
			if compensated {
				return fmt.Errorf("barrier %s: %w", key, barrier.ErrCompensated)
			}
			outcome = barrier.Duplicate
			return nil
		}
		if err := apply(tx); err != nil {
			return err
		}
		outcome = barrier.Applied
		return nil
	})
	if err != nil {
		return 0, err
	}
	return outcome, nil
}

// Compensate runs undo in a transaction guarded by the barrier: at most once
// per key, and only if the forward step was applied. When the forward step
// never ran, Compensate records a forward row in its place, so that a late
// Forward is refused, and returns NullCompensation without calling undo.
func Compensate(ctx context.Context, db DB, key barrier.Key, undo func(pgx.Tx) error) (barrier.Outcome, error) {
	var outcome barrier.Outcome
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		inserted, err := insert(ctx, tx, key, "compensate", "compensate")
		if err != nil {
			return err
		}
		if !inserted {
			outcome = barrier.AlreadyCompensated
			return nil
		}
		blocked, err := insert(ctx, tx, key, "forward", "compensate")
		if err != nil {
			return err
		}
		if blocked {
			outcome = barrier.NullCompensation
			return nil
		}
		if err := undo(tx); err != nil {
			return err
		}
		outcome = barrier.Applied
		return nil
	})
	if err != nil {
		return 0, err
	}
	return outcome, nil
}

func insert(ctx context.Context, tx pgx.Tx, key barrier.Key, op, origin string) (bool, error) {
	tag, err := tx.Exec(ctx,
		`INSERT INTO saga_barrier (saga_id, step, op, origin) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		key.SagaID, key.Step, op, origin)
	if err != nil {
		return false, fmt.Errorf("barrier %s: insert %s row: %w", key, op, err)
	}
	return tag.RowsAffected() == 1, nil
}

func inTx(ctx context.Context, db DB, fn func(pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx) // the error from fn is the one that matters
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
