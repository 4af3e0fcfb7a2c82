// Package readstore is sagaflow's read side: a PostgreSQL database of its
// own (reporting) holding views of the orders built from the four
// services' domain events: per order (its facts and the timeline of every
// event), per customer, per SKU and per region.
//
// The projector (internal/projector) is the only writer. Every write is one
// transaction that first checks the writer's lease (fencing, see Lease),
// then changes the views and records the position the events came from,
// so a view change and the position it consumed commit together or not at
// all. The views are built so that applying an event twice, or the events
// of an order in any order, gives the same result (Facts), and the
// positions make each event's effect happen once.
package readstore

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/services/pgstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the read store.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store on pool. Call Migrate once before writing.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migrate creates or upgrades the schema and the projector's lease row.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := pgstore.Apply(ctx, s.pool, migrations, "migrations", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO projector_lease (name) VALUES ($1) ON CONFLICT DO NOTHING`, LeaseName)
		return err
	}); err != nil {
		return fmt.Errorf("read store: %w", err)
	}
	return nil
}

// ErrFenced: the writer's lease is no longer the current one (another
// process took it over, or it expired); nothing was written.
var ErrFenced = errors.New("lease lost: fenced off from the read store")

// Batch is what one write applies: events of one source and, for a
// PostgreSQL source, the position they bring the projector to.
type Batch struct {
	Source string
	Events []Event
	// Position is the source's new position, for a PostgreSQL source.
	Position *pgstore.Position
}

// Apply writes b in one transaction fenced by lease: the views of the
// orders its events name, the counters by the difference of their
// contributions, the timeline, and the source's position. An event the
// views already hold (a position at or before the recorded one, a
// document index below the view's count) changes nothing. It returns
// ErrFenced, having written nothing, when lease is not the current one.
// It returns the events it applied.
func (s *Store) Apply(ctx context.Context, lease Lease, b Batch) (applied []Event, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lease.fence(ctx, tx); err != nil {
			return err
		}
		events, err := fresh(ctx, tx, b)
		if err != nil {
			return err
		}
		if applied, err = applyEvents(ctx, tx, b, events); err != nil {
			return err
		}
		if b.Position != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO source_positions (source, tx_id, event_id, updated_at) VALUES ($1, $2, $3, now())
				ON CONFLICT (source) DO UPDATE SET tx_id = EXCLUDED.tx_id, event_id = EXCLUDED.event_id, updated_at = now()`,
				b.Source, int64(b.Position.TxID), b.Position.ID); err != nil {
				return fmt.Errorf("record %s position: %w", b.Source, err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO projector_commits (name, epoch, source, events) VALUES ($1, $2, $3, $4)`,
			lease.Name, lease.Epoch, b.Source, len(applied)); err != nil {
			return fmt.Errorf("record commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read store: apply %d %s events: %w", len(b.Events), b.Source, err)
	}
	return applied, nil
}

// fresh returns the events of b that the store does not hold yet: for a
// PostgreSQL source, those after its recorded position (read under a lock
// on the position row); a MongoDB source's events are sorted out per
// document by applyEvents.
func fresh(ctx context.Context, tx pgx.Tx, b Batch) ([]Event, error) {
	if b.Position == nil {
		return b.Events, nil
	}
	pos, err := positionIn(ctx, tx, b.Source, true)
	if err != nil {
		return nil, err
	}
	out := b.Events[:0:0]
	for _, e := range b.Events {
		if pos.Less(e.Position) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Position returns the recorded position of a PostgreSQL source (the zero
// Position when the projector has read none of its events).
func (s *Store) Position(ctx context.Context, source string) (pgstore.Position, error) {
	return positionIn(ctx, s.pool, source, false)
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func positionIn(ctx context.Context, q queryRower, source string, lock bool) (pgstore.Position, error) {
	sql := `SELECT tx_id, event_id FROM source_positions WHERE source = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	var tx int64
	var p pgstore.Position
	err := q.QueryRow(ctx, sql, source).Scan(&tx, &p.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return pgstore.Position{}, nil
	}
	if err != nil {
		return pgstore.Position{}, fmt.Errorf("read %s position: %w", source, err)
	}
	p.TxID = uint64(tx)
	return p, nil
}
