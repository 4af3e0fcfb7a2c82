package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/worker"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/bench"
)

// flags are the command's flags beyond bench.Options.
type flags struct {
	modes, workloads, concurrency string
	outDir                        string
	docs                          bool
	stackUp                       bool
	jsonStdout                    bool
	cpuProfile                    string
	from                          string
}

func command(getenv func(string) string) *cobra.Command {
	o := bench.Options{
		Warmup: time.Second, Duration: 10 * time.Second, OrderTimeout: time.Minute,
		SelloutStock: 200, SelloutConcurrency: 64,
		Sustain: 60 * time.Second, SustainMode: bench.ModeSagaflowLocal, SustainConcurrency: 32, SustainWindow: 10 * time.Second,
		EagerStart: true, Worker: bench.WorkerTuning{Concurrency: 64}, PGMaxConns: 20,
	}
	f := flags{
		modes: strings.Join(bench.Modes, ","), workloads: string(bench.Spread) + "," + string(bench.Hot), concurrency: "1,8,32,64",
		stackUp: true,
	}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the order saga against bare Temporal, the database floor and a lock-holding baseline",
		Long: `bench brings the local stack up (make up), then measures, in this one process and
run, each mode at each concurrency for --duration (after --warmup), with orders
of one unit spread over 64 SKUs and all on one hot SKU:

  floor           the saga's database operations on the real services, no Temporal
  bare            a Temporal workflow of six no-op activities shaped like the saga
  bare-local      the same with local activities
  sagaflow        the real OrderSaga, real activities, real stores
  sagaflow-local  the same with its steps as local activities (OrderInput.LocalSteps)
  coordinated     ANTI-PATTERN for comparison: PostgreSQL transactions holding
                  SELECT ... FOR UPDATE locks on the stock and account rows
                  while the MongoDB writes happen

Then a sellout per mode (2 x --sellout-stock orders on one SKU holding
--sellout-stock units: exactly that many must complete, the rest be refused as
out of stock) and a sustained run of --sustain-mode. Every cell runs on fresh
stores on the stack's servers (a schema per cell, dropped after), checked for
oversell and by the invariant checker. Workers run in this process on task
queues of their own. It prints a table and writes <out-dir>/<run id>.json and
.png (with --docs, also docs/bench/bench.{png,json,md}).`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.Context(), getenv, o, f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.modes, "modes", f.modes, "comma-separated modes to measure")
	fl.StringVar(&f.workloads, "workloads", f.workloads, "comma-separated workloads: spread, hot")
	fl.StringVar(&f.concurrency, "concurrency", f.concurrency, "comma-separated numbers of concurrent clients")
	fl.DurationVar(&o.Duration, "duration", o.Duration, "measured window of each cell")
	fl.DurationVar(&o.Warmup, "warmup", o.Warmup, "warm-up before each cell's window (not counted)")
	fl.DurationVar(&o.OrderTimeout, "order-timeout", o.OrderTimeout, "bound on one order")
	fl.IntVar(&o.SelloutStock, "sellout-stock", o.SelloutStock, "stock of the sellout cells (0: none)")
	fl.IntVar(&o.SelloutConcurrency, "sellout-concurrency", o.SelloutConcurrency, "clients of the sellout cells")
	fl.DurationVar(&o.Sustain, "sustain", o.Sustain, "length of the sustained cell (0: none)")
	fl.StringVar(&o.SustainMode, "sustain-mode", o.SustainMode, "mode of the sustained cell")
	fl.IntVar(&o.SustainConcurrency, "sustain-concurrency", o.SustainConcurrency, "clients of the sustained cell")
	fl.DurationVar(&o.SustainWindow, "sustain-window", o.SustainWindow, "the sustained cell's throughput is also reported per window of this length")
	fl.BoolVar(&o.EagerStart, "eager-start", o.EagerStart, "start workflows with eager workflow start (the worker is in this process)")
	fl.IntVar(&o.Worker.Concurrency, "worker-concurrency", o.Worker.Concurrency, "activity and workflow task slots per worker")
	fl.IntVar(&o.Worker.WorkflowPollers, "workflow-pollers", o.Worker.WorkflowPollers, "workflow task pollers per worker (0: the SDK's default)")
	fl.IntVar(&o.Worker.ActivityPollers, "activity-pollers", o.Worker.ActivityPollers, "activity task pollers per worker (0: the SDK's default)")
	fl.BoolVar(&o.Worker.DisableEagerActivities, "no-eager-activities", false, "turn eager activity dispatch off")
	fl.IntVar(&o.Worker.StickyCacheSize, "sticky-cache-size", 0, "workflows kept in this process's sticky workflow cache (0: the SDK's default, 10000)")
	fl.Int32Var(&o.PGMaxConns, "pg-max-conns", o.PGMaxConns, "connections per PostgreSQL pool of a cell")
	fl.DurationVar(&o.LinkLatency, "link-latency", 0, "put this process's links to Temporal, PostgreSQL and MongoDB behind proxies that add this much to every round trip, as if the servers were that far away (0: none)")
	fl.StringVar(&f.outDir, "out-dir", "", "folder of the JSON and PNG (default <data folder>/bench)")
	fl.BoolVar(&f.docs, "docs", false, "also write docs/bench/bench.{png,json,md} for the README")
	fl.BoolVar(&f.stackUp, "stack-up", f.stackUp, "bring the local stack up first (go run ./stack up)")
	fl.BoolVar(&f.jsonStdout, "json", false, "print the report as JSON instead of the table")
	fl.BoolVar(&o.KeepDocs, "keep", false, "keep the cells' MongoDB databases (bench_<run>_<cell>_docs) after the run")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of this process over the whole run to this file")
	fl.StringVar(&f.from, "from", "", "measure nothing: print a saved JSON report and write its chart and markdown (with --docs, to docs/bench/)")
	cmd.AddCommand(scaleCommand(getenv))
	return cmd
}

func run(ctx context.Context, getenv func(string) string, o bench.Options, f flags, out io.Writer) error {
	if f.from != "" {
		return replot(f, out)
	}
	var err error
	if o.Modes, err = list(f.modes, func(s string) (string, error) { return s, nil }); err != nil {
		return err
	}
	if o.Workloads, err = list(f.workloads, func(s string) (bench.Workload, error) { return bench.Workload(s), nil }); err != nil {
		return err
	}
	if o.Concurrency, err = list(f.concurrency, strconv.Atoi); err != nil {
		return fmt.Errorf("--concurrency: %w", err)
	}
	o.RunID = time.Now().UTC().Format("20060102-150405")
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Worker.StickyCacheSize > 0 {
		worker.SetStickyWorkflowCacheSize(o.Worker.StickyCacheSize)
	}
	root, dataDir, cfg, err := locate(ctx, getenv, f.stackUp)
	if err != nil {
		return err
	}
	if o.LinkLatency > 0 {
		var closeLinks func()
		if cfg, closeLinks, err = delayLinks(cfg, o.LinkLatency); err != nil {
			return err
		}
		defer closeLinks()
	}
	deps, closeDeps, err := bench.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDeps()
	o.RunDir = filepath.Join(dataDir, "run")
	o.Progress = os.Stderr
	if f.cpuProfile != "" {
		stop, err := startProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	fmt.Fprintf(os.Stderr, "bench %s: load %s; %d modes x %d workloads x %d concurrencies, %s each\n",
		o.RunID, loadavg(), len(o.Modes), len(o.Workloads), len(o.Concurrency), o.Duration)
	rep, err := bench.NewRunner(o, deps).Run(ctx)
	if err != nil {
		return err
	}
	if f.outDir == "" {
		f.outDir = filepath.Join(dataDir, "bench")
	}
	base := filepath.Join(f.outDir, rep.RunID)
	if err := writeOutputs(base, rep); err != nil {
		return err
	}
	if f.docs {
		if err := writeOutputs(filepath.Join(root, "docs", "bench", "bench"), rep); err != nil {
			return err
		}
	}
	if f.jsonStdout {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		return nil
	}
	bench.WriteTable(out, rep)
	fmt.Fprintf(out, "\nreport: %s.json, chart: %s.png\n", base, base)
	return nil
}

// replot prints the saved report f.from and writes its chart and markdown
// beside it (and to docs/bench/ with --docs).
func replot(f flags, out io.Writer) error {
	return replotReport(f.from, f.docs, "bench", writeOutputs, bench.WriteTable, out)
}

// replotReport prints the saved report from with print and writes its
// files beside it with write (and as docs/bench/<name>.* with docs).
func replotReport[R any](from string, docs bool, name string, write func(string, *R) error, print func(io.Writer, *R), out io.Writer) error {
	rep, err := readReport[R](from)
	if err != nil {
		return err
	}
	if err := write(strings.TrimSuffix(from, ".json"), rep); err != nil {
		return err
	}
	if docs {
		if err := writeDocs(name, rep, write); err != nil {
			return err
		}
	}
	print(out, rep)
	return nil
}

// writeOutputs writes base.json, base.png and base.md of a report.
func writeOutputs(base string, rep *bench.Report) error {
	return writeReport(base, rep, bench.WriteChart, bench.WriteMarkdown)
}

// readReport reads a saved JSON report.
func readReport[R any](path string) (*R, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	rep := new(R)
	if err := json.Unmarshal(body, rep); err != nil {
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	return rep, nil
}

// writeReport writes rep as base.json, its chart as base.png and its
// markdown as base.md.
func writeReport[R any](base string, rep *R, chart func(string, *R) error, markdown func(io.Writer, *R)) error {
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	body, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.WriteFile(base+".json", append(body, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := chart(base+".png", rep); err != nil {
		return err
	}
	md, err := os.Create(base + ".md")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	markdown(md, rep)
	if err := md.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// writeDocs writes a report's files as docs/bench/<name>.{json,png,md}.
func writeDocs[R any](name string, rep *R, write func(string, *R) error) error {
	root, err := config.RepoRoot()
	if err != nil {
		return err
	}
	return write(filepath.Join(root, "docs", "bench", name), rep)
}

// list parses a comma-separated list.
func list[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		v, err := parse(part)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// locate finds the repository and the data folder, brings the stack up
// when up is set, and loads the servers' configuration, which must name
// all of them.
func locate(ctx context.Context, getenv func(string) string, up bool) (root, dataDir string, cfg config.Config, err error) {
	if root, err = config.RepoRoot(); err != nil {
		return "", "", cfg, err
	}
	if dataDir, err = config.DataDir(getenv); err != nil {
		return "", "", cfg, err
	}
	if up {
		if err := stackUp(ctx, root); err != nil {
			return "", "", cfg, err
		}
	}
	if cfg, err = config.Load(getenv); err != nil {
		return "", "", cfg, err
	}
	if err := cfg.Require(config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI); err != nil {
		return "", "", cfg, err
	}
	return root, dataDir, cfg, nil
}

// stackUp runs `go run ./stack up`: it starts what is not running and
// returns once every server answers.
func stackUp(ctx context.Context, root string) error {
	cmd := exec.CommandContext(ctx, "go", "run", "./stack", "up")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("stack up: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}
