package readstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/mongostore"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// WriteStores are the four stores the read store is checked against.
type WriteStores struct {
	Inventory, Payments pgstore.Querier
	Orders, Shipments   *mongo.Collection
}

// Truth reads what the write stores say of every order, as the facts its
// view must hold (without the projector's positions and times).
// Tombstones hold no order and are left out.
func Truth(ctx context.Context, w WriteStores) (map[string]*Facts, error) {
	truth := map[string]*Facts{}
	get := func(id, saga string) *Facts {
		f, ok := truth[id]
		if !ok {
			f = &Facts{OrderID: id, SagaID: saga}
			truth[id] = f
		}
		return f
	}
	if err := mongostore.Each(ctx, w.Orders, nil, func(d struct {
		ID         string          `bson:"_id"`
		SagaID     string          `bson:"saga_id"`
		CustomerID string          `bson:"customer_id"`
		Region     string          `bson:"region"`
		Status     string          `bson:"status"`
		Reason     string          `bson:"reason"`
		Items      []services.Item `bson:"items"`
		Total      int64           `bson:"total"`
		Tombstone  bool            `bson:"tombstone"`
	}) error {
		if d.Tombstone {
			return nil
		}
		f := get(d.ID, d.SagaID)
		f.CustomerID, f.Region, f.Status, f.Reason, f.Items, f.Total = d.CustomerID, d.Region, d.Status, d.Reason, d.Items, d.Total
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read store check: %w", err)
	}
	if err := mongostore.Each(ctx, w.Shipments, nil, func(d struct {
		ID        string           `bson:"_id"`
		SagaID    string           `bson:"saga_id"`
		Status    string           `bson:"status"`
		Tracking  string           `bson:"tracking"`
		ShipTo    services.Address `bson:"ship_to"`
		Tombstone bool             `bson:"tombstone"`
	}) error {
		if d.Tombstone {
			return nil
		}
		f := get(d.ID, d.SagaID)
		f.Shipment, f.Tracking, f.Country = ShipmentCreated, d.Tracking, d.ShipTo.Country
		if d.Status == "CANCELLED" {
			f.Shipment = ShipmentCancelled
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read store check: %w", err)
	}
	rows, err := w.Inventory.Query(ctx, `SELECT r.order_id, r.saga_id, r.sku, r.quantity, s.unit_price, r.status
		FROM reservations r JOIN stock s USING (sku) ORDER BY r.order_id, r.sku COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("read store check: read reservations: %w", err)
	}
	var id, saga, status string
	var line services.StockLine
	if _, err := pgx.ForEachRow(rows, []any{&id, &saga, &line.SKU, &line.Quantity, &line.UnitPrice, &status}, func() error {
		f := get(id, saga)
		f.Lines = append(f.Lines, line)
		f.Stock = StockReserved
		if status == "released" {
			f.Stock = StockReleased
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read store check: read reservations: %w", err)
	}
	rows, err = w.Payments.Query(ctx, `SELECT order_id, saga_id, customer_id, amount, status FROM payments`)
	if err != nil {
		return nil, fmt.Errorf("read store check: read payments: %w", err)
	}
	var customer string
	var amount int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &saga, &customer, &amount, &status}, func() error {
		f := get(id, saga)
		f.Payment, f.Amount = PaymentCaptured, amount
		if status == "refunded" {
			f.Payment = PaymentRefunded
		}
		if f.CustomerID == "" {
			f.CustomerID = customer
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read store check: read payments: %w", err)
	}
	return truth, nil
}

// CheckReport is what Check found.
type CheckReport struct {
	// Orders is how many orders the write stores hold.
	Orders int `json:"orders"`
	// Drift lists, one line each, every order whose view differs from the
	// write stores (missing, extra or with another fact) and every counter
	// that differs from the sum of its orders; empty when the read store
	// agrees.
	Drift []string `json:"drift"`
}

// Check compares the read store with the write stores: every order's view
// with the facts of its write-side records (Truth), and every counter with
// the sum of its orders' contributions. Run it once the projector has
// caught up (CaughtUp): an event on its way is drift until it lands. With
// atRest false, orders whose write stores still show them PENDING (sagas
// in flight) are left out; with atRest true no saga may run and every
// order counts.
func (s *Store) Check(ctx context.Context, w WriteStores, atRest bool) (CheckReport, error) {
	truth, err := Truth(ctx, w)
	if err != nil {
		return CheckReport{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+factColumns+` FROM order_view ORDER BY order_id`)
	if err != nil {
		return CheckReport{}, fmt.Errorf("read store check: read views: %w", err)
	}
	views, err := pgx.CollectRows(rows, scanFacts)
	if err != nil {
		return CheckReport{}, fmt.Errorf("read store check: read views: %w", err)
	}
	r := CheckReport{Orders: len(truth)}
	sum := Contribution{Customers: map[string]CustomerCounts{}, SKUs: map[string]StockCounts{}, Regions: map[string]StockCounts{}}
	seen := map[string]bool{}
	for _, v := range views {
		sum.Add(v.Contribution())
		seen[v.OrderID] = true
		t, ok := truth[v.OrderID]
		if ok && !atRest && t.Status == statusPending {
			continue
		}
		if !ok {
			r.Drift = append(r.Drift, fmt.Sprintf("order %s: in the read store (%s), not in the write stores", v.OrderID, v.Outcome()))
			continue
		}
		if diff := diffFacts(*t, v); diff != "" {
			r.Drift = append(r.Drift, fmt.Sprintf("order %s: %s", v.OrderID, diff))
		}
	}
	for _, id := range sortedKeys(truth) {
		if !seen[id] && (atRest || truth[id].Status != statusPending) {
			r.Drift = append(r.Drift, fmt.Sprintf("order %s: in the write stores, not in the read store", id))
		}
	}
	counters, err := s.counters(ctx)
	if err != nil {
		return CheckReport{}, err
	}
	r.Drift = append(r.Drift, diffCounters(sum, counters)...)
	return r, nil
}

// diffFacts names the facts of the view that differ from the truth.
func diffFacts(truth, view Facts) string {
	var d []string
	field := func(name string, want, got any) {
		if fmt.Sprint(want) != fmt.Sprint(got) {
			d = append(d, fmt.Sprintf("%s %v, write stores say %v", name, got, want))
		}
	}
	field("saga", truth.SagaID, view.SagaID)
	field("status", truth.Status, view.Status)
	field("reason", truth.Reason, view.Reason)
	field("customer", truth.CustomerID, view.CustomerID)
	field("region", truth.Region, view.Region)
	field("items", truth.Items, view.Items)
	field("total", truth.Total, view.Total)
	field("stock", truth.Stock, view.Stock)
	lines := slices.Clone(view.Lines)
	slices.SortFunc(lines, func(a, b services.StockLine) int { return strings.Compare(a.SKU, b.SKU) })
	field("stock lines", truth.Lines, lines)
	field("payment", truth.Payment, view.Payment)
	field("amount", truth.Amount, view.Amount)
	field("shipment", truth.Shipment, view.Shipment)
	field("tracking", truth.Tracking, view.Tracking)
	field("country", truth.Country, view.Country)
	return strings.Join(d, "; ")
}

// counters reads every counter of the read store.
func (s *Store) counters(ctx context.Context) (Contribution, error) {
	c := Contribution{Customers: map[string]CustomerCounts{}, SKUs: map[string]StockCounts{}, Regions: map[string]StockCounts{}}
	rows, err := s.pool.Query(ctx, `SELECT customer_id, orders, confirmed, cancelled, captured, refunded FROM customer_view`)
	if err != nil {
		return c, fmt.Errorf("read store check: read counters: %w", err)
	}
	var key string
	var cc CustomerCounts
	if _, err := pgx.ForEachRow(rows, []any{&key, &cc.Orders, &cc.Confirmed, &cc.Cancelled, &cc.Captured, &cc.Refunded}, func() error {
		c.Customers[key] = cc
		return nil
	}); err != nil {
		return c, fmt.Errorf("read store check: read counters: %w", err)
	}
	skus, regions, err := s.Report(ctx)
	if err != nil {
		return c, err
	}
	for _, r := range skus {
		c.SKUs[r.SKU] = r.StockCounts
	}
	for _, r := range regions {
		c.Regions[r.Region] = r.StockCounts
	}
	return c, nil
}

// diffCounters lists the counters that differ from the sum of the orders.
func diffCounters(sum, stored Contribution) []string {
	var d []string
	for _, k := range sortedKeys(union(sum.Customers, stored.Customers)) {
		if want, got := sum.Customers[k], stored.Customers[k]; want != got {
			d = append(d, fmt.Sprintf("customer %s: counters %+v, its orders sum to %+v", k, got, want))
		}
	}
	for _, k := range sortedKeys(union(sum.SKUs, stored.SKUs)) {
		if want, got := sum.SKUs[k], stored.SKUs[k]; want != got {
			d = append(d, fmt.Sprintf("SKU %s: counters %+v, its orders sum to %+v", k, got, want))
		}
	}
	for _, k := range sortedKeys(union(sum.Regions, stored.Regions)) {
		if want, got := sum.Regions[k], stored.Regions[k]; want != got {
			d = append(d, fmt.Sprintf("region %s: counters %+v, its orders sum to %+v", k, got, want))
		}
	}
	return d
}

// CaughtUp waits until the projector's last measure finds no backlog in
// any source, measured after since, or ctx ends. It needs a projector
// running: nothing else measures.
func (s *Store) CaughtUp(ctx context.Context, since time.Time) error {
	for {
		lags, err := s.Lag(ctx)
		if err != nil {
			return err
		}
		done := len(lags) == len(Sources)
		for _, l := range lags {
			done = done && l.Events == 0 && l.Measured.After(since)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("read store: the projector has not caught up: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
