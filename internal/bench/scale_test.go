package bench

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func scaleStep(orders int, throughput, p50, quoteP50 float64, verify *VerifyFigures) ScaleStep {
	return ScaleStep{
		Orders:     orders,
		Throughput: Cell{Throughput: throughput, Concurrency: 32},
		Latency:    Cell{Latency: Latency{P50: p50}},
		Ops:        []OpLatency{{Op: OpQuote, Count: 10, P50: quoteP50}},
		Verify:     verify,
	}
}

func targetByPrefix(t *testing.T, ts []Target, prefix string) Target {
	t.Helper()
	for _, x := range ts {
		if strings.HasPrefix(x.Name, prefix) {
			return x
		}
	}
	t.Fatalf("no target %q in %+v", prefix, ts)
	return Target{}
}

// The verdicts compare the largest size with the empty stores (the saga)
// and with 1,000 orders (each store operation), at the bounds.
func TestScaleTargets(t *testing.T) {
	rep := &ScaleReport{Mode: ModeSagaflowLocal, Steps: []ScaleStep{
		scaleStep(0, 60, 20, 9, nil),
		scaleStep(1000, 60, 20, 1.0, nil),
		scaleStep(1_000_000, 51, 24, 1.5, &VerifyFigures{Seconds: 179, MaxRSSMB: 1023, Sagas: 1_000_000}),
	}}
	ts := scaleTargets(rep)
	for prefix, met := range map[string]bool{
		"sagaflow-local throughput": true, // 85% exactly
		"sagaflow-local p50":        true, // 1.2x exactly
		OpQuote + " p50":            true, // 1.5x of the 1k step, not of the empty one
		"invariant checker":         true, // under both bounds
	} {
		if got := targetByPrefix(t, ts, prefix); !got.Measured || got.Met != met {
			t.Errorf("%s: %+v, want measured and met=%t", prefix, got, met)
		}
	}
	last := &rep.Steps[2]
	last.Throughput.Throughput, last.Latency.Latency.P50, last.Ops[0].P50 = 50.9, 24.1, 1.51
	last.Verify = &VerifyFigures{Seconds: 181, MaxRSSMB: 100}
	ts = scaleTargets(rep)
	for _, prefix := range []string{"sagaflow-local throughput", "sagaflow-local p50", OpQuote + " p50", "invariant checker"} {
		if got := targetByPrefix(t, ts, prefix); !got.Measured || got.Met {
			t.Errorf("%s: %+v, want measured and not met", prefix, got)
		}
	}
	last.Verify = &VerifyFigures{Seconds: 10, MaxRSSMB: 1025}
	if got := targetByPrefix(t, scaleTargets(rep), "invariant checker"); got.Met {
		t.Errorf("1025 MB met the memory bound: %+v", got)
	}
	last.Verify = &VerifyFigures{Seconds: 10, MaxRSSMB: 10, Breaches: 1}
	if got := targetByPrefix(t, scaleTargets(rep), "invariant checker"); got.Met {
		t.Errorf("a breach met the checker's target: %+v", got)
	}
	last.Verify = nil
	if got := targetByPrefix(t, scaleTargets(rep), "invariant checker"); got.Measured {
		t.Errorf("no checker run, measured: %+v", got)
	}
}

func TestScaleOptionsValidate(t *testing.T) {
	ok := ScaleOptions{RunID: "r", Sizes: []int{0, 10}, Mode: ModeSagaflowLocal, Concurrency: 1, OpsOrders: 1,
		Duration: time.Second, OrderTimeout: time.Second, Fill: func(_ context.Context, _ StoreHandles, _, _ int) error { return nil }}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*ScaleOptions){
		"descending sizes": func(o *ScaleOptions) { o.Sizes = []int{10, 0} },
		"negative size":    func(o *ScaleOptions) { o.Sizes = []int{-1, 10} },
		"no sizes":         func(o *ScaleOptions) { o.Sizes = nil },
		"bare mode":        func(o *ScaleOptions) { o.Mode = ModeBare },
		"no clients":       func(o *ScaleOptions) { o.Concurrency = 0 },
		"no timed orders":  func(o *ScaleOptions) { o.OpsOrders = 0 },
		"no prefill":       func(o *ScaleOptions) { o.Fill = nil },
	} {
		o := ok
		mutate(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A nil clock runs the operation and records nothing; a clock records
// every call, a refused one too.
func TestOpClock(t *testing.T) {
	var none *opClock
	ran := false
	if err := none.time(OpQuote, func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("nil clock: ran %t, err %v", ran, err)
	}
	c := newOpClock()
	refused := errors.New("refused")
	for i := range 4 {
		err := c.time(OpCharge, func() error {
			time.Sleep(time.Duration(i+1) * time.Millisecond)
			if i == 3 {
				return refused
			}
			return nil
		})
		if (i == 3) != errors.Is(err, refused) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	got := c.summary()
	if len(got) != 1 || got[0].Op != OpCharge || got[0].Count != 4 || got[0].P50 < 2 || got[0].P99 < 4 {
		t.Errorf("summary %+v, want 4 payments.Charge calls, p50 >= 2 ms, p99 >= 4 ms", got)
	}
}

func TestWriteScaleMarkdown(t *testing.T) {
	rep := &ScaleReport{Mode: ModeSagaflowLocal, Steps: []ScaleStep{
		scaleStep(0, 60, 20, 1, nil), scaleStep(1000, 60, 20, 1, nil), scaleStep(1_000_000, 55, 21, 1.2, &VerifyFigures{Seconds: 90, MaxRSSMB: 300}),
	}}
	rep.Targets = scaleTargets(rep)
	var b bytes.Buffer
	WriteScaleMarkdown(&b, rep)
	for _, want := range []string{"| 1M |", "| `inventory.Quote` | 1.00 / 0.00 ms | 1.00 / 0.00 ms | 1.20 / 0.00 ms |", "90.0 s, 300 MB, 0 breaches", "| yes |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}

// The soak's Temporal target is judged only from a fresh server to
// 100,000 closed workflows; the cleanup's compares the end with the
// records once the cutoff was reached.
func TestSoakTargets(t *testing.T) {
	soak := func(closed0, closedEnd int64, windows []int, records ...int64) *SoakReport {
		s := &SoakReport{Cell: Cell{Windows: windows}, Window: 60, Retention: 300}
		for i, n := range records {
			s.Samples = append(s.Samples, SoakSample{At: Seconds(60 * i), BarrierRows: n})
		}
		s.Samples[0].Closed, s.Samples[len(s.Samples)-1].Closed = closed0, closedEnd
		return s
	}
	flat := []int64{0, 10, 20, 30, 40, 50, 60, 60, 61, 62, 74}
	ts := soakTargets(soak(500, 100_000, []int{100, 90, 85}, flat...))
	if !ts[0].Measured || !ts[0].Met {
		t.Errorf("85%% after 100,000: %+v", ts[0])
	}
	if !ts[1].Measured || !ts[1].Met { // 74 / 60 at 420 s
		t.Errorf("bounded records: %+v", ts[1])
	}
	ts = soakTargets(soak(500, 100_000, []int{100, 90, 84}, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100))
	if !ts[0].Measured || ts[0].Met {
		t.Errorf("84%%: %+v", ts[0])
	}
	if !ts[1].Measured || ts[1].Met { // 100 / 60
		t.Errorf("growing records: %+v", ts[1])
	}
	if ts = soakTargets(soak(20_001, 200_000, []int{100, 100}, flat...)); ts[0].Measured {
		t.Errorf("a server not fresh: %+v", ts[0])
	}
	if ts = soakTargets(soak(0, 99_999, []int{100, 100}, flat...)); ts[0].Measured {
		t.Errorf("fewer than 100,000 closed: %+v", ts[0])
	}
	if ts = soakTargets(soak(0, 99_999, []int{100, 100}, 0, 10, 20)); ts[1].Measured {
		t.Errorf("a soak shorter than the cutoff: %+v", ts[1])
	}
}
