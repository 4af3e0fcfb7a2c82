package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/chaos"
	"github.com/sagaflow/sagaflow/internal/faults"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// errBreaches marks a run that finished and found something broken.
var errBreaches = errors.New("the verdict found breaches")

// queuePrefix gives the run's workers task queues of their own, so no
// other worker takes part.
const queuePrefix = "chaos-"

func command(getenv func(string) string) *cobra.Command {
	o := chaos.Options{
		Orders: 1000, Concurrency: 32, Workers: 3, Seed: uint64(time.Now().UnixNano() % 1_000_000), FailShare: 0.3,
		Kills: 50, Terms: 5, PostgresOutages: 2, MongoOutages: 2, TemporalRestarts: 1, ProjectorKills: 3, ProjectorPauses: 2,
		Partitions: 6, ProjectorPartitions: 2, Outage: 4 * time.Second,
		Ambiguous: 0.1, Before: 0.02, Latency: 20 * time.Millisecond, Settle: 5 * time.Minute,
	}
	var jsonOut string
	var jsonStdout bool
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Run sagas under faults and prove that nothing was lost, doubled, created or destroyed",
		Long: `chaos brings the local stack up (or uses the servers the usual variables name),
starts --workers worker processes with the fault layer on (ambiguous commits,
failures before commit, latency), and drives --orders orders at --concurrency,
a --fail-share of them shaped to fail by a business rule. Meanwhile it SIGKILLs
and SIGTERMs random workers (restarting them after a delay), stops PostgreSQL
and FerretDB for a while (their data kept), and restarts the Temporal server,
on a schedule drawn from --seed: the same seed gives the same orders and the
same faults at the same points of the run.

With --partitions, each worker reaches PostgreSQL, FerretDB and Temporal
through proxies of its own (Toxiproxy, in this process), and a partition cuts
one worker off from one server (the three in turn) for 4 to 14s: what it sends is dropped, its
connections hang rather than fail, until the partition heals (which closes
them).

It also takes away the worker whose projector holds the read store's lease
(the holder's pid names it): --projector-kills SIGKILL it (restarted after a
delay), --projector-pauses SIGSTOP it for the lease's TTL + 3s (8s), then
SIGCONT it, so that it tries to write with a lease another has taken, and
--projector-partitions cut it off from PostgreSQL for as long. Each failover,
from the fault to the lease's next grant, is measured. When the
leader is not one of the run's workers (a worker of another stack or machine),
the fault waits 10s for one to lead, then is skipped and counted as skipped;
the stack's own worker (make worker, make demo) is stopped for the run and
started again at its end. Every
second it samples, in the inventory, payments and reporting databases, the
oldest open write transaction (one that may hold row locks).

After the last fault it waits (at most --settle) until every saga ended, then
(at most 1m) until the projector caught up, and judges: lost orders (not
ended, or unknown to visibility), duplicate effects, conservation breaches and
orders whose stores contradict their outcome (the invariant checker, at rest),
histories that the current workflow code does not replay, read store drift
(views or counters that differ from the write stores), writes by a fenced
projector leader, failovers over 10s, and write transactions open longer than
pgstore.SessionBound (10s) + 5s. It prints a table, writes the same as JSON,
and exits 1 on any breach (2 when the run itself failed).

The database outages and the Temporal restart need the local stack (make up);
with external servers, set their counts to 0.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), getenv, o, jsonOut, jsonStdout, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Orders, "orders", o.Orders, "orders to run")
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "orders in flight at once")
	f.IntVar(&o.Workers, "workers", o.Workers, "worker processes")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "seed of the orders and the fault schedule (default: drawn from the clock, printed)")
	f.Float64Var(&o.FailShare, "fail-share", o.FailShare, "share of orders shaped to fail by a business rule")
	f.IntVar(&o.Kills, "kills", o.Kills, "SIGKILLs of a random worker")
	f.IntVar(&o.Terms, "terms", o.Terms, "SIGTERMs (graceful stops) of a random worker")
	f.IntVar(&o.PostgresOutages, "postgres-outages", o.PostgresOutages, "times PostgreSQL is stopped and restarted")
	f.IntVar(&o.MongoOutages, "ferretdb-outages", o.MongoOutages, "times FerretDB is stopped and restarted")
	f.IntVar(&o.TemporalRestarts, "temporal-restarts", o.TemporalRestarts, "times the Temporal dev server is restarted")
	f.IntVar(&o.ProjectorKills, "projector-kills", o.ProjectorKills, "SIGKILLs of the worker leading the projectors (restarted after a delay)")
	f.IntVar(&o.ProjectorPauses, "projector-pauses", o.ProjectorPauses, "SIGSTOPs of the worker leading the projectors, held past its lease, then SIGCONT")
	f.IntVar(&o.Partitions, "partitions", o.Partitions, "partitions of a random worker from a server (PostgreSQL, FerretDB and Temporal in turn): what passes is dropped, its connections hang, for 4 to 14 s")
	f.IntVar(&o.ProjectorPartitions, "projector-partitions", o.ProjectorPartitions, "partitions of the worker leading the projectors from PostgreSQL, past its lease")
	f.DurationVar(&o.Outage, "outage", o.Outage, "mean length of a database outage")
	f.Float64Var(&o.Ambiguous, "ambiguous", o.Ambiguous, "probability that an activity commits and then reports an error")
	f.Float64Var(&o.Before, "before", o.Before, "probability that an activity fails before it runs")
	f.DurationVar(&o.Latency, "latency", o.Latency, "maximum latency added to each activity")
	f.DurationVar(&o.Settle, "settle", o.Settle, "how long to wait, after the last fault, for every saga to end")
	f.StringVar(&jsonOut, "json-out", "", "write the report as JSON to this file (default .data/chaos/<run id>.json)")
	f.BoolVar(&jsonStdout, "json", false, "print the report as JSON instead of the table")
	return cmd
}

func run(ctx context.Context, getenv func(string) string, o chaos.Options, jsonOut string, jsonStdout bool, out io.Writer) error {
	if err := o.Validate(); err != nil {
		return err
	}
	root, err := config.RepoRoot()
	if err != nil {
		return err
	}
	dataDir, err := config.DataDir(getenv)
	if err != nil {
		return err
	}
	runID := "chaos-" + time.Now().UTC().Format("20060102-150405")
	bins := filepath.Join(root, ".tools", "bin", "chaos")
	progress := os.Stderr
	fmt.Fprintf(progress, "run %s, seed %d: building the worker and the stack launcher...\n", runID, o.Seed)
	workerBin, stackBin := filepath.Join(bins, "sagaflow-worker"), filepath.Join(bins, "sagaflow-stack")
	for bin, pkg := range map[string]string{workerBin: "./worker", stackBin: "./stack"} {
		if err := goBuild(ctx, root, bin, pkg); err != nil {
			return err
		}
	}
	stack := chaos.Stack{Bin: stackBin}
	if err := stack.Up(ctx); err != nil {
		return err
	}
	stoppedWorker, err := stack.StopWorker(ctx)
	if err != nil {
		return err
	}
	if stoppedWorker {
		fmt.Fprintln(progress, "stopped the stack's worker for the run (its projector would lead the read side); it starts again at the end")
		defer func() {
			if err := stack.StartWorker(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintln(progress, "the stack's worker did not start again:", err)
			}
		}()
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	st, err := stores.Open(ctx, cfg, stores.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := chaos.Seed(ctx, st.Stores); err != nil {
		return err
	}
	// The read store (its lease and views), and one session per service
	// database as its own role, for the sampler of open write transactions.
	if err := cfg.Require(config.EnvReportingURL); err != nil {
		return err
	}
	reporting, err := pgstore.OpenPool(ctx, "reporting", cfg.ReportingURL, 4)
	if err != nil {
		return err
	}
	defer reporting.Close()
	rs := readstore.New(reporting)
	if err := rs.Migrate(ctx); err != nil {
		return err
	}
	sessions := map[string]pgstore.Querier{"reporting": reporting}
	for name, url := range map[string]string{"inventory": cfg.InventoryURL, "payments": cfg.PaymentsURL} {
		pool, err := pgstore.OpenPool(ctx, name, url, 1)
		if err != nil {
			return err
		}
		defer pool.Close()
		sessions[name] = pool
	}
	quiet := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Logger: quiet, Timeout: 15 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	logDir := filepath.Join(dataDir, "logs", runID)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", logDir, err)
	}
	spec := faults.Config{Ambiguous: o.Ambiguous, Before: o.Before, MaxLatency: o.Latency, Seed: o.Seed}.String()
	// No metrics endpoint: several workers run on this machine, beside the
	// stack's own, and would contend for one port.
	fleet := chaos.NewFleet(workerBin, []string{"--log-format", "json", "--task-queue-prefix", queuePrefix, "--stop-timeout", "5s", "--metrics-listen", ""},
		spec, logDir, o.Workers)
	var parts *chaos.Partitions
	if o.Partitions+o.ProjectorPartitions > 0 {
		// Each worker reaches the servers through proxies of its own, so
		// that one can be cut off.
		if parts, err = chaos.NewPartitions(cfg, o.Workers); err != nil {
			return err
		}
		defer parts.Close()
		for i := range o.Workers {
			fleet.SetEnv(i, parts.Env(i))
		}
	}
	fmt.Fprintf(progress, "run %s: %d orders, %d workers (logs in %s), faults: %s\n", runID, o.Orders, o.Workers, logDir, spec)
	r := &chaos.Runner{Opts: o, RunID: runID, QueuePrefix: queuePrefix, Client: c, Namespace: cfg.TemporalNamespace, Stores: st.Stores, Fleet: fleet, Stack: stack,
		ReadStore: rs, Partitions: parts, Sessions: sessions, Progress: progress, ProgressEvery: 2 * time.Second}
	rep, err := r.Run(ctx)
	if err != nil {
		return err
	}
	if jsonOut == "" {
		jsonOut = filepath.Join(dataDir, "chaos", runID+".json")
	}
	if err := writeJSON(jsonOut, rep); err != nil {
		return err
	}
	if jsonStdout {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
	} else {
		writeTable(out, rep)
		fmt.Fprintf(out, "report: %s\n", jsonOut)
	}
	if rep.Verdict.Breaches() > 0 {
		return errBreaches
	}
	return nil
}

func goBuild(ctx context.Context, root, bin, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w: %s", pkg, err, out)
	}
	return nil
}

func writeJSON(path string, rep chaos.Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	body, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(path, append(body, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
