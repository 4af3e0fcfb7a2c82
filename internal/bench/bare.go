package bench

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The names the bare workflow and its activity are registered under.
const (
	BareWorkflowName = "BenchBareWorkflow"
	NoopActivityName = "BenchNoop"
)

// BareInput starts a BareWorkflow.
type BareInput struct {
	// Local runs the steps as local activities.
	Local bool `json:"local,omitempty"`
}

// BareWorkflow is bare Temporal with the order saga's shape: six no-op
// activities, two in sequence, two in parallel, two in sequence, as
// PriceOrder, CreateOrder, ReserveStock || ChargePayment, CreateShipment
// and ConfirmOrder; with the saga's per-attempt timeout and retry policy.
func BareWorkflow(ctx workflow.Context, in BareInput) error {
	retry := &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second}
	step := func(name string) workflow.Future {
		if in.Local {
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
				StartToCloseTimeout: 15 * time.Second, ScheduleToCloseTimeout: 2 * time.Minute, RetryPolicy: retry,
			})
			return workflow.ExecuteLocalActivity(lctx, NoopActivityName, name)
		}
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 15 * time.Second, ScheduleToCloseTimeout: 2 * time.Minute, RetryPolicy: retry,
		})
		return workflow.ExecuteActivity(actx, NoopActivityName, name)
	}
	for _, name := range []string{"PriceOrder", "CreateOrder"} {
		if err := step(name).Get(ctx, nil); err != nil {
			return err
		}
	}
	reserve, charge := step("ReserveStock"), step("ChargePayment")
	if err := reserve.Get(ctx, nil); err != nil {
		return err
	}
	if err := charge.Get(ctx, nil); err != nil {
		return err
	}
	for _, name := range []string{"CreateShipment", "ConfirmOrder"} {
		if err := step(name).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// Noop is the bare workflow's activity: it does nothing.
func Noop(_ context.Context, step string) (string, error) { return step, nil }

// RegisterBare registers BareWorkflow and Noop on r.
func RegisterBare(r worker.Registry) {
	r.RegisterWorkflowWithOptions(BareWorkflow, workflow.RegisterOptions{Name: BareWorkflowName})
	r.RegisterActivityWithOptions(Noop, activity.RegisterOptions{Name: NoopActivityName})
}

// bareOrder returns the bare Temporal mode: a BareWorkflow per order on
// queue, waited for.
func bareOrder(c client.Client, queue string, local, eager bool) orderFunc {
	return func(ctx context.Context, o Order) (Outcome, error) {
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: "bench-bare-" + o.ID, TaskQueue: queue, EnableEagerStart: eager,
		}, BareWorkflowName, BareInput{Local: local})
		if err != nil {
			return 0, orderError(o, "start", err)
		}
		if err := run.Get(ctx, nil); err != nil {
			return 0, orderError(o, "wait", fmt.Errorf("bare workflow: %w", err))
		}
		return Completed, nil
	}
}
