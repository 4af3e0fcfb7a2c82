package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/bench"
	"github.com/sagaflow/sagaflow/internal/prefill"
)

// scaleFlags are the scale command's flags beyond bench.ScaleOptions.
type scaleFlags struct {
	sizes      string
	cancelled  int
	outDir     string
	docs       bool
	stackUp    bool
	jsonStdout bool
	noVerify   bool
	from       string
}

// scaleCommand is `bench scale` (`make scale`).
func scaleCommand(getenv func(string) string) *cobra.Command {
	o := bench.ScaleOptions{
		OpsOrders: 400, Concurrency: 32, Mode: bench.ModeSagaflowLocal,
		Warmup: 2 * time.Second, Duration: time.Minute, OrderTimeout: time.Minute,
		EagerStart: true, Worker: bench.WorkerTuning{Concurrency: 64}, PGMaxConns: 20,
	}
	f := scaleFlags{sizes: "0,1000,100000,1000000", cancelled: 10, stackUp: true}
	cmd := &cobra.Command{
		Use:   "scale",
		Short: "Measure the saga and each store operation as the stores grow to a million orders",
		Long: `scale brings the local stack up, opens stores of its own on the stack's servers (a
schema in the inventory and payments databases, a MongoDB database), and for each
of --sizes (finished orders in the stores, ascending) fills the stores up to that
size with prefilled sagas (internal/prefill: COPY and InsertMany, --cancelled
percent of them compensated), then measures:

  store operations  --ops-orders orders placed one at a time through the services,
                    each call timed (every tenth refused for want of money, so the
                    compensations are timed too), and each order read back by id
  saga              --mode at --concurrency clients for --duration, then at one
                    client for the latency
  checker           the invariant checker over all stored orders, at rest, in a
                    process of its own: wall time and peak memory (max RSS)

With --soak, it then runs --mode on fresh stores for that long, sampling every
--soak-window the closed workflows Temporal holds, the time of a visibility query,
and the stores' barrier rows, events and tombstones, pruned every window as the
cleanup workflow prunes them (--soak-retention).

It prints the tables and the targets' verdicts and writes <out-dir>/scale-<run>.json,
.png and .md (with --docs, also docs/bench/scale.{json,png,md}).`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScale(cmd.Context(), getenv, o, f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.sizes, "sizes", f.sizes, "comma-separated numbers of stored orders to measure at, ascending")
	fl.IntVar(&f.cancelled, "cancelled", f.cancelled, "percent of the prefilled orders that end cancelled, compensated")
	fl.IntVar(&o.OpsOrders, "ops-orders", o.OpsOrders, "orders placed one at a time, each store operation timed, at each size")
	fl.StringVar(&o.Mode, "mode", o.Mode, "saga mode of the throughput and latency cells: sagaflow, sagaflow-local or floor")
	fl.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "clients of the throughput cell")
	fl.DurationVar(&o.Duration, "duration", o.Duration, "measured window of each cell")
	fl.DurationVar(&o.Warmup, "warmup", o.Warmup, "warm-up before each cell's window (not counted)")
	fl.DurationVar(&o.Soak.Duration, "soak", 0, "after the sizes, run --mode at --concurrency on fresh stores this long (100,000 sagas take about 30 min at 60/s), sampling Temporal and the stores (0: no soak)")
	fl.DurationVar(&o.Soak.Window, "soak-window", time.Minute, "the soak's sampling window")
	fl.DurationVar(&o.Soak.Retention, "soak-retention", 5*time.Minute, "during the soak, prune barrier rows, events and tombstones older than this every window, as the cleanup does past the namespace's retention (0: no pruning)")
	fl.BoolVar(&f.noVerify, "no-verify", false, "do not run the invariant checker at each size")
	fl.StringVar(&f.outDir, "out-dir", "", "folder of the JSON, PNG and markdown (default <data folder>/bench)")
	fl.BoolVar(&f.docs, "docs", false, "also write docs/bench/scale.{png,json,md} for the README")
	fl.BoolVar(&f.stackUp, "stack-up", f.stackUp, "bring the local stack up first (go run ./stack up)")
	fl.BoolVar(&f.jsonStdout, "json", false, "print the report as JSON instead of the tables")
	fl.StringVar(&f.from, "from", "", "measure nothing: print a saved JSON report and write its chart and markdown beside it (with --docs, to docs/bench/)")
	cmd.AddCommand(scaleCheckCommand(getenv))
	return cmd
}

func runScale(ctx context.Context, getenv func(string) string, o bench.ScaleOptions, f scaleFlags, out io.Writer) error {
	if f.from != "" {
		return replotScale(f, out)
	}
	var err error
	if o.Sizes, err = list(f.sizes, strconv.Atoi); err != nil {
		return fmt.Errorf("--sizes: %w", err)
	}
	if f.cancelled < 0 || f.cancelled > 100 {
		return fmt.Errorf("--cancelled %d: want 0 to 100", f.cancelled)
	}
	o.RunID = time.Now().UTC().Format("20060102-150405")
	o.Fill = fillStores(f.cancelled)
	if !f.noVerify {
		o.Verify = checkInChild
	}
	if err := o.Validate(); err != nil {
		return err
	}
	root, dataDir, cfg, err := locate(ctx, getenv, f.stackUp)
	if err != nil {
		return err
	}
	deps, closeDeps, err := bench.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDeps()
	o.RunDir = filepath.Join(dataDir, "run")
	o.Progress = os.Stderr
	fmt.Fprintf(os.Stderr, "scale %s: load %s; sizes %v, mode %s\n", o.RunID, loadavg(), o.Sizes, o.Mode)
	rep, err := bench.RunScale(ctx, o, deps)
	if err != nil {
		return err
	}
	if f.outDir == "" {
		f.outDir = filepath.Join(dataDir, "bench")
	}
	base := filepath.Join(f.outDir, "scale-"+rep.RunID)
	if err := writeScaleOutputs(base, rep); err != nil {
		return err
	}
	if f.docs {
		if err := writeScaleOutputs(filepath.Join(root, "docs", "bench", "scale"), rep); err != nil {
			return err
		}
	}
	if f.jsonStdout {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	bench.WriteScaleMarkdown(out, rep)
	fmt.Fprintf(out, "\nreport: %s.json, chart: %s.png\n", base, base)
	return nil
}

// fillStores returns the scale run's prefill: orders [from, to) on the
// stores' own SKUs and customers, cancelled percent of them compensated.
func fillStores(cancelled int) bench.FillFunc {
	return func(ctx context.Context, h bench.StoreHandles, from, to int) error {
		last := time.Now()
		_, err := prefill.Fill(ctx, prefill.Target{Inventory: h.Inventory, Payments: h.Payments, Mongo: h.Mongo}, prefill.Options{
			Orders: to - from, FirstOrder: from, SKUs: h.SKUs, Customers: h.Customers, CancelledPercent: cancelled,
			Progress: func(done int) {
				if time.Since(last) > 30*time.Second {
					last = time.Now()
					fmt.Fprintf(os.Stderr, "%s   prefilled %d of %d\n", last.Format("15:04:05"), done, to-from)
				}
			},
		})
		return err
	}
}

// checkInChild runs `bench scale check SCHEMA` (this binary) and measures
// its wall time and peak memory.
func checkInChild(ctx context.Context, h bench.StoreHandles) (bench.VerifyFigures, error) {
	exe, err := os.Executable()
	if err != nil {
		return bench.VerifyFigures{}, fmt.Errorf("find this binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "scale", "check", h.Schema)
	cmd.Stderr = os.Stderr
	start := time.Now()
	body, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		return bench.VerifyFigures{}, fmt.Errorf("checker: %w", err)
	}
	var v bench.VerifyFigures
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("checker's answer %q: %w", body, err)
	}
	v.Seconds = bench.Seconds(elapsed.Seconds())
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		v.MaxRSSMB = float64(ru.Maxrss) / 1024 // kilobytes on Linux
	}
	return v, nil
}

// scaleCheckCommand is `bench scale check SCHEMA`: the invariant checker
// over a scale run's stores, printing the sagas and breaches as JSON.
func scaleCheckCommand(getenv func(string) string) *cobra.Command {
	return &cobra.Command{
		Use:    "check SCHEMA",
		Short:  "Run the invariant checker over a scale run's stores (bench runs it in a process of its own)",
		Args:   cobra.ExactArgs(1),
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(getenv)
			if err != nil {
				return err
			}
			rep, err := bench.CheckScaleStores(cmd.Context(), cfg, args[0])
			if err != nil {
				return err
			}
			if b := rep.Breaches(); b > 0 {
				fmt.Fprint(os.Stderr, strings.TrimSpace(rep.String())+"\n")
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(bench.VerifyFigures{Sagas: rep.Sagas, Breaches: rep.Breaches()})
		},
	}
}

// replotScale prints the saved scale report f.from and writes its chart and
// markdown beside it (and to docs/bench/ with --docs).
func replotScale(f scaleFlags, out io.Writer) error {
	return replotReport(f.from, f.docs, "scale", writeScaleOutputs, bench.WriteScaleMarkdown, out)
}

// writeScaleOutputs writes base.json, base.png and base.md of a scale
// report.
func writeScaleOutputs(base string, rep *bench.ScaleReport) error {
	return writeReport(base, rep, bench.WriteScaleChart, bench.WriteScaleMarkdown)
}
