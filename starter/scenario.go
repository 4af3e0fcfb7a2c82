package main

import (
	"fmt"
	"strings"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// scenario is what an order placed by batch or demo is meant to show, and
// the outcome it must reach.
type scenario struct {
	// Name says what the order shows, such as "out of stock".
	Name string `json:"scenario"`
	// Want is the outcome kind the order must reach; WantStep the step that
	// must have failed ("" for a completed order).
	Want     string `json:"want"`
	WantStep string `json:"want_step,omitempty"`
}

// check returns "" when o is the outcome s wants, or what differs.
func (s scenario) check(o sagaclient.Outcome) string {
	if o.Kind == s.Want && o.State.FailedStep == s.WantStep {
		return ""
	}
	want, got := s.Want, o.Kind
	if s.WantStep != "" {
		want += " at " + s.WantStep
	}
	if o.State.FailedStep != "" {
		got += " at " + o.State.FailedStep
	}
	return fmt.Sprintf("want %s, got %s", want, got)
}

// The scenarios. Each shapes an order so that it ends the way its name
// says, by a business rule of the seeded demo data or by a forced failure.

func succeed(*workflows.OrderInput) scenario {
	return scenario{Name: "success", Want: sagaclient.Completed}
}

// outOfStock asks for more SKU-LIMITED than was ever stocked, so it fails
// however much earlier runs consumed.
func outOfStock(in *workflows.OrderInput) scenario {
	in.Items = []services.Item{{SKU: limitedSKU, Quantity: limitedStock() + 1}}
	return scenario{Name: "out of stock", Want: sagaclient.Compensated, WantStep: workflows.StepReserveStock}
}

// insufficientFunds charges carol, who has 20.00, for 99.99.
func insufficientFunds(in *workflows.OrderInput) scenario {
	in.CustomerID = "carol"
	in.Items = []services.Item{{SKU: "SKU-3", Quantity: 1}}
	return scenario{Name: "insufficient funds", Want: sagaclient.Compensated, WantStep: workflows.StepChargePayment}
}

// unsupportedDestination ships to Antarctica, which shipping does not serve.
func unsupportedDestination(in *workflows.OrderInput) scenario {
	in.ShipTo = services.Address{Name: "Station Lead", Street: "1 Ice Shelf", City: "McMurdo", PostalCode: "00000", Country: "AQ"}
	return scenario{Name: "unsupported destination", Want: sagaclient.Compensated, WantStep: workflows.StepCreateShipment}
}

// unknownSKU prices an item no catalog holds: rejected before any change.
func unknownSKU(in *workflows.OrderInput) scenario {
	in.Items = []services.Item{{SKU: "SKU-UNKNOWN", Quantity: 1}}
	return scenario{Name: "unknown SKU", Want: sagaclient.Rejected, WantStep: workflows.StepPriceOrder}
}

// stillFailing is the outcome of a saga seen COMPENSATION_FAILING: it has
// not ended, and will not until an operator acts.
const stillFailing = "compensation_failing"

// compensationFailing makes RefundPayment, the compensation of
// ChargePayment, fail at every attempt until an operator resolves it; the
// saga fails at the pivot, so that every compensation runs.
func compensationFailing(in *workflows.OrderInput) scenario {
	in.Demo.FailCompensation, in.Demo.FailAt = workflows.StepChargePayment, workflows.StepConfirmOrder
	return scenario{Name: "compensation fails until an operator acts", Want: stillFailing, WantStep: workflows.StepConfirmOrder}
}

// forcedFailure forces a business failure at step.
func forcedFailure(in *workflows.OrderInput, step string) scenario {
	in.Demo.FailAt = step
	return scenario{Name: "forced failure at " + step, Want: sagaclient.Compensated, WantStep: step}
}

// placedOrder is one planned order and how it ended, as batch and demo
// report it.
type placedOrder struct {
	OrderID  string `json:"order_id"`
	Region   string `json:"region"`
	Customer string `json:"customer_id"`
	scenario
	Outcome    string `json:"outcome"`
	Status     string `json:"saga_status"`
	FailedStep string `json:"failed_step,omitempty"`
	// Unexpected says how the outcome differs from the scenario's ("" when it does not).
	Unexpected string `json:"unexpected,omitempty"`

	in workflows.OrderInput
}

// record stores how the order ended and checks it against its scenario.
func (o *placedOrder) record(out sagaclient.Outcome) {
	o.Outcome, o.Status, o.FailedStep = out.Kind, out.Status(), out.State.FailedStep
	o.Unexpected = o.check(out)
}

// recordRunning stores the state of an order whose saga runs on (its
// outcome is its status in lower case, such as stillFailing) and checks it
// against its scenario.
func (o *placedOrder) recordRunning(s workflows.SagaState) {
	o.record(sagaclient.Outcome{Kind: strings.ToLower(string(s.Status)), State: s})
}
