package payments_test

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
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// setup returns a migrated service on a fresh schema with alice (1000) and
// bob (10).
func setup(t *testing.T) (*payments.Service, *pgxpool.Pool, context.Context) {
	t.Helper()
	ctx := testenv.Context(t)
	pool := testenv.Postgres(t, testenv.Payments)
	svc := payments.New(pool)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Seed(ctx, []payments.Account{{CustomerID: "alice", Balance: 1000}, {CustomerID: "bob", Balance: 10}}); err != nil {
		t.Fatal(err)
	}
	return svc, pool, ctx
}

func balance(t *testing.T, ctx context.Context, svc *payments.Service, customer string) int64 {
	t.Helper()
	a, err := svc.Get(ctx, customer)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

func TestChargeTwiceHasOneEffect(t *testing.T) {
	svc, _, ctx := setup(t)
	out, err := svc.Charge(ctx, "saga-1", "o1", "alice", 300)
	if err != nil || out != barrier.Applied {
		t.Fatalf("first charge: %v, %v", out, err)
	}
	out, err = svc.Charge(ctx, "saga-1", "o1", "alice", 300)
	if err != nil || out != barrier.Duplicate {
		t.Fatalf("second charge: %v, %v", out, err)
	}
	if b := balance(t, ctx, svc, "alice"); b != 700 {
		t.Fatalf("balance %d, want 700", b)
	}
}

func TestRefundTwiceHasOneEffect(t *testing.T) {
	svc, _, ctx := setup(t)
	if _, err := svc.Charge(ctx, "saga-1", "o1", "alice", 300); err != nil {
		t.Fatal(err)
	}
	out, err := svc.Refund(ctx, "saga-1", "o1")
	if err != nil || out != barrier.Applied {
		t.Fatalf("first refund: %v, %v", out, err)
	}
	out, err = svc.Refund(ctx, "saga-1", "o1")
	if err != nil || out != barrier.AlreadyCompensated {
		t.Fatalf("second refund: %v, %v", out, err)
	}
	if b := balance(t, ctx, svc, "alice"); b != 1000 {
		t.Fatalf("balance %d, want 1000", b)
	}
	if _, err := svc.Charge(ctx, "saga-1", "o1", "alice", 300); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("charge after refund: %v", err)
	}
}

func TestRefundWithoutChargeIsNullAndBlocksLateCharge(t *testing.T) {
	svc, _, ctx := setup(t)
	out, err := svc.Refund(ctx, "saga-2", "o2")
	if err != nil || out != barrier.NullCompensation {
		t.Fatalf("null refund: %v, %v", out, err)
	}
	if _, err := svc.Charge(ctx, "saga-2", "o2", "alice", 100); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("late charge: got %v, want ErrStepCompensated", err)
	}
	if b := balance(t, ctx, svc, "alice"); b != 1000 {
		t.Fatalf("balance %d, want 1000", b)
	}
}

func TestChargeRefusals(t *testing.T) {
	svc, _, ctx := setup(t)
	if _, err := svc.Charge(ctx, "s1", "o1", "bob", 11); !errors.Is(err, services.ErrInsufficientFunds) {
		t.Fatalf("bob overdraws: %v", err)
	}
	if _, err := svc.Charge(ctx, "s2", "o2", "carol", 1); !errors.Is(err, services.ErrUnknownCustomer) {
		t.Fatalf("unknown customer: %v", err)
	}
	if b := balance(t, ctx, svc, "bob"); b != 10 {
		t.Fatalf("bob's balance %d, want 10", b)
	}
	// A refused charge took no effect: its compensation is a null compensation.
	if out, err := svc.Refund(ctx, "s1", "o1"); err != nil || out != barrier.NullCompensation {
		t.Fatalf("refund of refused charge: %v, %v", out, err)
	}
}

func TestConcurrentChargesNeverOverdraw(t *testing.T) {
	svc, _, ctx := setup(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Charge(ctx, testenv.ID("saga"), testenv.ID("o"), "alice", 30)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, services.ErrInsufficientFunds):
				refused++
			default:
				t.Errorf("charge %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok != 33 || refused != 17 {
		t.Fatalf("%d charged, %d refused; want 33 and 17", ok, refused)
	}
	if b := balance(t, ctx, svc, "alice"); b != 10 {
		t.Fatalf("balance %d, want 10", b)
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
	for problem, id := range testenv.BadSagaIDs() {
		_, err := svc.Charge(ctx, id, "o", "alice", 1)
		check("saga id "+problem, "saga_id", err)
	}
	for problem, id := range testenv.BadIDs() {
		_, err := svc.Charge(ctx, "s", id, "alice", 1)
		check("order id "+problem, "order_id", err)
		_, err = svc.Charge(ctx, "s", "o", id, 1)
		check("customer id "+problem, "customer_id", err)
		_, err = svc.Refund(ctx, "s", id)
		check("refund order id "+problem, "order_id", err)
	}
	for _, amount := range []int64{0, -5, services.MaxAmount + 1, 1<<63 - 1} {
		_, err := svc.Charge(ctx, "s", "o", "alice", amount)
		check("amount", "amount", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM saga_barrier) + (SELECT count(*) FROM payments)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("bad input wrote %d rows", n)
	}
	if b := balance(t, ctx, svc, "alice"); b != 1000 {
		t.Fatalf("balance %d, want 1000", b)
	}
}

// reusedOrderID is an order id of the longest length allowed, so that the
// saga ids built from it are the longest an order saga makes.
func reusedOrderID() string {
	id := testenv.ID("reused")
	return id + strings.Repeat("x", services.MaxIDLength-len(id))
}

// snapshot is everything the store holds of accounts and payments.
func snapshot(t *testing.T, ctx context.Context, pool *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(ctx, `SELECT
		(SELECT string_agg(format('%s:%s/%s', customer_id, credited, balance), ' ' ORDER BY customer_id) FROM accounts) || ' | ' ||
		(SELECT coalesce(string_agg(format('%s:%s:%s:%s:%s', saga_id, order_id, customer_id, amount, status), ' ' ORDER BY saga_id), '') FROM payments) || ' | ' ||
		(SELECT count(*) FROM events)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// A new saga of an order id whose saga Temporal has forgotten (its saga id
// "order-<id>/<first run id>" differs from the old saga's "order-<id>", so
// the barrier sees none of the old saga's rows) must not charge the order a
// second time: Charge is refused with ORDER_EXISTS, whether the old payment
// is captured or refunded; Refund is a null compensation that blocks a late
// Charge; the old saga's balances and payment do not change, and the old
// saga can still refund its own.
func TestANewSagaOfAReusedOrderIDChargesNothing(t *testing.T) {
	for _, old := range []string{"captured", "refunded"} {
		t.Run(old, func(t *testing.T) {
			svc, pool, ctx := setup(t)
			id := reusedOrderID()
			oldSaga, newSaga := "order-"+id, testenv.SagaIDPerRun(id)
			if _, err := svc.Charge(ctx, oldSaga, id, "alice", 300); err != nil {
				t.Fatal(err)
			}
			if old == "refunded" {
				if _, err := svc.Refund(ctx, oldSaga, id); err != nil {
					t.Fatal(err)
				}
			}
			before := snapshot(t, ctx, pool)

			out, err := svc.Charge(ctx, newSaga, id, "alice", 200)
			if !errors.Is(err, services.ErrOrderExists) || services.Code(err) != "ORDER_EXISTS" || !strings.Contains(err.Error(), id) || out != 0 {
				t.Fatalf("charge by the new saga: %v, %v; want ORDER_EXISTS naming %s", out, err, id)
			}
			for i, want := range []barrier.Outcome{barrier.NullCompensation, barrier.AlreadyCompensated} {
				if out, err := svc.Refund(ctx, newSaga, id); err != nil || out != want {
					t.Fatalf("refund %d by the new saga: %v, %v; want %v", i, out, err, want)
				}
			}
			if _, err := svc.Charge(ctx, newSaga, id, "alice", 200); !errors.Is(err, services.ErrStepCompensated) {
				t.Fatalf("late charge by the new saga: %v", err)
			}
			if after := snapshot(t, ctx, pool); after != before {
				t.Fatalf("the new saga changed the store:\nbefore %s\nafter  %s", before, after)
			}
			want := barrier.Applied
			if old == "refunded" {
				want = barrier.AlreadyCompensated
			}
			if out, err := svc.Refund(ctx, oldSaga, id); err != nil || out != want {
				t.Fatalf("refund by the old saga: %v, %v; want %v", out, err, want)
			}
			if b := balance(t, ctx, svc, "alice"); b != 1000 {
				t.Fatalf("balance %d after the old saga refunded, want 1000", b)
			}
		})
	}
}

// Two sagas charging one order id at once: one takes it, the other is
// refused, and the money moves once.
func TestTwoSagasRacingForOneOrderIDChargeOnce(t *testing.T) {
	svc, _, ctx := setup(t)
	for i := range 20 {
		id := reusedOrderID()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j := range errs {
			wg.Go(func() { _, errs[j] = svc.Charge(ctx, testenv.SagaIDPerRun(id), id, "alice", 10) })
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
			t.Fatalf("race %d: %d charged, %d refused; want 1 and 1", i, ok, refused)
		}
		if b := balance(t, ctx, svc, "alice"); b != 1000-10*int64(i+1) {
			t.Fatalf("race %d: balance %d", i, b)
		}
	}
}

// A store migrated before order ids were claimed: the upgrade claims each
// order id for the saga of its payment, so a new saga of an order charged
// before the upgrade is refused too.
func TestUpgradeClaimsTheOrdersChargedBefore(t *testing.T) {
	ctx := testenv.Context(t)
	pool := testenv.Postgres(t, testenv.Payments)
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.Apply(ctx, pool, fstest.MapFS{"migrations/0001_init.sql": {Data: v1}}, "migrations", pgbarrier.CreateTable); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO accounts (customer_id, credited, balance) VALUES ('alice', 1000, 600);
		INSERT INTO payments (saga_id, order_id, customer_id, amount, status) VALUES
			('order-o1', 'o1', 'alice', 300, 'captured'),
			('order-o2', 'o2', 'alice', 100, 'refunded')`); err != nil {
		t.Fatal(err)
	}
	svc := payments.New(pool)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"o1", "o2"} {
		if _, err := svc.Charge(ctx, testenv.SagaIDPerRun(id), id, "alice", 50); !errors.Is(err, services.ErrOrderExists) {
			t.Fatalf("charge %s by a new saga after the upgrade: %v", id, err)
		}
	}
	if b := balance(t, ctx, svc, "alice"); b != 600 {
		t.Fatalf("balance %d after refused charges, want 600", b)
	}
}
