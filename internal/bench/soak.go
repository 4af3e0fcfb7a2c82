package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/bson"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// SoakOptions say how a scale run's soak runs: its mode at its
// concurrency, on fresh stores, for Duration, sampled every Window.
type SoakOptions struct {
	Duration time.Duration
	Window   time.Duration
	// Retention, when positive, prunes the soak's stores every Window as
	// the cleanup workflow would with a namespace retention plus margin of
	// Retention: barrier rows, events and tombstones older than that (the
	// soak's sagas end within seconds, so none of them is protected).
	Retention time.Duration
}

// SoakSample is the state of Temporal and of the soak's stores at one
// moment of the soak.
type SoakSample struct {
	At Seconds `json:"at_s"`
	// Closed is the namespace's closed workflows.
	Closed int64 `json:"closed_workflows"`
	// ListMillis is how long a visibility query for 50 completed sagas
	// took (the query `starter list --status completed` sends).
	ListMillis float64 `json:"list_ms"`
	// CountMillis is how long counting the closed workflows took.
	CountMillis float64 `json:"count_ms"`
	// Pruned are the records the cleanup removed since the last sample.
	Pruned int `json:"pruned"`
	// BarrierRows, Events and Tombstones are the soak stores' records of
	// the kinds the cleanup prunes; Orders their order documents.
	BarrierRows int64 `json:"barrier_rows"`
	Events      int64 `json:"events"`
	Tombstones  int64 `json:"tombstones"`
	Orders      int64 `json:"orders"`
}

// SoakReport is the outcome of a soak.
type SoakReport struct {
	Cell      Cell         `json:"cell"`
	Window    Seconds      `json:"window_s"`
	Retention Seconds      `json:"retention_s"`
	Samples   []SoakSample `json:"samples"`
	Errors    []string     `json:"errors,omitempty"`
}

// soak runs o.Mode on fresh stores for so.Duration and samples Temporal
// and the stores every so.Window.
func (r *Runner) soak(ctx context.Context, mode string, concurrency int, so SoakOptions) (*SoakReport, error) {
	cat := scaleCatalog()
	st, err := r.openStores(ctx, "soak", cat)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := st.close(ctx); err != nil {
			r.warn(err)
		}
	}()
	rep := &SoakReport{Window: Seconds(so.Window.Seconds()), Retention: Seconds(so.Retention.Seconds())}
	start := time.Now()
	sample := func(pruned int) {
		s, err := r.sampleSoak(ctx, st, start, pruned)
		if err != nil {
			rep.Errors = append(rep.Errors, err.Error())
		}
		rep.Samples = append(rep.Samples, s)
	}
	sample(0)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(so.Window)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				pruned := 0
				if so.Retention > 0 {
					n, err := pruneStores(ctx, st, time.Now().Add(-so.Retention))
					if err != nil {
						rep.Errors = append(rep.Errors, err.Error())
					}
					pruned = n
				}
				sample(pruned)
			}
		}
	})
	d := drive{concurrency: concurrency, duration: so.Duration, window: so.Window, timeout: r.opts.OrderTimeout}
	rep.Cell, err = r.cellOn(ctx, st, "soak", KindSustained, mode, Spread, cat, d)
	close(done)
	wg.Wait()
	return rep, err
}

// sampleSoak reads Temporal's and the stores' state.
func (r *Runner) sampleSoak(ctx context.Context, st *cellStores, start time.Time, pruned int) (SoakSample, error) {
	s := SoakSample{At: Seconds(time.Since(start).Seconds()), Pruned: pruned}
	tc, ns := r.deps.Temporal, r.deps.Config.TemporalNamespace
	t0 := time.Now()
	count, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: ns, Query: fmt.Sprintf("ExecutionStatus != %q", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING.String()),
	})
	if err != nil {
		return s, fmt.Errorf("soak: count closed workflows: %w", err)
	}
	s.CountMillis, s.Closed = ms(time.Since(t0)), count.GetCount()
	t0 = time.Now()
	if _, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: ns, PageSize: 50, Query: `WorkflowType = "OrderSaga" AND SagaStatus = "COMPLETED"`,
	}); err != nil {
		return s, fmt.Errorf("soak: list sagas: %w", err)
	}
	s.ListMillis = ms(time.Since(t0))
	for _, c := range []struct {
		pool  *pgxpool.Pool
		table string
		n     *int64
	}{
		{st.inventoryPool, "saga_barrier", &s.BarrierRows}, {st.paymentsPool, "saga_barrier", &s.BarrierRows},
		{st.inventoryPool, "events", &s.Events}, {st.paymentsPool, "events", &s.Events},
	} {
		var n int64
		if err := c.pool.QueryRow(ctx, "SELECT count(*) FROM "+c.table).Scan(&n); err != nil {
			return s, fmt.Errorf("soak: count %s: %w", c.table, err)
		}
		*c.n += n
	}
	for _, name := range []string{orders.Collection, shipping.Collection} {
		n, err := st.mongoDB.Collection(name).CountDocuments(ctx, bson.D{{Key: mongobarrier.MarkerField + ".tombstone", Value: true}})
		if err != nil {
			return s, fmt.Errorf("soak: count %s tombstones: %w", name, err)
		}
		s.Tombstones += n
	}
	if s.Orders, err = st.mongoDB.Collection(orders.Collection).EstimatedDocumentCount(ctx); err != nil {
		return s, fmt.Errorf("soak: count orders: %w", err)
	}
	return s, nil
}

// pruneStores removes every barrier row, event and tombstone of the soak's
// stores older than cutoff, a batch at a time, and returns how many. A
// bench cell has no read side: its events go as if a projector had read
// them all.
func pruneStores(ctx context.Context, st *cellStores, cutoff time.Time) (int, error) {
	none := barrier.NewProtected()
	total := 0
	allRead := func(prune func(context.Context, time.Time, barrier.Protected, pgstore.Position, int) (int, error)) func(context.Context, time.Time, barrier.Protected, int) (int, error) {
		return func(ctx context.Context, cutoff time.Time, p barrier.Protected, limit int) (int, error) {
			return prune(ctx, cutoff, p, pgstore.PositionAfterAll, limit)
		}
	}
	for _, prune := range []func(context.Context, time.Time, barrier.Protected, int) (int, error){
		st.Inventory.PruneBarrier, allRead(st.Inventory.PruneEvents), st.Payments.PruneBarrier, allRead(st.Payments.PruneEvents),
		st.Orders.PruneTombstones, st.Shipping.PruneTombstones,
	} {
		for {
			n, err := prune(ctx, cutoff, none, barrier.DefaultPruneBatch)
			total += n
			if err != nil {
				return total, fmt.Errorf("soak: prune: %w", err)
			}
			if n < barrier.DefaultPruneBatch {
				break
			}
		}
	}
	return total, nil
}
