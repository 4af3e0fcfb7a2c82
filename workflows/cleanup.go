package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
)

// OrderSagaType is the workflow type the order saga is registered under.
const OrderSagaType = "OrderSaga"

// CleanupType is the workflow type of the retention cleanup, which a
// Temporal Schedule runs (internal/workers: EnsureCleanupSchedule).
const CleanupType = "RetentionCleanup"

// The cleanup's defaults.
const (
	// DefaultCleanupMargin is added to the namespace's retention: late
	// activity attempts after a saga closed (bounded by the steps'
	// attempt timeouts: a minute for the pivot, 15 s for the others), clock skew between the stores, the
	// workers and Temporal, and visibility lag are all far shorter.
	DefaultCleanupMargin = 24 * time.Hour
	// DefaultCleanupBatch is the most records one statement removes.
	DefaultCleanupBatch = 5000
	// DefaultCleanupMaxBatches bounds one run's batches per store
	// (1,000,000 records at the default batch size); the next run goes on.
	DefaultCleanupMaxBatches = 200
)

// The activity bounds of a cleanup run: a store's prune heartbeats after
// every batch and stops starting batches a minute before its timeout.
const (
	cleanupPruneTimeout     = 30 * time.Minute
	cleanupHeartbeatTimeout = 2 * time.Minute
	cleanupAttempts         = 3
)

// MetricCleanupPruned counts the records the cleanup removed, by store
// (sagaflow_cleanup_pruned_total{store} on the worker's endpoint).
const MetricCleanupPruned = "sagaflow_cleanup_pruned"

// CleanupInput configures a cleanup run; zero fields take the defaults.
type CleanupInput struct {
	Margin     time.Duration `json:"margin,omitempty"`
	BatchSize  int           `json:"batch_size,omitempty"`
	MaxBatches int           `json:"max_batches,omitempty"`
	// Stores are the stores to prune (activities.CleanupStores when empty).
	Stores []string `json:"stores,omitempty"`
}

// WithDefaults returns in with its zero fields set to the defaults.
func (in CleanupInput) WithDefaults() CleanupInput {
	if in.Margin == 0 {
		in.Margin = DefaultCleanupMargin
	}
	if in.BatchSize <= 0 {
		in.BatchSize = DefaultCleanupBatch
	}
	if in.MaxBatches <= 0 {
		in.MaxBatches = DefaultCleanupMaxBatches
	}
	if len(in.Stores) == 0 {
		in.Stores = activities.CleanupStores
	}
	return in
}

// CleanupResult is what a cleanup run removed.
type CleanupResult struct {
	Retention time.Duration            `json:"retention"`
	Margin    time.Duration            `json:"margin"`
	Cutoff    time.Time                `json:"cutoff"`
	Stores    []activities.PruneResult `json:"stores"`
	Failed    map[string]string        `json:"failed,omitempty"`
	Removed   int                      `json:"removed"`
}

// Cleanup is the retention cleanup: it reads the cutoff (now minus the
// namespace's retention and the margin), then prunes each store in turn,
// one activity per store, so its history stays a few dozen events. A
// store whose prune fails does not stop the others; the run then fails
// naming it, with the result as its details, and the next run tries
// again.
func Cleanup(ctx workflow.Context, in CleanupInput) (CleanupResult, error) {
	in = in.WithDefaults()
	logger := workflow.GetLogger(ctx)
	var cleanup *activities.Cleanup
	cutoffCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})
	var cut activities.CutoffResult
	if err := workflow.ExecuteActivity(cutoffCtx, cleanup.CleanupCutoff, activities.CutoffInput{Margin: in.Margin}).Get(ctx, &cut); err != nil {
		return CleanupResult{}, fmt.Errorf("cleanup cutoff: %w", err)
	}
	res := CleanupResult{Retention: cut.Retention, Margin: in.Margin, Cutoff: cut.Cutoff}
	logger.Info("cleanup started", "retention", cut.Retention, "margin", in.Margin, "cutoff", cut.Cutoff)
	pruneCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: cleanupPruneTimeout,
		HeartbeatTimeout:    cleanupHeartbeatTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumAttempts: cleanupAttempts},
	})
	metrics := workflow.GetMetricsHandler(ctx)
	var failed []string
	for _, store := range in.Stores {
		var pr activities.PruneResult
		err := workflow.ExecuteActivity(pruneCtx, cleanup.PruneStore, activities.PruneInput{
			Store: store, Cutoff: cut.Cutoff, BatchSize: in.BatchSize, MaxBatches: in.MaxBatches,
		}).Get(ctx, &pr)
		if err != nil {
			logger.Error("store prune failed", "store", store, "error", err)
			if res.Failed == nil {
				res.Failed = map[string]string{}
			}
			res.Failed[store] = err.Error()
			failed = append(failed, store)
			continue
		}
		res.Stores = append(res.Stores, pr)
		res.Removed += pr.Removed
		metrics.WithTags(map[string]string{"store": store}).Counter(MetricCleanupPruned).Inc(int64(pr.Removed))
		logger.Info("store pruned", "store", store, "removed", pr.Removed, "batches", pr.Batches,
			"protected", pr.Protected, "complete", pr.Complete)
	}
	logger.Info("cleanup done", "removed", res.Removed, "failed", len(failed))
	if len(failed) > 0 {
		return res, temporal.NewApplicationError(
			fmt.Sprintf("cleanup: %d of %d stores failed: %s", len(failed), len(in.Stores), strings.Join(failed, ", ")),
			"CleanupFailed", res)
	}
	return res, nil
}
