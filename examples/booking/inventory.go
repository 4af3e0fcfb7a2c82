package booking

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
)

// ErrSoldOut is the type of the non-retryable error a step returns when
// its resource has none left.
const ErrSoldOut = "SoldOut"

// Inventory holds the rooms of hotels and the seats of flights in
// PostgreSQL: a count of what is free per hotel and per flight, and a row
// per booking that holds one.
type Inventory struct{ Pool *pgxpool.Pool }

// resources are the two kinds of resource: the table of free counts and
// the table of holds of each.
var resources = map[string]struct{ free, holds string }{
	"room": {"hotels", "room_holds"},
	"seat": {"flights", "seat_holds"},
}

// Migrate creates the tables and, beside them, the barrier's.
func (inv Inventory) Migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, inv.Pool, func(tx pgx.Tx) error {
		if err := pgbarrier.CreateTable(ctx, tx); err != nil {
			return err
		}
		for _, r := range resources {
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+r.free+` (
				name text PRIMARY KEY, free int NOT NULL CHECK (free >= 0));
				CREATE TABLE IF NOT EXISTS `+r.holds+` (booking text PRIMARY KEY, name text NOT NULL)`); err != nil {
				return fmt.Errorf("create %s: %w", r.free, err)
			}
		}
		return nil
	})
}

// Stock sets how many rooms of hotel and seats of flight are free.
func (inv Inventory) Stock(ctx context.Context, hotel string, rooms int, flight string, seats int) error {
	return pgx.BeginFunc(ctx, inv.Pool, func(tx pgx.Tx) error {
		for _, r := range []struct {
			table string
			name  string
			free  int
		}{{"hotels", hotel, rooms}, {"flights", flight, seats}} {
			if _, err := tx.Exec(ctx, `INSERT INTO `+r.table+` VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET free = $2`,
				r.name, r.free); err != nil {
				return fmt.Errorf("stock %s: %w", r.name, err)
			}
		}
		return nil
	})
}

// Free returns how many of kind ("room" or "seat") name has free.
func (inv Inventory) Free(ctx context.Context, kind, name string) (int, error) {
	var n int
	err := inv.Pool.QueryRow(ctx, `SELECT free FROM `+resources[kind].free+` WHERE name = $1`, name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("free %s of %s: %w", kind, name, err)
	}
	return n, nil
}

// Hold takes one of kind from name for booking, as the step named step of
// saga sagaID: at most once, and never after its compensation.
func (inv Inventory) Hold(ctx context.Context, sagaID, step, kind, name, booking string) (barrier.Outcome, error) {
	r := resources[kind]
	return pgbarrier.Forward(ctx, inv.Pool, barrier.Key{SagaID: sagaID, Step: step}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE `+r.free+` SET free = free - 1 WHERE name = $1 AND free > 0`, name)
		if err != nil {
			return fmt.Errorf("hold a %s of %s: %w", kind, name, err)
		}
		if tag.RowsAffected() == 0 {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: no %s left", name, kind), ErrSoldOut, nil)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+r.holds+` VALUES ($1, $2)`, booking, name); err != nil {
			return fmt.Errorf("record the hold of a %s of %s: %w", kind, name, err)
		}
		return nil
	})
}

// Release gives back what Hold took for the step named step of saga
// sagaID: once, and only if Hold ran (else it records that it never may).
func (inv Inventory) Release(ctx context.Context, sagaID, step, kind, booking string) (barrier.Outcome, error) {
	r := resources[kind]
	return pgbarrier.Compensate(ctx, inv.Pool, barrier.Key{SagaID: sagaID, Step: step}, func(tx pgx.Tx) error {
		var name string
		if err := tx.QueryRow(ctx, `DELETE FROM `+r.holds+` WHERE booking = $1 RETURNING name`, booking).Scan(&name); err != nil {
			return fmt.Errorf("release the %s of %s: %w", kind, booking, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE `+r.free+` SET free = free + 1 WHERE name = $1`, name); err != nil {
			return fmt.Errorf("release a %s of %s: %w", kind, name, err)
		}
		return nil
	})
}
