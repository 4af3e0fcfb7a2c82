package inventory_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/pgbarrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// setup returns a migrated service on a fresh schema with SKU A (10 units at
// 250) and SKU B (5 units at 1000).
func setup(t *testing.T) (*inventory.Service, *pgxpool.Pool, context.Context) {
	t.Helper()
	ctx := testenv.Context(t)
	pool := testenv.Postgres(t, testenv.Inventory)
	svc := inventory.New(pool)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Seed(ctx, []inventory.Stock{{SKU: "A", UnitPrice: 250, Quantity: 10}, {SKU: "B", UnitPrice: 1000, Quantity: 5}}); err != nil {
		t.Fatal(err)
	}
	return svc, pool, ctx
}

func level(t *testing.T, ctx context.Context, svc *inventory.Service, sku string) inventory.Level {
	t.Helper()
	l, err := svc.Get(ctx, sku)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func count(t *testing.T, ctx context.Context, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	svc, pool, ctx := setup(t)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	files, err := pgstore.Load(os.DirFS("."), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, ctx, pool, `SELECT count(*) FROM schema_migrations`); n != len(files) {
		t.Fatalf("schema_migrations has %d rows, want %d (one per migration)", n, len(files))
	}
}

func TestReserveTwiceHasOneEffect(t *testing.T) {
	svc, _, ctx := setup(t)
	items := []services.Item{{SKU: "A", Quantity: 3}, {SKU: "B", Quantity: 1}}
	out, err := svc.Reserve(ctx, "saga-1", "o1", items)
	if err != nil || out != barrier.Applied {
		t.Fatalf("first reserve: %v, %v", out, err)
	}
	out, err = svc.Reserve(ctx, "saga-1", "o1", items)
	if err != nil || out != barrier.Duplicate {
		t.Fatalf("second reserve: %v, %v", out, err)
	}
	if l := level(t, ctx, svc, "A"); l.Available != 7 || l.Reserved != 3 {
		t.Fatalf("A after two reserves: %+v", l)
	}
	if l := level(t, ctx, svc, "B"); l.Available != 4 || l.Reserved != 1 {
		t.Fatalf("B after two reserves: %+v", l)
	}
}

func TestReleaseTwiceHasOneEffect(t *testing.T) {
	svc, _, ctx := setup(t)
	if _, err := svc.Reserve(ctx, "saga-1", "o1", []services.Item{{SKU: "A", Quantity: 4}}); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Release(ctx, "saga-1", "o1")
	if err != nil || out != barrier.Applied {
		t.Fatalf("first release: %v, %v", out, err)
	}
	out, err = svc.Release(ctx, "saga-1", "o1")
	if err != nil || out != barrier.AlreadyCompensated {
		t.Fatalf("second release: %v, %v", out, err)
	}
	if l := level(t, ctx, svc, "A"); l.Available != 10 || l.Reserved != 0 {
		t.Fatalf("A after release: %+v", l)
	}
	if _, err := svc.Reserve(ctx, "saga-1", "o1", []services.Item{{SKU: "A", Quantity: 4}}); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("reserve after release: got %v, want ErrStepCompensated", err)
	}
}

func TestReleaseWithoutReserveIsNullAndBlocksLateReserve(t *testing.T) {
	svc, _, ctx := setup(t)
	out, err := svc.Release(ctx, "saga-2", "o2")
	if err != nil || out != barrier.NullCompensation {
		t.Fatalf("null release: %v, %v", out, err)
	}
	_, err = svc.Reserve(ctx, "saga-2", "o2", []services.Item{{SKU: "A", Quantity: 1}})
	if !errors.Is(err, services.ErrStepCompensated) || !services.IsBusiness(err) {
		t.Fatalf("late reserve: got %v, want business ErrStepCompensated", err)
	}
	if l := level(t, ctx, svc, "A"); l.Available != 10 || l.Reserved != 0 {
		t.Fatalf("A changed: %+v", l)
	}
}

func TestReserveIsAllOrNothing(t *testing.T) {
	svc, pool, ctx := setup(t)
	_, err := svc.Reserve(ctx, "saga-3", "o3", []services.Item{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 6}})
	if !errors.Is(err, services.ErrOutOfStock) || !strings.Contains(err.Error(), `"B"`) {
		t.Fatalf("got %v, want ErrOutOfStock naming B", err)
	}
	if l := level(t, ctx, svc, "A"); l.Available != 10 || l.Reserved != 0 {
		t.Fatalf("A changed by a failed reservation: %+v", l)
	}
	if n := count(t, ctx, pool, `SELECT count(*) FROM saga_barrier`); n != 0 {
		t.Fatalf("failed reservation left %d barrier rows", n)
	}
	// The step never took effect, so its compensation is a null compensation.
	if out, err := svc.Release(ctx, "saga-3", "o3"); err != nil || out != barrier.NullCompensation {
		t.Fatalf("release after failed reserve: %v, %v", out, err)
	}
	_, err = svc.Reserve(ctx, "saga-4", "o4", []services.Item{{SKU: "NOPE", Quantity: 1}})
	if !errors.Is(err, services.ErrUnknownSKU) {
		t.Fatalf("unknown SKU: got %v", err)
	}
}

func TestConcurrentReservationsNeverOversell(t *testing.T) {
	svc, _, ctx := setup(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, out := 0, 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Reserve(ctx, testenv.ID("saga"), testenv.ID("o"), []services.Item{{SKU: "A", Quantity: 1}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, services.ErrOutOfStock):
				out++
			default:
				t.Errorf("reserve %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok != 10 || out != 40 {
		t.Fatalf("%d reserved, %d out of stock; want 10 and 40", ok, out)
	}
	if l := level(t, ctx, svc, "A"); l.Available != 0 || l.Reserved != 10 {
		t.Fatalf("A after the rush: %+v", l)
	}
}

func TestBadInputIsRefusedBeforeAnyWrite(t *testing.T) {
	svc, pool, ctx := setup(t)
	check := func(name, field string, err error) {
		t.Helper()
		if !errors.Is(err, services.ErrInvalidInput) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v, want invalid input naming %s", name, err, field)
		}
	}
	one := []services.Item{{SKU: "A", Quantity: 1}}
	for problem, id := range testenv.BadSagaIDs() {
		_, err := svc.Reserve(ctx, id, "o", one)
		check("saga id "+problem, "saga_id", err)
		_, err = svc.Release(ctx, id, "o")
		check("release saga id "+problem, "saga_id", err)
	}
	for problem, id := range testenv.BadIDs() {
		_, err := svc.Reserve(ctx, "s", id, one)
		check("order id "+problem, "order_id", err)
		_, err = svc.Reserve(ctx, "s", "o", []services.Item{{SKU: id, Quantity: 1}})
		check("sku "+problem, "items[0].sku", err)
	}
	_, err := svc.Reserve(ctx, "s", "o", nil)
	check("no items", "items", err)
	_, err = svc.Reserve(ctx, "s", "o", []services.Item{{SKU: "A", Quantity: 0}})
	check("zero quantity", "items[0].quantity", err)
	_, err = svc.Reserve(ctx, "s", "o", []services.Item{{SKU: "A", Quantity: -1}})
	check("negative quantity", "items[0].quantity", err)
	_, err = svc.Reserve(ctx, "s", "o", []services.Item{{SKU: "A", Quantity: 1 << 62}})
	check("huge quantity", "items[0].quantity", err)
	_, err = svc.Quote(ctx, []services.Item{{SKU: "B", Quantity: services.MaxQuantity}, {SKU: "A", Quantity: services.MaxQuantity}})
	if err != nil {
		t.Fatalf("quote within limits: %v", err)
	}
	if n := count(t, ctx, pool, `SELECT count(*) FROM saga_barrier`) + count(t, ctx, pool, `SELECT count(*) FROM events`); n != 0 {
		t.Fatalf("bad input wrote %d rows", n)
	}
	if l := level(t, ctx, svc, "A"); l.Available != 10 {
		t.Fatalf("A changed: %+v", l)
	}
}

func TestQuote(t *testing.T) {
	svc, _, ctx := setup(t)
	total, err := svc.Quote(ctx, []services.Item{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 3}})
	if err != nil || total != 2*250+3*1000 {
		t.Fatalf("quote: %d, %v", total, err)
	}
	if _, err := svc.Quote(ctx, []services.Item{{SKU: "X", Quantity: 1}}); !errors.Is(err, services.ErrUnknownSKU) {
		t.Fatalf("quote unknown SKU: %v", err)
	}
}

func TestSeedTwiceChangesNothing(t *testing.T) {
	svc, _, ctx := setup(t)
	if _, err := svc.Reserve(ctx, "s", "o", []services.Item{{SKU: "A", Quantity: 2}}); err != nil {
		t.Fatal(err)
	}
	n, err := svc.Seed(ctx, []inventory.Stock{{SKU: "A", UnitPrice: 250, Quantity: 10}})
	if err != nil || n != 0 {
		t.Fatalf("reseed: %d, %v", n, err)
	}
	if l := level(t, ctx, svc, "A"); l.Total != 10 || l.Available != 8 {
		t.Fatalf("A after reseed: %+v", l)
	}
	if _, err := svc.Seed(ctx, []inventory.Stock{{SKU: "C", UnitPrice: 0, Quantity: 1}}); !errors.Is(err, services.ErrInvalidInput) {
		t.Fatalf("seed with zero price: %v", err)
	}
}

// reusedOrderID is an order id of the longest length allowed, so that the
// saga ids built from it are the longest an order saga makes.
func reusedOrderID() string {
	id := testenv.ID("reused")
	return id + strings.Repeat("x", services.MaxIDLength-len(id))
}

// snapshot is everything the store holds of stock and reservations.
func snapshot(t *testing.T, ctx context.Context, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT string_agg(format('%s:%s/%s/%s', sku, total, available, reserved), ' ' ORDER BY sku) FROM stock) || ' | ' ||
		(SELECT coalesce(string_agg(format('%s:%s:%s:%s:%s', saga_id, order_id, sku, quantity, status), ' ' ORDER BY saga_id, sku), '') FROM reservations) || ' | ' ||
		(SELECT count(*) FROM events)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A new saga of an order id whose saga Temporal has forgotten (its saga id
// "order-<id>/<first run id>" differs from the old saga's "order-<id>", so
// the barrier sees none of the old saga's rows) must not reserve the order
// a second time: Reserve is refused with ORDER_EXISTS, whether the old
// reservation is held or released; Release is a null compensation that
// blocks a late Reserve; the old saga's stock and rows do not change, and
// the old saga can still release its own.
func TestANewSagaOfAReusedOrderIDReservesNothing(t *testing.T) {
	for _, old := range []string{"held", "released"} {
		t.Run(old, func(t *testing.T) {
			svc, pool, ctx := setup(t)
			id := reusedOrderID()
			oldSaga, newSaga := "order-"+id, testenv.SagaIDPerRun(id)
			if _, err := svc.Reserve(ctx, oldSaga, id, []services.Item{{SKU: "A", Quantity: 3}}); err != nil {
				t.Fatal(err)
			}
			if old == "released" {
				if _, err := svc.Release(ctx, oldSaga, id); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, ctx, pool)

			out, err := svc.Reserve(ctx, newSaga, id, []services.Item{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}})
			if !errors.Is(err, services.ErrOrderExists) || services.Code(err) != "ORDER_EXISTS" || !strings.Contains(err.Error(), id) || out != 0 {
				t.Fatalf("reserve by the new saga: %v, %v; want ORDER_EXISTS naming %s", out, err, id)
			}
			for i, want := range []barrier.Outcome{barrier.NullCompensation, barrier.AlreadyCompensated} {
				if out, err := svc.Release(ctx, newSaga, id); err != nil || out != want {
					t.Fatalf("release %d by the new saga: %v, %v; want %v", i, out, err, want)
				}
			}
			if _, err := svc.Reserve(ctx, newSaga, id, []services.Item{{SKU: "A", Quantity: 2}}); !errors.Is(err, services.ErrStepCompensated) {
				t.Fatalf("late reserve by the new saga: %v", err)
			}
			if after := snapshot(t, ctx, pool); after != before {
				t.Fatalf("the new saga changed the store:\nbefore %s\nafter  %s", before, after)
			}
			if n := count(t, ctx, pool, `SELECT count(*) FROM reservations WHERE saga_id = $1`, newSaga); n != 0 {
				t.Fatalf("the new saga holds %d reservation lines", n)
			}
			want := barrier.Applied
			if old == "released" {
				want = barrier.AlreadyCompensated
			}
			if out, err := svc.Release(ctx, oldSaga, id); err != nil || out != want {
				t.Fatalf("release by the old saga: %v, %v; want %v", out, err, want)
			}
			if l := level(t, ctx, svc, "A"); l.Available != 10 || l.Reserved != 0 {
				t.Fatalf("A after the old saga released: %+v", l)
			}
		})
	}
}

// Two sagas reserving one order id at once: one takes it, the other is
// refused, and the stock moves once.
func TestTwoSagasRacingForOneOrderIDReserveOnce(t *testing.T) {
	svc, _, ctx := setup(t)
	for i := range 10 { // SKU A has 10 units
		id := reusedOrderID()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j := range errs {
			wg.Go(func() {
				_, errs[j] = svc.Reserve(ctx, testenv.SagaIDPerRun(id), id, []services.Item{{SKU: "A", Quantity: 1}})
			})
		}
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, services.ErrOrderExists):
				refused++
			default:
				t.Fatalf("race %d: %v", i, err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("race %d: %d reserved, %d refused; want 1 and 1", i, ok, refused)
		}
		if l := level(t, ctx, svc, "A"); l.Reserved != int64(i+1) {
			t.Fatalf("race %d: %+v", i, l)
		}
	}
}

// A store migrated before order ids were claimed: the upgrade claims each
// order id for the saga of its first reservation, so a new saga of an order
// reserved before the upgrade is refused too.
func TestUpgradeClaimsTheOrdersReservedBefore(t *testing.T) {
	ctx := testenv.Context(t)
	pool := testenv.Postgres(t, testenv.Inventory)
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.Apply(ctx, pool, fstest.MapFS{"migrations/0001_init.sql": {Data: v1}}, "migrations", pgbarrier.CreateTable); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO stock (sku, unit_price, total, available, reserved) VALUES ('A', 250, 10, 7, 3);
		INSERT INTO reservations (saga_id, order_id, sku, quantity, status, created_at) VALUES
			('order-o1', 'o1', 'A', 2, 'reserved', now() - interval '1 hour'),
			('order-o2', 'o2', 'A', 1, 'reserved', now())`); err != nil {
		t.Fatal(err)
	}
	svc := inventory.New(pool)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"o1", "o2"} {
		if _, err := svc.Reserve(ctx, testenv.SagaIDPerRun(id), id, []services.Item{{SKU: "A", Quantity: 1}}); !errors.Is(err, services.ErrOrderExists) {
			t.Fatalf("reserve %s by a new saga after the upgrade: %v", id, err)
		}
	}
	if l := level(t, ctx, svc, "A"); l.Available != 7 || l.Reserved != 3 {
		t.Fatalf("A after refused reservations: %+v", l)
	}
}
