package sagaclient

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/workflows"
)

// Refusal is an operator action that the saga did not take: its update's
// validator refused it (the saga is not failing, the step's compensation is
// not the failing one, ...), which writes nothing to the saga's history, or
// the saga had already closed. (An update handler that fails after its
// validator accepted is reported the same way; its failure is in the
// history.)
type Refusal struct {
	OrderID string
	// Action is the update's name: workflows.UpdateRetry or UpdateResolve.
	Action string
	// Reason is why, in the saga's (or the server's) words.
	Reason string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("the saga of order %s refused the %s: %s", r.OrderID, r.Action, r.Reason)
}

// Retry sends workflows.UpdateRetry to the saga of orderID (runID "" for
// its current run) and waits for the action's result.
func Retry(ctx context.Context, tc client.Client, orderID, runID string, req workflows.RetryRequest) (workflows.ActionResult, error) {
	return act(ctx, tc, orderID, runID, workflows.UpdateRetry, req)
}

// Resolve sends workflows.UpdateResolve to the saga of orderID (runID ""
// for its current run) and waits for the action's result.
func Resolve(ctx context.Context, tc client.Client, orderID, runID string, req workflows.ResolveRequest) (workflows.ActionResult, error) {
	return act(ctx, tc, orderID, runID, workflows.UpdateResolve, req)
}

// act sends the Workflow Update name with arg and waits until it has
// completed. A refusal by the update's validator or by the server (a closed
// saga) is a *Refusal; any other error is one of sending or waiting (an
// unreachable server, ctx done: client.WorkflowUpdateServiceTimeoutOrCanceledError).
func act(ctx context.Context, tc client.Client, orderID, runID, name string, arg any) (workflows.ActionResult, error) {
	var res workflows.ActionResult
	h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(orderID),
		RunID:        runID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err == nil {
		return res, nil
	}
	var (
		appErr   *temporal.ApplicationError
		notFound *serviceerror.NotFound
	)
	switch {
	case errors.As(err, &appErr):
		return res, &Refusal{OrderID: orderID, Action: name, Reason: appErr.Message()}
	case errors.As(err, &notFound) && strings.Contains(notFound.Error(), "already completed"):
		return res, &Refusal{OrderID: orderID, Action: name, Reason: "the saga has closed (" + notFound.Error() + ")"}
	case errors.As(err, &notFound):
		return res, fmt.Errorf("no saga for order %s (workflow id %s): %w", orderID, workflows.WorkflowID(orderID), err)
	}
	return res, fmt.Errorf("send the %s to the saga of order %s: %w", name, orderID, err)
}
