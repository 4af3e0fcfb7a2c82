package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/internal/projector"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// catchUpWait bounds the wait, after a cell, for its projector to have
// every event in the read store.
const catchUpWait = 2 * time.Minute

// startProjector runs a projector of the cell's stores into the cell's
// read store, as a worker runs one beside its sagas. stop waits until the
// read store has caught up (bounded by catchUpWait), then stops it.
func startProjector(ctx context.Context, st *cellStores, holder string) (stop func() error, err error) {
	store := readstore.New(st.reportingPool)
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	if err := startAtHead(ctx, store, st, holder); err != nil {
		return nil, err
	}
	p, err := projector.New(store, projector.Sources(st.inventoryPool, st.paymentsPool, st.mongoDB, st.mongoDB),
		projector.Options{Holder: holder, LagEvery: 500 * time.Millisecond}, nil, zap.NewNop())
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(runCtx) // Run returns nil when runCtx ends, its only way out
	}()
	return func() error {
		defer func() { cancel(); <-done }()
		wait, stopWaiting := context.WithTimeout(ctx, catchUpWait)
		defer stopWaiting()
		if err := store.CaughtUp(wait, time.Now()); err != nil {
			return fmt.Errorf("cell %s: %w", st.name, err)
		}
		return nil
	}, nil
}

// startAtHead records the head of the cell's event logs as the read
// store's positions: the cell's projector reads the events of the cell's
// own orders, not those a prefill (bench scale) wrote before it, as a read
// store built along with the stores would.
func startAtHead(ctx context.Context, store *readstore.Store, st *cellStores, holder string) error {
	lease, ok, err := store.Acquire(ctx, readstore.LeaseName, holder, time.Minute, time.Second)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("cell %s: the read store's lease is held", st.name)
	}
	defer store.Release(context.WithoutCancel(ctx), lease) //nolint:errcheck // the projector takes it over when it expires
	for source, pool := range map[string]*pgxpool.Pool{readstore.SourceInventory: st.inventoryPool, readstore.SourcePayments: st.paymentsPool} {
		var head pgstore.Position
		var tx int64
		err := pool.QueryRow(ctx, `SELECT tx_id::text::bigint, id FROM events ORDER BY tx_id DESC, id DESC LIMIT 1`).Scan(&tx, &head.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("cell %s: head of the %s events: %w", st.name, source, err)
		}
		head.TxID = uint64(tx)
		if _, err := store.Apply(ctx, lease, readstore.Batch{Source: source, Position: &head}); err != nil {
			return err
		}
	}
	return nil
}

// readLag is the end-to-end lag of the cell's events: from each event's
// write in its service's store to its view's update in the read store.
func readLag(ctx context.Context, st *cellStores) (*Latency, int, error) {
	rows, err := st.reportingPool.Query(ctx, `SELECT extract(epoch FROM projected_at - occurred_at)::float8 FROM order_timeline`)
	if err != nil {
		return nil, 0, fmt.Errorf("cell %s: read lag: %w", st.name, err)
	}
	lags, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (time.Duration, error) {
		var s float64
		err := row.Scan(&s)
		return time.Duration(s * float64(time.Second)), err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("cell %s: read lag: %w", st.name, err)
	}
	if len(lags) == 0 {
		return nil, 0, nil
	}
	l := summarize(lags)
	return &l, len(lags), nil
}
