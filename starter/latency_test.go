package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	twenty := make([]int, 20)
	for i := range twenty {
		twenty[i] = (i + 1) * 10
	}
	cases := []struct {
		name   string
		values []time.Duration
		want   latencies
	}{
		{"none", nil, latencies{}},
		{"one", ms(7), latencies{P50: 7 * time.Millisecond, P95: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		{"1 to 100", ms(hundred...), latencies{P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
		// 95% of 20 is exactly 19: the 19th value, not the 20th.
		{"20 values", ms(twenty...), latencies{P50: 100 * time.Millisecond, P95: 190 * time.Millisecond, P99: 200 * time.Millisecond, Max: 200 * time.Millisecond}},
		{"unsorted", ms(30, 10, 20, 40), latencies{P50: 20 * time.Millisecond, P95: 40 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond}},
	}
	for _, tc := range cases {
		if got := summarize(tc.values); got != tc.want {
			t.Errorf("%s: summarize = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestSummarizeKeepsInput(t *testing.T) {
	in := []time.Duration{3, 1, 2}
	summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("summarize reordered its input: %v", in)
	}
}
