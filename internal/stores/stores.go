// Package stores connects the four services to their stores: one pgx pool
// per PostgreSQL database, one MongoDB client for the two MongoDB databases,
// each service's schema migrated.
package stores

import (
	"context"
	"fmt"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/mongostore"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// Stores holds the four services, connected and migrated.
type Stores struct {
	invariants.Stores

	closers []func()
}

// Options tune Open.
type Options struct {
	// MaxConns bounds each PostgreSQL pool (0: pgx's default).
	MaxConns int32
	// Countries are the destinations shipping serves (empty: the default list).
	Countries []string
}

// Open connects to the servers in c, checks that each answers, and
// migrates every service's schema. Close releases the connections.
func Open(ctx context.Context, c config.Config, opts Options) (*Stores, error) {
	if err := c.Require(config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI); err != nil {
		return nil, err
	}
	s := &Stores{}
	inv, err := pgstore.OpenPool(ctx, "inventory", c.InventoryURL, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, inv.Close)
	pay, err := pgstore.OpenPool(ctx, "payments", c.PaymentsURL, opts.MaxConns)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.closers = append(s.closers, pay.Close)
	client, err := mongostore.Connect(c.MongoURI)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.closers = append(s.closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx) // closing: nothing left to do with the error
	})
	if err := client.Ping(ctx, nil); err != nil {
		s.Close()
		return nil, fmt.Errorf("MongoDB at %s does not answer: %w", redactURI(c.MongoURI), err)
	}
	s.Inventory = inventory.New(inv)
	s.Payments = payments.New(pay)
	s.Orders = orders.New(client.Database(orders.Database))
	s.Shipping = shipping.New(client.Database(shipping.Database), opts.Countries)
	for _, m := range []interface{ Migrate(context.Context) error }{s.Inventory, s.Payments, s.Orders, s.Shipping} {
		if err := m.Migrate(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	return s, nil
}

// Close releases every connection.
func (s *Stores) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// Check runs the invariant checker over the four stores.
func (s *Stores) Check(ctx context.Context, opts invariants.Options) (invariants.Report, error) {
	return invariants.Check(ctx, s.Stores, opts)
}
