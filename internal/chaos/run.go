package chaos

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/internal/faults"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// Runner runs one fault-injection run.
type Runner struct {
	Opts        Options
	RunID       string
	QueuePrefix string
	Client      client.Client
	// Namespace is the client's namespace, where resolutions are listed.
	Namespace string
	Stores    invariants.Stores
	Fleet     *Fleet
	Stack     Stack
	// ReadStore is the read store: its lease names the worker that leads
	// the projectors, its views and commits are judged after the run.
	ReadStore *readstore.Store
	// Partitions are the workers' proxies to the servers (nil: no
	// partition faults; the workers then reach the servers directly).
	Partitions *Partitions
	// Sessions are connections, by database name, to the PostgreSQL
	// databases whose open write transactions the run samples every
	// second, each as the database's own role (which sees its own
	// sessions).
	Sessions map[string]pgstore.Querier
	// Progress receives a line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Figures are what the run did and how the sagas fared under it.
type Figures struct {
	Orders   int            `json:"orders"`
	Ended    int            `json:"ended"`
	Outcomes map[string]int `json:"outcomes"`
	Kills    int            `json:"worker_sigkills"`
	Terms    int            `json:"worker_sigterms"`
	// WorkerExits counts workers that exited on their own (and were restarted).
	WorkerExits          int           `json:"worker_exits"`
	PostgresOutages      int           `json:"postgres_outages"`
	MongoOutages         int           `json:"ferretdb_outages"`
	TemporalRestarts     int           `json:"temporal_restarts"`
	AmbiguousCommits     int           `json:"ambiguous_commits"`
	FailuresBeforeCommit int           `json:"failures_before_commit"`
	Elapsed              time.Duration `json:"elapsed_ns"`
	// QuietAfterLastFault is the time from the end of the last fault to the
	// end of the last saga.
	QuietAfterLastFault time.Duration `json:"quiet_after_last_fault_ns"`
	P50                 time.Duration `json:"latency_p50_ns"`
	P99                 time.Duration `json:"latency_p99_ns"`

	// ProjectorKills and ProjectorPauses count the projector leaders
	// SIGKILLed and SIGSTOPped; ProjectorFaultsSkipped those faults skipped
	// because no worker of the run led.
	ProjectorKills         int `json:"projector_leader_sigkills"`
	ProjectorPauses        int `json:"projector_leader_sigstops"`
	ProjectorFaultsSkipped int `json:"projector_leader_faults_skipped"`
	// Partitions counts the workers cut off, by server; ProjectorPartitions
	// the projector leaders cut off from PostgreSQL.
	Partitions          map[string]int `json:"partitions"`
	ProjectorPartitions int            `json:"projector_leader_partitions"`
	// Failovers are the projector failovers, each measured from the signal
	// to the lease's next grant; MaxFailover is the longest.
	Failovers   []Failover    `json:"projector_failovers"`
	MaxFailover time.Duration `json:"max_projector_failover_ns"`
	// WriteTxs is what the sampler of open write transactions saw.
	WriteTxs WriteTxs `json:"write_transactions"`
}

// Report is everything a run produced.
type Report struct {
	RunID   string  `json:"run_id"`
	Seed    uint64  `json:"seed"`
	Options Options `json:"options"`
	Faults  []Fault `json:"fault_schedule"`
	Figures Figures `json:"figures"`
	Verdict Verdict `json:"verdict"`
}

// Run drives the plan's orders through the fleet while injecting the
// plan's faults, waits for the sagas to end, and judges the result.
func (r *Runner) Run(ctx context.Context) (Report, error) {
	began := time.Now()
	plan := NewPlan(r.Opts, r.RunID)
	rep := Report{RunID: r.RunID, Seed: r.Opts.Seed, Options: r.Opts, Faults: plan.Faults}
	fig := &rep.Figures
	fig.Orders = len(plan.Orders)
	since, err := r.dbNow(ctx)
	if err != nil {
		return rep, err
	}
	for i := range r.Opts.Workers {
		if err := r.Fleet.Start(i); err != nil {
			r.Fleet.StopAll()
			return rep, err
		}
	}
	defer r.Fleet.StopAll()

	d := &driver{c: r.Client, queuePrefix: r.QueuePrefix}
	driveCtx, stopDriving := context.WithCancel(ctx)
	defer stopDriving()
	var results []Result
	driven := make(chan struct{})
	go func() { results = d.run(driveCtx, plan.Orders, r.Opts.Concurrency); close(driven) }()

	var mu sync.Mutex // guards fig while progress reads it
	stopProgress := r.reportProgress(d, fig, &mu)
	stopSampling := sampleWriteTxs(ctx, r.Sessions)
	defer stopSampling()
	lastFaultEnd := time.Now()
	for _, f := range plan.Faults {
		if !waitStarted(ctx, d, f.AfterOrders, driven) {
			break
		}
		if err := r.inject(ctx, f, fig, &mu); err != nil {
			stopProgress()
			return rep, fmt.Errorf("inject %s: %w", f.Kind, err)
		}
		lastFaultEnd = time.Now()
	}
	settle := time.NewTimer(r.Opts.Settle)
	select {
	case <-driven:
	case <-settle.C:
		stopDriving()
		<-driven
	case <-ctx.Done():
		stopDriving()
		<-driven
	}
	settle.Stop()
	stopProgress()
	// The workers' projectors catch up before they stop.
	caughtUp, err := r.awaitCaughtUp(ctx)
	fig.WriteTxs = stopSampling()
	r.Fleet.StopAll()
	if err != nil {
		return rep, err
	}

	fig.Elapsed = time.Since(began)
	fig.WorkerExits = r.Fleet.Unexpected()
	fig.Outcomes = map[string]int{}
	var latencies []time.Duration
	lastEnd := lastFaultEnd
	ids := make([]string, len(results))
	for i, res := range results {
		ids[i] = plan.Orders[i].OrderID
		if res.Outcome == "" {
			continue
		}
		fig.Ended++
		fig.Outcomes[res.Outcome]++
		latencies = append(latencies, res.Ended.Sub(res.Started))
		if res.Ended.After(lastEnd) {
			lastEnd = res.Ended
		}
	}
	fig.QuietAfterLastFault = lastEnd.Sub(lastFaultEnd)
	fig.P50, fig.P99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
	injected, err := r.Fleet.InjectedFaults()
	if err != nil {
		return rep, err
	}
	fig.AmbiguousCommits, fig.FailuresBeforeCommit = injected[faults.KindAmbiguous], injected[faults.KindBefore]
	rep.Verdict, err = Judge(ctx, r.Client, r.Namespace, r.Stores, ids, 30*time.Second)
	if err != nil {
		return rep, err
	}
	rep.Verdict.JudgeBounds(fig.Failovers, fig.WriteTxs.Slow)
	return rep, r.judgeReadStore(ctx, &rep.Verdict, caughtUp, since)
}

// inject carries out one fault and waits until what it took away is back.
func (r *Runner) inject(ctx context.Context, f Fault, fig *Figures, mu *sync.Mutex) error {
	count := func(n *int) { mu.Lock(); *n++; mu.Unlock() }
	switch f.Kind {
	case FaultKill, FaultTerm:
		sig, n := syscall.SIGKILL, &fig.Kills
		if f.Kind == FaultTerm {
			sig, n = syscall.SIGTERM, &fig.Terms
		}
		if err := r.Fleet.Signal(f.Worker, sig, 15*time.Second); err != nil {
			return err
		}
		count(n)
		sleep(ctx, f.Down)
		return r.Fleet.Start(f.Worker)
	case FaultPostgres, FaultMongo, FaultTemporalRestart:
		server, n := "postgres", &fig.PostgresOutages
		switch f.Kind {
		case FaultMongo:
			server, n = "ferretdb", &fig.MongoOutages
		case FaultTemporalRestart:
			server, n = "temporal", &fig.TemporalRestarts
		}
		if err := r.Stack.Stop(ctx, server); err != nil {
			return err
		}
		count(n)
		sleep(ctx, f.Down)
		return r.Stack.Up(ctx)
	case FaultProjectorKill, FaultProjectorPause, FaultProjectorPartition:
		return r.hitLeader(ctx, f, fig, mu)
	case FaultPartition:
		if r.Partitions == nil {
			return fmt.Errorf("a partition without the workers' proxies")
		}
		if err := r.Partitions.Cut(f.Worker, f.Server); err != nil {
			return err
		}
		mu.Lock()
		if fig.Partitions == nil {
			fig.Partitions = map[string]int{}
		}
		fig.Partitions[f.Server]++
		mu.Unlock()
		sleep(ctx, f.Down)
		return r.Partitions.Heal(f.Worker, f.Server)
	}
	return fmt.Errorf("unknown fault %q", f.Kind)
}

// reportProgress writes a progress line every ProgressEvery until stopped.
func (r *Runner) reportProgress(d *driver, fig *Figures, mu *sync.Mutex) (stop func()) {
	if r.Progress == nil || r.ProgressEvery <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				mu.Lock()
				fmt.Fprintf(r.Progress, "orders %d started, %d ended of %d | faults: %d kills, %d terms, %d PostgreSQL and %d FerretDB outages, %d Temporal restarts, %d projector leader kills and %d pauses\n",
					d.started.Load(), d.done.Load(), r.Opts.Orders, fig.Kills, fig.Terms, fig.PostgresOutages, fig.MongoOutages, fig.TemporalRestarts,
					fig.ProjectorKills, fig.ProjectorPauses)
				mu.Unlock()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// waitStarted waits until n orders were started; false if the driver
// finished or ctx ended first.
func waitStarted(ctx context.Context, d *driver, n int, driven <-chan struct{}) bool {
	for d.started.Load() < int64(n) {
		select {
		case <-driven:
			return false
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// percentile returns the q-quantile of ds (nearest rank), 0 for none.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}
