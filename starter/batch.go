package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// batchFlags are the flags of batch.
type batchFlags struct {
	count, concurrency int
	failShare          float64
	seed               uint64
}

// batchOrder is one order of a batch and how it ended.
type batchOrder struct {
	placedOrder
	LatencyMS int64 `json:"latency_ms"`
}

// batchSummary is what batch reports.
type batchSummary struct {
	Seed        uint64         `json:"seed"`
	Count       int            `json:"count"`
	Concurrency int            `json:"concurrency"`
	FailShare   float64        `json:"fail_share"`
	ElapsedMS   int64          `json:"elapsed_ms"`
	Outcomes    map[string]int `json:"outcomes"`
	Unexpected  int            `json:"unexpected"`
	Latency     latencies      `json:"latency"`
	Orders      []batchOrder   `json:"orders"`
}

func (c *cli) batchCommand() *cobra.Command {
	var f batchFlags
	cmd := &cobra.Command{
		Use:   "batch",
		Short: "Place many orders at once, wait for every outcome and summarize them",
		Long: `batch places --count orders, --concurrency sagas at a time, and waits for
every outcome. Customers are cust-001 to cust-100, regions spread over every
region. A --fail-share of the orders is shaped to fail: a forced failure at a
random step, or a business rule of the demo data (out of stock, insufficient
funds, unsupported destination, unknown SKU). Run seed first.

It shows progress (a bar on a terminal, lines otherwise) and ends with the
counts by outcome and the latency from start to outcome (p50, p95, p99, max).
--seed makes the random choices repeatable; the order ids are always fresh.
Exit status 1 when an order did not reach the outcome its scenario planned.`,
		Example: `  starter batch
  starter batch --count 500 --concurrency 32 --fail-share 0.1 --seed 7
  starter batch --count 20 --json | jq .outcomes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("seed") {
				f.seed = rand.Uint64()
			}
			return c.batch(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.count, "count", 100, "number of orders")
	fl.IntVar(&f.concurrency, "concurrency", 8, "sagas in flight at once")
	fl.Float64Var(&f.failShare, "fail-share", 0.3, "share of the orders shaped to fail, from 0 to 1")
	fl.Uint64Var(&f.seed, "seed", 0, "seed of the random choices (default: a random seed, printed)")
	return cmd
}

func (c *cli) batch(ctx context.Context, f batchFlags) error {
	switch {
	case f.count < 1:
		return fmt.Errorf("--count is %d, want at least 1", f.count)
	case f.concurrency < 1:
		return fmt.Errorf("--concurrency is %d, want at least 1", f.concurrency)
	case f.failShare < 0 || f.failShare > 1:
		return fmt.Errorf("--fail-share is %g, want a share from 0 to 1", f.failShare)
	}
	orders, err := planBatch(f, newOrderID("b"))
	if err != nil {
		return err
	}
	tc, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := awaitWorkers(ctx, tc, c.taskQueues(), 5*time.Second); err != nil {
		return err
	}

	var prog *progress
	switch {
	case c.json:
		prog = startProgress(c.errOut, f.count, false, 5*time.Second)
	default:
		fmt.Fprintf(c.out, "placing %d orders, %d at a time (seed %d)\n", f.count, f.concurrency, f.seed)
		prog = startProgress(c.out, f.count, isTerminal(c.out), 5*time.Second)
	}
	start := time.Now()
	err = c.runBatch(ctx, tc, orders, f.concurrency, prog)
	prog.finish()
	if err != nil {
		return err
	}
	s := summarizeBatch(f, orders, time.Since(start))
	if err := c.print(s, func(w io.Writer) { writeBatchSummary(w, s) }); err != nil {
		return err
	}
	if s.Unexpected > 0 {
		return failedResult("%d of %d orders did not reach their planned outcome", s.Unexpected, s.Count)
	}
	return nil
}

// planBatch draws the batch's orders from the seed; ids are prefix-NNNN.
func planBatch(f batchFlags, prefix string) ([]batchOrder, error) {
	r := rand.New(rand.NewPCG(f.seed, 0x5a6a))
	failures := []func(*workflows.OrderInput) scenario{
		func(in *workflows.OrderInput) scenario {
			return forcedFailure(in, workflows.ForceableSteps[r.IntN(len(workflows.ForceableSteps))])
		},
		outOfStock, insufficientFunds, unsupportedDestination, unknownSKU,
	}
	skus := []string{"SKU-1", "SKU-2", "SKU-3", "SKU-4"}
	orders := make([]batchOrder, f.count)
	for i := range orders {
		region := workflows.Regions[r.IntN(len(workflows.Regions))]
		in := workflows.OrderInput{
			OrderID:    fmt.Sprintf("%s-%04d", prefix, i+1),
			CustomerID: fmt.Sprintf("cust-%03d", 1+r.IntN(100)),
			Region:     region,
			ShipTo:     defaultShipTo[region],
		}
		for _, j := range r.Perm(len(skus))[:1+r.IntN(3)] {
			in.Items = append(in.Items, services.Item{SKU: skus[j], Quantity: int64(1 + r.IntN(5))})
		}
		sc := succeed(&in)
		if r.Float64() < f.failShare {
			sc = failures[r.IntN(len(failures))](&in)
		}
		valid, err := workflows.Validate(in)
		if err != nil {
			return nil, fmt.Errorf("plan order %s: %w", in.OrderID, err)
		}
		orders[i] = batchOrder{placedOrder: placedOrder{OrderID: in.OrderID, Region: in.Region, Customer: in.CustomerID, scenario: sc, in: valid}}
	}
	return orders, nil
}

// runBatch places the orders, at most concurrency at a time, and records
// each outcome in place. The first failure to start or to wait stops the
// batch: it is the server's, not a saga's.
func (c *cli) runBatch(ctx context.Context, tc client.Client, orders []batchOrder, concurrency int, prog *progress) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(concurrency, len(orders)) {
		wg.Go(func() {
			for i := range next {
				if err := c.runOrder(ctx, tc, &orders[i]); err != nil {
					cancel(err)
					return
				}
				prog.add(orders[i].Outcome)
			}
		})
	}
feed:
	for i := range orders {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// runOrder places one order and waits for its outcome.
func (c *cli) runOrder(ctx context.Context, tc client.Client, o *batchOrder) error {
	start := time.Now()
	p, err := startSaga(ctx, tc, c.dc, o.in, c.taskQueue(o.in.Region))
	if err != nil {
		return err
	}
	out, err := sagaclient.Wait(ctx, tc, p.OrderID, p.RunID)
	if err != nil {
		return err
	}
	o.LatencyMS = time.Since(start).Milliseconds()
	o.record(out)
	return nil
}

// summarizeBatch counts the outcomes and computes the latencies.
func summarizeBatch(f batchFlags, orders []batchOrder, elapsed time.Duration) batchSummary {
	s := batchSummary{Seed: f.seed, Count: len(orders), Concurrency: f.concurrency, FailShare: f.failShare,
		ElapsedMS: elapsed.Milliseconds(), Outcomes: map[string]int{}, Orders: orders}
	for _, k := range sagaclient.Kinds {
		s.Outcomes[k] = 0
	}
	ds := make([]time.Duration, 0, len(orders))
	for _, o := range orders {
		s.Outcomes[o.Outcome]++
		if o.Unexpected != "" {
			s.Unexpected++
		}
		ds = append(ds, time.Duration(o.LatencyMS)*time.Millisecond)
	}
	s.Latency = summarize(ds)
	return s
}

func writeBatchSummary(w io.Writer, s batchSummary) {
	elapsed := time.Duration(s.ElapsedMS) * time.Millisecond
	fmt.Fprintf(w, "\n%d orders in %s (%.1f orders/s), seed %d, concurrency %d, fail share %.2f\n",
		s.Count, elapsed.Round(100*time.Millisecond), float64(s.Count)/max(elapsed.Seconds(), 0.001), s.Seed, s.Concurrency, s.FailShare)
	other := s.Outcomes[sagaclient.Cancelled] + s.Outcomes[sagaclient.CompensationFailed] + s.Outcomes[sagaclient.Failed]
	var otherParts []string
	for _, k := range []string{sagaclient.Cancelled, sagaclient.CompensationFailed, sagaclient.Failed} {
		if n := s.Outcomes[k]; n > 0 {
			otherParts = append(otherParts, fmt.Sprintf("%s %d", k, n))
		}
	}
	t := newTable(w, "OUTCOME", "ORDERS")
	t.row(sagaclient.Completed, fmt.Sprint(s.Outcomes[sagaclient.Completed]))
	t.row(sagaclient.Compensated, fmt.Sprint(s.Outcomes[sagaclient.Compensated]))
	t.row(sagaclient.Rejected, fmt.Sprint(s.Outcomes[sagaclient.Rejected]))
	t.row("failed/other", strings.TrimSpace(fmt.Sprintf("%d %s", other, parenthesized(strings.Join(otherParts, ", ")))))
	t.flush()
	l := s.Latency
	fmt.Fprintf(w, "latency, start to outcome: p50 %s  p95 %s  p99 %s  max %s\n",
		roundMS(l.P50), roundMS(l.P95), roundMS(l.P99), roundMS(l.Max))
	if s.Unexpected == 0 {
		fmt.Fprintf(w, "every order reached its planned outcome\n")
		return
	}
	fmt.Fprintf(w, "%d order(s) did not reach their planned outcome:\n", s.Unexpected)
	shown := 0
	for _, o := range s.Orders {
		if o.Unexpected != "" && shown < 10 {
			fmt.Fprintf(w, "  %s (%s): %s\n", o.OrderID, o.Name, o.Unexpected)
			shown++
		}
	}
	if s.Unexpected > shown {
		fmt.Fprintf(w, "  ... and %d more (see --json)\n", s.Unexpected-shown)
	}
}

func parenthesized(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// roundMS rounds d for display: milliseconds below a second, else 10 ms.
func roundMS(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
