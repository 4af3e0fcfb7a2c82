package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// cellStores are the four services on stores of one cell's own: a schema
// named after the cell in the inventory and payments databases, and a
// MongoDB database of that name with "_docs", each on the stack's servers;
// and a read store, a schema of that name in the reporting database.
type cellStores struct {
	invariants.Stores
	name          string
	inventoryPool *pgxpool.Pool
	paymentsPool  *pgxpool.Pool
	// reportingPool is the cell's read store, a schema of the reporting
	// database.
	reportingPool *pgxpool.Pool
	mongoDB       *mongo.Database
	urls          []string
}

// openCellStores creates the cell's schemas and database, migrates them
// and seeds cat's stock and the customers. maxConns bounds each pool.
func openCellStores(ctx context.Context, cfg config.Config, mc *mongo.Client, name string, maxConns int32, cat catalog) (*cellStores, error) {
	s := &cellStores{name: name, urls: []string{cfg.InventoryURL, cfg.PaymentsURL, cfg.ReportingURL}}
	var err error
	if s.inventoryPool, err = schemaPool(ctx, "inventory", cfg.InventoryURL, name, maxConns); err != nil {
		return nil, err
	}
	if s.paymentsPool, err = schemaPool(ctx, "payments", cfg.PaymentsURL, name, maxConns); err != nil {
		s.close(ctx)
		return nil, err
	}
	if s.reportingPool, err = schemaPool(ctx, "reporting", cfg.ReportingURL, name, 4); err != nil {
		s.close(ctx)
		return nil, err
	}
	s.mongoDB = mc.Database(name + "_docs") // FerretDB may keep its schemas in one of the same PostgreSQL databases
	s.Inventory = inventory.New(s.inventoryPool)
	s.Payments = payments.New(s.paymentsPool)
	s.Orders = orders.New(s.mongoDB)
	s.Shipping = shipping.New(s.mongoDB, nil)
	for _, m := range []interface{ Migrate(context.Context) error }{s.Inventory, s.Payments, s.Orders, s.Shipping} {
		if err := m.Migrate(ctx); err != nil {
			s.close(ctx)
			return nil, fmt.Errorf("cell %s: migrate: %w", name, err)
		}
	}
	if err := s.seed(ctx, cat); err != nil {
		s.close(ctx)
		return nil, err
	}
	return s, nil
}

func (s *cellStores) seed(ctx context.Context, cat catalog) error {
	stock := make([]inventory.Stock, len(cat.skus))
	for i, sku := range cat.skus {
		stock[i] = inventory.Stock{SKU: sku, UnitPrice: UnitPrice, Quantity: cat.stock}
	}
	if _, err := s.Inventory.Seed(ctx, stock); err != nil {
		return fmt.Errorf("cell %s: seed stock: %w", s.name, err)
	}
	accounts := make([]payments.Account, Customers)
	for i := range accounts {
		accounts[i] = payments.Account{CustomerID: customer(i), Balance: customerBalance}
	}
	if _, err := s.Payments.Seed(ctx, accounts); err != nil {
		return fmt.Errorf("cell %s: seed accounts: %w", s.name, err)
	}
	return nil
}

// activities returns the saga's activities on the cell's stores.
func (s *cellStores) activities() *activities.Activities {
	return &activities.Activities{Inventory: s.Inventory, Payments: s.Payments, Orders: s.Orders, Shipping: s.Shipping}
}

// close closes the pools and drops the cell's PostgreSQL schemas. The
// MongoDB database stays until dropDocs: FerretDB holds a process-wide lock
// for every database it creates or drops, so a run drops its databases
// together, at its end.
func (s *cellStores) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	var errs []error
	for _, p := range []*pgxpool.Pool{s.inventoryPool, s.paymentsPool, s.reportingPool} {
		if p != nil {
			p.Close()
		}
	}
	for _, url := range s.urls {
		if err := dropSchema(ctx, url, s.name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dropDocs drops the cell's MongoDB database.
func (s *cellStores) dropDocs(ctx context.Context) error {
	if s.mongoDB == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.mongoDB.Drop(ctx); err != nil {
		return fmt.Errorf("drop MongoDB database %s: %w", s.mongoDB.Name(), err)
	}
	return nil
}

// schemaPool creates schema in the database at url and returns a pool
// whose connections use it.
func schemaPool(ctx context.Context, db, url, schema string, maxConns int32) (*pgxpool.Pool, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("connect to the %s database: %w", db, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create schema %s in the %s database: %w", schema, db, err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%s database URL is malformed", db) // pgx's message may quote the password
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open the %s database: %w", db, err)
	}
	return pool, nil
}

func dropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("drop schema %s: %w", schema, err)
	}
	return nil
}

// cellName turns a run id and a cell label into a schema and database name.
func cellName(runID, label string) string {
	return strings.ToLower(strings.NewReplacer("-", "_", ".", "_").Replace("bench_" + runID + "_" + label))
}
