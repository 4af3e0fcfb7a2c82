package main

import (
	"encoding/json"
	"slices"
	"time"
)

// latencies summarizes how long sagas took, from start to outcome.
type latencies struct {
	P50, P95, P99, Max time.Duration
}

// summarize computes the percentiles of ds (zero when ds is empty).
func summarize(ds []time.Duration) latencies {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return latencies{
		P50: percentile(sorted, 50),
		P95: percentile(sorted, 95),
		P99: percentile(sorted, 99),
		Max: percentile(sorted, 100),
	}
}

// MarshalJSON writes the latencies in milliseconds.
func (l latencies) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return json.Marshal(map[string]float64{
		"p50_ms": ms(l.P50), "p95_ms": ms(l.P95), "p99_ms": ms(l.P99), "max_ms": ms(l.Max),
	})
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted values by
// the nearest-rank method: the smallest value that at least p percent of the
// values do not exceed. It returns 0 for no values.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n), in integers
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}
