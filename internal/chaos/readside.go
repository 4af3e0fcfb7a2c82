package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sagaflow/sagaflow/internal/readstore"
)

// catchUpWait bounds the wait, once the sagas ended, for the projector to
// catch up with their events.
const catchUpWait = time.Minute

// dbNow reads the read store's clock, which times the projector's commits
// and grants.
func (r *Runner) dbNow(ctx context.Context) (time.Time, error) {
	var now time.Time
	if err := r.ReadStore.Pool().QueryRow(ctx, `SELECT clock_timestamp()`).Scan(&now); err != nil {
		return now, fmt.Errorf("read store clock: %w", err)
	}
	return now, nil
}

// awaitCaughtUp waits up to catchUpWait for the projector (of a worker
// still running) to have read every event written until now; false when it
// did not.
func (r *Runner) awaitCaughtUp(ctx context.Context) (bool, error) {
	wait, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	err := r.ReadStore.CaughtUp(wait, time.Now())
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return false, nil
	}
	return err == nil, err
}

// judgeReadStore adds to v the read store's drift from the write stores
// (caughtUp false is drift too) and the commits of fenced leaders since
// the run began (since, by the read store's clock).
func (r *Runner) judgeReadStore(ctx context.Context, v *Verdict, caughtUp bool, since time.Time) error {
	if !caughtUp {
		v.ReadStoreDrift = append(v.ReadStoreDrift, fmt.Sprintf("the projector had not caught up %s after the last saga ended", catchUpWait))
	}
	check, err := r.ReadStore.Check(ctx, readstore.WriteStores{
		Inventory: r.Stores.Inventory.Pool(), Payments: r.Stores.Payments.Pool(),
		Orders: r.Stores.Orders.Collection(), Shipments: r.Stores.Shipping.Collection(),
	}, false)
	if err != nil {
		return err
	}
	v.ReadStoreDrift = append(v.ReadStoreDrift, check.Drift...)
	v.ReadStoreOrders = check.Orders
	v.FencedWrites, err = r.ReadStore.FencedWrites(ctx, since)
	return err
}
