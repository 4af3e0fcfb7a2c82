// Package summarytest records, for tests, the summary (the label the
// Temporal Web UI shows) of every activity a workflow schedules.
package summarytest

import (
	"sync"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// Recorder is a worker interceptor: install it with worker.Options{
// Interceptors: ...} and read what the workflows scheduled.
type Recorder struct {
	interceptor.WorkerInterceptorBase
	mu        sync.Mutex
	scheduled []string
	byName    map[string]string
}

// Scheduled returns "activity:summary" for every activity scheduled, in
// order.
func (r *Recorder) Scheduled() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.scheduled...)
}

// Summary returns the summary the last activity of that name was
// scheduled with ("" when none was).
func (r *Recorder) Summary(activity string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byName[activity]
}

func (r *Recorder) record(activity, summary string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName == nil {
		r.byName = map[string]string{}
	}
	r.scheduled = append(r.scheduled, activity+":"+summary)
	r.byName[activity] = summary
}

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (r *Recorder) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &inbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, r: r}
}

type inbound struct {
	interceptor.WorkflowInboundInterceptorBase
	r *Recorder
}

func (i *inbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&outboundRecorder{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, r: i.r})
}

type outboundRecorder struct {
	interceptor.WorkflowOutboundInterceptorBase
	r *Recorder
}

func (o *outboundRecorder) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.r.record(activityType, workflow.GetActivityOptions(ctx).Summary)
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}
