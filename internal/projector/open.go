package projector

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services/mongostore"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// Open connects a projector to the servers of c: the reporting database
// (migrated) and the four services' stores, with connections of its own.
// meter receives its metrics (nil: none). Close releases the connections.
func Open(ctx context.Context, c config.Config, opts Options, meter metric.Meter, log *zap.Logger) (*Projector, error) {
	if err := c.Require(config.EnvReportingURL, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI); err != nil {
		return nil, err
	}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	pools := map[string]*pgxpool.Pool{}
	for _, db := range []struct {
		name, url string
		conns     int32
	}{{"reporting", c.ReportingURL, 4}, {"inventory", c.InventoryURL, 2}, {"payments", c.PaymentsURL, 2}} {
		pool, err := pgstore.OpenPool(ctx, db.name, db.url, db.conns)
		if err != nil {
			closeAll()
			return nil, err
		}
		closers = append(closers, pool.Close)
		pools[db.name] = pool
	}
	client, err := mongostore.Connect(c.MongoURI)
	if err != nil {
		closeAll()
		return nil, err
	}
	closers = append(closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx) // closing: nothing left to do with the error
	})
	store := readstore.New(pools["reporting"])
	if err := store.Migrate(ctx); err != nil {
		closeAll()
		return nil, err
	}
	p, err := New(store, Sources(pools["inventory"], pools["payments"], client.Database(orders.Database), client.Database(shipping.Database)),
		opts, meter, log)
	if err != nil {
		closeAll()
		return nil, err
	}
	p.closers = closers
	return p, nil
}

// Sources are the four services' event sources: the event logs of the
// inventory and payments databases, the orders and shipments collections
// of the orders and shipping databases.
func Sources(inventory, payments pgstore.Querier, ordersDB, shippingDB *mongo.Database) []Source {
	return []Source{
		newDocSource(readstore.SourceOrders, mongostore.Collection(ordersDB, orders.Collection)),
		&logSource{source: readstore.SourceInventory, db: inventory},
		&logSource{source: readstore.SourcePayments, db: payments},
		newDocSource(readstore.SourceShipping, mongostore.Collection(shippingDB, shipping.Collection)),
	}
}

// New returns a projector that writes store from sources (see Sources);
// the caller owns the connections.
func New(store *readstore.Store, sources []Source, opts Options, meter metric.Meter, log *zap.Logger) (*Projector, error) {
	ins, err := newInstruments(meter)
	if err != nil {
		return nil, fmt.Errorf("projector metrics: %w", err)
	}
	return &Projector{store: store, sources: sources, opts: opts.withDefaults(), log: log, metrics: ins}, nil
}

// Store returns the read store the projector writes.
func (p *Projector) Store() *readstore.Store { return p.store }

// Close releases the projector's connections.
func (p *Projector) Close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
	p.closers = nil
}
