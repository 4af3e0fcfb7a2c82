// Package workers runs the order saga's Temporal workers: one per task
// queue (a region's, orders-<region>), all sharing one set of activities.
package workers

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/workflows"
)

// Options tune the workers.
type Options struct {
	// Concurrency bounds the activities and the workflow tasks each worker
	// runs at once (0: the SDK's defaults).
	Concurrency int
	// StopTimeout is how long Stop lets running activities finish.
	StopTimeout time.Duration
	// Interceptors wrap every activity and workflow (the fault layer, say).
	Interceptors []interceptor.WorkerInterceptor
	// WorkflowPollers and ActivityPollers are the concurrent long polls of
	// each worker for workflow and activity tasks (0: the SDK's defaults).
	WorkflowPollers int
	ActivityPollers int
	// DisableEagerActivities turns eager activity dispatch off: without it
	// an activity scheduled on the worker's own task queue comes back with
	// the workflow task's completion when a slot is free, with no poll.
	DisableEagerActivities bool
}

// WorkerOptions are the SDK's worker options that o stands for.
func (o Options) WorkerOptions() worker.Options {
	return worker.Options{
		MaxConcurrentActivityExecutionSize:     o.Concurrency,
		MaxConcurrentWorkflowTaskExecutionSize: o.Concurrency,
		MaxConcurrentWorkflowTaskPollers:       o.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       o.ActivityPollers,
		DisableEagerActivities:                 o.DisableEagerActivities,
		WorkerStopTimeout:                      o.StopTimeout,
		Interceptors:                           o.Interceptors,
	}
}

// Register registers the order saga and its activities on r.
func Register(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.OrderSaga, workflow.RegisterOptions{Name: workflows.OrderSagaType})
	r.RegisterActivity(acts)
}

// Pool is the running workers.
type Pool struct{ workers []worker.Worker }

// QueuesFor returns the task queues of regions, refusing unknown regions.
// prefix is "" for the regions' own queues (workflows.TaskQueue), or a
// prefix that gives a separate set of queues (prefix + region), such as a
// fault-injection run's.
func QueuesFor(prefix string, regions []string) ([]string, error) {
	if len(regions) == 0 {
		return nil, fmt.Errorf("no region to serve: want one or more of %v", workflows.Regions)
	}
	queues := make([]string, len(regions))
	for i, region := range regions {
		if !slices.Contains(workflows.Regions, region) {
			return nil, fmt.Errorf("unknown region %q: want one or more of %v", region, workflows.Regions)
		}
		queues[i] = workflows.TaskQueue(region)
		if prefix != "" {
			queues[i] = prefix + region
		}
	}
	return queues, nil
}

// Start starts one worker per task queue (see QueuesFor). On error nothing
// is left running.
func Start(c client.Client, acts *activities.Activities, queues []string, opts Options) (*Pool, error) {
	p := &Pool{}
	for _, queue := range queues {
		w := worker.New(c, queue, opts.WorkerOptions())
		Register(w, acts)
		if err := w.Start(); err != nil {
			p.Stop()
			return nil, fmt.Errorf("start worker on task queue %s: %w", queue, err)
		}
		p.workers = append(p.workers, w)
	}
	return p, nil
}

// Stop stops every worker, letting running activities finish within
// Options.StopTimeout.
func (p *Pool) Stop() {
	for _, w := range p.workers {
		w.Stop()
	}
	p.workers = nil
}
