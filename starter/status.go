package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/workflows"
)

// queryTimeout bounds the state query: a running saga answers only through
// a worker polling its task queue.
const queryTimeout = 10 * time.Second

// sagaStatus is what status reports.
type sagaStatus struct {
	OrderID    string `json:"order_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	TaskQueue  string `json:"task_queue"`
	// Execution is Temporal's status of the run: Running, Completed, Failed, ...
	Execution string    `json:"execution_status"`
	StartedAt time.Time `json:"started_at"`
	// Outcome is how a closed saga ended ("" while it runs).
	Outcome string              `json:"outcome,omitempty"`
	State   workflows.SagaState `json:"state"`
	// Pending are a running saga's pending activities: a compensation or
	// the pivot that keeps failing shows its attempts and last failure here.
	Pending []pendingActivity `json:"pending_activities,omitempty"`
}

func (c *cli) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status ORDER",
		Short: "Print the state of an order's saga: every step's status, attempts and last error",
		Long: `status prints the state of an order's saga. A running saga answers the
"state" query, through a worker polling its region's task queue (the query
gives up after 10s, and says whether a worker polls). A closed saga's final
state is read from its result, which needs no worker.

For a running saga it also prints its pending activities, as Temporal
reports them: a compensation (or the pivot) that keeps failing is retried
by the server, and its attempt count, last failure and next attempt are
there. Per step it prints since when its compensation keeps failing, and
who resolved it by hand, when and why (starter resolve).`,
		Example: `  starter status o-1a2b3c4d5e6f
  starter status o-1a2b3c4d5e6f --json | jq .state.steps`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			tc, err := c.dial(ctx)
			if err != nil {
				return err
			}
			defer tc.Close()
			s, err := readStatus(ctx, tc, args[0])
			if err != nil {
				return err
			}
			return c.print(s, func(w io.Writer) { writeStatus(w, s) })
		},
	}
}

// readStatus reads the state of an order's saga: from the state query while
// it runs, from its result once it is closed.
func readStatus(ctx context.Context, tc client.Client, orderID string) (sagaStatus, error) {
	d, err := describeSaga(ctx, tc, orderID)
	if err != nil {
		return sagaStatus{}, err
	}
	info := d.GetWorkflowExecutionInfo()
	s := sagaStatus{
		OrderID:    orderID,
		WorkflowID: info.GetExecution().GetWorkflowId(),
		RunID:      info.GetExecution().GetRunId(),
		TaskQueue:  info.GetTaskQueue(),
		Execution:  info.GetStatus().String(),
		StartedAt:  info.GetStartTime().AsTime(),
		Pending:    pendingActivities(d),
	}
	if !isRunning(d) {
		o, err := sagaclient.Wait(ctx, tc, orderID, s.RunID)
		if err != nil {
			return s, err
		}
		s.Outcome = o.Kind
		if o.HasState() {
			s.State = o.State
			return s, nil
		}
		// Terminated or timed out: only the query knows the last state.
	}
	s.State, err = queryState(ctx, tc, orderID, s.RunID, s.TaskQueue)
	return s, err
}

// queryState runs the saga's state query with queryTimeout. When it times
// out it says whether a worker polls the saga's task queue.
func queryState(ctx context.Context, tc client.Client, orderID, runID, taskQueue string) (workflows.SagaState, error) {
	var state workflows.SagaState
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, err := tc.QueryWorkflow(qctx, workflows.WorkflowID(orderID), runID, workflows.QueryState)
	if err == nil {
		if err := v.Get(&state); err != nil {
			return state, fmt.Errorf("decode the state of order %s: %w", orderID, err)
		}
		return state, nil
	}
	var deadline *serviceerror.DeadlineExceeded
	if ctx.Err() == nil && (qctx.Err() != nil || errors.As(err, &deadline)) {
		n, perr := livePollers(ctx, tc, taskQueue)
		switch {
		case perr != nil:
			return state, fmt.Errorf("the state query of order %s timed out after %s: %w", orderID, queryTimeout, perr)
		case n == 0:
			return state, fmt.Errorf("the state query of order %s timed out after %s: no worker polls the task queue %s; %s",
				orderID, queryTimeout, taskQueue, workerHint)
		default:
			return state, fmt.Errorf("the state query of order %s timed out after %s, though %d worker(s) poll %s: are they overloaded?",
				orderID, queryTimeout, n, taskQueue)
		}
	}
	return state, fmt.Errorf("query the state of order %s: %w", orderID, err)
}

func writeStatus(w io.Writer, s sagaStatus) {
	st := s.State
	kv := newKV(w)
	kv.add("order", fmt.Sprintf("%s (saga %s, run %s)", s.OrderID, s.WorkflowID, s.RunID))
	kv.add("customer", fmt.Sprintf("%s, region %s (task queue %s)", st.CustomerID, st.Region, s.TaskQueue))
	status := string(st.Status)
	if s.Outcome != "" {
		status += ", outcome " + s.Outcome
	}
	kv.add("status", fmt.Sprintf("%s (execution %s, started %s)", status, s.Execution, s.StartedAt.Local().Format(time.DateTime)))
	kv.add("total", money(st.Total))
	if st.Tracking != "" {
		kv.add("tracking", st.Tracking)
	}
	if st.FailedStep != "" {
		kv.add("failed step", st.FailedStep)
	}
	if st.Error != "" {
		kv.add("error", st.Error)
	}
	kv.flush()
	fmt.Fprintln(w)
	writeSteps(w, st)
	now := time.Now()
	if notes := stepNotes(st, now); len(notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
	if len(s.Pending) > 0 {
		fmt.Fprintln(w, "\npending activities (retried by the server):")
		writePending(w, s.Pending, now)
	}
}

// stepNotes says, per step, since when it or its compensation keeps failing
// and who resolved its compensation by hand.
func stepNotes(st workflows.SagaState, now time.Time) []string {
	var out []string
	for _, step := range st.Steps {
		what := step.Name
		if step.Compensation != "" {
			what = fmt.Sprintf("%s (compensation of %s)", step.Compensation, step.Name)
		}
		if !step.FailingSince.IsZero() {
			out = append(out, fmt.Sprintf("%s failing since %s", what, agoText(step.FailingSince, now)))
		}
		if r := step.Resolution; r != nil {
			out = append(out, fmt.Sprintf("%s resolved by hand by %s at %s: %s", what, r.By, r.At.Local().Format(time.DateTime), r.Reason))
		}
	}
	return out
}
