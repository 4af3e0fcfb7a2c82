package sagaclient

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/workflows"
)

// ResolvedQuery is the visibility query of the order sagas that ended
// COMPENSATED_BY_HAND.
var ResolvedQuery = fmt.Sprintf("WorkflowType = %s AND %s = %s", strconv.Quote("OrderSaga"),
	workflows.AttrSagaStatus.GetName(), strconv.Quote(string(workflows.StatusCompensatedByHand)))

// Resolved is a saga that ended COMPENSATED_BY_HAND, and the compensations
// an operator resolved in it.
type Resolved struct {
	OrderID    string         `json:"order_id"`
	WorkflowID string         `json:"workflow_id"`
	RunID      string         `json:"run_id"`
	Steps      []ResolvedStep `json:"resolved"`
}

// ResolvedStep is one compensation resolved by hand.
type ResolvedStep struct {
	Step         string `json:"step"`
	Compensation string `json:"compensation"`
	workflows.Resolution
}

// ListResolved lists the sagas of namespace that ended COMPENSATED_BY_HAND
// (every page of ResolvedQuery) and reads from each one's result the steps
// whose compensation was resolved by hand. Visibility is eventually
// consistent: a saga that ended a moment ago may be missing.
func ListResolved(ctx context.Context, tc client.Client, namespace string) ([]Resolved, error) {
	var out []Resolved
	var token []byte
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: 1000, NextPageToken: token, Query: ResolvedQuery,
		})
		if err != nil {
			return nil, fmt.Errorf("list the sagas resolved by hand (query %s): %w", ResolvedQuery, err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			order, ok := workflows.OrderIDFromWorkflowID(id)
			if !ok {
				continue // not an order saga
			}
			out = append(out, Resolved{OrderID: order, WorkflowID: id, RunID: e.GetExecution().GetRunId()})
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	errs := make([]error, len(out))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range out {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = readResolved(ctx, tc, &out[i])
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// readResolved reads the resolved steps of r from its saga's final state.
func readResolved(ctx context.Context, tc client.Client, r *Resolved) error {
	o, err := Wait(ctx, tc, r.OrderID, r.RunID)
	if err != nil {
		return err
	}
	if !o.HasState() {
		return fmt.Errorf("the saga of order %s is listed %s but reported no final state (it ended %s)",
			r.OrderID, workflows.StatusCompensatedByHand, o.Kind)
	}
	for _, st := range o.State.Steps {
		if st.Resolution != nil {
			r.Steps = append(r.Steps, ResolvedStep{Step: st.Name, Compensation: st.Compensation, Resolution: *st.Resolution})
		}
	}
	return nil
}

// Excuses are the (order, step) pairs whose effect the invariant checker
// excuses (invariants.Options.Excuse): what the resolved compensations
// would have undone.
func Excuses(resolved []Resolved) []invariants.Excuse {
	var out []invariants.Excuse
	for _, s := range resolved {
		for _, r := range s.Steps {
			out = append(out, invariants.Excuse{OrderID: s.OrderID, Step: r.Step})
		}
	}
	return out
}
