package activities_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/services/shipping"
	"github.com/sagaflow/sagaflow/workflows"
)

const (
	sku, price, customer = "R-1", 1_000, "ret"
)

var (
	items = []services.Item{{SKU: sku, Quantity: 1}}
	to    = services.Address{Name: "Ada", Street: "Main 1", City: "Berlin", PostalCode: "10115", Country: "DE"}
)

// world is a test's own four stores, migrated and seeded, and a client of
// the stack's Temporal.
type world struct {
	ctx              context.Context
	temporal         client.Client
	inv              *inventory.Service
	pay              *payments.Service
	ord              *orders.Service
	ship             *shipping.Service
	invPool, payPool *pgxpool.Pool
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	w := &world{ctx: ctx, invPool: testenv.Postgres(t, testenv.Inventory), payPool: testenv.Postgres(t, testenv.Payments)}
	db := testenv.Mongo(t)
	w.inv, w.pay, w.ord, w.ship = inventory.New(w.invPool), payments.New(w.payPool), orders.New(db), shipping.New(db, nil)
	for _, m := range []interface{ Migrate(context.Context) error }{w.inv, w.pay, w.ord, w.ship} {
		if err := m.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.inv.Seed(ctx, []inventory.Stock{{SKU: sku, UnitPrice: price, Quantity: 100}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.pay.Seed(ctx, []payments.Account{{CustomerID: customer, Balance: 1_000_000}}); err != nil {
		t.Fatal(err)
	}
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Timeout: 15 * time.Second, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w.temporal = c
	return w
}

// allRead is a read store that has read every event.
func allRead(context.Context, string) (pgstore.Position, error) { return pgstore.PositionAfterAll, nil }

// cleanup is the activities on the world's stores.
func (w *world) cleanup() *activities.Cleanup {
	return activities.NewCleanup(w.temporal, "default", []string{workflows.OrderSagaType}, w.inv, w.pay, w.ord, w.ship, allRead)
}

// runningSaga starts an order saga that never runs (no worker serves its
// task queue): to Temporal, a saga that is still running. It is
// terminated when the test ends. It returns its saga id.
func (w *world) runningSaga(t *testing.T, orderID string) string {
	t.Helper()
	run, err := w.temporal.ExecuteWorkflow(w.ctx, client.StartWorkflowOptions{
		ID: workflows.WorkflowID(orderID), TaskQueue: testenv.ID("retention-nobody"),
	}, workflows.OrderSagaType)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.temporal.TerminateWorkflow(context.Background(), run.GetID(), run.GetRunID(), "test over")
	})
	return workflows.SagaID(run.GetID(), run.GetRunID())
}

// visible waits until the visibility query finds n workflows.
func (w *world) visible(t *testing.T, query string, n int) {
	t.Helper()
	for range 100 {
		resp, err := w.temporal.ListWorkflow(w.ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetExecutions()) == n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("visibility never found %d workflows for %s", n, query)
}

// prune runs the PruneStore activity on store in a test activity
// environment.
func prune(t *testing.T, cl *activities.Cleanup, in activities.PruneInput) activities.PruneResult {
	t.Helper()
	res, err := runPrune(activityEnv(cl), cl, in)
	if err != nil {
		t.Fatalf("prune %s: %v", in.Store, err)
	}
	return res
}

func (w *world) rows(t *testing.T, pool *pgxpool.Pool, table, sagaID string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(w.ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE saga_id = $1`, table), sagaID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (w *world) stock(t *testing.T) inventory.Level {
	t.Helper()
	l, err := w.inv.Get(w.ctx, sku)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (w *world) balance(t *testing.T) int64 {
	t.Helper()
	a, err := w.pay.Get(w.ctx, customer)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// quiet is a logger that drops everything.
func quiet() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func ok(t *testing.T, what string, want barrier.Outcome) func(barrier.Outcome, error) {
	return func(got barrier.Outcome, err error) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s: %v, %v; want %v", what, got, err, want)
		}
	}
}

func refused(t *testing.T, what string, want *services.Error) func(barrier.Outcome, error) {
	return func(got barrier.Outcome, err error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, %v; want %s", what, got, err, want.Code)
		}
	}
}

func order(id string) orders.Order {
	return orders.Order{ID: id, CustomerID: customer, Region: "eu", Items: items, ShipTo: to, Total: price}
}

func shipment(_ shipping.Shipment, out barrier.Outcome, err error) (barrier.Outcome, error) {
	return out, err
}

// TestPrunedStoresRefuseNothingTheyShouldAcceptAndAcceptNothingTheyShouldRefuse
// is the acceptance test of retention. Every store is pruned by the
// cleanup's activity, against the stack's Temporal, with a cutoff after
// every record the test wrote, so that only protection keeps a record.
// After the prune:
//
//   - two sagas that Temporal still runs (protected) keep every record: a
//     late forward step after its compensation is refused (hang safety),
//     a retried step is a duplicate (idempotency), and a compensation of a
//     step that never ran still stands (a late forward step is refused);
//   - a new saga runs normally;
//   - the order id of a saga that Temporal has forgotten, whose barrier
//     rows and events were pruned, is still refused to another saga in
//     every store (the order_sagas claims and the order and shipment
//     documents are never pruned);
//   - an order id whose saga never created its order (it left only a
//     tombstone, pruned) is free again, as if never used.
func TestPrunedStoresRefuseNothingTheyShouldAcceptAndAcceptNothingTheyShouldRefuse(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	oP, oQ, oU, oT := testenv.ID("p"), testenv.ID("q"), testenv.ID("u"), testenv.ID("t")
	p, q := w.runningSaga(t, oP), w.runningSaga(t, oQ)
	u, tb := testenv.SagaIDPerRun(oU), testenv.SagaIDPerRun(oT) // no workflow: Temporal forgot them

	// P: order created, stock reserved and released, payment charged, the
	// shipment compensated before it was created.
	ok(t, "P create", barrier.Applied)(w.ord.Create(ctx, p, order(oP)))
	ok(t, "P reserve", barrier.Applied)(w.inv.Reserve(ctx, p, oP, items))
	ok(t, "P release", barrier.Applied)(w.inv.Release(ctx, p, oP))
	ok(t, "P charge", barrier.Applied)(w.pay.Charge(ctx, p, oP, customer, price))
	ok(t, "P cancel shipment", barrier.NullCompensation)(w.ship.Cancel(ctx, p, oP))
	// Q: order created, payment refunded before it was charged, stock
	// reserved, shipment created and cancelled.
	ok(t, "Q create", barrier.Applied)(w.ord.Create(ctx, q, order(oQ)))
	ok(t, "Q refund", barrier.NullCompensation)(w.pay.Refund(ctx, q, oQ))
	ok(t, "Q reserve", barrier.Applied)(w.inv.Reserve(ctx, q, oQ, items))
	ok(t, "Q ship", barrier.Applied)(shipment(w.ship.Create(ctx, q, oQ, to)))
	ok(t, "Q cancel shipment", barrier.Applied)(w.ship.Cancel(ctx, q, oQ))
	// U: a whole saga, compensated.
	ok(t, "U create", barrier.Applied)(w.ord.Create(ctx, u, order(oU)))
	ok(t, "U reserve", barrier.Applied)(w.inv.Reserve(ctx, u, oU, items))
	ok(t, "U charge", barrier.Applied)(w.pay.Charge(ctx, u, oU, customer, price))
	ok(t, "U ship", barrier.Applied)(shipment(w.ship.Create(ctx, u, oU, to)))
	ok(t, "U cancel shipment", barrier.Applied)(w.ship.Cancel(ctx, u, oU))
	ok(t, "U refund", barrier.Applied)(w.pay.Refund(ctx, u, oU))
	ok(t, "U release", barrier.Applied)(w.inv.Release(ctx, u, oU))
	ok(t, "U cancel", barrier.Applied)(w.ord.Cancel(ctx, u, oU, "test"))
	// T: its order was cancelled before it was created.
	ok(t, "T cancel", barrier.NullCompensation)(w.ord.Cancel(ctx, tb, oT, "test"))
	if w.rows(t, w.invPool, "events", u) == 0 || w.rows(t, w.payPool, "events", u) == 0 {
		t.Fatal("U recorded no events")
	}
	keptRows := map[string]int{}
	for _, s := range []string{p, q} {
		keptRows["inventory "+s] = w.rows(t, w.invPool, "saga_barrier", s) + w.rows(t, w.invPool, "events", s)
		keptRows["payments "+s] = w.rows(t, w.payPool, "saga_barrier", s) + w.rows(t, w.payPool, "events", s)
	}
	stock, balance := w.stock(t), w.balance(t)

	w.visible(t, fmt.Sprintf(`WorkflowId = %q OR WorkflowId = %q`, workflows.WorkflowID(oP), workflows.WorkflowID(oQ)), 2)
	cl := w.cleanup()
	cutoff := time.Now().Add(time.Minute)
	removed := map[string]int{}
	for _, store := range activities.CleanupStores {
		res := prune(t, cl, activities.PruneInput{Store: store, Cutoff: cutoff, BatchSize: 2, MaxBatches: 100})
		if !res.Complete || res.Protected < 2 {
			t.Errorf("%s: %+v, want complete with P and Q protected", store, res)
		}
		removed[store] = res.Removed
	}
	t.Logf("removed %v", removed)
	for store, want := range map[string]int{
		activities.StoreInventoryBarrier: 2, activities.StorePaymentsBarrier: 2, // U's step and compensation
		activities.StoreOrderTombstones: 1, activities.StoreShipTombstones: 0, // T's; P's is protected
	} {
		if removed[store] != want {
			t.Errorf("%s: removed %d, want %d", store, removed[store], want)
		}
	}
	for table, pool := range map[string]*pgxpool.Pool{"inventory": w.invPool, "payments": w.payPool} {
		if n := w.rows(t, pool, "saga_barrier", u) + w.rows(t, pool, "events", u); n != 0 {
			t.Errorf("%s: %d rows of U left", table, n)
		}
	}
	for _, s := range []string{p, q} {
		if got := w.rows(t, w.invPool, "saga_barrier", s) + w.rows(t, w.invPool, "events", s); got != keptRows["inventory "+s] {
			t.Errorf("inventory: %d rows of protected %s left, want %d", got, s, keptRows["inventory "+s])
		}
		if got := w.rows(t, w.payPool, "saga_barrier", s) + w.rows(t, w.payPool, "events", s); got != keptRows["payments "+s] {
			t.Errorf("payments: %d rows of protected %s left, want %d", got, s, keptRows["payments "+s])
		}
	}

	// (a) The protected sagas behave as before the prune.
	refused(t, "P late reserve after its release", services.ErrStepCompensated)(w.inv.Reserve(ctx, p, oP, items))
	ok(t, "P retried charge", barrier.Duplicate)(w.pay.Charge(ctx, p, oP, customer, price))
	ok(t, "P retried create", barrier.Duplicate)(w.ord.Create(ctx, p, order(oP)))
	refused(t, "P late shipment after its null compensation", services.ErrStepCompensated)(shipment(w.ship.Create(ctx, p, oP, to)))
	ok(t, "P cancel shipment again", barrier.AlreadyCompensated)(w.ship.Cancel(ctx, p, oP))
	refused(t, "Q late charge after its null compensation", services.ErrStepCompensated)(w.pay.Charge(ctx, q, oQ, customer, price))
	ok(t, "Q retried reserve", barrier.Duplicate)(w.inv.Reserve(ctx, q, oQ, items))
	refused(t, "Q late shipment after its cancellation", services.ErrStepCompensated)(shipment(w.ship.Create(ctx, q, oQ, to)))
	if got := w.stock(t); got != stock {
		t.Errorf("stock %+v after the protected sagas' late steps, want %+v", got, stock)
	}
	if got := w.balance(t); got != balance {
		t.Errorf("balance %d after the protected sagas' late steps, want %d", got, balance)
	}

	// (b) A new saga runs normally.
	oN := testenv.ID("n")
	n := testenv.SagaIDPerRun(oN)
	ok(t, "N create", barrier.Applied)(w.ord.Create(ctx, n, order(oN)))
	ok(t, "N reserve", barrier.Applied)(w.inv.Reserve(ctx, n, oN, items))
	ok(t, "N charge", barrier.Applied)(w.pay.Charge(ctx, n, oN, customer, price))
	ok(t, "N ship", barrier.Applied)(shipment(w.ship.Create(ctx, n, oN, to)))
	ok(t, "N confirm", barrier.Applied)(w.ord.Confirm(ctx, n, oN))
	ok(t, "N retried reserve", barrier.Duplicate)(w.inv.Reserve(ctx, n, oN, items))

	// (c) U's order id, its rows pruned, is still refused to a new saga.
	u2 := testenv.SagaIDPerRun(oU)
	refused(t, "reuse of U's order: create", services.ErrOrderExists)(w.ord.Create(ctx, u2, order(oU)))
	refused(t, "reuse of U's order: reserve", services.ErrOrderExists)(w.inv.Reserve(ctx, u2, oU, items))
	refused(t, "reuse of U's order: charge", services.ErrOrderExists)(w.pay.Charge(ctx, u2, oU, customer, price))
	refused(t, "reuse of U's order: ship", services.ErrOrderExists)(shipment(w.ship.Create(ctx, u2, oU, to)))
	// T never took its order id: with its tombstone gone, the id is free.
	ok(t, "reuse of T's order id", barrier.Applied)(w.ord.Create(ctx, testenv.SagaIDPerRun(oT), order(oT)))
}
