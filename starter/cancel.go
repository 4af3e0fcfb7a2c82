package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// cancelled is what cancel reports.
type cancelled struct {
	OrderID    string `json:"order_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Requested is false when the saga had already closed.
	Requested bool `json:"cancel_requested"`
	// Execution is Temporal's status of the run when cancel looked.
	Execution string `json:"execution_status"`
	// Outcome is how the saga ended, with --wait or when it had closed.
	Outcome *sagaclient.Outcome `json:"outcome,omitempty"`
}

func (c *cli) cancelCommand() *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "cancel ORDER",
		Short: "Cancel an order's saga: the steps done so far are compensated",
		Long: `cancel requests the cancellation of an order's running saga. The saga
compensates the steps it finished and ends COMPENSATED, unless it has passed
its pivot (ConfirmOrder): a confirmed order is not undone. A saga that has
already closed is reported as it ended.

With --wait it waits for the outcome. Exit status 1 means the order
completed and was not cancelled: it passed its pivot first (with --wait),
or it had already completed.`,
		Example: `  starter cancel o-1a2b3c4d5e6f --wait`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			tc, err := c.dial(ctx)
			if err != nil {
				return err
			}
			defer tc.Close()
			r, err := cancelSaga(ctx, tc, args[0])
			if err != nil {
				return err
			}
			if r.Requested && wait {
				if !c.json {
					writeCancelled(c.out, r)
					fmt.Fprintln(c.out, "waiting for the outcome...")
				}
				o, err := sagaclient.Wait(ctx, tc, r.OrderID, r.RunID)
				if err != nil {
					return err
				}
				r.Outcome = &o
				if err := c.print(r, func(w io.Writer) { writeOutcome(w, o) }); err != nil {
					return err
				}
			} else if err := c.print(r, func(w io.Writer) { writeCancelled(w, r) }); err != nil {
				return err
			}
			if r.Outcome != nil && r.Outcome.Kind == sagaclient.Completed {
				return failedResult("order %s completed: it was not cancelled", r.OrderID)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the outcome and print the final state")
	return cmd
}

// cancelSaga requests the cancellation of an order's running saga. A closed
// saga is reported with its outcome, and nothing is requested.
func cancelSaga(ctx context.Context, tc client.Client, orderID string) (cancelled, error) {
	d, err := describeSaga(ctx, tc, orderID)
	if err != nil {
		return cancelled{}, err
	}
	exec := d.GetWorkflowExecutionInfo().GetExecution()
	r := cancelled{OrderID: orderID, WorkflowID: exec.GetWorkflowId(), RunID: exec.GetRunId(),
		Execution: d.GetWorkflowExecutionInfo().GetStatus().String()}
	if isRunning(d) {
		err := tc.CancelWorkflow(ctx, r.WorkflowID, r.RunID)
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			r.Requested = true
			return r, nil
		case !errors.As(err, &notFound):
			return r, fmt.Errorf("cancel the saga of order %s: %w", orderID, err)
		}
		// It closed between the two calls: report it as closed.
	}
	o, err := sagaclient.Wait(ctx, tc, orderID, r.RunID)
	if err != nil {
		return r, err
	}
	r.Outcome = &o
	return r, nil
}

func writeCancelled(w io.Writer, r cancelled) {
	if r.Requested {
		fmt.Fprintf(w, "cancellation requested for order %s (saga %s, run %s)\n", r.OrderID, r.WorkflowID, r.RunID)
		return
	}
	fmt.Fprintf(w, "the saga of order %s has already closed (%s): nothing to cancel\n", r.OrderID, r.Outcome.Status())
	writeOutcome(w, *r.Outcome)
}
