package prefill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/saga/pgbarrier"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/payments"
)

// ownUnitPrice is the unit price of the SKUs Fill creates.
const ownUnitPrice = 100

// createSKUs creates the SKUs that do not exist, with no stock: Fill adds
// what its confirmed orders hold.
func createSKUs(ctx context.Context, pool *pgxpool.Pool, skus []string) error {
	stock := make([]inventory.Stock, len(skus))
	for i, sku := range skus {
		stock[i] = inventory.Stock{SKU: sku, UnitPrice: ownUnitPrice}
	}
	if _, err := inventory.New(pool).Seed(ctx, stock); err != nil {
		return fmt.Errorf("prefill: create SKUs: %w", err)
	}
	return nil
}

// createAccounts opens the accounts that do not exist, empty: Fill credits
// what their confirmed orders captured.
func createAccounts(ctx context.Context, pool *pgxpool.Pool, customers []string) error {
	accounts := make([]payments.Account, len(customers))
	for i, c := range customers {
		accounts[i] = payments.Account{CustomerID: c}
	}
	if _, err := payments.New(pool).Seed(ctx, accounts); err != nil {
		return fmt.Errorf("prefill: open accounts: %w", err)
	}
	return nil
}

// unitPrices reads the unit price of every SKU; one that does not exist is
// an error.
func unitPrices(ctx context.Context, pool *pgxpool.Pool, skus []string) (map[string]int64, error) {
	rows, err := pool.Query(ctx, `SELECT sku, unit_price FROM stock WHERE sku = ANY($1)`, skus)
	if err != nil {
		return nil, fmt.Errorf("prefill: read unit prices: %w", err)
	}
	prices := map[string]int64{}
	var sku string
	var price int64
	if _, err := pgx.ForEachRow(rows, []any{&sku, &price}, func() error { prices[sku] = price; return nil }); err != nil {
		return nil, fmt.Errorf("prefill: read unit prices: %w", err)
	}
	if missing := absent(skus, prices); len(missing) > 0 {
		return nil, fmt.Errorf("prefill: unknown SKUs %s: seed them first", strings.Join(missing, ", "))
	}
	return prices, nil
}

// accountsExist refuses customers without an account.
func accountsExist(ctx context.Context, pool *pgxpool.Pool, customers []string) error {
	rows, err := pool.Query(ctx, `SELECT customer_id FROM accounts WHERE customer_id = ANY($1)`, customers)
	if err != nil {
		return fmt.Errorf("prefill: read accounts: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("prefill: read accounts: %w", err)
	}
	have := map[string]int64{}
	for _, c := range found {
		have[c] = 1
	}
	if missing := absent(customers, have); len(missing) > 0 {
		return fmt.Errorf("prefill: unknown customers %s: seed their accounts first", strings.Join(missing, ", "))
	}
	return nil
}

func absent(ids []string, have map[string]int64) []string {
	var out []string
	for _, id := range ids {
		if _, ok := have[id]; !ok && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// refuseExisting returns ErrExists when the stores hold a saga or an
// order of the range Fill is to write. Every prefilled saga has barrier
// rows in both PostgreSQL databases and an order claim in payments, and
// its order document in MongoDB; ids have a fixed width, so a range of ids
// is a range of strings, which the primary keys answer.
func (p *planner) refuseExisting(ctx context.Context) error {
	if p.opts.Orders == 0 {
		return nil
	}
	first, last := p.opts.FirstOrder, p.opts.FirstOrder+p.opts.Orders-1
	lo, hi := orderID(first), orderID(last)
	for _, q := range []struct {
		db   string
		pool *pgxpool.Pool
		sql  string
		args []any
	}{
		{"payments", p.t.Payments, `SELECT order_id FROM order_sagas WHERE order_id BETWEEN $1 AND $2 LIMIT 1`, []any{lo, hi}},
		// A saga id starts with its workflow id, "order-<order id>/".
		{"inventory", p.t.Inventory, `SELECT saga_id FROM ` + pgbarrier.Table + ` WHERE saga_id >= $1 AND saga_id < $2 LIMIT 1`,
			[]any{"order-" + lo + "/", "order-" + hi + "0"}},
		{"payments", p.t.Payments, `SELECT saga_id FROM ` + pgbarrier.Table + ` WHERE saga_id >= $1 AND saga_id < $2 LIMIT 1`,
			[]any{"order-" + lo + "/", "order-" + hi + "0"}},
	} {
		var found string
		err := q.pool.QueryRow(ctx, q.sql, q.args...).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("prefill: look for existing orders in %s: %w", q.db, err)
		}
		return fmt.Errorf("prefill: orders %s to %s: %s holds %s: %w", lo, hi, q.db, found, ErrExists)
	}
	return p.refuseExistingDocs(ctx, lo, hi)
}

// writeInventory writes the batch's inventory rows and raises the stock
// its confirmed orders hold, in one transaction.
func (p *planner) writeInventory(ctx context.Context, b *batch) error {
	return inTx(ctx, "inventory", p.t.Inventory, func(tx pgx.Tx) error {
		if err := copyRows(ctx, tx, b.inventory, "reservations",
			[]string{"saga_id", "order_id", "sku", "quantity", "status", "released_at"}); err != nil {
			return err
		}
		skus, units := deltas(b.stock)
		return updateAll(ctx, tx, "stock", len(skus),
			`UPDATE stock s SET total = s.total + d.n, reserved = s.reserved + d.n, updated_at = now()
			 FROM unnest($1::text[], $2::bigint[]) AS d(sku, n) WHERE s.sku = d.sku`, skus, units)
	})
}

// writePayments writes the batch's payment rows and raises the credit of
// the accounts its confirmed orders charged, in one transaction.
func (p *planner) writePayments(ctx context.Context, b *batch) error {
	return inTx(ctx, "payments", p.t.Payments, func(tx pgx.Tx) error {
		if err := copyRows(ctx, tx, b.payments, "payments",
			[]string{"saga_id", "order_id", "customer_id", "amount", "status", "refunded_at"}); err != nil {
			return err
		}
		customers, amounts := deltas(b.credit)
		return updateAll(ctx, tx, "accounts", len(customers),
			`UPDATE accounts a SET credited = a.credited + d.n, updated_at = now()
			 FROM unnest($1::text[], $2::bigint[]) AS d(customer_id, n) WHERE a.customer_id = d.customer_id`, customers, amounts)
	})
}

// copyRows copies r into the barrier, claims, events and lines tables.
func copyRows(ctx context.Context, tx pgx.Tx, r rows, linesTable string, lineColumns []string) error {
	for _, c := range []struct {
		table   string
		columns []string
		rows    [][]any
	}{
		{pgbarrier.Table, []string{"saga_id", "step", "op", "origin"}, r.barrier},
		{"order_sagas", []string{"order_id", "saga_id"}, r.claims},
		{linesTable, lineColumns, r.lines},
		{"events", []string{"saga_id", "order_id", "kind", "detail"}, r.events},
	} {
		if len(c.rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.columns, pgx.CopyFromRows(c.rows)); err != nil {
			if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
				return fmt.Errorf("copy into %s: %s: %w", c.table, pgErr.Detail, ErrExists)
			}
			return fmt.Errorf("copy into %s: %w", c.table, err)
		}
	}
	return nil
}

// updateAll runs one UPDATE over n keys and checks that it changed n rows.
func updateAll(ctx context.Context, tx pgx.Tx, table string, n int, sql string, args ...any) error {
	if n == 0 {
		return nil
	}
	tag, err := tx.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("update %s: %w", table, err)
	}
	if int(tag.RowsAffected()) != n {
		return fmt.Errorf("update %s: %d rows changed, want %d", table, tag.RowsAffected(), n)
	}
	return nil
}

func deltas(m map[string]int64) ([]string, []int64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // rows locked in one order
	values := make([]int64, len(keys))
	for i, k := range keys {
		values[i] = m[k]
	}
	return keys, values
}

func inTx(ctx context.Context, db string, pool *pgxpool.Pool, fn func(pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", db, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit this is a no-op
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", db, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit: %w", db, err)
	}
	return nil
}
