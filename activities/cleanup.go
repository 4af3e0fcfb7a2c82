package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// The stores the cleanup prunes, named as its results and metrics name
// them, and CleanupStores, all of them in the order a run prunes them.
const (
	StoreInventoryBarrier = "inventory.saga_barrier"
	StoreInventoryEvents  = "inventory.events"
	StorePaymentsBarrier  = "payments.saga_barrier"
	StorePaymentsEvents   = "payments.events"
	StoreOrderTombstones  = "orders.tombstones"
	StoreShipTombstones   = "shipping.tombstones"
)

// CleanupStores are the stores a cleanup run prunes, in order.
var CleanupStores = []string{
	StoreInventoryBarrier, StoreInventoryEvents, StorePaymentsBarrier, StorePaymentsEvents,
	StoreOrderTombstones, StoreShipTombstones,
}

// The error types of the cleanup's refusals, which retrying cannot change.
const (
	ErrTypeNoRetention  = "NO_RETENTION"
	ErrTypeBadCleanup   = "BAD_CLEANUP_INPUT"
	ErrTypeUnknownStore = "UNKNOWN_STORE"
)

// PruneFunc removes at most limit records older than cutoff whose saga
// protected does not hold, in one batch, and returns how many it removed.
type PruneFunc func(ctx context.Context, cutoff time.Time, protected barrier.Protected, limit int) (int, error)

// Cleanup holds the retention activities: the cutoff, from the namespace's
// retention, and a prune per store. Register one value on the cleanup's
// task queue.
type Cleanup struct {
	// Temporal answers which sagas can still run.
	Temporal  client.Client
	Namespace string
	// SagaTypes are the workflow types whose sagas write barrier records
	// ("OrderSaga").
	SagaTypes []string
	// Stores are the prunes, by store name.
	Stores map[string]PruneFunc
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// ConsumedFunc returns how far the read store has read a PostgreSQL
// service's event log (source: "inventory" or "payments").
type ConsumedFunc func(ctx context.Context, source string) (pgstore.Position, error)

// NewCleanup returns the cleanup of the four services' stores: the barrier
// rows and events of inventory and payments, the tombstones of orders and
// shipping. consumed says how far the read store has read each event log:
// no event past it is pruned, however far behind the projector is.
func NewCleanup(c client.Client, namespace string, sagaTypes []string, inv *inventory.Service, pay *payments.Service, ord *orders.Service, ship *shipping.Service, consumed ConsumedFunc) *Cleanup {
	return &Cleanup{
		Temporal: c, Namespace: namespace, SagaTypes: sagaTypes,
		Stores: map[string]PruneFunc{
			StoreInventoryBarrier: inv.PruneBarrier,
			StoreInventoryEvents:  consumedOnly(inv.PruneEvents, "inventory", consumed),
			StorePaymentsBarrier:  pay.PruneBarrier,
			StorePaymentsEvents:   consumedOnly(pay.PruneEvents, "payments", consumed),
			StoreOrderTombstones:  ord.PruneTombstones,
			StoreShipTombstones:   ship.PruneTombstones,
		},
	}
}

// consumedOnly is the prune of source's events up to the read store's
// position in them, read before each batch. A position that cannot be read
// prunes nothing: the batch fails and the run retries it.
func consumedOnly(prune func(context.Context, time.Time, barrier.Protected, pgstore.Position, int) (int, error), source string, consumed ConsumedFunc) PruneFunc {
	return func(ctx context.Context, cutoff time.Time, protected barrier.Protected, limit int) (int, error) {
		pos, err := consumed(ctx, source)
		if err != nil {
			return 0, fmt.Errorf("no %s event pruned: the read store's position is unknown: %w", source, err)
		}
		return prune(ctx, cutoff, protected, pos, limit)
	}
}

// CutoffInput asks for a cleanup run's cutoff.
type CutoffInput struct {
	// Margin is added to the namespace's retention.
	Margin time.Duration `json:"margin"`
}

// CutoffResult is the cutoff of a run: records older than Cutoff may go.
type CutoffResult struct {
	Now       time.Time     `json:"now"`
	Retention time.Duration `json:"retention"`
	Cutoff    time.Time     `json:"cutoff"`
}

// CleanupCutoff reads the namespace's workflow retention now and returns
// now - (retention + margin). A namespace that keeps closed workflows for
// ever (no retention) gives no cutoff: a non-retryable error.
func (c *Cleanup) CleanupCutoff(ctx context.Context, in CutoffInput) (CutoffResult, error) {
	if in.Margin < 0 {
		return CutoffResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("cleanup margin %s is negative", in.Margin), ErrTypeBadCleanup, nil)
	}
	resp, err := c.Temporal.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: c.Namespace})
	if err != nil {
		return CutoffResult{}, fmt.Errorf("describe namespace %s: %w", c.Namespace, err)
	}
	retention := resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	if retention <= 0 {
		return CutoffResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("namespace %s keeps closed workflows for ever (no retention): no barrier record can be pruned", c.Namespace),
			ErrTypeNoRetention, nil)
	}
	now := c.now()
	return CutoffResult{Now: now, Retention: retention, Cutoff: now.Add(-retention - in.Margin)}, nil
}

// PruneInput asks to prune one store.
type PruneInput struct {
	Store  string    `json:"store"`
	Cutoff time.Time `json:"cutoff"`
	// BatchSize is the most records one statement removes.
	BatchSize int `json:"batch_size"`
	// MaxBatches bounds the batches of one run (0: no bound but the
	// activity's timeout).
	MaxBatches int `json:"max_batches"`
}

// PruneResult is what one store's prune did.
type PruneResult struct {
	Store   string `json:"store"`
	Removed int    `json:"removed"`
	Batches int    `json:"batches"`
	// Protected is how many workflows were protected.
	Protected int `json:"protected"`
	// Complete says that the last batch removed less than a batch: nothing
	// older than the cutoff is left but protected records. False when the
	// run stopped at MaxBatches or near its deadline; the next run goes on.
	Complete bool `json:"complete"`
}

// deadlineReserve is how long before its deadline PruneStore stops
// starting batches.
const deadlineReserve = time.Minute

// PruneStore removes the store's records older than in.Cutoff whose saga
// can still run, a batch at a time, until a batch removes less than
// in.BatchSize, in.MaxBatches have run, or the activity's deadline nears.
// It heartbeats its progress after every batch and resumes from it when
// retried. The protected sagas are read from Temporal first (see
// ProtectedQuery); without them nothing is removed.
func (c *Cleanup) PruneStore(ctx context.Context, in PruneInput) (PruneResult, error) {
	prune, ok := c.Stores[in.Store]
	if !ok {
		return PruneResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("unknown store %q (known: %s)", in.Store, strings.Join(CleanupStores, ", ")), ErrTypeUnknownStore, nil)
	}
	if in.BatchSize <= 0 || in.Cutoff.IsZero() || in.MaxBatches < 0 {
		return PruneResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("prune %s: need a cutoff, a positive batch size and a non-negative batch bound, got %+v", in.Store, in), ErrTypeBadCleanup, nil)
	}
	res := PruneResult{Store: in.Store}
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &res) // a fresh start if unreadable
		res.Store = in.Store
	}
	protected, err := c.protected(ctx, in.Cutoff, func() { activity.RecordHeartbeat(ctx, res) })
	if err != nil {
		return res, err
	}
	res.Protected = len(protected)
	logger := activity.GetLogger(ctx)
	deadline := activity.GetInfo(ctx).Deadline
	for in.MaxBatches == 0 || res.Batches < in.MaxBatches {
		if !deadline.IsZero() && time.Until(deadline) < deadlineReserve {
			logger.Info("prune stopped near its deadline; the next run goes on", "store", in.Store, "removed", res.Removed)
			return res, nil
		}
		n, err := prune(ctx, in.Cutoff, protected, in.BatchSize)
		if err != nil {
			return res, fmt.Errorf("prune %s: %w", in.Store, err)
		}
		res.Removed += n
		res.Batches++
		activity.RecordHeartbeat(ctx, res)
		if n < in.BatchSize {
			res.Complete = true
			break
		}
	}
	logger.Info("store pruned", "store", in.Store, "removed", res.Removed, "batches", res.Batches,
		"protected", res.Protected, "complete", res.Complete, "cutoff", in.Cutoff)
	return res, nil
}

// ProtectedQuery is the visibility query of the workflows whose sagas'
// records a prune with cutoff must keep: every run of types that is still
// running, whenever it started (a run started by a reset or a
// continue-as-new after the cutoff uses the records of its chain's first
// run), and every run that started before the cutoff and closed after it
// (its history is kept, so it can be reset). A run that started after
// the cutoff wrote no record older than it.
func ProtectedQuery(types []string, cutoff time.Time) string {
	quoted := make([]string, len(types))
	for i, t := range types {
		quoted[i] = "WorkflowType = " + strconv.Quote(t)
	}
	at := strconv.Quote(cutoff.UTC().Format(time.RFC3339Nano))
	return fmt.Sprintf(`(%s) AND (ExecutionStatus = "Running" OR (StartTime < %s AND CloseTime > %s))`,
		strings.Join(quoted, " OR "), at, at)
}

// protected lists the workflows of ProtectedQuery, calling heartbeat
// between pages.
func (c *Cleanup) protected(ctx context.Context, cutoff time.Time, heartbeat func()) (barrier.Protected, error) {
	if len(c.SagaTypes) == 0 {
		return nil, errors.New("cleanup: no saga workflow type to protect")
	}
	query := ProtectedQuery(c.SagaTypes, cutoff)
	protected := barrier.NewProtected()
	var token []byte
	for {
		resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: c.Namespace, PageSize: 1000, NextPageToken: token, Query: query,
		})
		if err != nil {
			return nil, fmt.Errorf("list the sagas that can still run (%s): %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			protected[e.GetExecution().GetWorkflowId()] = struct{}{}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return protected, nil
		}
		heartbeat()
	}
}

func (c *Cleanup) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
