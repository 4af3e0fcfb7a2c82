package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/workflows"
)

// sagaType is the workflow type the worker registers OrderSaga under.
const sagaType = "OrderSaga"

// sagaStatuses are the values of the SagaStatus search attribute.
var sagaStatuses = []workflows.SagaStatus{workflows.StatusRunning, workflows.StatusCompleted, workflows.StatusCompensating,
	workflows.StatusCompensated, workflows.StatusCompensationFailing, workflows.StatusPivotStuck, workflows.StatusRejected,
	workflows.StatusCompensationFailed, workflows.StatusCompensatedByHand}

// listed is one saga as visibility lists it.
type listed struct {
	OrderID    string    `json:"order_id"`
	Status     string    `json:"saga_status"`
	Execution  string    `json:"execution_status"`
	FailedStep string    `json:"failed_step,omitempty"`
	CustomerID string    `json:"customer_id"`
	TaskQueue  string    `json:"task_queue"`
	StartedAt  time.Time `json:"started_at"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
}

func (c *cli) listCommand() *cobra.Command {
	var status, customer string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List order sagas, newest first, by saga status and customer",
		Long: `list asks Temporal's visibility store for order sagas, filtered by the
SagaStatus and CustomerId search attributes. Visibility is eventually
consistent: a saga that just changed may show its previous status for a
moment.

Sagas an operator must look at: COMPENSATION_FAILING (a compensation keeps
failing and the server retries it) and PIVOT_STUCK (ConfirmOrder keeps
failing); starter status shows why, starter retry and starter resolve act.`,
		Example: `  starter list --status COMPENSATED
  starter list --status COMPENSATION_FAILING
  starter list --customer carol --limit 10 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit is %d, want at least 1", limit)
			}
			q, err := listQuery(status, customer)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			tc, err := c.dial(ctx)
			if err != nil {
				return err
			}
			defer tc.Close()
			sagas, err := listSagas(ctx, tc, c.cfg.TemporalNamespace, q, limit)
			if err != nil {
				return err
			}
			return c.print(sagas, func(w io.Writer) { writeList(w, sagas) })
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "only sagas with this SagaStatus: "+statusList())
	fl.StringVar(&customer, "customer", "", "only orders of this customer")
	fl.IntVar(&limit, "limit", 50, "list at most this many sagas")
	return cmd
}

func statusList() string {
	names := make([]string, len(sagaStatuses))
	for i, s := range sagaStatuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// listQuery builds the visibility query for order sagas with the given
// SagaStatus and customer ("" for any). The status must be a SagaStatus
// (any case); values are double-quoted, and a value that could break out of
// its quotes is refused.
func listQuery(status, customer string) (string, error) {
	parts := []string{"WorkflowType = " + strconv.Quote(sagaType)}
	if status != "" {
		s := workflows.SagaStatus(strings.ToUpper(status))
		if !slices.Contains(sagaStatuses, s) {
			return "", fmt.Errorf("--status %q is not a saga status; want one of %s", status, statusList())
		}
		parts = append(parts, workflows.AttrSagaStatus.GetName()+" = "+strconv.Quote(string(s)))
	}
	if customer != "" {
		v, err := quoteValue("--customer", customer)
		if err != nil {
			return "", err
		}
		parts = append(parts, workflows.AttrCustomerID.GetName()+" = "+v)
	}
	return strings.Join(parts, " AND "), nil
}

// quoteValue double-quotes v for a visibility query. The query language has
// no reliable escape, so quotes, backslashes and control characters are
// refused rather than escaped.
func quoteValue(flag, v string) (string, error) {
	for _, r := range v {
		if r == '"' || r == '\'' || r == '\\' || r == '`' || unicode.IsControl(r) {
			return "", fmt.Errorf("%s %q: quotes, backslashes and control characters are not allowed", flag, v)
		}
	}
	return `"` + v + `"`, nil
}

// listSagas pages through the visibility query until limit sagas.
func listSagas(ctx context.Context, tc client.Client, namespace, query string, limit int) ([]listed, error) {
	out := []listed{}
	var token []byte
	for len(out) < limit {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: int32(min(limit-len(out), 1000)), NextPageToken: token, Query: query,
		})
		if err != nil {
			return nil, fmt.Errorf("list sagas (query %s): %w", query, err)
		}
		for _, e := range resp.GetExecutions() {
			if len(out) == limit {
				break
			}
			attrs := e.GetSearchAttributes()
			l := listed{
				OrderID:    keyword(attrs, workflows.AttrOrderID),
				Status:     keyword(attrs, workflows.AttrSagaStatus),
				Execution:  e.GetStatus().String(),
				FailedStep: keyword(attrs, workflows.AttrFailedStep),
				CustomerID: keyword(attrs, workflows.AttrCustomerID),
				TaskQueue:  e.GetTaskQueue(),
				StartedAt:  e.GetStartTime().AsTime(),
				WorkflowID: e.GetExecution().GetWorkflowId(),
				RunID:      e.GetExecution().GetRunId(),
			}
			if l.OrderID == "" {
				l.OrderID, _ = workflows.OrderIDFromWorkflowID(l.WorkflowID)
			}
			if e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && !terminal(l.Status) {
				// The saga did not end by itself (terminated, timed out): say so.
				l.Status = strings.TrimSpace(l.Status + " (" + l.Execution + ")")
			}
			out = append(out, l)
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			break
		}
	}
	return out, nil
}

// terminal reports whether a SagaStatus is one a saga ends in.
func terminal(status string) bool { return workflows.SagaStatus(status).Final() }

func writeList(w io.Writer, sagas []listed) {
	if len(sagas) == 0 {
		fmt.Fprintln(w, "no saga matches")
		return
	}
	t := newTable(w, "ORDER", "STATUS", "FAILED STEP", "CUSTOMER", "TASK QUEUE", "STARTED")
	for _, s := range sagas {
		t.row(s.OrderID, s.Status, s.FailedStep, s.CustomerID, s.TaskQueue, s.StartedAt.Local().Format(time.DateTime))
	}
	t.flush()
}
