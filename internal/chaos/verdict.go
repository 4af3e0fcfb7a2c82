package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/workflows"
)

// Verdict is the judgement of a run: what broke, as numbers and names.
type Verdict struct {
	Sagas int `json:"sagas"`
	// NotTerminal are orders whose saga had not ended when the run gave up
	// waiting; UnknownToVisibility are orders Temporal's visibility store
	// does not list. Both are lost orders.
	NotTerminal         []string `json:"not_terminal"`
	UnknownToVisibility []string `json:"unknown_to_visibility"`
	// Invariants is the checker's report over all four stores, at rest.
	Invariants invariants.Report `json:"invariants"`
	// Replayed counts histories replayed; ReplayFailures are the orders
	// whose history the current workflow code does not replay.
	Replayed       int      `json:"replayed"`
	ReplayFailures []string `json:"replay_failures"`

	// ReadStoreDrift lists where the read store differs from the write
	// stores once the projector caught up after the last saga ended
	// (readstore.Store.Check; orders of sagas still running elsewhere are
	// left out), over ReadStoreOrders orders.
	ReadStoreDrift  []string `json:"read_store_drift"`
	ReadStoreOrders int      `json:"read_store_orders"`
	// FencedWrites counts the read store's commits, since the run began,
	// by a projector leader after its lease had been granted to another
	// (readstore.Store.FencedWrites).
	FencedWrites int `json:"fenced_writes"`
	// SlowFailovers are the projector failovers longer than FailoverBound.
	SlowFailovers []Failover `json:"slow_failovers"`
	// LongWriteTransactions are the write transactions seen open longer
	// than WriteTxBound.
	LongWriteTransactions []WriteTx `json:"long_write_transactions"`
}

// The bounds a run is held to.
const (
	// FailoverBound bounds a projector failover: from the signal that took
	// the leader away to the lease's next grant. A standby takes over
	// within the lease's TTL and its retry interval (6 s), but not before
	// a write the leader was stopped in has ended (it holds the lease row):
	// for a paused leader, once it is continued (LeaderPause, 8 s).
	FailoverBound = 10 * time.Second
	// WriteTxBound bounds how long a write transaction (which may hold row
	// locks) stays open: pgstore.SessionBound, for a session whose client
	// is stopped or cut off, and a margin for one that was still working.
	WriteTxBound = pgstore.SessionBound + 5*time.Second
)

// Lost is the number of lost orders.
func (v Verdict) Lost() int { return len(v.NotTerminal) + len(v.UnknownToVisibility) }

// Breaches is the number of things wrong: lost orders, invariant breaches
// (duplicate effects included), histories that do not replay, read store
// drift, writes by a fenced projector leader, slow failovers and write
// transactions held open too long.
func (v Verdict) Breaches() int {
	return v.Lost() + v.Invariants.Breaches() + len(v.ReplayFailures) +
		len(v.ReadStoreDrift) + v.FencedWrites + len(v.SlowFailovers) + len(v.LongWriteTransactions)
}

// JudgeBounds adds to v the failovers longer than FailoverBound and the
// write transactions open longer than WriteTxBound.
func (v *Verdict) JudgeBounds(failovers []Failover, txs []WriteTx) {
	for _, f := range failovers {
		if f.Took > FailoverBound {
			v.SlowFailovers = append(v.SlowFailovers, f)
		}
	}
	for _, tx := range txs {
		if tx.Open > WriteTxBound {
			v.LongWriteTransactions = append(v.LongWriteTransactions, tx)
		}
	}
}

// Judge examines the sagas of orderIDs: every one must have ended and be
// listed by visibility (which it polls for up to visibilityWait, as it is
// eventually consistent), the stores must keep every invariant at rest, and
// every history must replay.
//
// Order sagas of other runs that still run (one `make demo` left waiting on
// an operator, say) hold their orders in flight: they are not judged.
// An operator's hand-made effects (the compensations resolved by hand in
// the namespace's sagas that ended COMPENSATED_BY_HAND) are excused, as
// `starter verify` excuses them.
func Judge(ctx context.Context, c client.Client, namespace string, st invariants.Stores, orderIDs []string, visibilityWait time.Duration) (Verdict, error) {
	v := Verdict{Sagas: len(orderIDs)}
	for _, id := range orderIDs {
		running, err := isRunning(ctx, c, workflows.WorkflowID(id))
		if err != nil {
			return v, err
		}
		if running {
			v.NotTerminal = append(v.NotTerminal, id)
		}
	}
	missing, err := unlisted(ctx, c, orderIDs, visibilityWait)
	if err != nil {
		return v, err
	}
	v.UnknownToVisibility = missing
	resolved, err := sagaclient.ListResolved(ctx, c, namespace)
	if err != nil {
		return v, fmt.Errorf("list the sagas resolved by hand: %w", err)
	}
	others, err := othersRunning(ctx, c, namespace, orderIDs)
	if err != nil {
		return v, err
	}
	opts := invariants.Options{Quiet: true, Excuse: sagaclient.Excuses(resolved), Running: others}
	if v.Invariants, err = invariants.Check(ctx, st, opts); err != nil {
		return v, err
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.OrderSaga, workflow.RegisterOptions{Name: "OrderSaga"})
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, id := range orderIDs {
		h, err := history(ctx, c, workflows.WorkflowID(id))
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			continue // unknown to Temporal: counted as lost above
		}
		if err != nil {
			return v, err
		}
		v.Replayed++
		if err := replayer.ReplayWorkflowHistory(logger, h); err != nil {
			v.ReplayFailures = append(v.ReplayFailures, fmt.Sprintf("%s: %v", id, err))
		}
	}
	return v, nil
}

// isRunning reports whether the latest run of a workflow is still running;
// a workflow Temporal does not know is not running (visibility counts it).
func isRunning(ctx context.Context, c client.Client, workflowID string) (bool, error) {
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	return d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// unlisted returns the orders visibility does not list, polling until all
// are listed or wait has passed.
func unlisted(ctx context.Context, c client.Client, orderIDs []string, wait time.Duration) ([]string, error) {
	prefix := commonPrefix(orderIDs)
	deadline := time.Now().Add(wait)
	for {
		listed := map[string]bool{}
		var token []byte
		for {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query:         fmt.Sprintf("WorkflowId STARTS_WITH %q", workflows.WorkflowID(prefix)),
				PageSize:      1000,
				NextPageToken: token,
			})
			if err != nil {
				return nil, fmt.Errorf("list sagas: %w", err)
			}
			for _, e := range resp.GetExecutions() {
				if id, ok := workflows.OrderIDFromWorkflowID(e.GetExecution().GetWorkflowId()); ok {
					listed[id] = true
				}
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		var missing []string
		for _, id := range orderIDs {
			if !listed[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing, nil
		}
		if !pause(ctx) {
			return missing, ctx.Err()
		}
	}
}

// commonPrefix is the longest prefix the ids share.
func commonPrefix(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	p := slices.Min(ids)
	last := slices.Max(ids)
	for !strings.HasPrefix(last, p) {
		p = p[:len(p)-1]
	}
	return p
}

func history(ctx context.Context, c client.Client, workflowID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, ev)
	}
	return h, nil
}

// othersRunning lists the orders of the namespace's running order sagas
// that are not among orderIDs.
func othersRunning(ctx context.Context, c client.Client, namespace string, orderIDs []string) ([]string, error) {
	own := make(map[string]bool, len(orderIDs))
	for _, id := range orderIDs {
		own[id] = true
	}
	var others []string
	req := &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace,
		Query: `WorkflowType="OrderSaga" AND ExecutionStatus="Running"`}
	for {
		resp, err := c.ListWorkflow(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("list the running order sagas: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			if id, ok := workflows.OrderIDFromWorkflowID(e.GetExecution().GetWorkflowId()); ok && !own[id] {
				others = append(others, id)
			}
		}
		if len(resp.GetNextPageToken()) == 0 {
			return others, nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}
