package chaos

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/workflows"
)

// Result is one order of the run.
type Result struct {
	OrderID string
	Started time.Time
	Ended   time.Time
	// Outcome is a sagaclient outcome, or "" when the saga did not end
	// within the run (a lost order).
	Outcome string
}

// driver starts the run's orders at a bounded concurrency and waits for
// each outcome, retrying through server restarts.
type driver struct {
	c           client.Client
	queuePrefix string
	started     atomic.Int64
	done        atomic.Int64
}

// retryPause is the wait between two tries of a call that failed because a
// server was away.
const retryPause = 250 * time.Millisecond

// run drives orders; it returns when every order ended or ctx is done.
func (d *driver) run(ctx context.Context, orders []workflows.OrderInput, concurrency int) []Result {
	results := make([]Result, len(orders))
	slots := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, in := range orders {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return results
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			results[i] = d.one(ctx, in)
		}()
	}
	wg.Wait()
	return results
}

// one starts an order's saga (attaching to it if a retried start got
// through) and waits for its outcome.
func (d *driver) one(ctx context.Context, in workflows.OrderInput) Result {
	r := Result{OrderID: in.OrderID, Started: time.Now()}
	opts := client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(in.OrderID),
		TaskQueue:                d.queuePrefix + in.Region,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}
	for {
		_, err := d.c.ExecuteWorkflow(ctx, opts, workflows.OrderSaga, in)
		if err == nil {
			break
		}
		if !pause(ctx) {
			return r
		}
	}
	d.started.Add(1)
	for {
		out, err := sagaclient.Wait(ctx, d.c, in.OrderID, "")
		if err == nil {
			r.Ended, r.Outcome = time.Now(), out.Kind
			d.done.Add(1)
			return r
		}
		if ctx.Err() != nil || !pause(ctx) {
			return r
		}
	}
}

// pause waits retryPause; false when ctx ended first.
func pause(ctx context.Context) bool {
	select {
	case <-time.After(retryPause):
		return true
	case <-ctx.Done():
		return false
	}
}
