package bench

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// sagaOrder returns the sagaflow mode: the real OrderSaga per order, started
// as the starter starts it (sagaclient.StartOptions) but on queue, and
// waited for. local runs its steps as local activities.
func sagaOrder(c client.Client, queue string, local, eager bool) orderFunc {
	return func(ctx context.Context, o Order) (Outcome, error) {
		in := o.Input()
		in.LocalSteps = local
		opts, in := sagaclient.StartOptions(in)
		opts.TaskQueue, opts.EnableEagerStart = queue, eager
		run, err := c.ExecuteWorkflow(ctx, opts, "OrderSaga", in)
		if err != nil {
			return 0, orderError(o, "start saga", err)
		}
		var state workflows.SagaState
		getErr := run.Get(ctx, &state)
		out, err := sagaclient.Decode(state, getErr)
		if err != nil {
			return 0, orderError(o, "wait for saga", err)
		}
		switch out.Kind {
		case sagaclient.Completed:
			return Completed, nil
		case sagaclient.Compensated, sagaclient.Rejected:
			if hasErrorType(getErr, services.ErrOutOfStock.Code) {
				return OutOfStock, nil
			}
			if refusedByStep(getErr) {
				return Refused, nil
			}
		}
		return 0, orderError(o, "saga", getErr)
	}
}
