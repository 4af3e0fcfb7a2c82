package invariants_test

import (
	"context"
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

type fixture struct {
	ctx     context.Context
	st      invariants.Stores
	invPool *pgxpool.Pool
	payPool *pgxpool.Pool
	t       *testing.T
}

func setup(t *testing.T) *fixture {
	t.Helper()
	s := sagatest.Stores(t, sagatest.Seed([]inventory.Stock{{SKU: "A", UnitPrice: 100, Quantity: 10}},
		[]payments.Account{{CustomerID: "alice", Balance: 1000}}))
	return &fixture{ctx: testenv.Context(t), t: t, st: s.Stores, invPool: s.InventoryPool, payPool: s.PaymentsPool}
}

var berlin = services.Address{Name: "Ada", Street: "Main 1", City: "Berlin", PostalCode: "10115", Country: "DE"}

// run drives one order's steps by hand: the whole saga, or its
// compensation after the forward steps when fail is true.
func (f *fixture) run(saga, order string, fail bool) {
	f.t.Helper()
	ctx, st := f.ctx, f.st
	items := []services.Item{{SKU: "A", Quantity: 2}}
	must := func(_ any, err error) {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
	}
	must(st.Orders.Create(ctx, saga, orders.Order{ID: order, CustomerID: "alice", Region: "eu", Items: items, ShipTo: berlin, Total: 200}))
	must(st.Inventory.Reserve(ctx, saga, order, items))
	must(st.Payments.Charge(ctx, saga, order, "alice", 200))
	_, _, err := st.Shipping.Create(ctx, saga, order, berlin)
	must(nil, err)
	if !fail {
		must(st.Orders.Confirm(ctx, saga, order))
		return
	}
	must(st.Shipping.Cancel(ctx, saga, order))
	must(st.Payments.Refund(ctx, saga, order))
	must(st.Inventory.Release(ctx, saga, order))
	must(st.Orders.Cancel(ctx, saga, order, "test"))
}

func (f *fixture) check(quiet bool) invariants.Report {
	f.t.Helper()
	r, err := invariants.Check(f.ctx, f.st, invariants.Options{Quiet: quiet})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func TestConsistentStoresHaveNoBreach(t *testing.T) {
	f := setup(t)
	f.run("saga-1", "o1", false)
	f.run("saga-2", "o2", true)
	// A saga compensated before it created anything leaves only tombstones.
	if _, err := f.st.Orders.Cancel(f.ctx, "saga-3", "o3", "rejected"); err != nil {
		t.Fatal(err)
	}
	r := f.check(true)
	if r.Breaches() != 0 || r.Confirmed != 1 || r.Cancelled != 2 || r.Sagas != 3 {
		t.Fatalf("report:\n%s", r)
	}
}

func TestInFlightOrderIsABreachOnlyWhenQuiet(t *testing.T) {
	f := setup(t)
	if _, err := f.st.Orders.Create(f.ctx, "saga-1", orders.Order{ID: "o1", CustomerID: "alice", Region: "eu",
		Items: []services.Item{{SKU: "A", Quantity: 1}}, ShipTo: berlin, Total: 100}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.Inventory.Reserve(f.ctx, "saga-1", "o1", []services.Item{{SKU: "A", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	if r := f.check(false); r.Breaches() != 0 || r.InFlight != 1 {
		t.Fatalf("while running:\n%s", r)
	}
	r := f.check(true)
	if len(r.Disagreements) != 1 || !strings.Contains(r.Disagreements[0].Problems[0], "PENDING") {
		t.Fatalf("when quiet:\n%s", r)
	}
}

func TestBrokenStoresAreReported(t *testing.T) {
	f := setup(t)
	f.run("saga-1", "o1", false)
	f.run("saga-2", "o2", true)
	// Stock appears from nowhere, money vanishes, and a confirmed order
	// loses its payment.
	for _, q := range []struct {
		pool *pgxpool.Pool
		sql  string
	}{
		{f.invPool, `UPDATE stock SET available = available + 1, total = total WHERE sku = 'A'`},
		{f.payPool, `UPDATE accounts SET balance = balance - 7 WHERE customer_id = 'alice'`},
		{f.payPool, `UPDATE payments SET status = 'refunded' WHERE saga_id = 'saga-1'`},
	} {
		if _, err := q.pool.Exec(f.ctx, q.sql); err != nil {
			t.Fatal(err)
		}
	}
	r := f.check(true)
	if len(r.StockBreaches) != 1 || r.StockBreaches[0].SKU != "A" {
		t.Errorf("stock breaches: %+v", r.StockBreaches)
	}
	if len(r.MoneyBreaches) != 1 || r.MoneyBreaches[0].CustomerID != "alice" {
		t.Errorf("money breaches: %+v", r.MoneyBreaches)
	}
	if len(r.Disagreements) != 1 || r.Disagreements[0].OrderID != "o1" ||
		!strings.Contains(strings.Join(r.Disagreements[0].Problems, ";"), "no payment captured") {
		t.Errorf("disagreements: %+v", r.Disagreements)
	}
	if r.Breaches() != 3 {
		t.Errorf("breaches = %d, want 3:\n%s", r.Breaches(), r)
	}
}

func TestReservedCounterMustMatchLedger(t *testing.T) {
	f := setup(t)
	f.run("saga-1", "o1", false)
	// A reservation applied twice to the counter but once to the ledger.
	if _, err := f.invPool.Exec(f.ctx, `UPDATE stock SET available = available - 2, reserved = reserved + 2 WHERE sku = 'A'`); err != nil {
		t.Fatal(err)
	}
	r := f.check(true)
	if len(r.StockBreaches) != 1 || r.StockBreaches[0].LedgerReserved != 2 || r.StockBreaches[0].Reserved != 4 {
		t.Fatalf("report:\n%s", r)
	}
}

func TestEffectAppliedTwiceIsADuplicate(t *testing.T) {
	f := setup(t)
	f.run("saga-1", "o1", false)
	// The charge applied a second time, as a broken barrier would: the money
	// and the event log both show it.
	if _, err := f.payPool.Exec(f.ctx, `
		UPDATE accounts SET balance = balance - 200 WHERE customer_id = 'alice';
		INSERT INTO events (saga_id, order_id, kind, detail) VALUES ('saga-1', 'o1', 'PaymentCaptured', '{}')`); err != nil {
		t.Fatal(err)
	}
	r := f.check(true)
	if len(r.DuplicateEffects) != 1 || r.DuplicateEffects[0].SagaID != "saga-1" || r.DuplicateEffects[0].Kind != "PaymentCaptured" ||
		r.DuplicateEffects[0].Count != 2 || r.DuplicateEffects[0].Store != "payments" {
		t.Fatalf("duplicates: %+v", r.DuplicateEffects)
	}
	if len(r.MoneyBreaches) != 1 {
		t.Fatalf("money breaches: %+v", r.MoneyBreaches)
	}
}
