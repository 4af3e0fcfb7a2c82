package payments_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/payments"
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
			_, err := svc.Charge(ctx, testenv.ID("saga"), "o", "alice", 30)
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
	for problem, id := range testenv.BadIDs() {
		_, err := svc.Charge(ctx, id, "o", "alice", 1)
		check("saga id "+problem, "saga_id", err)
		_, err = svc.Charge(ctx, "s", id, "alice", 1)
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
