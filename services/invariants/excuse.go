package invariants

import (
	"fmt"
	"strings"
)

// The forward steps whose effect an Excuse can name: each leaves one effect
// in one service's store when its compensation is declared done by hand.
const (
	// StepCreateOrder: the order is not cancelled (orders).
	StepCreateOrder = "CreateOrder"
	// StepReserveStock: the order's stock is still held (inventory).
	StepReserveStock = "ReserveStock"
	// StepChargePayment: the order's payment is still captured (payments).
	StepChargePayment = "ChargePayment"
	// StepCreateShipment: the order's shipment is still booked (shipping).
	StepCreateShipment = "CreateShipment"
)

// excusableSteps lists the steps an Excuse may name, in the saga's order.
var excusableSteps = []string{StepCreateOrder, StepReserveStock, StepChargePayment, StepCreateShipment}

// Excuse names a compensation an operator declared done by hand: a saga
// ended COMPENSATED_BY_HAND with Step's compensation resolved. Whatever was
// done by hand happened outside the stores, so Step's effect is left in its
// service's store, and for that order alone it is not a disagreement.
type Excuse struct {
	OrderID string `json:"order_id"`
	// Step is the forward step whose compensation was resolved: one of
	// StepCreateOrder, StepReserveStock, StepChargePayment,
	// StepCreateShipment.
	Step string `json:"step"`
}

// Excused is one effect left in a store that Options.Excuse excused.
type Excused struct {
	SagaID      string `json:"saga_id"`
	OrderID     string `json:"order_id"`
	OrderStatus string `json:"order_status"`
	Step        string `json:"step"`
	// Problem is the disagreement it would otherwise be.
	Problem string `json:"problem"`
}

// excuses indexes Options.Excuse: order id -> excused steps.
type excuses map[string]map[string]bool

// indexExcuses checks and indexes list; a step that leaves no effect a
// compensation undoes is refused.
func indexExcuses(list []Excuse) (excuses, error) {
	ex := excuses{}
	for _, e := range list {
		known := false
		for _, s := range excusableSteps {
			known = known || s == e.Step
		}
		if !known {
			return nil, fmt.Errorf("excuse for order %s names step %q: want one of %s",
				e.OrderID, e.Step, strings.Join(excusableSteps, ", "))
		}
		if ex[e.OrderID] == nil {
			ex[e.OrderID] = map[string]bool{}
		}
		ex[e.OrderID][e.Step] = true
	}
	return ex, nil
}
