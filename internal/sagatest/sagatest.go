// Package sagatest runs order sagas in tests on the real stack: stores of
// their own (internal/testenv), seeded with a catalog and accounts, and an
// in-process worker pool on a task queue of its own, so a test sees only
// its own sagas' logs, metrics and spans.
package sagatest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/internal/workers"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
	"github.com/sagaflow/sagaflow/workflows"
)

// The seeded data: figures distinct enough that a test can look for them
// in logs.
const (
	// SKU costs UnitPrice and has plenty of stock.
	SKU       = "T-1"
	UnitPrice = 91_357
	// Rich can pay for anything; Poor has PoorBalance, less than one SKU.
	Rich        = "rich"
	Poor        = "poor"
	PoorBalance = 135_791
	// Street is the street of Address.
	Street = "Lovelace Street 42"
)

// Address is where the orders ship to.
var Address = services.Address{Name: "Ada", Street: Street, City: "Berlin", PostalCode: "10115", Country: "DE"}

// Options tune the client and the workers.
type Options struct {
	// Dial is the client's options; a nil Logger discards the SDK's lines
	// and a zero Timeout waits 15s.
	Dial temporalclient.Options
	// Interceptors wrap every activity and workflow of the workers.
	Interceptors []interceptor.WorkerInterceptor
}

// Env is a worker pool and its stores, for one test.
type Env struct {
	tb     testing.TB
	Ctx    context.Context
	Config config.Config
	Client client.Client
	Queue  string
	Stores invariants.Stores
}

// Start migrates and seeds fresh stores and starts a worker pool on a task
// queue of its own; everything stops when the test ends. Without the stack
// the test is skipped (failed under CI).
func Start(tb testing.TB, opts Options) *Env {
	tb.Helper()
	cfg := testenv.Config(tb, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	tb.Cleanup(cancel)
	db := testenv.Mongo(tb)
	st := invariants.Stores{
		Inventory: inventory.New(testenv.Postgres(tb, testenv.Inventory)),
		Payments:  payments.New(testenv.Postgres(tb, testenv.Payments)),
		Orders:    orders.New(db),
		Shipping:  shipping.New(db, nil),
	}
	for _, m := range []interface{ Migrate(context.Context) error }{st.Inventory, st.Payments, st.Orders, st.Shipping} {
		if err := m.Migrate(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := st.Inventory.Seed(ctx, []inventory.Stock{{SKU: SKU, UnitPrice: UnitPrice, Quantity: 10_000}}); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Payments.Seed(ctx, []payments.Account{{CustomerID: Rich, Balance: 1_000_000_000}, {CustomerID: Poor, Balance: PoorBalance}}); err != nil {
		tb.Fatal(err)
	}
	dial := opts.Dial
	if dial.Logger == nil {
		dial.Logger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	if dial.Timeout == 0 {
		dial.Timeout = 15 * time.Second
	}
	c, err := temporalclient.Dial(ctx, cfg, dial)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	queue := testenv.ID("sagatest")
	acts := &activities.Activities{Inventory: st.Inventory, Payments: st.Payments, Orders: st.Orders, Shipping: st.Shipping}
	pool, err := workers.Start(c, acts, []string{queue}, workers.Options{Concurrency: 16, StopTimeout: 5 * time.Second, Interceptors: opts.Interceptors})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Stop)
	return &Env{tb: tb, Ctx: ctx, Config: cfg, Client: c, Queue: queue, Stores: st}
}

// Order returns an order of quantity units of SKU for customer, shipped to
// Address, with a fresh id.
func Order(customer string, quantity int64) workflows.OrderInput {
	return workflows.OrderInput{
		OrderID: testenv.ID("o"), CustomerID: customer, Region: workflows.Regions[0],
		Items: []services.Item{{SKU: SKU, Quantity: quantity}}, ShipTo: Address,
	}
}

// Run runs the saga of in to its end and returns its final state and the
// error type it failed with ("" when it completed).
func (e *Env) Run(in workflows.OrderInput) (workflows.SagaState, string) {
	e.tb.Helper()
	run, err := e.Client.ExecuteWorkflow(e.Ctx, client.StartWorkflowOptions{
		ID: workflows.WorkflowID(in.OrderID), TaskQueue: e.Queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.OrderSaga, in)
	if err != nil {
		e.tb.Fatalf("start %s: %v", in.OrderID, err)
	}
	var state workflows.SagaState
	err = run.Get(e.Ctx, &state)
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return state, ""
	case errors.As(err, &appErr):
		_ = appErr.Details(&state) // the saga attaches its final state
		return state, appErr.Type()
	}
	e.tb.Fatalf("saga %s: %v", in.OrderID, err)
	return state, ""
}
