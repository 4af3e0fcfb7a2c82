// Package historycount counts, for tests, the events a workflow's history
// gets on a Temporal server, from what the workflow does: the commands it
// sends and the results it receives. It works where no history exists, in
// the SDK's test environment that skips time, so a test can run a saga for
// 30 simulated days and still say how long its history would be.
//
// The count is an upper bound, by these rules (Temporal's history events):
//
//   - start: WorkflowExecutionStarted and the first workflow task's
//     Scheduled, Started, Completed: 4.
//   - an activity: ActivityTaskScheduled when scheduled; when it ends,
//     ActivityTaskStarted and its closing event (Completed, Failed,
//     TimedOut, Canceled), plus ActivityTaskCancelRequested if it was
//     cancelled, whatever the number of attempts (the server writes
//     Started once, for the last attempt); and a workflow task to deliver
//     the result: 3.
//   - a local activity: its marker; and a workflow task every 8 s that it
//     runs (the SDK's workflow task heartbeat, 80% of the default 10 s
//     task timeout), 3 events each.
//   - a timer: TimerStarted; TimerFired and a workflow task (3), or
//     TimerCanceled.
//   - a search-attribute upsert: 1. A version marker (workflow.GetVersion,
//     first call of a change id outside replay): the marker and the
//     TemporalChangeVersion upsert the SDK adds, 2.
//   - a Workflow Update that was accepted: Accepted, Completed and a
//     workflow task: 5. A refused one writes nothing.
//   - the end: WorkflowExecutionCompleted, Failed or Canceled: 1.
//
// Several results delivered in one workflow task are counted with a task
// each, hence an upper bound. A test on the real server
// (workflows.TestHistoryCountBoundsTheServer) checks the bound against a
// real history.
package historycount

import (
	"errors"
	"sync"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// heartbeat is the interval at which the SDK refreshes a workflow task
// while a local activity runs.
const heartbeat = 8 * time.Second

// Counter is a worker interceptor: install it with worker.Options{
// Interceptors: ...} (or the test environment's SetWorkerOptions) and read
// the counts by workflow id.
type Counter struct {
	interceptor.WorkerInterceptorBase
	mu     sync.Mutex
	counts map[string]int
}

// Events returns the events counted for the workflow id so far.
func (c *Counter) Events(workflowID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[workflowID]
}

func (c *Counter) add(ctx workflow.Context, n int) {
	if workflow.IsReplaying(ctx) {
		return
	}
	id := workflow.GetInfo(ctx).WorkflowExecution.ID
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[id] += n
}

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (c *Counter) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &inbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type inbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *Counter
}

func (i *inbound) Init(next interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&outbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: next},
		c: i.c, versions: map[string]bool{}})
}

func (i *inbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	i.c.add(ctx, 4)
	res, err := i.Next.ExecuteWorkflow(ctx, in)
	i.c.add(ctx, 1)
	return res, err
}

func (i *inbound) ExecuteUpdate(ctx workflow.Context, in *interceptor.UpdateInput) (any, error) {
	i.c.add(ctx, 5)
	return i.Next.ExecuteUpdate(ctx, in)
}

type outbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	c        *Counter
	versions map[string]bool
}

// settled calls done with the future's error once it is ready.
func settled(ctx workflow.Context, f workflow.Future, done func(err error)) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	workflow.Go(dctx, func(ctx workflow.Context) { done(f.Get(ctx, nil)) })
}

func (o *outbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.c.add(ctx, 1)
	f := o.Next.ExecuteActivity(ctx, activityType, args...)
	settled(ctx, f, func(err error) {
		n := 2 + 3
		var canceled *temporal.CanceledError
		if errors.As(err, &canceled) {
			n++
		}
		o.c.add(ctx, n)
	})
	return f
}

func (o *outbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	start := workflow.Now(ctx)
	f := o.Next.ExecuteLocalActivity(ctx, activityType, args...)
	settled(ctx, f, func(error) {
		o.c.add(ctx, 1+3*int(workflow.Now(ctx).Sub(start)/heartbeat))
	})
	return f
}

func (o *outbound) NewTimer(ctx workflow.Context, d time.Duration) workflow.Future {
	o.c.add(ctx, 1)
	return o.timer(ctx, o.Next.NewTimer(ctx, d))
}

func (o *outbound) NewTimerWithOptions(ctx workflow.Context, d time.Duration, opts workflow.TimerOptions) workflow.Future {
	o.c.add(ctx, 1)
	return o.timer(ctx, o.Next.NewTimerWithOptions(ctx, d, opts))
}

// timer counts how a started timer ends: fired and a workflow task, or
// cancelled.
func (o *outbound) timer(ctx workflow.Context, f workflow.Future) workflow.Future {
	settled(ctx, f, func(err error) {
		if err != nil {
			o.c.add(ctx, 1)
			return
		}
		o.c.add(ctx, 1+3)
	})
	return f
}

func (o *outbound) UpsertSearchAttributes(ctx workflow.Context, attributes map[string]any) error {
	o.c.add(ctx, 1)
	return o.Next.UpsertSearchAttributes(ctx, attributes)
}

func (o *outbound) UpsertTypedSearchAttributes(ctx workflow.Context, attributes ...temporal.SearchAttributeUpdate) error {
	o.c.add(ctx, 1)
	return o.Next.UpsertTypedSearchAttributes(ctx, attributes...)
}

func (o *outbound) GetVersion(ctx workflow.Context, changeID string, minSupported, maxSupported workflow.Version) workflow.Version {
	if !o.versions[changeID] {
		o.versions[changeID] = true
		o.c.add(ctx, 2)
	}
	return o.Next.GetVersion(ctx, changeID, minSupported, maxSupported)
}

func (o *outbound) Sleep(ctx workflow.Context, d time.Duration) error {
	o.c.add(ctx, 1)
	err := o.Next.Sleep(ctx, d)
	if err != nil {
		o.c.add(ctx, 1)
		return err
	}
	o.c.add(ctx, 1+3)
	return nil
}
