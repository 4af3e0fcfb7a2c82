package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/workflows"
)

// What an operator action did to one saga.
const (
	// actionActed: the saga took the action (or its step had just
	// succeeded on its own: ActionResult.Outcome says which).
	actionActed = "acted"
	// actionRefused: the saga's validator refused, or the saga had closed.
	actionRefused = "refused"
	// actionError: the action could not be sent or got no answer.
	actionError = "error"
)

// actionResults are the results, in the order summaries print them.
var actionResults = []string{actionActed, actionRefused, actionError}

// actionReport is what an operator action did to one saga.
type actionReport struct {
	OrderID    string `json:"order_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	TaskQueue  string `json:"task_queue"`
	// Status is the saga's SagaStatus before the action; Failing its
	// failing activities then (DescribeWorkflowExecution).
	Status  string            `json:"saga_status"`
	Failing []pendingActivity `json:"failing,omitempty"`
	// Result is acted, refused or error ("" until acted on).
	Result string `json:"result,omitempty"`
	// Reason is why the saga refused, or the error.
	Reason string `json:"reason,omitempty"`
	// Action is what the saga did, when it acted.
	Action *workflows.ActionResult `json:"action,omitempty"`
}

// reportOf starts the report of a described saga.
func reportOf(orderID string, d *workflowservice.DescribeWorkflowExecutionResponse) actionReport {
	info := d.GetWorkflowExecutionInfo()
	return actionReport{
		OrderID:    orderID,
		WorkflowID: info.GetExecution().GetWorkflowId(),
		RunID:      info.GetExecution().GetRunId(),
		TaskQueue:  info.GetTaskQueue(),
		Status:     keyword(info.GetSearchAttributes(), workflows.AttrSagaStatus),
		Failing:    failing(pendingActivities(d)),
	}
}

// operateOne sends op to the saga of one order and prints what it did. A
// closed saga is refused here, before anything is sent.
func (c *cli) operateOne(ctx context.Context, tc client.Client, op operation, orderID string, timeout time.Duration) error {
	d, err := describeSaga(ctx, tc, orderID)
	if err != nil {
		return err
	}
	r := reportOf(orderID, d)
	if isRunning(d) {
		c.act(ctx, tc, op, &r, timeout)
	} else {
		r.Result = actionRefused
		r.Reason = fmt.Sprintf("the saga has closed (%s, execution %s): nothing to %s",
			orDash(r.Status), d.GetWorkflowExecutionInfo().GetStatus(), op.verb)
	}
	switch r.Result {
	case actionActed:
		return c.print(r, func(w io.Writer) { fmt.Fprintln(w, actedText(r)) })
	case actionRefused:
		if c.json {
			if err := c.print(r, nil); err != nil {
				return err
			}
		}
		return failedResult("the saga of order %s refused the %s: %s", orderID, op.verb, r.Reason)
	}
	return errors.New(r.Reason)
}

// act sends op to the saga r describes, waits up to timeout for its answer
// and records the result in r.
func (c *cli) act(ctx context.Context, tc client.Client, op operation, r *actionReport, timeout time.Duration) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := op.send(actx, tc, r.OrderID, r.RunID)
	var refusal *sagaclient.Refusal
	switch {
	case err == nil:
		r.Result, r.Action = actionActed, &res
	case errors.As(err, &refusal):
		r.Result, r.Reason = actionRefused, refusal.Reason
	case actx.Err() != nil && ctx.Err() == nil:
		r.Result, r.Reason = actionError, c.noAnswer(ctx, tc, op, r, timeout)
	default:
		r.Result, r.Reason = actionError, err.Error()
	}
}

// noAnswer explains an action that got no answer within timeout: an
// update is answered by a worker polling the saga's task queue.
func (c *cli) noAnswer(ctx context.Context, tc client.Client, op operation, r *actionReport, timeout time.Duration) string {
	prefix := fmt.Sprintf("the saga of order %s did not answer the %s within %s", r.OrderID, op.verb, timeout)
	n, err := livePollers(ctx, tc, r.TaskQueue)
	switch {
	case err != nil:
		return fmt.Sprintf("%s, and whether a worker polls %s is unknown: %v", prefix, r.TaskQueue, err)
	case n == 0:
		return fmt.Sprintf("%s: no worker polls its task queue %s; %s", prefix, r.TaskQueue, workerHint)
	}
	return fmt.Sprintf("%s, though %d worker(s) poll %s: are they overloaded? (--timeout waits longer)", prefix, n, r.TaskQueue)
}

// actedText says in words what the saga did.
func actedText(r actionReport) string {
	a := r.Action
	what := a.Step + " (the pivot)"
	if a.Compensation != "" {
		what = fmt.Sprintf("%s (the compensation of %s)", a.Compensation, a.Step)
	}
	var did string
	switch a.Outcome {
	case workflows.ActionRetried:
		did = "retried " + what + " now"
	case workflows.ActionResolved:
		did = "resolved " + what + " by hand: it is no longer retried"
	case workflows.ActionSucceeded:
		did = what + " had succeeded on its own before the action took effect: nothing to do"
	default:
		did = fmt.Sprintf("%s: %s", what, a.Outcome)
	}
	return fmt.Sprintf("order %s: %s; the saga is now %s", r.OrderID, did, a.Status)
}
