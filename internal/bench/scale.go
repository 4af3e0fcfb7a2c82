package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/services/payments"
)

// ScaleOptions say what a scale run (`make scale`) measures: the saga and
// each store operation with the stores holding more and more orders.
type ScaleOptions struct {
	// RunID names the run: its stores, task queues and order ids.
	RunID string
	// Sizes are the numbers of finished orders the stores hold when each
	// step is measured, ascending (0: empty stores). One set of stores
	// grows from one size to the next.
	Sizes []int
	// OpsOrders orders are placed one at a time through the services (the
	// floor mode's calls, each timed) at each size; every tenth is refused
	// for want of money, so the compensations are timed too.
	OpsOrders int
	// Concurrency is the number of clients of each size's throughput
	// cell, of Mode; its one-client cell gives the latency.
	Concurrency int
	Mode        string
	Warmup      time.Duration
	Duration    time.Duration
	// OrderTimeout bounds one order.
	OrderTimeout time.Duration
	// Worker, PGMaxConns and EagerStart are as in Options.
	Worker     WorkerTuning
	PGMaxConns int32
	EagerStart bool
	// Fill writes finished orders [from, to) into the stores (prefill).
	Fill FillFunc
	// Verify runs the invariant checker over the stores in a process of its
	// own and returns its figures; nil skips it.
	Verify VerifyFunc
	// Soak, when its Duration is positive, ends the run with a soak of
	// Mode at Concurrency on fresh stores.
	Soak SoakOptions
	// RunDir and Progress are as in Options; Progress also gets a
	// timestamped line per phase.
	RunDir   string
	Progress io.Writer
}

// FillFunc writes finished orders [from, to) into the stores of a scale
// run, consistent with the catalog the stores were seeded with.
type FillFunc func(ctx context.Context, st StoreHandles, from, to int) error

// VerifyFunc runs the invariant checker over the stores st in a process of
// its own.
type VerifyFunc func(ctx context.Context, st StoreHandles) (VerifyFigures, error)

// VerifyFigures are what one run of the invariant checker cost.
type VerifyFigures struct {
	Seconds  Seconds `json:"seconds"`
	MaxRSSMB float64 `json:"max_rss_mb"`
	Sagas    int     `json:"sagas"`
	Breaches int     `json:"breaches"`
}

// ScaleStep is the figures at one size of the stores.
type ScaleStep struct {
	Orders int `json:"orders"`
	// FillSeconds is how long the prefill from the previous size took,
	// SettleSeconds how long vacuuming and analyzing the stores then took
	// (cellStores.settle).
	FillSeconds   Seconds        `json:"fill_s"`
	SettleSeconds Seconds        `json:"settle_s,omitempty"`
	Ops           []OpLatency    `json:"ops"`
	Throughput    Cell           `json:"throughput"`
	Latency       Cell           `json:"latency"`
	Verify        *VerifyFigures `json:"verify,omitempty"`
}

// ScaleReport is the outcome of a scale run.
type ScaleReport struct {
	RunID     string      `json:"run_id"`
	StartedAt time.Time   `json:"started_at"`
	Elapsed   Seconds     `json:"elapsed_s"`
	Machine   Machine     `json:"machine"`
	Mode      string      `json:"mode"`
	Steps     []ScaleStep `json:"steps"`
	Soak      *SoakReport `json:"soak,omitempty"`
	Targets   []Target    `json:"targets"`
}

// Validate checks the options.
func (o ScaleOptions) Validate() error {
	if len(o.Sizes) == 0 || !slices.IsSorted(o.Sizes) || o.Sizes[0] < 0 {
		return fmt.Errorf("sizes %v: want one or more, ascending, from 0", o.Sizes)
	}
	if o.Mode != ModeSagaflow && o.Mode != ModeSagaflowLocal && o.Mode != ModeFloor {
		return fmt.Errorf("scale mode %q: want %s, %s or %s", o.Mode, ModeSagaflow, ModeSagaflowLocal, ModeFloor)
	}
	if o.Soak.Duration > 0 && (o.Soak.Window <= 0 || o.Soak.Window > o.Soak.Duration || o.Soak.Retention < 0) {
		return fmt.Errorf("soak of %s: want a window between 0 and the soak's length and a retention of 0 or more", o.Soak.Duration)
	}
	if o.Concurrency < 1 || o.OpsOrders < 1 || o.Duration <= 0 || o.OrderTimeout <= 0 || o.RunID == "" {
		return errors.New("a scale run needs an id, at least one client, at least one timed order, a positive duration and order timeout")
	}
	if o.Sizes[len(o.Sizes)-1] > 0 && o.Fill == nil {
		return errors.New("a scale run with stored orders needs a prefill")
	}
	return nil
}

// RunScale measures every size of o on one set of stores, grown from size
// to size, and returns the report.
func RunScale(ctx context.Context, o ScaleOptions, deps Deps) (*ScaleReport, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	progress := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, time.Now().Format("15:04:05")+" "+format+"\n", args...)
		}
	}
	r := NewRunner(Options{
		RunID: o.RunID, OrderTimeout: o.OrderTimeout, EagerStart: o.EagerStart,
		Worker: o.Worker, PGMaxConns: o.PGMaxConns, RunDir: o.RunDir, Progress: o.Progress,
	}, deps)
	rep := &ScaleReport{RunID: o.RunID, StartedAt: time.Now().UTC(), Machine: machine(), Mode: o.Mode}
	rep.Machine.TemporalFlags = r.probe.temporalFlags()
	defer r.dropDocs(ctx)
	cat := scaleCatalog()
	st, err := r.openStores(ctx, "scale", cat)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := st.close(ctx); err != nil {
			r.warn(err)
		}
	}()
	if err := st.seedPoorCustomer(ctx); err != nil {
		return nil, err
	}
	have := 0
	for i, size := range o.Sizes {
		step := ScaleStep{Orders: size}
		if size > have {
			progress("prefill %d -> %d orders", have, size)
			start := time.Now()
			if err := o.Fill(ctx, st.handles(), have, size); err != nil {
				return rep, fmt.Errorf("prefill to %d orders: %w", size, err)
			}
			step.FillSeconds = Seconds(time.Since(start).Seconds())
			have = size
			start = time.Now()
			if err := st.settle(ctx); err != nil {
				return rep, fmt.Errorf("%d orders: %w", size, err)
			}
			step.SettleSeconds = Seconds(time.Since(start).Seconds())
			progress("%d orders: vacuumed and analyzed in %.0f s", size, step.SettleSeconds)
		}
		label := fmt.Sprintf("s%d", i)
		if step.Ops, err = timeStoreOps(ctx, st, cat, "o"+compactID(o.RunID)+label, o.OpsOrders); err != nil {
			return rep, fmt.Errorf("%d orders: store operations: %w", size, err)
		}
		progress("%d orders: store operations timed", size)
		d := drive{concurrency: o.Concurrency, warmup: o.Warmup, duration: o.Duration, timeout: o.OrderTimeout}
		if step.Throughput, err = r.cellOn(ctx, st, label+"t", KindThroughput, o.Mode, Spread, cat, d); err != nil {
			return rep, err
		}
		d.concurrency = 1
		if step.Latency, err = r.cellOn(ctx, st, label+"l", KindThroughput, o.Mode, Spread, cat, d); err != nil {
			return rep, err
		}
		if o.Verify != nil {
			v, err := o.Verify(ctx, st.handles())
			if err != nil {
				return rep, fmt.Errorf("%d orders: verify: %w", size, err)
			}
			step.Verify = &v
			progress("%d orders: verify %.1f s, %.0f MB, %d breaches", size, v.Seconds, v.MaxRSSMB, v.Breaches)
		}
		rep.Steps = append(rep.Steps, step)
	}
	if o.Soak.Duration > 0 {
		progress("soak: %s at %d clients for %s", o.Mode, o.Concurrency, o.Soak.Duration)
		if rep.Soak, err = r.soak(ctx, o.Mode, o.Concurrency, o.Soak); err != nil {
			return rep, fmt.Errorf("soak: %w", err)
		}
	}
	rep.Elapsed = Seconds(time.Since(rep.StartedAt).Seconds())
	rep.Machine.LoadAfter = loadAverage()
	rep.Targets = scaleTargets(rep)
	return rep, nil
}

// scaleCatalog is the stock of a scale run's stores: the spread catalog.
func scaleCatalog() catalog { return newCatalog(Spread, AmpleStock) }

// timeStoreOps places n orders one after the other through the services,
// timing every store operation, then reads each order and shipment back
// by id. Every tenth order is the poor customer's: refused by
// ChargePayment, it is compensated.
func timeStoreOps(ctx context.Context, st *cellStores, cat catalog, prefix string, n int) ([]OpLatency, error) {
	ops := newOpClock()
	place := floorOrder(st.Stores, ops)
	for i := range n {
		o := cat.order(prefix, i)
		if i%10 == 9 {
			o.Customer = poorCustomer
		}
		out, err := place(ctx, o)
		if err != nil {
			return nil, err
		}
		if poor := o.Customer == poorCustomer; poor == (out == Completed) {
			return nil, fmt.Errorf("order %s (the poor customer's: %t): outcome %d", o.ID, poor, out)
		}
		if err := ops.time(OpGetOrder, func() error { _, err := st.Orders.Get(ctx, o.ID); return err }); err != nil {
			return nil, err
		}
		if out == Completed {
			if err := ops.time(OpGetShipment, func() error { _, err := st.Shipping.Get(ctx, o.ID); return err }); err != nil {
				return nil, err
			}
		}
	}
	return ops.summary(), nil
}

// poorCustomer is the scale run's customer whose account cannot pay for
// one unit: the orders timeStoreOps places for it are compensated.
const poorCustomer = "b-cust-poor"

// seedPoorCustomer opens poorCustomer's account with less than a unit's
// price.
func (s *cellStores) seedPoorCustomer(ctx context.Context) error {
	if _, err := s.Payments.Seed(ctx, []payments.Account{{CustomerID: poorCustomer, Balance: UnitPrice - 1}}); err != nil {
		return fmt.Errorf("cell %s: seed the poor customer: %w", s.name, err)
	}
	return nil
}

// StoreHandles are a scale run's stores as a prefill or a checker sees
// them: the pools (whose connections use Schema, in the inventory and the
// payments databases), the MongoDB database holding both the orders and
// the shipments collections, and the catalog they were seeded with.
type StoreHandles struct {
	Inventory, Payments *pgxpool.Pool
	Mongo               *mongo.Database
	// Schema is the PostgreSQL schema of the stores in both databases.
	Schema string
	// InventoryURL and PaymentsURL are the databases' URLs (without the
	// schema), for a process of its own.
	InventoryURL, PaymentsURL string
	SKUs                      []string
	Customers                 []string
	UnitPrice                 int64
}

// handles returns the stores as a prefill or a checker sees them.
func (s *cellStores) handles() StoreHandles {
	customers := make([]string, Customers)
	for i := range customers {
		customers[i] = customer(i)
	}
	return StoreHandles{
		Inventory: s.inventoryPool, Payments: s.paymentsPool, Mongo: s.mongoDB, Schema: s.name,
		InventoryURL: s.urls[0], PaymentsURL: s.urls[1],
		SKUs: scaleCatalog().skus, Customers: customers, UnitPrice: UnitPrice,
	}
}
