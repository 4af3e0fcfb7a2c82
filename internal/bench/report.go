package bench

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"
)

// The kinds of cell.
const (
	// KindThroughput: a fixed duration at one concurrency.
	KindThroughput = "throughput"
	// KindSellout: a fixed count of orders on one SKU with half as much
	// stock as orders.
	KindSellout = "sellout"
	// KindSustained: the fastest mode for a long window, counted per
	// window.
	KindSustained = "sustained"
)

// Seconds is a duration in seconds, as the JSON report holds durations.
type Seconds float64

// Report is the outcome of a run, as the JSON file holds it.
type Report struct {
	RunID     string    `json:"run_id"`
	StartedAt time.Time `json:"started_at"`
	Elapsed   Seconds   `json:"elapsed_s"`
	Machine   Machine   `json:"machine"`
	Settings  Settings  `json:"settings"`
	Cells     []Cell    `json:"cells"`
	Targets   []Target  `json:"targets"`
}

// Machine describes where the run took place.
type Machine struct {
	Cores      int    `json:"cores"`
	CPU        string `json:"cpu"`
	GoVersion  string `json:"go_version"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	// TemporalFlags are the dev server's storage and dynamic-config flags,
	// read from its command line (none for an external server).
	TemporalFlags []string `json:"temporal_flags,omitempty"`
}

// Settings are the options a run used, for the report.
type Settings struct {
	Warmup             Seconds      `json:"warmup_s"`
	Duration           Seconds      `json:"duration_s"`
	Concurrency        []int        `json:"concurrency"`
	SelloutStock       int          `json:"sellout_stock"`
	SelloutConcurrency int          `json:"sellout_concurrency"`
	Sustain            Seconds      `json:"sustain_s"`
	SustainMode        string       `json:"sustain_mode,omitempty"`
	SustainConcurrency int          `json:"sustain_concurrency,omitempty"`
	EagerStart         bool         `json:"eager_start"`
	Worker             WorkerTuning `json:"worker"`
	PGMaxConns         int32        `json:"pg_max_conns"`
	// LinkLatency is the round trip added to every link to the servers.
	LinkLatency Seconds `json:"link_latency_s,omitempty"`
}

func settingsOf(o Options) Settings {
	return Settings{
		Warmup: Seconds(o.Warmup.Seconds()), Duration: Seconds(o.Duration.Seconds()), Concurrency: o.Concurrency,
		SelloutStock: o.SelloutStock, SelloutConcurrency: o.SelloutConcurrency,
		Sustain: Seconds(o.Sustain.Seconds()), SustainMode: o.SustainMode, SustainConcurrency: o.SustainConcurrency,
		EagerStart: o.EagerStart, Worker: o.Worker, PGMaxConns: o.PGMaxConns,
		LinkLatency: Seconds(o.LinkLatency.Seconds()),
	}
}

// Cell is the result of one cell.
type Cell struct {
	Kind        string `json:"kind"`
	Mode        string `json:"mode"`
	Workload    string `json:"workload"`
	Concurrency int    `json:"concurrency"`
	// Seconds is the measured window (the whole cell for a sellout).
	Seconds    Seconds `json:"seconds"`
	Completed  int     `json:"completed"`
	OutOfStock int     `json:"out_of_stock"`
	Refused    int     `json:"refused"`
	Errors     int     `json:"errors"`
	// Throughput is completed orders per second.
	Throughput float64 `json:"throughput"`
	// Latency is of the completed orders, start to end as the client saw it.
	Latency Latency `json:"latency"`
	// Windows are the completions per sustain window (sustained cells).
	Windows []int      `json:"windows,omitempty"`
	Stock   StockCheck `json:"stock"`
	CPU     CPUShare   `json:"cpu_cores"`
	// LockHeld is how long the coordinated mode's orders held the stock
	// row's lock (every completed order of the cell, warm-up included).
	LockHeld *Latency `json:"lock_held,omitempty"`
	// ReadLag is, for the sagaflow modes, the end-to-end lag of the read
	// side: from each event's write to its view's update by the projector
	// that ran beside the cell's worker; ReadEvents how many events.
	ReadLag    *Latency `json:"read_lag,omitempty"`
	ReadEvents int      `json:"read_events,omitempty"`
	FirstError string   `json:"first_error,omitempty"`
}

func (c *Cell) fill(r driveResult) {
	c.Seconds = Seconds(r.elapsed.Seconds())
	c.Completed, c.OutOfStock, c.Refused, c.Errors = r.completed, r.outOfStock, r.refused, r.err
	if r.elapsed > 0 {
		c.Throughput = float64(int(float64(r.completed)/r.elapsed.Seconds()*10+0.5)) / 10
	}
	c.Latency = summarize(r.latencies)
	c.Windows = r.windows
	if r.firstError != nil {
		c.FirstError = r.firstError.Error()
	}
}

func machine() Machine {
	return Machine{Cores: runtime.NumCPU(), CPU: cpuModel(), GoVersion: runtime.Version(), LoadBefore: loadAverage()}
}

// cpuModel reads the processor's name from /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
