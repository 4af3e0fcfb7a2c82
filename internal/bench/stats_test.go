package bench

import (
	"context"
	"testing"
	"time"
)

func TestSummarizeNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	l := summarize(ds)
	if l.P50 != 50 || l.P95 != 95 || l.P99 != 99 || l.Max != 100 || l.Mean != 50.5 {
		t.Fatalf("%+v", l)
	}
	if one := summarize([]time.Duration{7 * time.Millisecond}); one.P50 != 7 || one.P99 != 7 {
		t.Fatalf("one: %+v", one)
	}
	if none := summarize(nil); none != (Latency{}) {
		t.Fatalf("none: %+v", none)
	}
}

func TestParseStat(t *testing.T) {
	// pid (comm with ) and spaces) state ppid ... utime stime cutime cstime
	line := "42 (temporal (x) y) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 12 0 1 1 1"
	st, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if st.ppid != 7 || st.cpu != 3*time.Second || st.reaped != 500*time.Millisecond {
		t.Fatalf("%+v", st)
	}
	if _, err := parseStat([]byte("garbage")); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestDriveCountsOnlyTheWindow(t *testing.T) {
	d := drive{concurrency: 2, count: 10, timeout: time.Second}
	res := d.run(t.Context(), func(_ context.Context, o Order) (Outcome, error) {
		if o.ID == "x-000003" {
			return OutOfStock, nil
		}
		return Completed, nil
	}, func(i int) Order { return catalog{skus: []string{"A"}}.order("x", i) })
	if res.completed != 9 || res.outOfStock != 1 || res.soldUnits != 9 || len(res.latencies) != 9 {
		t.Fatalf("%+v", res)
	}
}

func TestDriveStretchesAnEmptyWindow(t *testing.T) {
	d := drive{concurrency: 1, duration: 10 * time.Millisecond, timeout: time.Second}
	res := d.run(t.Context(), func(context.Context, Order) (Outcome, error) {
		time.Sleep(60 * time.Millisecond)
		return Completed, nil
	}, func(i int) Order { return catalog{skus: []string{"A"}}.order("s", i) })
	if res.completed != 1 || res.elapsed < 50*time.Millisecond || len(res.latencies) != 1 {
		t.Fatalf("%+v", res)
	}
}

func TestTargetsJudgeTheCells(t *testing.T) {
	cell := func(kind, mode string, w Workload, c int, tput, p50 float64) Cell {
		return Cell{Kind: kind, Mode: mode, Workload: string(w), Concurrency: c, Throughput: tput, Completed: 1,
			Latency: Latency{P50: p50}, Seconds: 60, Stock: StockCheck{Checked: w != NoStock}}
	}
	rep := &Report{Cells: []Cell{
		cell(KindThroughput, ModeBare, NoStock, 1, 10, 100), cell(KindThroughput, ModeBare, NoStock, 64, 40, 100),
		cell(KindThroughput, ModeSagaflow, Spread, 1, 9, 160), cell(KindThroughput, ModeSagaflow, Spread, 64, 30, 900),
		cell(KindThroughput, ModeBareLocal, NoStock, 64, 100, 10), cell(KindThroughput, ModeSagaflowLocal, Spread, 64, 90, 30),
		cell(KindThroughput, ModeSagaflowLocal, Spread, 1, 30, 30),
		cell(KindThroughput, ModeCoordinated, Hot, 64, 10, 5), cell(KindThroughput, ModeSagaflowLocal, Hot, 64, 60, 40),
		cell(KindSustained, ModeSagaflowLocal, Spread, 32, 70, 40),
	}}
	rep.Cells[len(rep.Cells)-1].Windows = []int{120, 130}
	got := map[string]bool{}
	for _, tg := range targets(rep) {
		if !tg.Measured {
			t.Errorf("%s not measured", tg.Name)
		}
		got[tg.Name] = tg.Met
	}
	want := map[string]bool{
		"sagaflow vs bare: peak throughput (spread)":             false, // 30 / 40
		"sagaflow-local vs bare-local: peak throughput (spread)": true,  // 90 / 100
		"p50 latency of a completed saga at c=1, fastest mode":   true,  // 30 ms
		"sustained sagas/s for 60 s, fastest mode":               true,
		"hot SKU, 64 clients: sagaflow vs coordinated":           true, // 6x
		"oversell, every cell":                                   true,
	}
	for name, met := range want {
		if got[name] != met {
			t.Errorf("%s: met %t, want %t", name, got[name], met)
		}
	}
}
