package readstore_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// detail encodes v as an event's detail.
func detail(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compensated returns the events of an order whose shipment failed after
// its stock and payment went through: every service's forward step and
// compensation, in the order they happened.
func compensated(t *testing.T, order string) []readstore.Event {
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	n := 0
	ev := func(source, kind string, d any, index int) readstore.Event {
		n++
		e := readstore.Event{Source: source, OrderID: order, SagaID: "order-" + order, Kind: kind,
			OccurredAt: at.Add(time.Duration(n) * time.Millisecond), Index: index,
			Position: pgstore.Position{TxID: uint64(100 + n), ID: int64(n)}}
		if d != nil {
			e.Detail = detail(t, d)
		}
		e.ID = readstore.PGEventID(source, int64(n))
		return e
	}
	lines := []services.StockLine{{SKU: "A", Quantity: 2, UnitPrice: 300}, {SKU: "B", Quantity: 1, UnitPrice: 400}}
	return []readstore.Event{
		ev(readstore.SourceOrders, services.EventOrderCreated, services.OrderDetail{CustomerID: "alice", Region: "eu",
			Items: []services.Item{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}, Total: 1000}, 0),
		ev(readstore.SourceInventory, services.EventStockReserved, lines, 0),
		ev(readstore.SourcePayments, services.EventPaymentCaptured, services.PaymentDetail{CustomerID: "alice", Amount: 1000}, 0),
		ev(readstore.SourceShipping, services.EventShipmentCreated, services.ShipmentDetail{Tracking: "TRK-1", Country: "DE"}, 0),
		ev(readstore.SourceShipping, services.EventShipmentCancelled, nil, 1),
		ev(readstore.SourcePayments, services.EventPaymentRefunded, services.PaymentDetail{CustomerID: "alice", Amount: 1000}, 0),
		ev(readstore.SourceInventory, services.EventStockReleased, []services.StockLine{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}, 0),
		ev(readstore.SourceOrders, services.EventOrderCancelled, services.CancelDetail{Reason: "no courier"}, 1),
	}
}

// TestFactsDoNotDependOnEventOrderNorRepeats: the events of a compensated
// order from four services arrive in any order, some twice; the facts and
// the order's contribution to the counters are always those of the order
// as it happened.
func TestFactsDoNotDependOnEventOrderNorRepeats(t *testing.T) {
	events := compensated(t, "o1")
	var want readstore.Facts
	for _, e := range events {
		if err := want.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if want.Outcome() != readstore.OutcomeCompensated || want.Stock != readstore.StockReleased ||
		want.Payment != readstore.PaymentRefunded || want.Shipment != readstore.ShipmentCancelled || want.Status != "CANCELLED" {
		t.Fatalf("facts in order: %+v (outcome %s)", want, want.Outcome())
	}
	c := want.Contribution()
	if c.Customers["alice"] != (readstore.CustomerCounts{Orders: 1, Cancelled: 1, Captured: 1000, Refunded: 1000}) ||
		c.SKUs["A"] != (readstore.StockCounts{Released: 2, RevenueCaptured: 600, RevenueRefunded: 600}) ||
		c.Regions["eu"] != (readstore.StockCounts{Orders: 1, Released: 3, RevenueCaptured: 1000, RevenueRefunded: 1000}) {
		t.Fatalf("contribution %+v", c)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		shuffled := append([]readstore.Event(nil), events...)
		shuffled = append(shuffled, events[rng.IntN(len(events))], events[rng.IntN(len(events))])
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var got readstore.Facts
		for _, e := range shuffled {
			if err := got.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: facts %+v, want %+v", round, got, want)
		}
		if !reflect.DeepEqual(got.Contribution(), c) {
			t.Fatalf("round %d: contribution differs", round)
		}
	}
}

// TestDeltaMovesCountersFromOneStateToTheNext: an order confirmed after
// its stock was reserved moves its units from reserved to sold.
func TestDeltaMovesCountersFromOneStateToTheNext(t *testing.T) {
	events := compensated(t, "o2")
	var before readstore.Facts
	for _, e := range events[:4] {
		if err := before.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	after := before
	if err := after.Apply(readstore.Event{ID: "orders/o2/2", Source: readstore.SourceOrders, OrderID: "o2",
		Kind: services.EventOrderConfirmed, OccurredAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if after.Outcome() != readstore.OutcomeCompleted {
		t.Fatalf("outcome %s, want COMPLETED", after.Outcome())
	}
	d := readstore.Delta(before.Contribution(), after.Contribution())
	if d.SKUs["A"] != (readstore.StockCounts{Reserved: -2, Sold: 2}) || d.Customers["alice"] != (readstore.CustomerCounts{Confirmed: 1}) {
		t.Fatalf("delta %+v", d)
	}
	if _, ok := d.Regions["eu"]; !ok || len(d.SKUs) != 2 {
		t.Fatalf("delta %+v: want both SKUs and the region", d)
	}
}

// TestApplyRefusesUnknownKindsAndBadDetails: nothing changes.
func TestApplyRefusesUnknownKindsAndBadDetails(t *testing.T) {
	var f readstore.Facts
	for _, e := range []readstore.Event{
		{ID: "x/1", Kind: "OrderTeleported", Detail: json.RawMessage(`{}`)},
		{ID: "x/2", Kind: services.EventPaymentCaptured, Detail: json.RawMessage(`{"amount": "ten"}`)},
		{ID: "x/3", Kind: services.EventStockReserved},
	} {
		if err := f.Apply(e); err == nil {
			t.Errorf("event %s (%s) applied", e.ID, e.Kind)
		}
	}
	if !reflect.DeepEqual(f, readstore.Facts{}) {
		t.Fatalf("facts changed: %+v", f)
	}
}
