package bench

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// drive is how a cell places its orders: concurrency clients, each placing
// one order after the other, for warmup and then duration (the measured
// window), or until count orders were placed when count > 0. A window in
// which no order completed is stretched to the first completion, so a cell
// has figures (a slow machine gives a low throughput, not none) unless
// nothing completes within one order timeout after it.
type drive struct {
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	count       int
	// window, when set, splits the measured window into windows of this
	// length and records the completions of each (a sustained run).
	window time.Duration
	// timeout bounds one order.
	timeout time.Duration
}

// driveResult is what the clients saw.
type driveResult struct {
	elapsed                             time.Duration // the measured window
	completed, outOfStock, refused, err int
	latencies                           []time.Duration // of the measured completed orders
	windows                             []int           // completions per window
	// soldUnits counts the units of every completed order, warm-up and
	// stragglers included: what the stores must hold.
	soldUnits  int64
	firstError error
}

// placed is one order as its client saw it.
type placed struct {
	o      Order
	out    Outcome
	err    error
	t0, t1 time.Time
}

// run places orders with place until the cell ends; in-flight orders are
// waited for. Only orders that end inside the measured window count
// towards the figures (all of them with a count).
func (d drive) run(ctx context.Context, place orderFunc, next func(i int) Order) driveResult {
	start := time.Now()
	from := start.Add(d.warmup)
	to := from.Add(d.duration)
	giveUp := to.Add(d.timeout) // no completion by then: the cell has no figures
	var idx atomic.Int64
	var measured atomic.Bool // an order completed inside the window
	var mu sync.Mutex
	var all []placed
	var wg sync.WaitGroup
	for range d.concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				if now := time.Now(); d.count == 0 && !now.Before(to) && (measured.Load() || !now.Before(giveUp)) {
					return
				}
				i := int(idx.Add(1) - 1)
				if d.count > 0 && i >= d.count {
					return
				}
				p := placed{o: next(i)}
				octx, cancel := context.WithTimeout(ctx, d.timeout)
				p.t0 = time.Now()
				p.out, p.err = place(octx, p.o)
				p.t1 = time.Now()
				cancel()
				if p.err == nil && p.out == Completed && !p.t1.Before(from) {
					measured.Store(true)
				}
				mu.Lock()
				all = append(all, p)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if d.count > 0 {
		return summarizeOrders(all, time.Time{}, time.Time{}, time.Since(start), 0)
	}
	end := to
	if first := firstCompletion(all, from); first.After(end) {
		end = first
	}
	return summarizeOrders(all, from, end, end.Sub(from), d.window)
}

// firstCompletion is when the first order completed at or after from.
func firstCompletion(all []placed, from time.Time) time.Time {
	var first time.Time
	for _, p := range all {
		if p.err == nil && p.out == Completed && !p.t1.Before(from) && (first.IsZero() || p.t1.Before(first)) {
			first = p.t1
		}
	}
	return first
}

// summarizeOrders counts the orders that ended in [from, to] (all of them
// when from is zero) over a window of elapsed.
func summarizeOrders(all []placed, from, to time.Time, elapsed, window time.Duration) driveResult {
	r := driveResult{elapsed: elapsed}
	if window > 0 {
		r.windows = make([]int, max(int((elapsed+window-1)/window), 1))
	}
	for _, p := range all {
		if p.err == nil && p.out == Completed {
			r.soldUnits += p.o.Quantity
		}
		if !from.IsZero() && (p.t1.Before(from) || p.t1.After(to)) {
			continue // warm-up, or a straggler after the window
		}
		switch {
		case p.err != nil:
			r.err++
			if r.firstError == nil {
				r.firstError = p.err
			}
		case p.out == Completed:
			r.completed++
			r.latencies = append(r.latencies, p.t1.Sub(p.t0))
			if len(r.windows) > 0 {
				r.windows[min(int(p.t1.Sub(from)/window), len(r.windows)-1)]++
			}
		case p.out == OutOfStock:
			r.outOfStock++
		default:
			r.refused++
		}
	}
	return r
}
