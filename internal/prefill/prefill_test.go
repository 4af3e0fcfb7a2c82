package prefill

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// stores are a test's own migrated stores, as a Target and as services.
type stores struct {
	Target
	svc invariants.Stores
}

// newStores returns stores of the test's own, seeded with stock (each SKU
// at unit price price) and accounts (each with balance).
func newStores(t *testing.T, skus []string, price, stock int64, customers []string, balance int64) *stores {
	t.Helper()
	testenv.Config(t, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx := testenv.Context(t)
	s := &stores{Target: Target{
		Inventory: testenv.Postgres(t, testenv.Inventory),
		Payments:  testenv.Postgres(t, testenv.Payments),
		Mongo:     testenv.Mongo(t),
	}}
	s.svc = invariants.Stores{
		Inventory: inventory.New(s.Target.Inventory),
		Payments:  payments.New(s.Target.Payments),
		Orders:    orders.New(s.Mongo),
		Shipping:  shipping.New(s.Mongo, nil),
	}
	for _, m := range []interface{ Migrate(context.Context) error }{s.svc.Inventory, s.svc.Payments, s.svc.Orders, s.svc.Shipping} {
		if err := m.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var st []inventory.Stock
	for _, sku := range skus {
		st = append(st, inventory.Stock{SKU: sku, UnitPrice: price, Quantity: stock})
	}
	var acc []payments.Account
	for _, c := range customers {
		acc = append(acc, payments.Account{CustomerID: c, Balance: balance})
	}
	if _, err := s.svc.Inventory.Seed(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Payments.Seed(ctx, acc); err != nil {
		t.Fatal(err)
	}
	return s
}

// available reads what the seeding made available: stock per SKU and
// balance per account.
func (s *stores) available(t *testing.T, ctx context.Context, skus, customers []string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, sku := range skus {
		l, err := s.svc.Inventory.Get(ctx, sku)
		if err != nil {
			t.Fatal(err)
		}
		out["stock "+sku] = l.Available
	}
	for _, c := range customers {
		a, err := s.svc.Payments.Get(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		out["balance "+c] = a.Balance
	}
	return out
}

func (s *stores) check(t *testing.T, ctx context.Context) invariants.Report {
	t.Helper()
	r, err := invariants.Check(ctx, s.svc, invariants.Options{Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Breaches() != 0 || r.InFlight != 0 {
		t.Fatalf("check after fill: %s", r)
	}
	return r
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return out
}

// TestFillPassesTheCheckerAndKeepsWhatWasAvailable fills seeded stores
// twice, the second call after the first: the checker finds no breach and
// counts every order, and the stock and money the seeding made available
// are still available. A third call over the same orders is refused.
func TestFillPassesTheCheckerAndKeepsWhatWasAvailable(t *testing.T) {
	skus, customers := names("S-", 5), names("c-", 7)
	s := newStores(t, skus, 250, 1_000, customers, 1_000_000)
	ctx := testenv.Context(t)
	before := s.available(t, ctx, skus, customers)
	var progress []int
	opts := Options{Orders: 2_000, SKUs: skus, Customers: customers, CancelledPercent: 20,
		Progress: func(done int) { progress = append(progress, done) }}
	first, err := Fill(ctx, s.Target, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first.Orders != 2_000 || first.Confirmed != 1_600 || first.Cancelled != 400 || first.NextOrder != 2_000 ||
		len(progress) == 0 || progress[len(progress)-1] != 2_000 {
		t.Fatalf("first fill: %+v, progress %v", first, progress)
	}
	r := s.check(t, ctx)
	if r.Sagas != 2_000 || r.Confirmed != 1_600 || r.Cancelled != 400 {
		t.Fatalf("after the first fill: %s", r)
	}

	opts.FirstOrder, opts.Orders, opts.Progress = first.NextOrder, 500, nil
	second, err := Fill(ctx, s.Target, opts)
	if err != nil {
		t.Fatal(err)
	}
	r = s.check(t, ctx)
	if second.NextOrder != 2_500 || r.Sagas != 2_500 || r.Confirmed != first.Confirmed+second.Confirmed ||
		r.Cancelled != first.Cancelled+second.Cancelled {
		t.Fatalf("after the second fill (%+v): %s", second, r)
	}
	if after := s.available(t, ctx, skus, customers); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("available before the fills %v, after %v", before, after)
	}

	for _, again := range []Options{
		{FirstOrder: 2_400, Orders: 200, SKUs: skus, Customers: customers},
		{FirstOrder: 0, Orders: 1, SKUs: skus, Customers: customers},
	} {
		if res, err := Fill(ctx, s.Target, again); !errors.Is(err, ErrExists) || res.Orders != 0 {
			t.Fatalf("fill of orders %d to %d again: %+v, %v; want ErrExists", again.FirstOrder, again.FirstOrder+again.Orders-1, res, err)
		}
	}
	if r := s.check(t, ctx); r.Sagas != 2_500 {
		t.Fatalf("after the refused fills: %s", r)
	}
}

func TestFillRefusesWhatItCannotMakeConsistent(t *testing.T) {
	s := newStores(t, []string{"S-1"}, 100, 10, []string{"c-1"}, 10)
	ctx := testenv.Context(t)
	for what, opts := range map[string]Options{
		"an unknown SKU":      {Orders: 1, SKUs: []string{"S-1", "nope"}, Customers: []string{"c-1"}},
		"an unknown customer": {Orders: 1, SKUs: []string{"S-1"}, Customers: []string{"nope"}},
		"a percent over 100":  {Orders: 1, CancelledPercent: 101},
		"ten-digit order ids": {Orders: 2, FirstOrder: maxOrderNumber},
	} {
		if _, err := Fill(ctx, s.Target, opts); err == nil {
			t.Errorf("%s: filled", what)
		}
	}
	if r := s.check(t, ctx); r.Sagas != 0 {
		t.Fatalf("after refused fills: %s", r)
	}
}

// TestFillOnItsOwnSKUsAndCustomers fills stores that hold none: Fill
// creates its SKUs and accounts, holding exactly what its orders took.
func TestFillOnItsOwnSKUsAndCustomers(t *testing.T) {
	s := newStores(t, nil, 0, 0, nil, 0)
	ctx := testenv.Context(t)
	res, err := Fill(ctx, s.Target, Options{Orders: 300, CancelledPercent: 10})
	if err != nil {
		t.Fatal(err)
	}
	if r := s.check(t, ctx); r.Sagas != 300 || r.Confirmed != res.Confirmed || r.SKUs != len(ownSKUs()) || r.Accounts != len(ownCustomers()) {
		t.Fatalf("%+v: %s", res, r)
	}
	if avail := s.available(t, ctx, ownSKUs(), ownCustomers()); avail["stock "+ownSKUs()[0]] != 0 || avail["balance "+ownCustomers()[0]] != 0 {
		t.Fatalf("available after a fill of its own: %v", avail)
	}
}
