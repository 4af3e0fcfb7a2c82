// Package workers runs the order saga's Temporal workers: one per region,
// each polling its region's task queue, all sharing one set of activities.
package workers

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/workflows"
)

// Options tune the workers.
type Options struct {
	// Regions are the regions served; each gets a worker on its task queue.
	Regions []string
	// Concurrency bounds the activities and the workflow tasks each worker
	// runs at once (0: the SDK's defaults).
	Concurrency int
	// StopTimeout is how long Stop lets running activities finish.
	StopTimeout time.Duration
}

// Register registers the order saga and its activities on r.
func Register(r worker.Registry, acts *activities.Activities) {
	r.RegisterWorkflowWithOptions(workflows.OrderSaga, workflow.RegisterOptions{Name: "OrderSaga"})
	r.RegisterActivity(acts)
}

// Pool is the running workers.
type Pool struct{ workers []worker.Worker }

// Start starts one worker per region. On error nothing is left running.
func Start(c client.Client, acts *activities.Activities, opts Options) (*Pool, error) {
	if len(opts.Regions) == 0 {
		return nil, fmt.Errorf("no region to serve: want one or more of %v", workflows.Regions)
	}
	for _, region := range opts.Regions {
		if !slices.Contains(workflows.Regions, region) {
			return nil, fmt.Errorf("unknown region %q: want one or more of %v", region, workflows.Regions)
		}
	}
	p := &Pool{}
	for _, region := range opts.Regions {
		w := worker.New(c, workflows.TaskQueue(region), worker.Options{
			MaxConcurrentActivityExecutionSize:     opts.Concurrency,
			MaxConcurrentWorkflowTaskExecutionSize: opts.Concurrency,
			WorkerStopTimeout:                      opts.StopTimeout,
		})
		Register(w, acts)
		if err := w.Start(); err != nil {
			p.Stop()
			return nil, fmt.Errorf("start worker for region %s: %w", region, err)
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
