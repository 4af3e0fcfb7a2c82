// Package sagatest runs order sagas in tests on the real stack: stores of
// their own (internal/testenv), seeded with a catalog and accounts, and an
// in-process worker pool on a task queue of its own, so a test sees only
// its own sagas' logs, metrics and spans.
//
// Stores gives a test the stores alone, for tests that need no Temporal.
package sagatest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/projector"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
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

// Seeding fills a test's migrated stores (chaos.Seed is one).
type Seeding func(context.Context, invariants.Stores) error

// Seed returns the Seeding that adds stock and accounts.
func Seed(stock []inventory.Stock, accounts []payments.Account) Seeding {
	return func(ctx context.Context, st invariants.Stores) error {
		if _, err := st.Inventory.Seed(ctx, stock); err != nil {
			return err
		}
		_, err := st.Payments.Seed(ctx, accounts)
		return err
	}
}

// Catalog seeds SKU, Rich and Poor: what Start seeds by default.
var Catalog = Seed(
	[]inventory.Stock{{SKU: SKU, UnitPrice: UnitPrice, Quantity: 10_000}},
	[]payments.Account{{CustomerID: Rich, Balance: 1_000_000_000}, {CustomerID: Poor, Balance: PoorBalance}},
)

// Isolated is a test's own stores: a fresh PostgreSQL schema in each of
// the inventory and payments databases and a fresh MongoDB database, all
// migrated and dropped when the test ends.
type Isolated struct {
	invariants.Stores
	// InventoryPool and PaymentsPool are the pools under Stores.Inventory
	// and Stores.Payments, for SQL the services do not offer (breaking an
	// invariant on purpose, say).
	InventoryPool, PaymentsPool *pgxpool.Pool
	// MongoDB is the database of Stores.Orders and Stores.Shipping.
	MongoDB *mongo.Database
}

// Stores returns stores of the test's own, migrated and filled by seed
// (nil: left empty). Without the stack the test is skipped (failed under
// CI).
func Stores(tb testing.TB, seed Seeding) *Isolated {
	tb.Helper()
	testenv.Config(tb, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := &Isolated{InventoryPool: testenv.Postgres(tb, testenv.Inventory), PaymentsPool: testenv.Postgres(tb, testenv.Payments)}
	db := testenv.Mongo(tb)
	s.MongoDB = db
	s.Stores = invariants.Stores{
		Inventory: inventory.New(s.InventoryPool),
		Payments:  payments.New(s.PaymentsPool),
		Orders:    orders.New(db),
		Shipping:  shipping.New(db, nil),
	}
	for _, m := range []interface{ Migrate(context.Context) error }{s.Inventory, s.Payments, s.Orders, s.Shipping} {
		if err := m.Migrate(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	if seed != nil {
		if err := seed(ctx, s.Stores); err != nil {
			tb.Fatalf("seed: %v", err)
		}
	}
	return s
}

// Options tune the stores, the client and the workers.
type Options struct {
	// Dial is the client's options (a data converter and a failure
	// converter for encryption, say); a nil Logger discards the SDK's lines
	// and a zero Timeout waits 15s.
	Dial temporalclient.Options
	// Interceptors wrap every activity and workflow of the workers.
	Interceptors []interceptor.WorkerInterceptor
	// Seed fills the stores; nil seeds the Catalog.
	Seed Seeding
	// NoWorker starts no worker: a saga started on Queue never runs.
	NoWorker bool
	// Concurrency bounds what each worker runs at once (0: 16).
	Concurrency int
	// Timeout bounds the test's Ctx (0: 3 minutes).
	Timeout time.Duration
}

// Env is a worker pool and its stores, for one test.
type Env struct {
	tb     testing.TB
	Ctx    context.Context
	Config config.Config
	Client client.Client
	Queue  string
	// Isolated holds Stores and the pools under them.
	*Isolated
}

// Start migrates and seeds fresh stores and starts a worker pool on a task
// queue of its own; everything stops when the test ends. Without the stack
// the test is skipped (failed under CI).
func Start(tb testing.TB, opts Options) *Env {
	tb.Helper()
	cfg := testenv.Config(tb, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	tb.Cleanup(cancel)
	seed := opts.Seed
	if seed == nil {
		seed = Catalog
	}
	e := &Env{tb: tb, Ctx: ctx, Config: cfg, Queue: testenv.ID("sagatest"), Isolated: Stores(tb, seed)}
	e.Client = e.Dial(opts.Dial)
	if opts.NoWorker {
		return e
	}
	concurrency := opts.Concurrency
	if concurrency == 0 {
		concurrency = 16
	}
	acts := &activities.Activities{Inventory: e.Inventory, Payments: e.Payments, Orders: e.Orders, Shipping: e.Shipping}
	pool, err := workers.Start(e.Client, acts, []string{e.Queue}, workers.Options{Concurrency: concurrency, StopTimeout: 5 * time.Second, Interceptors: opts.Interceptors})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Stop)
	return e
}

// Dial returns a client of the stack's Temporal, closed when the test
// ends; a nil Logger discards the SDK's lines and a zero Timeout waits 15s.
func (e *Env) Dial(opts temporalclient.Options) client.Client {
	e.tb.Helper()
	if opts.Logger == nil {
		opts.Logger = log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	if opts.Timeout == 0 {
		opts.Timeout = 15 * time.Second
	}
	c, err := temporalclient.Dial(e.Ctx, e.Config, opts)
	if err != nil {
		e.tb.Fatal(err)
	}
	e.tb.Cleanup(c.Close)
	return c
}

// Order returns an order of quantity units of SKU for customer, shipped to
// Address, with a fresh id.
func Order(customer string, quantity int64) workflows.OrderInput {
	return workflows.OrderInput{
		OrderID: testenv.ID("o"), CustomerID: customer, Region: workflows.Regions[0],
		Items: []services.Item{{SKU: SKU, Quantity: quantity}}, ShipTo: Address,
	}
}

// StartSaga starts the saga of in on Queue as the starter starts it
// (sagaclient.StartOptions), or returns the one of its order that runs or
// ran already (its workflow id is never reused).
func (e *Env) StartSaga(in workflows.OrderInput) client.WorkflowRun {
	e.tb.Helper()
	opts, in := sagaclient.StartOptions(in)
	opts.TaskQueue = e.Queue
	opts.WorkflowExecutionErrorWhenAlreadyStarted = false // a closed saga's run is returned, not refused
	run, err := e.Client.ExecuteWorkflow(e.Ctx, opts, workflows.OrderSaga, in)
	if err != nil {
		e.tb.Fatalf("start %s: %v", in.OrderID, err)
	}
	return run
}

// Run runs the saga of in to its end and returns its final state and the
// error type it failed with ("" when it completed).
func (e *Env) Run(in workflows.OrderInput) (workflows.SagaState, string) {
	e.tb.Helper()
	run := e.StartSaga(in)
	var state workflows.SagaState
	err := run.Get(e.Ctx, &state)
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

// ReadSide gives the test a read store of its own (a fresh schema of the
// reporting database, migrated) and runs a projector that builds it from
// the test's stores until the test ends.
func (e *Env) ReadSide() *readstore.Store {
	e.tb.Helper()
	store := readstore.New(testenv.Postgres(e.tb, testenv.Reporting))
	if err := store.Migrate(e.Ctx); err != nil {
		e.tb.Fatal(err)
	}
	p, err := projector.New(store, projector.Sources(e.InventoryPool, e.PaymentsPool, e.MongoDB, e.MongoDB),
		projector.Options{Holder: testenv.ID("projector"), TTL: 2 * time.Second, LagEvery: 200 * time.Millisecond}, nil, zap.NewNop())
	if err != nil {
		e.tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx) // Run returns nil when ctx ends, its only way out
	}()
	e.tb.Cleanup(func() { cancel(); <-done })
	return store
}

// WriteStores are the test's stores as the read store's check reads them.
func (e *Env) WriteStores() readstore.WriteStores {
	return readstore.WriteStores{Inventory: e.InventoryPool, Payments: e.PaymentsPool,
		Orders: e.Orders.Collection(), Shipments: e.Shipping.Collection()}
}
