package bench

import (
	"fmt"
	"time"
)

// The scale run's targets (issue 12).
const (
	scaleThroughputShare = 0.85 // largest size's throughput over empty stores'
	scaleLatencyFactor   = 1.2  // largest size's p50 over empty stores'
	scaleOpFactor        = 1.5  // each operation's p50 at the largest size over its p50 at scaleOpBase
	scaleOpBase          = 1000
	verifyMaxTime        = 3 * time.Minute
	verifyMaxRSSMB       = 1024
)

// scaleTargets judges a scale run: the largest size against the first (and,
// for the store operations, against scaleOpBase orders).
func scaleTargets(rep *ScaleReport) []Target {
	var soak []Target
	if rep.Soak != nil {
		soak = soakTargets(rep.Soak)
	}
	if len(rep.Steps) < 2 {
		return soak
	}
	first, last := rep.Steps[0], rep.Steps[len(rep.Steps)-1]
	at := func(s ScaleStep) string { return fmt.Sprintf("%d orders", s.Orders) }
	var out []Target
	t := Target{Name: fmt.Sprintf("%s throughput at %s vs %s", rep.Mode, at(last), at(first)), Want: fmt.Sprintf(">= %.0f%%", 100*scaleThroughputShare)}
	if a, b := last.Throughput, first.Throughput; b.Throughput > 0 {
		ratio := a.Throughput / b.Throughput
		t.Measured, t.Met = true, ratio >= scaleThroughputShare
		t.Got = fmt.Sprintf("%.0f%% (%.1f/s vs %.1f/s at c=%d)", 100*ratio, a.Throughput, b.Throughput, a.Concurrency)
	}
	out = append(out, t)
	t = Target{Name: fmt.Sprintf("%s p50 latency at c=1, %s vs %s", rep.Mode, at(last), at(first)), Want: fmt.Sprintf("<= %.1fx", scaleLatencyFactor)}
	if a, b := last.Latency.Latency.P50, first.Latency.Latency.P50; b > 0 && a > 0 {
		t.Measured, t.Met = true, a <= scaleLatencyFactor*b
		t.Got = fmt.Sprintf("%.2fx (%.1f ms vs %.1f ms)", a/b, a, b)
	}
	out = append(out, t)
	if base, ok := stepAt(rep, scaleOpBase); ok {
		for _, op := range last.Ops {
			t := Target{Name: fmt.Sprintf("%s p50 at %s vs %d orders", op.Op, at(last), scaleOpBase), Want: fmt.Sprintf("<= %.1fx", scaleOpFactor)}
			for _, b := range base.Ops {
				if b.Op == op.Op && b.P50 > 0 {
					t.Measured, t.Met = true, op.P50 <= scaleOpFactor*b.P50
					t.Got = fmt.Sprintf("%.2fx (%.2f ms vs %.2f ms)", op.P50/b.P50, op.P50, b.P50)
				}
			}
			out = append(out, t)
		}
	}
	t = Target{Name: fmt.Sprintf("invariant checker over %s", at(last)), Want: fmt.Sprintf("< %s and < %d MB", verifyMaxTime, verifyMaxRSSMB)}
	if v := last.Verify; v != nil {
		t.Measured = true
		t.Met = v.Breaches == 0 && float64(v.Seconds) < verifyMaxTime.Seconds() && v.MaxRSSMB < verifyMaxRSSMB
		t.Got = fmt.Sprintf("%.0f s, %.0f MB, %d sagas, %d breaches", v.Seconds, v.MaxRSSMB, v.Sagas, v.Breaches)
	}
	return append(append(out, t), soak...)
}

// stepAt returns the step of rep at size orders.
func stepAt(rep *ScaleReport, size int) (ScaleStep, bool) {
	for _, s := range rep.Steps {
		if s.Orders == size {
			return s, true
		}
	}
	return ScaleStep{}, false
}

// The soak's targets.
const (
	soakClosedAfter     = 100_000 // closed workflows the server holds by the soak's end
	soakFreshAtMost     = 20_000  // closed workflows a "fresh" server holds at the soak's start
	soakThroughputShare = 0.85    // the last window's throughput over the first's
	soakGrowthBound     = 1.25    // records at the end over records once the cleanup reached steady state
)

// soakTargets judges a soak: Temporal's throughput as closed workflows
// pile up, and the stores' size under the cleanup.
func soakTargets(s *SoakReport) []Target {
	t := Target{Name: fmt.Sprintf("Temporal: throughput after %d closed workflows vs a fresh server (soak's last window vs its first)", soakClosedAfter),
		Want: fmt.Sprintf(">= %.0f%%", 100*soakThroughputShare)}
	w := s.Cell.Windows
	if len(s.Samples) > 1 && len(w) > 1 {
		first, last := s.Samples[0], s.Samples[len(s.Samples)-1]
		switch {
		case first.Closed > soakFreshAtMost:
			t.Got = fmt.Sprintf("server not fresh: %d closed workflows at the start (make down && make wipe && make up first)", first.Closed)
		case last.Closed < soakClosedAfter:
			t.Got = fmt.Sprintf("only %d closed workflows by the end: a longer soak", last.Closed)
		default:
			ratio := float64(w[len(w)-1]) / float64(w[0])
			t.Measured, t.Met = true, ratio >= soakThroughputShare
			t.Got = fmt.Sprintf("%.0f%% (%d vs %d sagas per %.0f s window; %d then %d closed workflows)",
				100*ratio, w[len(w)-1], w[0], s.Window, first.Closed, last.Closed)
		}
	}
	out := []Target{t}
	t = Target{Name: "cleanup keeps the stores bounded at steady load (barrier rows, events, tombstones)", Want: fmt.Sprintf("end <= %.2fx steady state", soakGrowthBound)}
	if s.Retention > 0 {
		steady := float64(s.Retention) + 2*float64(s.Window)
		var base *SoakSample
		for i := range s.Samples {
			if float64(s.Samples[i].At) >= steady {
				base = &s.Samples[i]
				break
			}
		}
		last := s.Samples[len(s.Samples)-1]
		if base != nil && base != &s.Samples[len(s.Samples)-1] {
			records := func(x SoakSample) int64 { return x.BarrierRows + x.Events + x.Tombstones }
			ratio := float64(records(last)) / float64(max(records(*base), 1))
			t.Measured, t.Met = true, ratio <= soakGrowthBound
			t.Got = fmt.Sprintf("%.2fx (%d records at %.0f s, %d at %.0f s; %d orders stored)", ratio, records(*base), base.At, records(last), last.At, last.Orders)
		} else {
			t.Got = "soak shorter than the retention plus two windows"
		}
	}
	return append(out, t)
}
