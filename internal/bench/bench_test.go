package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/bench"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// TestRunEveryMode runs the harness with tiny durations on the stack: every
// mode runs, its figures are positive, no order fails, nothing is oversold,
// the sellouts sell exactly their stock, and the report writes as JSON, a
// table and a PNG. It asserts nothing about speed.
func TestRunEveryMode(t *testing.T) {
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	deps, closeDeps, err := bench.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDeps()
	var progress bytes.Buffer
	opts := bench.Options{
		RunID: strings.TrimPrefix(testenv.ID("t"), "t-"), Modes: bench.Modes, Workloads: []bench.Workload{bench.Spread, bench.Hot},
		Concurrency: []int{1, 2}, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond, OrderTimeout: 30 * time.Second,
		SelloutStock: 3, SelloutConcurrency: 4,
		Sustain: 400 * time.Millisecond, SustainMode: bench.ModeSagaflowLocal, SustainConcurrency: 2, SustainWindow: 200 * time.Millisecond,
		EagerStart: true, Worker: bench.WorkerTuning{Concurrency: 8}, PGMaxConns: 4, Progress: &progress,
	}
	rep, err := bench.NewRunner(opts, deps).Run(ctx)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	seen := map[string]int{}
	for _, c := range rep.Cells {
		seen[c.Kind+" "+c.Mode]++
		if c.Errors > 0 {
			t.Errorf("%s %s %s c=%d: %d errors, first: %s", c.Kind, c.Mode, c.Workload, c.Concurrency, c.Errors, c.FirstError)
		}
		if c.Kind != bench.KindSellout && (c.Completed == 0 || c.Throughput <= 0 || c.Latency.P50 <= 0 || c.Latency.P99 < c.Latency.P50) {
			t.Errorf("%s %s %s c=%d: no figures: %+v", c.Kind, c.Mode, c.Workload, c.Concurrency, c)
		}
		if held := c.LockHeld; (c.Mode == bench.ModeCoordinated) != (held != nil && held.P50 > 0 && held.P99 >= held.P50) {
			t.Errorf("%s %s %s c=%d: lock holds %+v (only the coordinated mode holds locks, and it must report them)", c.Kind, c.Mode, c.Workload, c.Concurrency, held)
		}
		if c.Stock.Checked && !c.Stock.OK() {
			t.Errorf("%s %s %s c=%d: %s", c.Kind, c.Mode, c.Workload, c.Concurrency, c.Stock.Detail)
		}
		if c.Kind == bench.KindSellout && (c.Completed != 3 || c.OutOfStock != 3 || c.Stock.Reserved != 3) {
			t.Errorf("sellout %s: %d completed, %d out of stock, %d reserved; want 3, 3, 3", c.Mode, c.Completed, c.OutOfStock, c.Stock.Reserved)
		}
	}
	for _, m := range bench.Modes {
		want := 4 // two workloads x two concurrencies
		if m == bench.ModeBare || m == bench.ModeBareLocal {
			want = 2
		}
		if seen[bench.KindThroughput+" "+m] != want {
			t.Errorf("mode %s: %d throughput cells, want %d", m, seen[bench.KindThroughput+" "+m], want)
		}
	}
	if seen[bench.KindSustained+" "+bench.ModeSagaflowLocal] != 1 || seen[bench.KindSellout+" "+bench.ModeCoordinated] != 1 {
		t.Errorf("cells: %v", seen)
	}
	if len(rep.Targets) != 6 {
		t.Errorf("targets: %+v", rep.Targets)
	}

	dir := t.TempDir()
	body, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back bench.Report
	if err := json.Unmarshal(body, &back); err != nil || len(back.Cells) != len(rep.Cells) {
		t.Fatalf("JSON round trip: %v", err)
	}
	pngPath := filepath.Join(dir, "bench.png")
	if err := bench.WriteChart(pngPath, rep); err != nil {
		t.Fatal(err)
	}
	assertPNG(t, pngPath)
	var table, md bytes.Buffer
	bench.WriteTable(&table, rep)
	bench.WriteMarkdown(&md, rep)
	for _, m := range bench.Modes {
		if !strings.Contains(table.String(), m) || !strings.Contains(md.String(), "`"+m+"`") {
			t.Errorf("mode %s missing from the table or the markdown:\n%s\n%s", m, table.String(), md.String())
		}
	}
}

func assertPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 200 {
		t.Fatalf("%s is %dx%d", path, b.Dx(), b.Dy())
	}
}
