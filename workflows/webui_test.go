package workflows_test

import (
	"slices"
	"strings"
	"testing"

	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/sagaflow/sagaflow/saga/summarytest"
	"github.com/sagaflow/sagaflow/workflows"
)

// TestWebUILabels checks what the Web UI shows of a compensated saga: every
// activity, compensations included, has a summary, and the saga's current
// details say how it ended.
func TestWebUILabels(t *testing.T) {
	f := &fakes{}
	env := newEnv(t, f)
	rec := &summarytest.Recorder{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec}})
	in := validOrder()
	in.Demo.FailAt = workflows.StepCreateShipment
	if _, errType := outcome(t, env, in); errType != workflows.ErrTypeCompensated {
		t.Fatalf("error type %q", errType)
	}
	want := map[string]string{
		"PriceOrder":     "Price 2 x SKU-1",
		"CreateOrder":    "Create order o1 for alice",
		"ReserveStock":   "Reserve 2 x SKU-1 in eu",
		"ChargePayment":  "Charge alice 25.00",
		"CreateShipment": "Ship order o1 to DE",
		"CancelShipment": "Compensate CreateShipment: cancel the shipment of order o1",
		"RefundPayment":  "Compensate ChargePayment: refund alice 25.00 of order o1",
		"ReleaseStock":   "Compensate ReserveStock: release 2 x SKU-1 of order o1",
		"CancelOrder":    "Compensate CreateOrder: cancel order o1",
	}
	for activity, summary := range want {
		if got := rec.Summary(activity); got != summary {
			t.Errorf("%s: summary %q, want %q", activity, got, summary)
		}
	}

	v, err := env.QueryWorkflow("__temporal_workflow_metadata")
	if err != nil {
		t.Fatal(err)
	}
	var md sdkpb.WorkflowMetadata
	if err := v.Get(&md); err != nil {
		t.Fatal(err)
	}
	details := md.GetCurrentDetails()
	for _, line := range []string{
		"- **Order:** o1 for alice in eu, total 25.00\n",
		"- **Status:** COMPENSATED\n",
		"- **Failed step:** CreateShipment: ",
		"- **Compensations run:** CancelOrder, ReleaseStock, RefundPayment, CancelShipment\n",
	} {
		if !strings.Contains(details, line) {
			t.Errorf("current details lack %q:\n%s", line, details)
		}
	}
	// The state query is listed for the Web UI's Queries tab, described.
	i := slices.IndexFunc(md.GetDefinition().GetQueryDefinitions(), func(q *sdkpb.WorkflowInteractionDefinition) bool {
		return q.GetName() == workflows.QueryState
	})
	if i < 0 || md.GetDefinition().GetQueryDefinitions()[i].GetDescription() == "" {
		t.Errorf("query definitions %v lack a described %q", md.GetDefinition().GetQueryDefinitions(), workflows.QueryState)
	}
}

func TestDetailsWhileCompensating(t *testing.T) {
	s := workflows.SagaState{OrderID: "o_1", CustomerID: "bob", Region: "us", Status: workflows.StatusCompensationFailing,
		FailedStep: "ReserveStock", Error: "out of stock: SKU-9",
		Steps: []workflows.StepState{
			{Name: "ReserveStock", Status: workflows.StepFailed, Compensation: "ReleaseStock"},
			{Name: "ChargePayment", Status: workflows.StepCompensating, Compensation: "RefundPayment", CompensationRounds: 3, LastError: "payments down"},
		}}
	want := "- **Order:** o\\_1 for bob in us\n" +
		"- **Status:** COMPENSATION_FAILING\n" +
		"- **Failed step:** ReserveStock: out of stock: SKU-9\n" +
		"- **Compensating:** RefundPayment (round 3, last error: payments down)\n"
	if got := s.Details(); got != want {
		t.Errorf("details:\n%s\nwant:\n%s", got, want)
	}
}
