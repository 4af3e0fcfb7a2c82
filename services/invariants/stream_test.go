package invariants_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
)

// zoo fills stores with every kind of saga the checker tells apart:
// completed and compensated ones, half-done ones, effects without an
// order, orders whose stores contradict them in every way it reports, and
// saga ids that interleave between the stores (only a reservation, only a
// payment, only documents), so that the streaming merge meets each case.
func zoo(t *testing.T) *fixture {
	t.Helper()
	s := sagatest.Stores(t, sagatest.Seed(
		[]inventory.Stock{{SKU: "A", UnitPrice: 100, Quantity: 1_000}, {SKU: "B", UnitPrice: 50, Quantity: 1_000}},
		[]payments.Account{{CustomerID: "alice", Balance: 1_000_000}, {CustomerID: "bob", Balance: 1_000_000}}))
	f := &fixture{ctx: testenv.Context(t), t: t, st: s.Stores, invPool: s.InventoryPool, payPool: s.PaymentsPool}
	ctx, st := f.ctx, f.st
	a2 := []services.Item{{SKU: "A", Quantity: 2}}
	order := func(id string, items []services.Item, total int64) orders.Order {
		return orders.Order{ID: id, CustomerID: "alice", Region: "eu", Items: items, ShipTo: berlin, Total: total}
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ship := func(saga, id string) {
		t.Helper()
		_, _, err := st.Shipping.Create(ctx, saga, id, berlin)
		must(nil, err)
	}
	for i := range 5 {
		f.run(fmt.Sprintf("order-ok%d/run", i), fmt.Sprintf("ok%d", i), i%2 == 1)
	}
	f.run("Z-upper", "upper", false) // sorts before every lower-case id
	f.run("order-ok1-x/run", "ok1-x", false)
	// A tombstone alone; a shipment tombstone alone.
	must(st.Orders.Cancel(ctx, "order-tomb/run", "tomb", "rejected"))
	must(st.Shipping.Cancel(ctx, "order-shiptomb/run", "shiptomb"))
	// Half done: created; created and reserved; created and charged.
	must(st.Orders.Create(ctx, "order-pending/run", order("pending", a2, 200)))
	must(st.Orders.Create(ctx, "order-pending-res/run", order("pending-res", a2, 200)))
	must(st.Inventory.Reserve(ctx, "order-pending-res/run", "pending-res", a2))
	must(st.Orders.Create(ctx, "order-pending-pay/run", order("pending-pay", a2, 200)))
	must(st.Payments.Charge(ctx, "order-pending-pay/run", "pending-pay", "alice", 200))
	// Effects without an order: stock alone, money alone, a shipment alone.
	must(st.Inventory.Reserve(ctx, "order-orphan-res/run", "orphan-res", a2))
	must(st.Payments.Charge(ctx, "order-orphan-pay/run", "orphan-pay", "bob", 70))
	ship("order-orphan-ship/run", "orphan-ship")
	// Confirmed with other items held than ordered, with the wrong amount,
	// with nothing but the order.
	must(st.Orders.Create(ctx, "order-items/run", order("items", []services.Item{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 2}}, 200)))
	must(st.Inventory.Reserve(ctx, "order-items/run", "items", []services.Item{{SKU: "A", Quantity: 2}}))
	must(st.Payments.Charge(ctx, "order-items/run", "items", "alice", 200))
	ship("order-items/run", "items")
	must(st.Orders.Confirm(ctx, "order-items/run", "items"))
	must(st.Orders.Create(ctx, "order-amount/run", order("amount", a2, 200)))
	must(st.Inventory.Reserve(ctx, "order-amount/run", "amount", a2))
	must(st.Payments.Charge(ctx, "order-amount/run", "amount", "bob", 150))
	ship("order-amount/run", "amount")
	must(st.Orders.Confirm(ctx, "order-amount/run", "amount"))
	must(st.Orders.Create(ctx, "order-bare/run", order("bare", a2, 200)))
	must(st.Orders.Confirm(ctx, "order-bare/run", "bare"))
	// Cancelled with every effect left.
	must(st.Orders.Create(ctx, "order-left/run", order("left", a2, 200)))
	must(st.Inventory.Reserve(ctx, "order-left/run", "left", a2))
	must(st.Payments.Charge(ctx, "order-left/run", "left", "alice", 200))
	ship("order-left/run", "left")
	must(st.Orders.Cancel(ctx, "order-left/run", "left", "test"))
	// A confirmed order with one of its lines released behind its back, a
	// duplicated event, and stock and money out of balance.
	f.run("order-freed/run", "freed", false)
	for _, q := range []struct {
		pool *pgxpool.Pool
		sql  string
	}{
		{f.invPool, `UPDATE reservations SET status = 'released' WHERE saga_id = 'order-freed/run'`},
		{f.invPool, `INSERT INTO reservations (saga_id, order_id, sku, quantity, status) VALUES ('order-freed/run', 'freed', 'B', 1, 'reserved')`},
		{f.invPool, `UPDATE stock SET available = available + 3 WHERE sku = 'B'`},
		{f.payPool, `UPDATE accounts SET balance = balance - 7 WHERE customer_id = 'bob'`},
		{f.payPool, `INSERT INTO events (saga_id, order_id, kind, detail) VALUES ('order-ok0/run', 'ok0', 'PaymentCaptured', '{}')`},
	} {
		if _, err := q.pool.Exec(ctx, q.sql); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestStreamingCheckReportsAsTheLoadingOneDid holds Check to the report
// of the checker that loaded every record (referenceCheck), field for
// field, in every mode: running, at rest, with excuses and running sagas.
func TestStreamingCheckReportsAsTheLoadingOneDid(t *testing.T) {
	f := zoo(t)
	for _, opts := range []invariants.Options{
		{},
		{Quiet: true},
		{Quiet: true, Running: []string{"pending", "orphan-pay"}, Excuse: []invariants.Excuse{
			{OrderID: "left", Step: invariants.StepReserveStock},
			{OrderID: "left", Step: invariants.StepCreateShipment},
			{OrderID: "orphan-res", Step: invariants.StepReserveStock},
			{OrderID: "pending-pay", Step: invariants.StepCreateOrder},
			{OrderID: "ok2", Step: invariants.StepChargePayment},
		}},
	} {
		got, err := invariants.Check(f.ctx, f.st, opts)
		if err != nil {
			t.Fatal(err)
		}
		want, err := invariants.ReferenceCheck(f.ctx, f.st, opts)
		if err != nil {
			t.Fatal(err)
		}
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		if string(g) != string(w) {
			t.Errorf("options %+v:\nstreaming:\n%s\nloading:\n%s", opts, g, w)
		}
		if opts.Quiet && (len(got.Disagreements) < 8 || len(got.StockBreaches) == 0 || len(got.MoneyBreaches) == 0 ||
			len(got.DuplicateEffects) == 0) {
			t.Errorf("the zoo lacks a kind of breach:\n%s", got)
		}
	}
}

// TestDifferingItemsAreNamed: the checker keeps a digest of an order's
// items, and reads them back to name them when the stock held differs.
func TestDifferingItemsAreNamed(t *testing.T) {
	f := zoo(t)
	r := f.check(true)
	for _, d := range r.Disagreements {
		if d.OrderID == "items" {
			if want := "confirmed but stock held [{A 2}] differs from the order's items [{A 1} {B 2}]"; d.Problems[0] != want {
				t.Fatalf("problem %q, want %q", d.Problems[0], want)
			}
			return
		}
	}
	t.Fatalf("no disagreement for order items:\n%s", r)
}

// TestAuditEachYieldsSagaIDOrder: the merge relies on both PostgreSQL
// streams coming in saga id order, compared as Go compares strings,
// whatever the database's collation.
func TestAuditEachYieldsSagaIDOrder(t *testing.T) {
	f := zoo(t)
	var last string
	n := 0
	check := func(id string) error {
		if last != "" && id <= last {
			return fmt.Errorf("%q after %q", id, last)
		}
		last, n = id, n+1
		return nil
	}
	if _, err := f.st.Inventory.AuditEach(f.ctx, func(r inventory.Reservation) error { return check(r.SagaID) }); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no reservations")
	}
	last, n = "", 0
	if _, err := f.st.Payments.AuditEach(f.ctx, func(p payments.Payment) error { return check(p.SagaID) }); err != nil {
		t.Fatal(err)
	}
	if n == 0 || !strings.HasPrefix(last, "order-") {
		t.Fatalf("payments: %d, last %q", n, last)
	}
}

// TestCheckOfACancelledContextFailsWithoutHanging: every reader stops and
// the check returns the error, reading the documents at once or in turn.
func TestCheckOfACancelledContextFailsWithoutHanging(t *testing.T) {
	f := zoo(t)
	for _, quiet := range []bool{true, false} {
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		if r, err := invariants.Check(ctx, f.st, invariants.Options{Quiet: quiet}); err == nil {
			t.Errorf("quiet %t: no error, %s", quiet, r)
		}
	}
}
