package workflows_test

import (
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// The saga's current details in the Web UI: only the lines that say
// something, amounts in units and cents, markdown escaped.
func TestDetailsShowOnlyWhatIsKnown(t *testing.T) {
	steps := func(sts ...workflows.StepState) []workflows.StepState { return sts }
	// Shown in UTC: 03:04:05.
	since := time.Date(2026, 1, 2, 4, 4, 5, 0, time.FixedZone("CET", 3600))
	cases := []struct {
		name  string
		state workflows.SagaState
		want  string
	}{
		{"started", workflows.SagaState{OrderID: "o1", CustomerID: "ann", Region: "eu", Status: workflows.StatusRunning,
			Steps: steps(workflows.StepState{Name: "PriceOrder", Status: workflows.StepPending})},
			"- **Order:** o1 for ann in eu\n- **Status:** RUNNING\n"},
		{"running two steps", workflows.SagaState{OrderID: "o1", CustomerID: "ann", Region: "eu", Status: workflows.StatusRunning, Total: 5,
			Steps: steps(workflows.StepState{Name: "PriceOrder", Status: workflows.StepDone},
				workflows.StepState{Name: "ReserveStock", Status: workflows.StepRunning},
				workflows.StepState{Name: "ChargePayment", Status: workflows.StepRunning})},
			"- **Order:** o1 for ann in eu, total 0.05\n- **Status:** RUNNING\n- **Running:** ReserveStock, ChargePayment\n"},
		{"completed", workflows.SagaState{OrderID: "o1", CustomerID: "ann", Region: "us", Status: workflows.StatusCompleted, Total: 123456, Tracking: "TRK_1",
			Steps: steps(workflows.StepState{Name: "ConfirmOrder", Status: workflows.StepDone})},
			"- **Order:** o1 for ann in us, total 1234.56\n- **Status:** COMPLETED\n- **Tracking:** TRK\\_1\n"},
		{"rejected before any step", workflows.SagaState{OrderID: "o*1", CustomerID: "[ann]", Region: "apac", Status: workflows.StatusRejected, Error: "region is <mars>"},
			"- **Order:** o\\*1 for \\[ann\\] in apac\n- **Status:** REJECTED\n- **Error:** region is \\<mars\\>\n"},
		{"compensating, first round", workflows.SagaState{OrderID: "o1", CustomerID: "ann", Region: "eu", Status: workflows.StatusCompensating, Total: 100,
			FailedStep: "CreateShipment", Error: "no such street",
			Steps: steps(workflows.StepState{Name: "CreateOrder", Status: workflows.StepDone, Compensation: "CancelOrder"},
				workflows.StepState{Name: "ChargePayment", Status: workflows.StepCompensating, Compensation: "RefundPayment", CompensationRounds: 1, LastError: "x"},
				workflows.StepState{Name: "CreateShipment", Status: workflows.StepCompensated, Compensation: "CancelShipment"})},
			"- **Order:** o1 for ann in eu, total 1.00\n- **Status:** COMPENSATING\n- **Failed step:** CreateShipment: no such street\n" +
				"- **Compensating:** RefundPayment\n- **Compensations run:** CancelShipment\n"},
		{"stuck pivot", workflows.SagaState{OrderID: "o1", CustomerID: "ann", Region: "eu", Status: workflows.StatusPivotStuck, Total: 100,
			Steps: steps(workflows.StepState{Name: "ConfirmOrder", Status: workflows.StepRunning, FailingSince: since, LastError: "orders_down"})},
			"- **Order:** o1 for ann in eu, total 1.00\n- **Status:** PIVOT_STUCK\n" +
				"- **Running:** ConfirmOrder (stuck since 2026-01-02 03:04:05, last error: orders\\_down; the server retries it)\n"},
		{"compensation failing, resolved by hand", workflows.SagaState{OrderID: "o1", CustomerID: "ann", Region: "eu", Status: workflows.StatusCompensationFailing,
			FailedStep: "ConfirmOrder", Error: "refused",
			Steps: steps(
				workflows.StepState{Name: "CreateOrder", Status: workflows.StepResolved, Compensation: "CancelOrder"},
				workflows.StepState{Name: "ChargePayment", Status: workflows.StepResolved, Compensation: "RefundPayment",
					Resolution: &workflows.Resolution{By: "ada", Reason: "refunded_by hand", At: since}},
				workflows.StepState{Name: "CreateShipment", Status: workflows.StepCompensating, Compensation: "CancelShipment",
					CompensationRounds: 2, FailingSince: since, LastError: "down"})},
			"- **Order:** o1 for ann in eu\n- **Status:** COMPENSATION_FAILING\n- **Failed step:** ConfirmOrder: refused\n" +
				"- **Compensating:** CancelShipment (failing since 2026-01-02 03:04:05, last error: down; the server retries it)\n" +
				"- **Resolved by hand:** RefundPayment by ada: refunded\\_by hand\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.state.Details(); got != c.want {
				t.Fatalf("details:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// What the Web UI shows of an order before its saga runs: a one-line
// summary and the static details.
func TestOrderSummaryAndDetails(t *testing.T) {
	in := validOrder()
	in.Items = []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU_2", Quantity: 1}}
	if got, want := in.Summary(), "Order o1 for alice: 2 x SKU-1, 1 x SKU_2"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	want := "- **Order:** o1 for alice in eu\n- **Items:** 2 x SKU-1, 1 x SKU\\_2\n- **Ship to:** Ada, Main 1, 10115 Berlin, DE\n"
	if got := in.Details(); got != want {
		t.Errorf("details:\n%s\nwant:\n%s", got, want)
	}
	in.Demo = workflows.Demo{FailAt: "ConfirmOrder", PauseBefore: "CreateOrder", Pause: 90 * time.Second}
	want += "- **Demo:** fails at ConfirmOrder\n- **Demo:** pauses 1m30s before CreateOrder\n"
	if got := in.Details(); got != want {
		t.Errorf("demo details:\n%s\nwant:\n%s", got, want)
	}
}
