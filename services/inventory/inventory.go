// Package inventory is the stock service: stock levels per SKU in
// PostgreSQL, reserved for an order and released by its compensation.
//
// Stock moves only through conditional single-statement updates
// (available >= quantity in the WHERE clause), so concurrent reservations
// never oversell and no lock is held beyond one local transaction.
package inventory

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// StepReserve is the saga step whose barrier guards Reserve and Release.
const StepReserve = "ReserveStock"

//go:embed migrations/*.sql
var migrations embed.FS

// Service owns the inventory database.
type Service struct {
	pool *pgxpool.Pool
}

// New returns a Service on pool. Call Migrate once before use.
func New(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Pool is the service's database, for readers of its records that the
// service does not serve (the read store's check).
func (s *Service) Pool() *pgxpool.Pool { return s.pool }

// Migrate creates or upgrades the schema, including the barrier table.
func (s *Service) Migrate(ctx context.Context) error {
	if _, err := pgstore.Apply(ctx, s.pool, migrations, "migrations", pgbarrier.CreateTable); err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	return nil
}

// Level is the stock of one SKU.
type Level struct {
	SKU       string `json:"sku"`
	UnitPrice int64  `json:"unit_price"`
	Total     int64  `json:"total"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
}

// Reserve holds the items of an order for the saga: for each SKU, available
// goes down and reserved goes up by the quantity, all or nothing. A second
// call for the same saga does nothing; a call after Release is refused with
// services.ErrStepCompensated; a call for an order id that another saga has
// reserved (released or not) is refused with services.ErrOrderExists.
// Unknown SKUs give services.ErrUnknownSKU, short stock
// services.ErrOutOfStock.
func (s *Service) Reserve(ctx context.Context, sagaID, orderID string, items []services.Item) (barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return 0, err
	}
	items, err := services.NormalizeItems(items)
	if err != nil {
		return 0, err
	}
	key := barrier.Key{SagaID: sagaID, Step: StepReserve}
	out, err := pgbarrier.Forward(ctx, s.pool, key, func(tx pgx.Tx) error {
		// The order's claim, then the event, and the stock rows last, each
		// taken and recorded in one statement: a stock row stays locked only
		// from its update to the commit, so a popular SKU waits for no other
		// round trip.
		if err := pgstore.ClaimOrder(ctx, tx, sagaID, orderID); err != nil {
			return err
		}
		lines, err := priced(ctx, tx, items)
		if err != nil {
			return err
		}
		if err := pgstore.AppendEvent(ctx, tx, sagaID, orderID, services.EventStockReserved, lines); err != nil {
			return err
		}
		for _, it := range items { // sorted by SKU: row locks are taken in one global order
			if err := take(ctx, tx, sagaID, orderID, it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reserve stock for %s: %w", orderID, pgstore.BusinessError(err))
	}
	return out, nil
}

// priced returns items as the lines of a StockReserved event, each with
// its SKU's unit price, read without a lock (an unknown SKU gets none: the
// reservation of it fails next).
func priced(ctx context.Context, tx pgx.Tx, items []services.Item) ([]services.StockLine, error) {
	skus := make([]string, len(items))
	for i, it := range items {
		skus[i] = it.SKU
	}
	rows, err := tx.Query(ctx, `SELECT sku, unit_price FROM stock WHERE sku = ANY($1)`, skus)
	if err != nil {
		return nil, fmt.Errorf("read unit prices: %w", err)
	}
	prices := map[string]int64{}
	var sku string
	var price int64
	if _, err := pgx.ForEachRow(rows, []any{&sku, &price}, func() error { prices[sku] = price; return nil }); err != nil {
		return nil, fmt.Errorf("read unit prices: %w", err)
	}
	lines := make([]services.StockLine, len(items))
	for i, it := range items {
		lines[i] = services.StockLine{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: prices[it.SKU]}
	}
	return lines, nil
}

// take moves one item from available to reserved with a conditional update
// and records the saga's reservation of it, in one statement.
func take(ctx context.Context, tx pgx.Tx, sagaID, orderID string, it services.Item) error {
	tag, err := tx.Exec(ctx,
		`WITH taken AS (
			UPDATE stock SET available = available - $1, reserved = reserved + $1, updated_at = now()
			WHERE sku = $2 AND available >= $1 RETURNING sku)
		 INSERT INTO reservations (saga_id, order_id, sku, quantity, status)
		 SELECT $3, $4, sku, $1, 'reserved' FROM taken`, it.Quantity, it.SKU, sagaID, orderID)
	if err != nil {
		return fmt.Errorf("reserve %s: %w", it.SKU, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var available int64
	err = tx.QueryRow(ctx, `SELECT available FROM stock WHERE sku = $1`, it.SKU).Scan(&available)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("SKU %q: %w", it.SKU, services.ErrUnknownSKU)
	}
	if err != nil {
		return fmt.Errorf("reserve %s: read stock: %w", it.SKU, err)
	}
	return fmt.Errorf("SKU %q: %d wanted, %d available: %w", it.SKU, it.Quantity, available, services.ErrOutOfStock)
}

// Release compensates Reserve: the saga's reserved lines go back to
// available. Releasing a reservation that never happened records that and
// changes nothing (and a later Reserve for the saga is refused); releasing
// twice releases once.
func (s *Service) Release(ctx context.Context, sagaID, orderID string) (barrier.Outcome, error) {
	if err := services.ValidateStepIDs(sagaID, orderID); err != nil {
		return 0, err
	}
	key := barrier.Key{SagaID: sagaID, Step: StepReserve}
	out, err := pgbarrier.Compensate(ctx, s.pool, key, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx,
			`UPDATE reservations SET status = 'released', released_at = now()
			 WHERE saga_id = $1 AND status = 'reserved' RETURNING sku, quantity`, sagaID)
		if err != nil {
			return fmt.Errorf("release reservation: %w", err)
		}
		lines, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (services.StockLine, error) {
			var l services.StockLine
			return l, row.Scan(&l.SKU, &l.Quantity)
		})
		if err != nil {
			return fmt.Errorf("release reservation: %w", err)
		}
		for _, it := range lines {
			if _, err := tx.Exec(ctx,
				`UPDATE stock SET available = available + $1, reserved = reserved - $1, updated_at = now() WHERE sku = $2`,
				it.Quantity, it.SKU); err != nil {
				return fmt.Errorf("return %s to stock: %w", it.SKU, err)
			}
		}
		return pgstore.AppendEvent(ctx, tx, sagaID, orderID, services.EventStockReleased, lines)
	})
	if err != nil {
		return 0, fmt.Errorf("release stock for %s: %w", orderID, err)
	}
	return out, nil
}

// Quote prices items at the current unit prices: the order total in minor
// units. Unknown SKUs give services.ErrUnknownSKU.
func (s *Service) Quote(ctx context.Context, items []services.Item) (int64, error) {
	items, err := services.NormalizeItems(items)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, it := range items {
		var price int64
		err := s.pool.QueryRow(ctx, `SELECT unit_price FROM stock WHERE sku = $1`, it.SKU).Scan(&price)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("quote: SKU %q: %w", it.SKU, services.ErrUnknownSKU)
		}
		if err != nil {
			return 0, fmt.Errorf("quote %s: %w", it.SKU, err)
		}
		line, err := services.MulAmount("price of "+it.SKU, price, it.Quantity)
		if err != nil {
			return 0, err
		}
		if total, err = services.AddAmount("order total", total, line); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// Get returns the stock of one SKU.
func (s *Service) Get(ctx context.Context, sku string) (Level, error) {
	var l Level
	err := s.pool.QueryRow(ctx,
		`SELECT sku, unit_price, total, available, reserved FROM stock WHERE sku = $1`, sku).
		Scan(&l.SKU, &l.UnitPrice, &l.Total, &l.Available, &l.Reserved)
	if errors.Is(err, pgx.ErrNoRows) {
		return Level{}, fmt.Errorf("SKU %q: %w", sku, services.ErrUnknownSKU)
	}
	if err != nil {
		return Level{}, fmt.Errorf("read stock of %s: %w", sku, err)
	}
	return l, nil
}
