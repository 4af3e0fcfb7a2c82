package sagaclient

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/sagaflow/sagaflow/workflows"
)

// updater is a client whose UpdateWorkflow returns what a test says; every
// other method is the nil interface's (a call panics).
type updater struct {
	client.Client
	sent   client.UpdateWorkflowOptions
	err    error // of UpdateWorkflow
	getErr error // of the handle's Get
	result workflows.ActionResult
}

func (u *updater) UpdateWorkflow(_ context.Context, opts client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	u.sent = opts
	if u.err != nil {
		return nil, u.err
	}
	return handle{u}, nil
}

type handle struct{ u *updater }

func (h handle) WorkflowID() string { return h.u.sent.WorkflowID }
func (h handle) RunID() string      { return h.u.sent.RunID }
func (h handle) UpdateID() string   { return "u-1" }
func (h handle) Get(_ context.Context, v any) error {
	if h.u.getErr != nil {
		return h.u.getErr
	}
	*(v.(*workflows.ActionResult)) = h.u.result
	return nil
}

func TestActSendsTheUpdateAndWaitsForItsResult(t *testing.T) {
	want := workflows.ActionResult{Step: workflows.StepChargePayment, Compensation: "RefundPayment",
		Outcome: workflows.ActionResolved, Status: workflows.StatusCompensatedByHand}
	u := &updater{result: want}
	req := workflows.ResolveRequest{Step: workflows.StepChargePayment, Operator: "ada", Reason: "refunded by bank transfer"}
	got, err := Resolve(t.Context(), u, "o-1", "run-1", req)
	if err != nil || got != want {
		t.Fatalf("Resolve = %+v, %v; want %+v", got, err, want)
	}
	s := u.sent
	if s.WorkflowID != "order-o-1" || s.RunID != "run-1" || s.UpdateName != workflows.UpdateResolve ||
		s.WaitForStage != client.WorkflowUpdateStageCompleted || len(s.Args) != 1 || s.Args[0] != req {
		t.Errorf("sent %+v", s)
	}
	if _, err := Retry(t.Context(), u, "o-1", "", workflows.RetryRequest{Operator: "ada"}); err != nil || u.sent.UpdateName != workflows.UpdateRetry {
		t.Errorf("Retry sent %q: %v", u.sent.UpdateName, err)
	}
}

func TestActClassifiesFailures(t *testing.T) {
	// What a validator's error looks like once it has crossed the wire.
	fc := temporal.GetDefaultFailureConverter()
	rejected := fc.FailureToError(fc.ErrorToFailure(errors.New("the saga is not failing: its status is COMPLETED")))
	cases := []struct {
		name        string
		u           *updater
		refusal     string // the Refusal's reason; "" for another error
		errContains string
	}{
		{"validator", &updater{getErr: rejected}, "the saga is not failing: its status is COMPLETED", ""},
		{"closed saga", &updater{err: serviceerror.NewNotFound("workflow execution already completed")},
			"the saga has closed (workflow execution already completed)", ""},
		{"no saga", &updater{err: serviceerror.NewNotFound("workflow not found for ID: order-o-1")}, "", "no saga for order o-1"},
		{"server down", &updater{err: serviceerror.NewUnavailable("connection refused")}, "", "send the resolve to the saga of order o-1"},
		{"timeout", &updater{err: client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.DeadlineExceeded)}, "", "send the resolve"},
	}
	for _, tc := range cases {
		_, err := Resolve(t.Context(), tc.u, "o-1", "", workflows.ResolveRequest{Step: "ChargePayment", Operator: "ada", Reason: "x"})
		var r *Refusal
		isRefusal := errors.As(err, &r)
		switch {
		case tc.refusal != "":
			if !isRefusal || r.Reason != tc.refusal || r.Action != workflows.UpdateResolve || r.OrderID != "o-1" {
				t.Errorf("%s: %v; want the refusal %q", tc.name, err, tc.refusal)
			}
		case isRefusal || err == nil || !strings.Contains(err.Error(), tc.errContains):
			t.Errorf("%s: %v; want an error (not a refusal) containing %q", tc.name, err, tc.errContains)
		}
	}
}
