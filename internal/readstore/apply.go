package readstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// factColumns are order_view's columns in the order scanFacts reads them
// and upsertFacts writes them.
const factColumns = `order_id, saga_id, customer_id, region, items, total, status, reason, stock, stock_lines,
	payment, amount, shipment, tracking, country, orders_seq, shipping_seq, first_event_at, last_event_at`

// applyEvents applies events (all of source b.Source, in source order) to
// the views of their orders and returns those it applied: it locks the
// orders' rows, skips the document events a view already holds, writes
// the timeline, the new facts and the counters' differences.
func applyEvents(ctx context.Context, tx pgx.Tx, b Batch, events []Event) ([]Event, error) {
	if len(events) == 0 {
		return nil, nil
	}
	seen := make(map[string]bool, len(events))
	ids := make([]string, 0, len(events))
	for _, e := range events {
		if !seen[e.OrderID] {
			seen[e.OrderID] = true
			ids = append(ids, e.OrderID)
		}
	}
	slices.Sort(ids) // rows locked in one global order
	before, err := loadFacts(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	after := make(map[string]*Facts, len(ids))
	for _, id := range ids {
		f := Facts{OrderID: id}
		if old, ok := before[id]; ok {
			f = old
		}
		after[id] = &f
	}
	batch := &pgx.Batch{}
	var applied []Event
	for _, e := range events {
		f := after[e.OrderID]
		if IsDocumentSource(e.Source) {
			seq := f.seq(e.Source)
			if e.Index < *seq {
				continue // the view has this document event already
			}
			*seq = e.Index + 1
		}
		if err := f.Apply(e); err != nil {
			return nil, err
		}
		var detail []byte
		if len(e.Detail) > 0 {
			detail = []byte(e.Detail)
		}
		batch.Queue(`INSERT INTO order_timeline (event_id, order_id, saga_id, source, kind, occurred_at, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING`,
			e.ID, e.OrderID, e.SagaID, e.Source, e.Kind, e.OccurredAt, detail)
		applied = append(applied, e)
	}
	total := Contribution{Customers: map[string]CustomerCounts{}, SKUs: map[string]StockCounts{}, Regions: map[string]StockCounts{}}
	for _, id := range ids {
		old, existed := before[id]
		f := after[id]
		if existed && equalFacts(old, *f) {
			continue
		}
		if err := queueUpsertFacts(batch, *f); err != nil {
			return nil, err
		}
		var was Contribution
		if existed {
			was = old.Contribution()
		}
		total.Add(Delta(was, f.Contribution()))
	}
	queueCounters(batch, total)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("write views: %w", err)
	}
	return applied, nil
}

// loadFacts reads and locks the view rows of ids.
func loadFacts(ctx context.Context, tx pgx.Tx, ids []string) (map[string]Facts, error) {
	rows, err := tx.Query(ctx, `SELECT `+factColumns+` FROM order_view WHERE order_id = ANY($1) ORDER BY order_id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("read order views: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanFacts)
	if err != nil {
		return nil, fmt.Errorf("read order views: %w", err)
	}
	out := make(map[string]Facts, len(list))
	for _, f := range list {
		out[f.OrderID] = f
	}
	return out, nil
}

// scanFacts reads one order_view row of factColumns.
func scanFacts(row pgx.CollectableRow) (Facts, error) {
	var f Facts
	var customer, region, status, reason, stock, payment, shipment, tracking, country *string
	var total, amount *int64
	var items, lines []byte
	err := row.Scan(&f.OrderID, &f.SagaID, &customer, &region, &items, &total, &status, &reason, &stock, &lines,
		&payment, &amount, &shipment, &tracking, &country, &f.OrdersSeq, &f.ShippingSeq, &f.FirstEventAt, &f.LastEventAt)
	if err != nil {
		return Facts{}, err
	}
	for _, p := range []struct {
		dst *string
		src *string
	}{{&f.CustomerID, customer}, {&f.Region, region}, {&f.Status, status}, {&f.Reason, reason}, {&f.Stock, stock},
		{&f.Payment, payment}, {&f.Shipment, shipment}, {&f.Tracking, tracking}, {&f.Country, country}} {
		if p.src != nil {
			*p.dst = *p.src
		}
	}
	if total != nil {
		f.Total = *total
	}
	if amount != nil {
		f.Amount = *amount
	}
	if len(items) > 0 {
		if err := json.Unmarshal(items, &f.Items); err != nil {
			return Facts{}, fmt.Errorf("order %s: items: %w", f.OrderID, err)
		}
	}
	if len(lines) > 0 {
		if err := json.Unmarshal(lines, &f.Lines); err != nil {
			return Facts{}, fmt.Errorf("order %s: stock lines: %w", f.OrderID, err)
		}
	}
	return f, nil
}

// queueUpsertFacts queues the write of f's row.
func queueUpsertFacts(b *pgx.Batch, f Facts) error {
	items, err := jsonOrNil(f.Items)
	if err != nil {
		return err
	}
	lines, err := jsonOrNil(f.Lines)
	if err != nil {
		return err
	}
	b.Queue(`INSERT INTO order_view (`+factColumns+`, projected_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, clock_timestamp())
		ON CONFLICT (order_id) DO UPDATE SET saga_id = EXCLUDED.saga_id, customer_id = EXCLUDED.customer_id,
			region = EXCLUDED.region, items = EXCLUDED.items, total = EXCLUDED.total, status = EXCLUDED.status,
			reason = EXCLUDED.reason, stock = EXCLUDED.stock, stock_lines = EXCLUDED.stock_lines,
			payment = EXCLUDED.payment, amount = EXCLUDED.amount, shipment = EXCLUDED.shipment,
			tracking = EXCLUDED.tracking, country = EXCLUDED.country, orders_seq = EXCLUDED.orders_seq,
			shipping_seq = EXCLUDED.shipping_seq, first_event_at = EXCLUDED.first_event_at,
			last_event_at = EXCLUDED.last_event_at, projected_at = EXCLUDED.projected_at`,
		f.OrderID, f.SagaID, nullable(f.CustomerID), nullable(f.Region), items, nullableInt(f.Total, f.Status != ""),
		nullable(f.Status), nullable(f.Reason), nullable(f.Stock), lines, nullable(f.Payment),
		nullableInt(f.Amount, f.Payment != ""), nullable(f.Shipment), nullable(f.Tracking), nullable(f.Country),
		f.OrdersSeq, f.ShippingSeq, f.FirstEventAt, f.LastEventAt)
	return nil
}

// queueCounters queues the counters' changes by d.
func queueCounters(b *pgx.Batch, d Contribution) {
	for _, k := range sortedKeys(d.Customers) {
		v := d.Customers[k]
		b.Queue(`INSERT INTO customer_view AS t (customer_id, orders, confirmed, cancelled, captured, refunded)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (customer_id) DO UPDATE SET orders = t.orders + EXCLUDED.orders,
				confirmed = t.confirmed + EXCLUDED.confirmed, cancelled = t.cancelled + EXCLUDED.cancelled,
				captured = t.captured + EXCLUDED.captured, refunded = t.refunded + EXCLUDED.refunded`,
			k, v.Orders, v.Confirmed, v.Cancelled, v.Captured, v.Refunded)
	}
	for _, k := range sortedKeys(d.SKUs) {
		v := d.SKUs[k]
		b.Queue(`INSERT INTO sku_view AS t (sku, reserved, sold, released, revenue_captured, revenue_refunded)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (sku) DO UPDATE SET reserved = t.reserved + EXCLUDED.reserved, sold = t.sold + EXCLUDED.sold,
				released = t.released + EXCLUDED.released, revenue_captured = t.revenue_captured + EXCLUDED.revenue_captured,
				revenue_refunded = t.revenue_refunded + EXCLUDED.revenue_refunded`,
			k, v.Reserved, v.Sold, v.Released, v.RevenueCaptured, v.RevenueRefunded)
	}
	for _, k := range sortedKeys(d.Regions) {
		v := d.Regions[k]
		b.Queue(`INSERT INTO region_view AS t (region, orders, reserved, sold, released, revenue_captured, revenue_refunded)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (region) DO UPDATE SET orders = t.orders + EXCLUDED.orders, reserved = t.reserved + EXCLUDED.reserved,
				sold = t.sold + EXCLUDED.sold, released = t.released + EXCLUDED.released,
				revenue_captured = t.revenue_captured + EXCLUDED.revenue_captured,
				revenue_refunded = t.revenue_refunded + EXCLUDED.revenue_refunded`,
			k, v.Orders, v.Reserved, v.Sold, v.Released, v.RevenueCaptured, v.RevenueRefunded)
	}
}

// equalFacts compares two facts by their JSON form.
func equalFacts(a, b Facts) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func jsonOrNil[T any](v []T) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode view: %w", err)
	}
	return b, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullableInt(v int64, known bool) *int64 {
	if !known {
		return nil
	}
	return &v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
