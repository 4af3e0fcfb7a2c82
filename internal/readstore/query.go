package readstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrUnknownOrder: the read store holds no event of the order.
var ErrUnknownOrder = errors.New("order not in the read store")

// The outcomes of an order as its view tells them.
const (
	OutcomeCompleted    = "COMPLETED"
	OutcomeCompensated  = "COMPENSATED"
	OutcomeCompensating = "COMPENSATING"
	OutcomeInFlight     = "IN_FLIGHT"
)

// Outcome says where the order stands: COMPLETED (confirmed, its stock,
// payment and shipment in place), COMPENSATED (cancelled, nothing left
// reserved, captured or shipped), COMPENSATING (cancelled, an effect not
// yet undone) or IN_FLIGHT.
func (f Facts) Outcome() string {
	switch f.Status {
	case statusConfirmed:
		if f.Stock == StockReserved && f.Payment == PaymentCaptured && f.Shipment == ShipmentCreated {
			return OutcomeCompleted
		}
	case statusCancelled:
		if f.Stock != StockReserved && f.Payment != PaymentCaptured && f.Shipment != ShipmentCreated {
			return OutcomeCompensated
		}
		return OutcomeCompensating
	}
	return OutcomeInFlight
}

// OrdersOfCustomer returns the views of a customer's orders, oldest first.
func (s *Store) OrdersOfCustomer(ctx context.Context, customerID string) ([]Facts, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+factColumns+` FROM order_view WHERE customer_id = $1 ORDER BY first_event_at, order_id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("read store: orders of %s: %w", customerID, err)
	}
	out, err := pgx.CollectRows(rows, scanFacts)
	if err != nil {
		return nil, fmt.Errorf("read store: orders of %s: %w", customerID, err)
	}
	return out, nil
}

// Customer returns a customer's counters; ok is false when the read store
// has none.
func (s *Store) Customer(ctx context.Context, customerID string) (CustomerCounts, bool, error) {
	var c CustomerCounts
	err := s.pool.QueryRow(ctx, `SELECT orders, confirmed, cancelled, captured, refunded FROM customer_view WHERE customer_id = $1`,
		customerID).Scan(&c.Orders, &c.Confirmed, &c.Cancelled, &c.Captured, &c.Refunded)
	if errors.Is(err, pgx.ErrNoRows) {
		return CustomerCounts{}, false, nil
	}
	if err != nil {
		return CustomerCounts{}, false, fmt.Errorf("read store: customer %s: %w", customerID, err)
	}
	return c, true, nil
}

// TimelineEntry is one event of an order's timeline.
type TimelineEntry struct {
	EventID     string          `json:"event_id"`
	Source      string          `json:"source"`
	Kind        string          `json:"kind"`
	SagaID      string          `json:"saga_id"`
	OccurredAt  time.Time       `json:"occurred_at"`
	ProjectedAt time.Time       `json:"projected_at"`
	Detail      json.RawMessage `json:"detail,omitempty"`
}

// Order returns an order's view and its timeline, every event of the four
// services in the order they occurred; ErrUnknownOrder when the read store
// has no event of it.
func (s *Store) Order(ctx context.Context, orderID string) (Facts, []TimelineEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+factColumns+` FROM order_view WHERE order_id = $1`, orderID)
	if err != nil {
		return Facts{}, nil, fmt.Errorf("read store: order %s: %w", orderID, err)
	}
	views, err := pgx.CollectRows(rows, scanFacts)
	if err != nil {
		return Facts{}, nil, fmt.Errorf("read store: order %s: %w", orderID, err)
	}
	if len(views) == 0 {
		return Facts{}, nil, fmt.Errorf("order %q: %w", orderID, ErrUnknownOrder)
	}
	rows, err = s.pool.Query(ctx, `SELECT event_id, source, kind, saga_id, occurred_at, projected_at, detail
		FROM order_timeline WHERE order_id = $1 ORDER BY occurred_at, event_id`, orderID)
	if err != nil {
		return Facts{}, nil, fmt.Errorf("read store: timeline of %s: %w", orderID, err)
	}
	timeline, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TimelineEntry, error) {
		var e TimelineEntry
		var detail []byte
		err := row.Scan(&e.EventID, &e.Source, &e.Kind, &e.SagaID, &e.OccurredAt, &e.ProjectedAt, &detail)
		e.Detail = detail
		return e, err
	})
	if err != nil {
		return Facts{}, nil, fmt.Errorf("read store: timeline of %s: %w", orderID, err)
	}
	return views[0], timeline, nil
}

// SKURow and RegionRow are lines of the report.
type SKURow struct {
	SKU string `json:"sku"`
	StockCounts
}

// RegionRow is one region's line of the report.
type RegionRow struct {
	Region string `json:"region"`
	StockCounts
}

// Report returns the counters of every SKU and every region.
func (s *Store) Report(ctx context.Context) ([]SKURow, []RegionRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT sku, reserved, sold, released, revenue_captured, revenue_refunded FROM sku_view ORDER BY sku`)
	if err != nil {
		return nil, nil, fmt.Errorf("read store: report: %w", err)
	}
	skus, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SKURow, error) {
		var r SKURow
		err := row.Scan(&r.SKU, &r.Reserved, &r.Sold, &r.Released, &r.RevenueCaptured, &r.RevenueRefunded)
		return r, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read store: report: %w", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT region, orders, reserved, sold, released, revenue_captured, revenue_refunded FROM region_view ORDER BY region`)
	if err != nil {
		return nil, nil, fmt.Errorf("read store: report: %w", err)
	}
	regions, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RegionRow, error) {
		var r RegionRow
		err := row.Scan(&r.Region, &r.Orders, &r.Reserved, &r.Sold, &r.Released, &r.RevenueCaptured, &r.RevenueRefunded)
		return r, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read store: report: %w", err)
	}
	return skus, regions, nil
}
