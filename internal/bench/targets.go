package bench

import (
	"fmt"
	"strings"
)

// Target is one of the performance targets, as measured by a run.
type Target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  bool   `json:"met"`
	// Measured is false when the run had no cell to judge it by.
	Measured bool `json:"measured"`
}

// find returns the throughput cell of mode, workload and concurrency.
func find(rep *Report, kind, mode, workload string, conc int) (Cell, bool) {
	for _, c := range rep.Cells {
		if c.Kind == kind && c.Mode == mode && c.Workload == workload && (conc == 0 || c.Concurrency == conc) {
			return c, true
		}
	}
	return Cell{}, false
}

// peak returns the best throughput of mode under workload, and its cell.
func peak(rep *Report, mode, workload string) (Cell, bool) {
	var best Cell
	found := false
	for _, c := range rep.Cells {
		if c.Kind == KindThroughput && c.Mode == mode && c.Workload == workload && (!found || c.Throughput > best.Throughput) {
			best, found = c, true
		}
	}
	return best, found
}

// targets judges the run against the targets.
func targets(rep *Report) []Target {
	var out []Target
	for _, pair := range [][2]string{{ModeSagaflow, ModeBare}, {ModeSagaflowLocal, ModeBareLocal}} {
		t := Target{Name: fmt.Sprintf("%s vs %s: peak throughput (spread)", pair[0], pair[1]), Want: ">= 85%"}
		s, ok1 := peak(rep, pair[0], string(Spread))
		b, ok2 := peak(rep, pair[1], string(NoStock))
		if ok1 && ok2 && b.Throughput > 0 {
			ratio := s.Throughput / b.Throughput
			t.Measured, t.Met = true, ratio >= 0.85
			t.Got = fmt.Sprintf("%.0f%% (%.1f/s at c=%d vs %.1f/s at c=%d)", 100*ratio, s.Throughput, s.Concurrency, b.Throughput, b.Concurrency)
		}
		out = append(out, t)
	}

	t := Target{Name: "p50 latency of a completed saga at c=1, fastest mode", Want: "<= 150 ms"}
	var best float64
	for _, mode := range []string{ModeSagaflow, ModeSagaflowLocal} {
		if c, ok := find(rep, KindThroughput, mode, string(Spread), 1); ok && c.Completed > 0 {
			if !t.Measured || c.Latency.P50 < best {
				best = c.Latency.P50
				t.Measured, t.Met = true, best <= 150
				t.Got = fmt.Sprintf("%.1f ms (%s; p95 %.1f, p99 %.1f)", best, mode, c.Latency.P95, c.Latency.P99)
			}
		}
	}
	out = append(out, t)

	t = Target{Name: "sustained sagas/s for 60 s, fastest mode", Want: ">= 60/s for >= 60 s"}
	for _, c := range rep.Cells {
		if c.Kind == KindSustained {
			low := 0.0
			if len(c.Windows) > 0 && float64(c.Seconds) > 0 {
				w := float64(c.Seconds) / float64(len(c.Windows))
				low = float64(minInt(c.Windows)) / w
			}
			t.Measured = true
			t.Met = c.Throughput >= 60 && float64(c.Seconds) >= 60 && c.Errors == 0
			t.Got = fmt.Sprintf("%.1f/s over %.0f s (%s, c=%d; slowest window %.1f/s; %d errors)",
				c.Throughput, float64(c.Seconds), c.Mode, c.Concurrency, low, c.Errors)
		}
	}
	out = append(out, t)

	t = Target{Name: "hot SKU, 64 clients: sagaflow vs coordinated", Want: ">= 5x"}
	if coord, ok := find(rep, KindThroughput, ModeCoordinated, string(Hot), 64); ok && coord.Throughput > 0 {
		var best float64
		for _, mode := range []string{ModeSagaflow, ModeSagaflowLocal} {
			if s, ok := find(rep, KindThroughput, mode, string(Hot), 64); ok {
				ratio := s.Throughput / coord.Throughput
				if !t.Measured || ratio > best {
					best = ratio
					t.Measured, t.Met = true, ratio >= 5
					t.Got = fmt.Sprintf("%.2fx (%s %.1f/s vs coordinated %.1f/s)", ratio, mode, s.Throughput, coord.Throughput)
					if h := coord.LockHeld; h != nil && h.P50 > 0 {
						t.Got += fmt.Sprintf("; coordinated held the SKU's lock p50 %.1f ms: at most %.0f/s on one SKU", h.P50, 1000/h.P50)
					}
				}
			}
		}
	}
	out = append(out, t)

	t = Target{Name: "oversell, every cell", Want: "0", Measured: true, Met: true}
	var oversold int64
	var problems []string
	checked := 0
	for _, c := range rep.Cells {
		if !c.Stock.Checked {
			continue
		}
		checked++
		oversold += c.Stock.Oversold
		if !c.Stock.OK() {
			t.Met = false
			problems = append(problems, fmt.Sprintf("%s %s c=%d", c.Mode, c.Workload, c.Concurrency))
		}
		if c.Kind == KindSellout && (c.Completed != int(c.Stock.Stock) || c.OutOfStock != int(c.Stock.Stock) || c.Errors > 0) {
			t.Met = false
			problems = append(problems, fmt.Sprintf("sellout %s: %d completed, %d out of stock of %d units", c.Mode, c.Completed, c.OutOfStock, c.Stock.Stock))
		}
	}
	t.Got = fmt.Sprintf("%d units oversold over %d checked cells", oversold, checked)
	if len(problems) > 0 {
		t.Got += "; problems: " + strings.Join(problems, "; ")
	}
	out = append(out, t)
	return out
}

func minInt(xs []int) int {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}
