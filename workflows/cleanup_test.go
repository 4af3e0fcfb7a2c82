package workflows_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/workflows"
)

// cleanupFakes stands in for the cleanup's activities: a fixed retention,
// a count of records per store, and stores that fail.
type cleanupFakes struct {
	mu        sync.Mutex
	retention time.Duration
	records   map[string]int
	failing   map[string]bool
	cutoffIn  activities.CutoffInput
	pruned    []activities.PruneInput
	attempts  map[string]int
}

func (f *cleanupFakes) CleanupCutoff(_ context.Context, in activities.CutoffInput) (activities.CutoffResult, error) {
	f.cutoffIn = in
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return activities.CutoffResult{Now: now, Retention: f.retention, Cutoff: now.Add(-f.retention - in.Margin)}, nil
}

func (f *cleanupFakes) PruneStore(ctx context.Context, in activities.PruneInput) (activities.PruneResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[in.Store]++
	if f.failing[in.Store] {
		return activities.PruneResult{}, errors.New("store down")
	}
	f.pruned = append(f.pruned, in)
	res := activities.PruneResult{Store: in.Store}
	for in.MaxBatches == 0 || res.Batches < in.MaxBatches {
		n := min(f.records[in.Store], in.BatchSize)
		f.records[in.Store] -= n
		res.Removed += n
		res.Batches++
		activity.RecordHeartbeat(ctx, res)
		if n < in.BatchSize {
			res.Complete = true
			break
		}
	}
	return res, nil
}

func newCleanupEnv(t *testing.T, f *cleanupFakes) (*testsuite.TestWorkflowEnvironment, *metricsRecorder) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	metrics := &metricsRecorder{}
	suite.SetMetricsHandler(metrics)
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.Cleanup, workflow.RegisterOptions{Name: workflows.CleanupType})
	env.RegisterActivity(f)
	if f.attempts == nil {
		f.attempts = map[string]int{}
	}
	return env, metrics
}

// TestCleanupPrunesEveryStoreFromTheNamespaceCutoff: the run asks for the
// cutoff with the margin, prunes each store in turn with that cutoff and
// the defaults, stops a store at its batch bound, and counts what each
// store removed.
func TestCleanupPrunesEveryStoreFromTheNamespaceCutoff(t *testing.T) {
	f := &cleanupFakes{retention: 72 * time.Hour, records: map[string]int{
		activities.StoreInventoryBarrier: 12_001, activities.StorePaymentsEvents: 3, activities.StoreOrderTombstones: 1_100_000,
	}}
	env, metrics := newCleanupEnv(t, f)
	env.ExecuteWorkflow(workflows.CleanupType, workflows.CleanupInput{Margin: 36 * time.Hour})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.CleanupResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if f.cutoffIn.Margin != 36*time.Hour {
		t.Errorf("cutoff asked with margin %s, want 36h", f.cutoffIn.Margin)
	}
	wantCutoff := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).Add(-108 * time.Hour)
	if !res.Cutoff.Equal(wantCutoff) || res.Retention != 72*time.Hour {
		t.Errorf("cutoff %s, retention %s; want %s, 72h", res.Cutoff, res.Retention, wantCutoff)
	}
	var stores []string
	for _, in := range f.pruned {
		stores = append(stores, in.Store)
		if !in.Cutoff.Equal(wantCutoff) || in.BatchSize != workflows.DefaultCleanupBatch || in.MaxBatches != workflows.DefaultCleanupMaxBatches {
			t.Errorf("prune %+v: want the run's cutoff and the default batch and bound", in)
		}
	}
	if !slices.Equal(stores, activities.CleanupStores) {
		t.Errorf("pruned %v, want %v in order", stores, activities.CleanupStores)
	}
	removed := map[string]activities.PruneResult{}
	for _, r := range res.Stores {
		removed[r.Store] = r
	}
	if r := removed[activities.StoreInventoryBarrier]; r.Removed != 12_001 || r.Batches != 3 || !r.Complete {
		t.Errorf("inventory barrier: %+v, want 12001 in 3 batches, complete", r)
	}
	if r := removed[activities.StoreOrderTombstones]; r.Removed != 1_000_000 || r.Complete {
		t.Errorf("order tombstones: %+v, want 1,000,000 (the bound), not complete", r)
	}
	if res.Removed != 12_001+3+1_000_000 {
		t.Errorf("removed %d in all", res.Removed)
	}
	got := metrics.snapshot()
	for _, want := range []string{
		"sagaflow_cleanup_pruned{store=inventory.saga_barrier}=12001",
		"sagaflow_cleanup_pruned{store=payments.events}=3",
		"sagaflow_cleanup_pruned{store=orders.tombstones}=1000000",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("metrics %v lack %s", got, want)
		}
	}
}

// TestCleanupGoesOnPastAFailingStoreAndFails: a store whose prune keeps
// failing is retried a bounded number of times, the other stores are
// pruned, and the run fails naming it, its result in the details.
func TestCleanupGoesOnPastAFailingStoreAndFails(t *testing.T) {
	f := &cleanupFakes{retention: 24 * time.Hour, records: map[string]int{activities.StoreShipTombstones: 7},
		failing: map[string]bool{activities.StorePaymentsBarrier: true}}
	env, _ := newCleanupEnv(t, f)
	env.ExecuteWorkflow(workflows.CleanupType, workflows.CleanupInput{})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "CleanupFailed" {
		t.Fatalf("run ended %v, want CleanupFailed", err)
	}
	var res workflows.CleanupResult
	if err := appErr.Details(&res); err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Failed[activities.StorePaymentsBarrier]; !ok || len(res.Failed) != 1 {
		t.Errorf("failed %v, want payments.saga_barrier alone", res.Failed)
	}
	if len(res.Stores) != len(activities.CleanupStores)-1 || res.Removed != 7 {
		t.Errorf("pruned %d stores, %d records; want the other %d, 7", len(res.Stores), res.Removed, len(activities.CleanupStores)-1)
	}
	if n := f.attempts[activities.StorePaymentsBarrier]; n != 3 {
		t.Errorf("the failing store was tried %d times, want 3", n)
	}
	if res.Margin != workflows.DefaultCleanupMargin {
		t.Errorf("margin %s, want the default", res.Margin)
	}
}
