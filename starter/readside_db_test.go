package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// readFixture is a read store on a fresh schema of the reporting database,
// holding two orders of alice: o-b, compensated (it reserved, charged and
// booked, then undid all three), and o-a, completed, placed after o-b.
type readFixture struct {
	store *readstore.Store
	lease readstore.Lease
	t0    time.Time
}

func newReadFixture(t *testing.T) readFixture {
	t.Helper()
	ctx := testenv.Context(t)
	st := readstore.New(testenv.Postgres(t, testenv.Reporting))
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	lease, ok, err := st.Acquire(ctx, readstore.LeaseName, "test", 10*time.Second, time.Second)
	if err != nil || !ok {
		t.Fatalf("acquire the lease: %v, %v", ok, err)
	}
	f := readFixture{store: st, lease: lease, t0: time.Now().Add(-time.Hour).Truncate(time.Millisecond)}
	at := func(d time.Duration) time.Time { return f.t0.Add(d) }
	js := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type ev struct {
		order, kind string
		at          time.Time
		detail      any
	}
	// Each source's events in its own order.
	bySource := map[string][]ev{
		readstore.SourceOrders: {
			// o-a's document first: the batch order is not the customer's order.
			{"o-a", services.EventOrderCreated, at(time.Minute), services.OrderDetail{CustomerID: "alice", Region: "eu",
				Items: []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 1}}, Total: 2950}},
			{"o-a", services.EventOrderConfirmed, at(time.Minute + 3*time.Second), nil},
			{"o-b", services.EventOrderCreated, at(0), services.OrderDetail{CustomerID: "alice", Region: "eu",
				Items: []services.Item{{SKU: "SKU-1", Quantity: 1}}, Total: 1200}},
			{"o-b", services.EventOrderCancelled, at(4 * time.Second), services.CancelDetail{Reason: "cancelled by the customer"}},
		},
		readstore.SourceInventory: {
			{"o-b", services.EventStockReserved, at(time.Second), []services.StockLine{{SKU: "SKU-1", Quantity: 1, UnitPrice: 1200}}},
			{"o-a", services.EventStockReserved, at(time.Minute + time.Second),
				[]services.StockLine{{SKU: "SKU-1", Quantity: 2, UnitPrice: 1200}, {SKU: "SKU-2", Quantity: 1, UnitPrice: 550}}},
			{"o-b", services.EventStockReleased, at(3200 * time.Millisecond), []services.StockLine{{SKU: "SKU-1", Quantity: 1, UnitPrice: 1200}}},
		},
		readstore.SourcePayments: {
			{"o-b", services.EventPaymentCaptured, at(1100 * time.Millisecond), services.PaymentDetail{CustomerID: "alice", Amount: 1200}},
			{"o-a", services.EventPaymentCaptured, at(time.Minute + 1100*time.Millisecond), services.PaymentDetail{CustomerID: "alice", Amount: 2950}},
			{"o-b", services.EventPaymentRefunded, at(3100 * time.Millisecond), services.PaymentDetail{CustomerID: "alice", Amount: 1200}},
		},
		readstore.SourceShipping: {
			{"o-a", services.EventShipmentCreated, at(time.Minute + 2*time.Second), services.ShipmentDetail{Tracking: "TRK-A", Country: "DE"}},
			{"o-b", services.EventShipmentCreated, at(2 * time.Second), services.ShipmentDetail{Tracking: "TRK-B", Country: "FR"}},
			{"o-b", services.EventShipmentCancelled, at(3 * time.Second), nil},
		},
	}
	for _, source := range readstore.Sources {
		b := readstore.Batch{Source: source}
		index := map[string]int{}
		for i, e := range bySource[source] {
			x := readstore.Event{Source: source, OrderID: e.order, SagaID: "order-" + e.order, Kind: e.kind, OccurredAt: e.at}
			if e.detail != nil {
				x.Detail = js(e.detail)
			}
			if readstore.IsDocumentSource(source) {
				x.Index = index[e.order]
				index[e.order]++
				x.ID = readstore.DocEventID(source, e.order, x.Index)
			} else {
				x.Position = pgstore.Position{TxID: uint64(100 + i), ID: int64(i + 1)}
				x.ID = readstore.PGEventID(source, x.Position.ID)
				b.Position = &x.Position
			}
			b.Events = append(b.Events, x)
		}
		if applied, err := st.Apply(ctx, lease, b); err != nil || len(applied) != len(b.Events) {
			t.Fatalf("apply %s: %d applied, %v", source, len(applied), err)
		}
	}
	f.measure(t, time.Now(), nil)
	return f
}

// measure records a measurement of every source's lag at measured; backlog
// gives some sources' events left and how old the oldest is.
func (f readFixture) measure(t *testing.T, measured time.Time, backlog map[string]time.Duration) {
	t.Helper()
	var lags []readstore.SourceLag
	for _, s := range readstore.Sources {
		l := readstore.SourceLag{Source: s, Measured: measured}
		if d, ok := backlog[s]; ok {
			l.Events, l.Oldest = 120, measured.Add(-d)
		}
		lags = append(lags, l)
	}
	if err := f.store.RecordLag(testenv.Context(t), f.lease, lags); err != nil {
		t.Fatal(err)
	}
}

// run runs a read-store command body on the fixture's store at now.
func (f readFixture) run(t *testing.T, asJSON bool, now time.Time, body func(context.Context, *readQuery) error) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	q := &readQuery{store: f.store, out: &out, errOut: &errOut, json: asJSON, now: func() time.Time { return now }}
	err = body(testenv.Context(t), q)
	return out.String(), errOut.String(), err
}

func TestReadStoreCommands(t *testing.T) {
	f := newReadFixture(t)
	now := time.Now()
	orders := func(customer string) func(context.Context, *readQuery) error {
		return func(ctx context.Context, q *readQuery) error { return q.orders(ctx, customer) }
	}
	order := func(id string) func(context.Context, *readQuery) error {
		return func(ctx context.Context, q *readQuery) error { return q.order(ctx, id) }
	}
	report := func(ctx context.Context, q *readQuery) error { return q.report(ctx) }

	t.Run("orders", func(t *testing.T) {
		out, errOut, err := f.run(t, false, now, orders("alice"))
		if err != nil || errOut != "" {
			t.Fatalf("orders: %v, stderr %q", err, errOut)
		}
		got := lines(out)
		want := []string{
			"ORDER OUTCOME STATUS TOTAL ITEMS PAYMENT STOCK SHIPMENT FIRST EVENT",
			"o-b COMPENSATED CANCELLED 12.00 SKU-1 x1 refunded 12.00 released cancelled " + f.t0.Local().Format(time.DateTime),
			"o-a COMPLETED CONFIRMED 29.50 SKU-1 x2, SKU-2 x1 captured 29.50 reserved created " + f.t0.Add(time.Minute).Local().Format(time.DateTime),
			"customer alice: 2 orders (1 confirmed, 1 cancelled), captured 41.50, refunded 12.00, spend 29.50",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("orders output:\n%s\nwant (spaces collapsed):\n%s", out, strings.Join(want, "\n"))
		}

		out, errOut, err = f.run(t, true, now, orders("alice"))
		if err != nil || errOut != "" {
			t.Fatalf("orders --json: %v, stderr %q", err, errOut)
		}
		var r struct {
			CustomerID string `json:"customer_id"`
			Orders     []struct {
				OrderID string `json:"order_id"`
				Outcome string `json:"outcome"`
				Total   int64  `json:"total"`
			} `json:"orders"`
			Counts  customerTotal `json:"counts"`
			Lag     []sourceLag   `json:"lag"`
			Warning *string       `json:"warning"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("orders --json is not JSON: %v\n%s", err, out)
		}
		if r.CustomerID != "alice" || len(r.Orders) != 2 || r.Orders[0].OrderID != "o-b" || r.Orders[0].Outcome != readstore.OutcomeCompensated ||
			r.Orders[1].OrderID != "o-a" || r.Orders[1].Outcome != readstore.OutcomeCompleted || r.Orders[1].Total != 2950 {
			t.Errorf("orders --json: %+v", r)
		}
		if want := (customerTotal{Orders: 2, Confirmed: 1, Cancelled: 1, Captured: 4150, Refunded: 1200, Spend: 2950}); r.Counts != want {
			t.Errorf("orders --json counts %+v, want %+v", r.Counts, want)
		}
		if len(r.Lag) != 4 || r.Warning != nil {
			t.Errorf("orders --json: lag %+v, warning %v; want 4 sources and no warning", r.Lag, r.Warning)
		}

		_, _, err = f.run(t, false, now, orders("bob"))
		if err == nil || !strings.Contains(err.Error(), "no order of customer bob in the read store") || !strings.Contains(err.Error(), "lag") {
			t.Errorf("orders of an unknown customer: %v", err)
		}
	})

	t.Run("order", func(t *testing.T) {
		out, errOut, err := f.run(t, false, now, order("o-b"))
		if err != nil || errOut != "" {
			t.Fatalf("order: %v, stderr %q", err, errOut)
		}
		stamp := func(d time.Duration) string { return f.t0.Add(d).Local().Format(timeFormat) }
		want := []string{
			"order o-b (saga order-o-b)",
			"customer alice, region eu",
			"outcome COMPENSATED",
			"status CANCELLED: cancelled by the customer",
			"total 12.00 (SKU-1 x1)",
			"stock released: SKU-1 x1 @ 12.00",
			"payment refunded 12.00",
			"shipment cancelled (tracking TRK-B to FR)",
			"events " + stamp(0) + " to " + stamp(4*time.Second),
			"TIME SERVICE EVENT DETAIL",
			stamp(0) + " orders OrderCreated alice eu SKU-1 x1, total 12.00",
			stamp(time.Second) + " inventory StockReserved SKU-1 x1 @ 12.00",
			stamp(1100*time.Millisecond) + " payments PaymentCaptured alice 12.00",
			stamp(2*time.Second) + " shipping ShipmentCreated tracking TRK-B to FR",
			stamp(3*time.Second) + " shipping ShipmentCancelled -",
			stamp(3100*time.Millisecond) + " payments PaymentRefunded alice 12.00",
			stamp(3200*time.Millisecond) + " inventory StockReleased SKU-1 x1 @ 12.00",
			stamp(4*time.Second) + " orders OrderCancelled cancelled by the customer",
		}
		if got := lines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("order output:\n%s\nwant (spaces collapsed):\n%s", out, strings.Join(want, "\n"))
		}

		out, _, err = f.run(t, true, now, order("o-a"))
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Order struct {
				Outcome string `json:"outcome"`
				Status  string `json:"status"`
			} `json:"order"`
			Timeline []struct {
				Source  string `json:"source"`
				Kind    string `json:"kind"`
				Summary string `json:"summary"`
			} `json:"timeline"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("order --json is not JSON: %v\n%s", err, out)
		}
		if v.Order.Outcome != readstore.OutcomeCompleted || len(v.Timeline) != 5 || v.Timeline[4].Kind != services.EventOrderConfirmed ||
			v.Timeline[2].Summary != "alice 29.50" {
			t.Errorf("order --json: %+v", v)
		}

		_, _, err = f.run(t, false, now, order("o-missing"))
		if err == nil || !strings.Contains(err.Error(), "order o-missing is not in the read store") || !strings.Contains(err.Error(), "no such order, or the read store lags") {
			t.Errorf("unknown order: %v", err)
		}
	})

	t.Run("report", func(t *testing.T) {
		out, errOut, err := f.run(t, false, now, report)
		if err != nil || errOut != "" {
			t.Fatalf("report: %v, stderr %q", err, errOut)
		}
		want := []string{
			"SKU RESERVED SOLD RELEASED CAPTURED REFUNDED",
			"SKU-1 0 2 1 36.00 12.00",
			"SKU-2 0 1 0 5.50 0.00",
			"REGION ORDERS RESERVED SOLD RELEASED CAPTURED REFUNDED",
			"eu 2 0 3 1 41.50 12.00",
		}
		if got := lines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("report output:\n%s\nwant (spaces collapsed):\n%s", out, strings.Join(want, "\n"))
		}
	})

	// The projector stopped two minutes ago with payments 14 s behind: every
	// command warns, on stderr as text, in the JSON with --json.
	t.Run("lag", func(t *testing.T) {
		measured := time.Now().Truncate(time.Millisecond)
		f.measure(t, measured, map[string]time.Duration{readstore.SourcePayments: 14 * time.Second})
		later := measured.Add(2 * time.Minute)
		const lags = "read store lags: payments 120 events, 14s behind"
		const stale = "read store not updated for 2m: is a projector running?"
		for name, body := range map[string]func(context.Context, *readQuery) error{
			"orders": orders("alice"), "order": order("o-b"), "report": report} {
			out, errOut, err := f.run(t, false, later, body)
			if err != nil || !strings.HasPrefix(errOut, "warning: ") || !strings.Contains(errOut, lags) || !strings.Contains(errOut, stale) ||
				strings.Count(errOut, "\n") != 1 || strings.Contains(out, "warning") {
				t.Errorf("%s: %v; stderr %q, want one warning line", name, err, errOut)
			}
			out, errOut, err = f.run(t, true, later, body)
			var r struct {
				Lag     []sourceLag `json:"lag"`
				Warning string      `json:"warning"`
			}
			if err != nil || errOut != "" {
				t.Errorf("%s --json: %v, stderr %q", name, err, errOut)
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Errorf("%s --json is not JSON: %v\n%s", name, err, out)
			}
			if !strings.Contains(r.Warning, lags) || !strings.Contains(r.Warning, stale) || len(r.Lag) != 4 ||
				r.Lag[2].Source != readstore.SourcePayments || r.Lag[2].Events != 120 || r.Lag[2].SecondsBehind != 14 {
				t.Errorf("%s --json: lag %+v, warning %q", name, r.Lag, r.Warning)
			}
		}
		// What the store does not hold: the lag is in the error.
		_, _, err := f.run(t, false, later, order("o-late"))
		if err == nil || !strings.Contains(err.Error(), "o-late") || !strings.Contains(err.Error(), lags) {
			t.Errorf("unknown order while lagging: %v", err)
		}
	})
}
