package workers_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/internal/workers"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/services/shipping"
	"github.com/sagaflow/sagaflow/workflows"
)

// maxCleanupHistory bounds a cleanup run's history: the cutoff and one
// activity per store, three events each, and the workflow tasks between.
const maxCleanupHistory = 60

// TestCleanupScheduleIsEnsuredOnceAndRuns, on the stack's Temporal: the
// schedule is created, then updated in place by a second call (one
// schedule, the new interval and input, its pause kept, one run at a time),
// and a run it starts prunes every store through a worker of the cleanup's
// task queue with a short history.
func TestCleanupScheduleIsEnsuredOnceAndRuns(t *testing.T) {
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Timeout: 15 * time.Second,
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the schedule's deletion below (cleanups run last first)
	s := workers.CleanupSchedule{ID: testenv.ID("cleanup-schedule"), TaskQueue: testenv.ID("cleanup"), Interval: 7 * time.Hour,
		Input: workflows.CleanupInput{Margin: 2 * time.Hour}}
	handle := c.ScheduleClient().GetHandle(ctx, s.ID)
	t.Cleanup(func() {
		if err := handle.Delete(context.Background()); err != nil {
			t.Errorf("delete schedule %s: %v", s.ID, err)
		}
	})

	if created, err := workers.EnsureCleanupSchedule(ctx, c, s); err != nil || !created {
		t.Fatalf("first ensure: created %v, %v", created, err)
	}
	if err := handle.Pause(ctx, client.SchedulePauseOptions{Note: "paused by the test"}); err != nil {
		t.Fatal(err)
	}
	s.Interval, s.Input.BatchSize = 5*time.Hour, 77
	if created, err := workers.EnsureCleanupSchedule(ctx, c, s); err != nil || created {
		t.Fatalf("second ensure: created %v, %v; want an update", created, err)
	}
	desc, err := handle.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sched := desc.Schedule
	if len(sched.Spec.Intervals) != 1 || sched.Spec.Intervals[0].Every != 5*time.Hour {
		t.Errorf("intervals %+v, want one of 5h", sched.Spec.Intervals)
	}
	if sched.Policy.Overlap != enumspb.SCHEDULE_OVERLAP_POLICY_SKIP {
		t.Errorf("overlap %v, want skip", sched.Policy.Overlap)
	}
	if !sched.State.Paused {
		t.Error("the update lifted the operator's pause")
	}
	action, ok := sched.Action.(*client.ScheduleWorkflowAction)
	if !ok || action.TaskQueue != s.TaskQueue || action.Workflow != workflows.CleanupType || len(action.Args) != 1 {
		t.Fatalf("action %+v", sched.Action)
	}
	var in workflows.CleanupInput
	if err := converter.GetDefaultDataConverter().FromPayload(action.Args[0].(*commonpb.Payload), &in); err != nil {
		t.Fatal(err)
	}
	if in.BatchSize != 77 || in.Margin != 2*time.Hour {
		t.Errorf("input %+v, want batch 77 and margin 2h", in)
	}
	if n := countSchedules(t, ctx, c, s.ID); n != 1 {
		t.Fatalf("%d schedules with id %s, want 1", n, s.ID)
	}

	// A run, on stores of the test's own.
	invPool, payPool, db := testenv.Postgres(t, testenv.Inventory), testenv.Postgres(t, testenv.Payments), testenv.Mongo(t)
	inv, pay, ord, ship := inventory.New(invPool), payments.New(payPool), orders.New(db), shipping.New(db, nil)
	for _, m := range []interface{ Migrate(context.Context) error }{inv, pay, ord, ship} {
		if err := m.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	acts := activities.NewCleanup(c, cfg.TemporalNamespace, []string{workflows.OrderSagaType}, inv, pay, ord, ship,
		func(context.Context, string) (pgstore.Position, error) { return pgstore.PositionAfterAll, nil })
	pool, err := workers.StartCleanup(c, acts, s.TaskQueue, workers.Options{StopTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Stop()
	if err := handle.Unpause(ctx, client.ScheduleUnpauseOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := handle.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		t.Fatal(err)
	}
	var started *client.ScheduleWorkflowExecution
	for started == nil {
		desc, err := handle.Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if acts := desc.Info.RecentActions; len(acts) > 0 {
			started = acts[0].StartWorkflowResult
		} else {
			time.Sleep(200 * time.Millisecond)
		}
	}
	var res workflows.CleanupResult
	if err := c.GetWorkflow(ctx, started.WorkflowID, started.FirstExecutionRunID).Get(ctx, &res); err != nil {
		t.Fatalf("run %s: %v", started.WorkflowID, err)
	}
	if len(res.Stores) != len(activities.CleanupStores) || res.Retention <= 0 || res.Margin != 2*time.Hour {
		t.Errorf("result %+v, want every store pruned with the namespace's retention and a 2h margin", res)
	}
	events := 0
	iter := c.GetWorkflowHistory(ctx, started.WorkflowID, started.FirstExecutionRunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		if _, err := iter.Next(); err != nil {
			t.Fatal(err)
		}
		events++
	}
	if events > maxCleanupHistory {
		t.Errorf("the run's history holds %d events, want at most %d", events, maxCleanupHistory)
	}
	t.Logf("run %s: %d history events, result %+v", started.WorkflowID, events, res)
}

// countSchedules counts the schedules with id (the list is eventually
// consistent: it waits until it holds at least one).
func countSchedules(t *testing.T, ctx context.Context, c client.Client, id string) int {
	t.Helper()
	for range 50 {
		iter, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for iter.HasNext() {
			e, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e.ID == id {
				n++
			}
		}
		if n > 0 {
			return n
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0
}
