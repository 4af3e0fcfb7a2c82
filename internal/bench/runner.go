package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/workers"
)

// Options say what a run measures and how.
type Options struct {
	// RunID names the run: its order ids, task queues and cell stores.
	RunID string
	// Modes, Workloads and Concurrency span the throughput cells: every
	// mode under every workload at every concurrency (the bare modes,
	// which touch no stock, once per concurrency).
	Modes       []string
	Workloads   []Workload
	Concurrency []int
	// Warmup runs before each cell's measured window of Duration.
	Warmup   time.Duration
	Duration time.Duration
	// OrderTimeout bounds one order.
	OrderTimeout time.Duration
	// SelloutStock, when positive, adds a sellout cell per mode that uses
	// stock: 2 x SelloutStock orders of one unit at SelloutConcurrency on
	// one SKU with SelloutStock units; exactly SelloutStock must complete
	// and the rest be refused as out of stock.
	SelloutStock       int
	SelloutConcurrency int
	// Sustain, when positive, adds a sustained cell: SustainMode at
	// SustainConcurrency for Sustain, spread workload, its completions
	// counted per SustainWindow.
	Sustain            time.Duration
	SustainMode        string
	SustainConcurrency int
	SustainWindow      time.Duration
	// EagerStart starts workflows with eager workflow start (the worker is
	// in this process, on the same client).
	EagerStart bool
	// Worker tunes every Temporal worker of the run.
	Worker WorkerTuning
	// PGMaxConns bounds each PostgreSQL pool of a cell (0: pgx's default).
	PGMaxConns int32
	// LinkLatency is the round trip the caller's links to the servers add
	// (bench --link-latency puts them behind netdelay proxies), for the
	// report; 0 when they are direct.
	LinkLatency time.Duration
	// RunDir is the stack's run folder (pid files), for the servers' CPU
	// use; "" leaves them out.
	RunDir string
	// Progress receives a line per cell; nil for none.
	Progress io.Writer
	// KeepDocs keeps the cells' MongoDB databases (bench_<run>_<cell>_docs)
	// after the run, to look at; the PostgreSQL schemas are always dropped.
	KeepDocs bool
}

// WorkerTuning are the settings of the run's Temporal workers, the same for
// the saga's and the bare workflow's (see workers.Options).
type WorkerTuning struct {
	// Concurrency bounds the activities and the workflow tasks a worker
	// runs at once.
	Concurrency int `json:"concurrency"`
	// WorkflowPollers and ActivityPollers are each worker's long polls (0:
	// the SDK's default, 2).
	WorkflowPollers int `json:"workflow_pollers"`
	ActivityPollers int `json:"activity_pollers"`
	// DisableEagerActivities turns eager activity dispatch off.
	DisableEagerActivities bool `json:"disable_eager_activities"`
	// StickyCacheSize is the process's sticky workflow cache, in workflows
	// (0: the SDK's default, 10,000). The SDK keeps one cache per process,
	// so the caller sets it (worker.SetStickyWorkflowCacheSize) before any
	// worker starts; the run only records it.
	StickyCacheSize int `json:"sticky_cache_size,omitempty"`
}

// Validate checks the options.
func (o Options) Validate() error {
	for _, m := range o.Modes {
		if !slices.Contains(Modes, m) {
			return fmt.Errorf("unknown mode %q: want some of %v", m, Modes)
		}
	}
	for _, w := range o.Workloads {
		if w != Spread && w != Hot {
			return fmt.Errorf("unknown workload %q: want %s or %s", w, Spread, Hot)
		}
	}
	for _, c := range o.Concurrency {
		if c < 1 {
			return fmt.Errorf("concurrency %d: want at least 1", c)
		}
	}
	if o.Sustain > 0 && !slices.Contains(Modes, o.SustainMode) {
		return fmt.Errorf("unknown sustain mode %q: want one of %v", o.SustainMode, Modes)
	}
	if o.Sustain > 0 && o.SustainConcurrency < 1 || o.SelloutStock > 0 && o.SelloutConcurrency < 1 {
		return fmt.Errorf("the sustained and sellout cells need at least one client")
	}
	if o.Worker.StickyCacheSize < 0 {
		return fmt.Errorf("sticky cache size %d: want 0 (the SDK's default) or more", o.Worker.StickyCacheSize)
	}
	if o.LinkLatency < 0 {
		return fmt.Errorf("link latency %s: want 0 or more", o.LinkLatency)
	}
	if o.RunID == "" || o.Duration <= 0 || o.OrderTimeout <= 0 {
		return fmt.Errorf("a run needs an id, a positive duration and a positive order timeout")
	}
	return nil
}

// Deps are the run's connections.
type Deps struct {
	Config   config.Config
	Temporal client.Client
	Mongo    *mongo.Client
}

// Runner runs the cells of one benchmark.
type Runner struct {
	opts  Options
	deps  Deps
	probe cpuProbe
	cells int
	// docs are the cells whose MongoDB databases the run drops at its end.
	docs []*cellStores
}

func (r *Runner) warn(err error) {
	if r.opts.Progress != nil {
		fmt.Fprintf(r.opts.Progress, "warning: %v\n", err)
	}
}

// dropDocs drops the MongoDB databases of the run's cells, unless the
// options keep them.
func (r *Runner) dropDocs(ctx context.Context) {
	if r.opts.KeepDocs {
		return
	}
	for _, st := range r.docs {
		if err := st.dropDocs(ctx); err != nil {
			r.warn(err)
		}
	}
	r.docs = nil
}

// NewRunner returns a Runner; call Run.
func NewRunner(opts Options, deps Deps) *Runner {
	return &Runner{opts: opts, deps: deps, probe: newCPUProbe(opts.RunDir)}
}

// Run measures every cell and returns the report.
func (r *Runner) Run(ctx context.Context) (*Report, error) {
	o := r.opts
	if err := o.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{RunID: o.RunID, StartedAt: time.Now().UTC(), Machine: machine(), Settings: settingsOf(o)}
	rep.Machine.TemporalFlags = r.probe.temporalFlags()
	defer r.dropDocs(ctx)
	for wi, w := range o.Workloads {
		for _, mode := range o.Modes {
			workload := w
			if !usesStock(mode) {
				if wi > 0 {
					continue // the same cells under every workload
				}
				workload = NoStock
			}
			for _, c := range o.Concurrency {
				d := drive{concurrency: c, warmup: o.Warmup, duration: o.Duration, timeout: o.OrderTimeout}
				cell, err := r.cell(ctx, KindThroughput, mode, workload, newCatalog(workload, AmpleStock), d)
				if err != nil {
					return rep, err
				}
				rep.Cells = append(rep.Cells, cell)
			}
		}
	}
	if o.SelloutStock > 0 {
		for _, mode := range o.Modes {
			if !usesStock(mode) {
				continue
			}
			d := drive{concurrency: o.SelloutConcurrency, count: 2 * o.SelloutStock, timeout: o.OrderTimeout}
			cell, err := r.cell(ctx, KindSellout, mode, Hot, newCatalog(Hot, int64(o.SelloutStock)), d)
			if err != nil {
				return rep, err
			}
			rep.Cells = append(rep.Cells, cell)
		}
	}
	if o.Sustain > 0 {
		d := drive{concurrency: o.SustainConcurrency, warmup: o.Warmup, duration: o.Sustain, window: o.SustainWindow, timeout: o.OrderTimeout}
		cell, err := r.cell(ctx, KindSustained, o.SustainMode, Spread, newCatalog(Spread, AmpleStock), d)
		if err != nil {
			return rep, err
		}
		rep.Cells = append(rep.Cells, cell)
	}
	rep.Machine.LoadAfter = loadAverage()
	rep.Elapsed = Seconds(time.Since(rep.StartedAt).Seconds())
	rep.Targets = targets(rep)
	return rep, nil
}

// cell runs one cell on stores (and task queue) of its own.
func (r *Runner) cell(ctx context.Context, kind, mode string, w Workload, cat catalog, d drive) (Cell, error) {
	r.cells++
	label := fmt.Sprintf("c%02d", r.cells)
	var st *cellStores
	if usesStock(mode) {
		var err error
		if st, err = r.openStores(ctx, label, cat); err != nil {
			return Cell{Kind: kind, Mode: mode, Workload: string(w), Concurrency: d.concurrency}, err
		}
		defer func() {
			if err := st.close(ctx); err != nil {
				r.warn(err)
			}
		}()
	}
	return r.cellOn(ctx, st, label, kind, mode, w, cat, d)
}

// openStores opens fresh stores for the cell label, seeded with cat; the
// run drops their MongoDB database at its end, the caller closes them.
func (r *Runner) openStores(ctx context.Context, label string, cat catalog) (*cellStores, error) {
	st, err := openCellStores(ctx, r.deps.Config, r.deps.Mongo, cellName(r.opts.RunID, label), r.opts.PGMaxConns, cat)
	if err != nil {
		return nil, err
	}
	r.docs = append(r.docs, st)
	return st, nil
}

// cellOn runs one cell, labelled label, on the stores st (nil for the
// modes that use none) and a task queue of its own.
func (r *Runner) cellOn(ctx context.Context, st *cellStores, label, kind, mode string, w Workload, cat catalog, d drive) (Cell, error) {
	cell := Cell{Kind: kind, Mode: mode, Workload: string(w), Concurrency: d.concurrency}
	held := &lockClock{}
	place, stop, err := r.mode(mode, st, "bench-"+r.opts.RunID+"-"+label, held)
	if err != nil {
		return cell, err
	}
	runtime.GC()
	before := r.probe.sample()
	res := d.run(ctx, place, func(i int) Order { return cat.order("b"+compactID(r.opts.RunID)+label, i) })
	after := r.probe.sample()
	stop()
	if ctx.Err() != nil {
		return cell, ctx.Err()
	}
	cell.fill(res)
	cell.CPU = share(before, after)
	cell.LockHeld = held.summary()
	if st != nil && (mode == ModeSagaflow || mode == ModeSagaflowLocal) {
		if cell.ReadLag, cell.ReadEvents, err = readLag(ctx, st); err != nil {
			return cell, err
		}
	}
	if st != nil {
		if cell.Stock, err = checkStock(ctx, st.Stores, cat, res.soldUnits); err != nil {
			return cell, err
		}
	}
	if r.opts.Progress != nil {
		fmt.Fprintln(r.opts.Progress, cell.line())
	}
	return cell, nil
}

// mode returns the order function of mode on st and queue, and what stops
// its workers. The coordinated mode records its lock holds in held.
func (r *Runner) mode(mode string, st *cellStores, queue string, held *lockClock) (orderFunc, func(), error) {
	c, o := r.deps.Temporal, r.opts
	switch mode {
	case ModeFloor:
		return floorOrder(st.Stores, nil), func() {}, nil
	case ModeCoordinated:
		return coordinatedOrder(st.Stores, st.inventoryPool, st.paymentsPool, held), func() {}, nil
	case ModeBare, ModeBareLocal:
		w := worker.New(c, queue, o.Worker.workerOptions().WorkerOptions())
		RegisterBare(w)
		if err := w.Start(); err != nil {
			return nil, nil, fmt.Errorf("start the bare worker on %s: %w", queue, err)
		}
		return bareOrder(c, queue, mode == ModeBareLocal, o.EagerStart), w.Stop, nil
	case ModeSagaflow, ModeSagaflowLocal:
		pool, err := workers.Start(c, st.activities(), []string{queue}, o.Worker.workerOptions())
		if err != nil {
			return nil, nil, err
		}
		stopProjector, err := startProjector(context.Background(), st, queue)
		if err != nil {
			pool.Stop()
			return nil, nil, err
		}
		return sagaOrder(c, queue, mode == ModeSagaflowLocal, o.EagerStart), func() {
			pool.Stop()
			if err := stopProjector(); err != nil {
				r.warn(err)
			}
		}, nil
	}
	return nil, nil, fmt.Errorf("unknown mode %q", mode)
}

// workerOptions are the tuning as internal/workers takes it; the bare
// worker gets the same SDK options through workers.Options.WorkerOptions.
func (t WorkerTuning) workerOptions() workers.Options {
	return workers.Options{
		Concurrency: t.Concurrency, StopTimeout: 5 * time.Second,
		WorkflowPollers: t.WorkflowPollers, ActivityPollers: t.ActivityPollers, DisableEagerActivities: t.DisableEagerActivities,
	}
}

// compactID keeps the letters and digits of a run id.
func compactID(id string) string {
	out := make([]byte, 0, len(id))
	for i := 0; i < len(id); i++ {
		if c := id[i]; c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			out = append(out, c)
		}
	}
	return string(out)
}
