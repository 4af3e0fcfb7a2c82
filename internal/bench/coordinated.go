package bench

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/orders"
)

// coordinatedOrder returns the coordinated baseline.
//
// ANTI-PATTERN, on purpose: this is the order update done the way the seed
// document (minimize-coordination.md) warns against, for comparison only.
// It opens a transaction in the inventory database and one in the payments
// database, locks the order's stock rows and the customer's account row
// with SELECT ... FOR UPDATE, and holds both locks while it prices the
// order and writes the order, the shipment and the confirmation to MongoDB;
// then it takes the stock and the money and commits both transactions.
// Every other order of the same SKU (or customer) waits for the locks, so
// a hot SKU serializes its orders for the length of every MongoDB write.
// It is not even atomic: the two commits are not one, and the MongoDB
// writes stay when a commit fails. Nothing is oversold, because the check
// and the update happen under the row lock.
//
// held records, for every placed order, how long it held the stock row's
// lock: from the moment SELECT ... FOR UPDATE returned to the end of the
// last commit. On one SKU no order can go faster than that, so it bounds
// the mode's hot-SKU throughput at 1/held.
func coordinatedOrder(st invariants.Stores, inventoryPool, paymentsPool *pgxpool.Pool, held *lockClock) orderFunc {
	return func(ctx context.Context, o Order) (Outcome, error) {
		sagaID := "coord-" + o.ID
		invTx, err := inventoryPool.Begin(ctx)
		if err != nil {
			return 0, orderError(o, "begin inventory transaction", err)
		}
		defer invTx.Rollback(ctx) //nolint:errcheck // no-op after commit
		payTx, err := paymentsPool.Begin(ctx)
		if err != nil {
			return 0, orderError(o, "begin payments transaction", err)
		}
		defer payTx.Rollback(ctx) //nolint:errcheck // no-op after commit

		// Lock the stock row and the account row, and keep them locked.
		var price, available int64
		err = invTx.QueryRow(ctx, `SELECT unit_price, available FROM stock WHERE sku = $1 FOR UPDATE`, o.SKU).Scan(&price, &available)
		if errors.Is(err, pgx.ErrNoRows) {
			return Refused, nil
		}
		if err != nil {
			return 0, orderError(o, "lock stock", err)
		}
		locked := time.Now()
		var balance int64
		err = payTx.QueryRow(ctx, `SELECT balance FROM accounts WHERE customer_id = $1 FOR UPDATE`, o.Customer).Scan(&balance)
		if errors.Is(err, pgx.ErrNoRows) {
			return Refused, nil
		}
		if err != nil {
			return 0, orderError(o, "lock account", err)
		}
		total := price * o.Quantity
		if available < o.Quantity {
			return OutOfStock, nil
		}
		if balance < total {
			return Refused, nil
		}

		// The MongoDB writes and the other steps, with both locks held.
		if _, err := st.Orders.Create(ctx, sagaID, orders.Order{
			ID: o.ID, CustomerID: o.Customer, Region: Region, Items: o.Items(), ShipTo: address, Total: total,
		}); err != nil {
			return 0, orderError(o, "create order", err)
		}
		if _, _, err := st.Shipping.Create(ctx, sagaID, o.ID, address); err != nil {
			return 0, orderError(o, "create shipment", err)
		}
		if _, err := st.Orders.Confirm(ctx, sagaID, o.ID); err != nil {
			return 0, orderError(o, "confirm order", err)
		}

		// Take the stock and the money, recorded as the services record
		// them, and commit.
		if err := coordinatedWrites(ctx, invTx, payTx, sagaID, o, total); err != nil {
			return 0, err
		}
		if err := invTx.Commit(ctx); err != nil {
			return 0, orderError(o, "commit inventory", err)
		}
		if err := payTx.Commit(ctx); err != nil {
			return 0, orderError(o, "commit payments (inventory already committed)", err)
		}
		held.record(time.Since(locked))
		return Completed, nil
	}
}

func coordinatedWrites(ctx context.Context, invTx, payTx pgx.Tx, sagaID string, o Order, total int64) error {
	if _, err := invTx.Exec(ctx,
		`UPDATE stock SET available = available - $1, reserved = reserved + $1, updated_at = now() WHERE sku = $2`,
		o.Quantity, o.SKU); err != nil {
		return orderError(o, "take stock", err)
	}
	if _, err := invTx.Exec(ctx,
		`INSERT INTO reservations (saga_id, order_id, sku, quantity, status) VALUES ($1, $2, $3, $4, 'reserved')`,
		sagaID, o.ID, o.SKU, o.Quantity); err != nil {
		return orderError(o, "record reservation", err)
	}
	if _, err := payTx.Exec(ctx,
		`UPDATE accounts SET balance = balance - $1, updated_at = now() WHERE customer_id = $2`, total, o.Customer); err != nil {
		return orderError(o, "debit account", err)
	}
	if _, err := payTx.Exec(ctx,
		`INSERT INTO payments (saga_id, order_id, customer_id, amount, status) VALUES ($1, $2, $3, $4, 'captured')`,
		sagaID, o.ID, o.Customer, total); err != nil {
		return orderError(o, "record payment", err)
	}
	return nil
}

// lockClock collects how long the coordinated orders of a cell held their
// locks. It is safe for concurrent use.
type lockClock struct {
	mu   sync.Mutex
	held []time.Duration
}

func (c *lockClock) record(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = append(c.held, d)
}

// summary returns the percentiles of the holds recorded so far; nil when
// there are none.
func (c *lockClock) summary() *Latency {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.held) == 0 {
		return nil
	}
	l := summarize(c.held)
	return &l
}
