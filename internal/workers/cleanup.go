package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/workflows"
)

// The retention cleanup's schedule and task queue. A run's workflow id is
// the schedule's id followed by the run's time.
const (
	CleanupScheduleID = "sagaflow-cleanup"
	CleanupTaskQueue  = "sagaflow-cleanup"
)

// DefaultCleanupInterval is how often the schedule runs the cleanup.
const DefaultCleanupInterval = time.Hour

// cleanupRunTimeout bounds a run, so that a run nobody serves does not hold
// the schedule (overlap skipped) for ever: six stores of at most three
// 30-minute attempts each fit in it.
const cleanupRunTimeout = 12 * time.Hour

// CleanupSchedule is the schedule EnsureCleanupSchedule creates or updates.
type CleanupSchedule struct {
	// ID is the schedule's id (CleanupScheduleID when empty).
	ID string
	// Interval is the time between runs (DefaultCleanupInterval when 0).
	Interval time.Duration
	// TaskQueue is the queue the runs go to (CleanupTaskQueue when empty).
	TaskQueue string
	// Input is every run's input; its zero fields take the workflow's
	// defaults (workflows.CleanupInput.WithDefaults) at each run.
	Input workflows.CleanupInput
}

func (s CleanupSchedule) withDefaults() CleanupSchedule {
	if s.ID == "" {
		s.ID = CleanupScheduleID
	}
	if s.Interval <= 0 {
		s.Interval = DefaultCleanupInterval
	}
	if s.TaskQueue == "" {
		s.TaskQueue = CleanupTaskQueue
	}
	// The input keeps its zero fields: each run takes the defaults of the
	// build that runs it (the stores it knows, say).
	return s
}

func (s CleanupSchedule) spec() client.ScheduleSpec {
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: s.Interval}}}
}

func (s CleanupSchedule) action() *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:                       s.ID,
		Workflow:                 workflows.CleanupType,
		Args:                     []any{s.Input},
		TaskQueue:                s.TaskQueue,
		WorkflowExecutionTimeout: cleanupRunTimeout,
		StaticSummary:            "Retention cleanup: barrier rows, tombstones and events older than the namespace's retention and a margin",
	}
}

func (s CleanupSchedule) policies() *client.SchedulePolicies {
	// One run at a time; after an outage, one catch-up run at most.
	return &client.SchedulePolicies{
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: s.Interval,
	}
}

// EnsureCleanupSchedule creates the cleanup's schedule, or, when it exists,
// sets its interval, action and policies to s, leaving its state (paused by
// an operator, say) as it is. Running it again changes nothing more: one
// schedule per id. created says whether it created the schedule.
func EnsureCleanupSchedule(ctx context.Context, c client.Client, s CleanupSchedule) (created bool, err error) {
	s = s.withDefaults()
	_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:            s.ID,
		Spec:          s.spec(),
		Action:        s.action(),
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: s.Interval,
		Note:          "created by the sagaflow worker (--cleanup); pause it to stop the cleanup",
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return false, fmt.Errorf("create schedule %s: %w", s.ID, err)
	}
	err = c.ScheduleClient().GetHandle(ctx, s.ID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			spec := s.spec()
			sched.Spec = &spec
			sched.Action = s.action()
			sched.Policy = s.policies()
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("update schedule %s: %w", s.ID, err)
	}
	return false, nil
}

// RegisterCleanup registers the cleanup workflow and its activities on r.
func RegisterCleanup(r worker.Registry, acts *activities.Cleanup) {
	r.RegisterWorkflowWithOptions(workflows.Cleanup, workflow.RegisterOptions{Name: workflows.CleanupType})
	r.RegisterActivity(acts)
}

// StartCleanup starts a worker on the cleanup's task queue (CleanupTaskQueue
// when queue is empty) running the cleanup workflow and its activities,
// one prune at a time.
func StartCleanup(c client.Client, acts *activities.Cleanup, queue string, opts Options) (*Pool, error) {
	if queue == "" {
		queue = CleanupTaskQueue
	}
	wo := opts.WorkerOptions()
	wo.MaxConcurrentActivityExecutionSize = 1
	w := worker.New(c, queue, wo)
	RegisterCleanup(w, acts)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker on task queue %s: %w", queue, err)
	}
	return &Pool{workers: []worker.Worker{w}}, nil
}
