package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/bench"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

func TestRehostKeepsEverythingButTheHost(t *testing.T) {
	proxy := func(string) (string, error) { return "127.0.0.1:40000", nil }
	got, err := rehost("postgres://inventory:s3cret@127.0.0.1:5432/inventory?sslmode=disable", proxy)
	if err != nil || got != "postgres://inventory:s3cret@127.0.0.1:40000/inventory?sslmode=disable" {
		t.Errorf("postgres: %q, %v", got, err)
	}
	got, err = rehost("mongodb://127.0.0.1:27017/", proxy)
	if err != nil || got != "mongodb://127.0.0.1:40000/" {
		t.Errorf("mongodb: %q, %v", got, err)
	}
	for raw, want := range map[string]string{
		"mongodb://a:27017,b:27017/":             "one host:port",
		"mongodb://a:27017/?replicaSet=rs0":      "replica set",
		"postgres://u:hidden@db/inventory":       "one host:port",
		"mongodb+srv://cluster.example.com/":     "one host:port",
		"postgres://u:hidden@db:5432/inventory%": "postgres URL",
	} {
		_, err := rehost(raw, proxy)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hidden") {
			t.Errorf("%s: %v, want an error about %q that hides the password", raw, err, want)
		}
	}
}

// TestLinkLatencyLengthensTheCoordinatedLocks runs the coordinated baseline
// through delayed links: every statement and MongoDB write it makes while
// it holds its locks now costs a round trip, so it must hold them for many
// round trips (at least ten: the second lock, three MongoDB writes, four
// writes and two commits).
func TestLinkLatencyLengthensTheCoordinatedLocks(t *testing.T) {
	const rtt = 15 * time.Millisecond
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	cfg, closeLinks, err := delayLinks(cfg, rtt)
	if err != nil {
		t.Fatal(err)
	}
	defer closeLinks()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	deps, closeDeps, err := bench.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDeps()
	opts := bench.Options{
		RunID: strings.TrimPrefix(testenv.ID("t"), "t-"), Modes: []string{bench.ModeCoordinated}, Workloads: []bench.Workload{bench.Hot},
		Concurrency: []int{2}, Warmup: 0, Duration: time.Second, OrderTimeout: 30 * time.Second,
		Worker: bench.WorkerTuning{Concurrency: 4}, PGMaxConns: 4, LinkLatency: rtt,
	}
	rep, err := bench.NewRunner(opts, deps).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Cells) != 1 || rep.Cells[0].LockHeld == nil {
		t.Fatalf("cells: %+v", rep.Cells)
	}
	c := rep.Cells[0]
	if c.Errors > 0 || !c.Stock.OK() {
		t.Fatalf("%d errors (%s), stock %+v", c.Errors, c.FirstError, c.Stock)
	}
	if min := 10 * float64(rtt.Milliseconds()); c.LockHeld.P50 < min {
		t.Fatalf("locks held p50 %.1f ms through links of %s round trips: want at least %.0f ms", c.LockHeld.P50, rtt, min)
	}
	if rep.Settings.LinkLatency != bench.Seconds(rtt.Seconds()) {
		t.Errorf("report's link latency %v, want %s", rep.Settings.LinkLatency, rtt)
	}
}
