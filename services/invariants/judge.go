package invariants

import (
	"fmt"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// facts are what the four stores hold for one saga.
type facts struct {
	docs        docFacts
	reservation *inventory.Reservation
	payment     *payments.Payment
}

type verdict int

const (
	verdictConfirmed verdict = iota + 1
	verdictCancelled
	verdictInFlight
	verdictBroken
)

// judge compares one saga's effects with its order's status. excused are
// the steps whose compensation was declared done by hand for this order: the
// effects they leave are returned as Excused, not as problems. orderItems
// reads an order's items, for the message of a confirmed order whose stock
// held differs from them (the facts keep their digest only).
func (f *facts) judge(quiet bool, excused map[string]bool, orderItems func(orderID string) ([]services.Item, error)) (Disagreement, []Excused, verdict, error) {
	held := f.reservation != nil && len(f.reservation.Held) > 0
	captured := f.payment != nil && f.payment.Status == "captured"
	shipped := f.docs.shipment != nil && f.docs.shipment.status == shipping.Created
	d := Disagreement{OrderID: f.orderID()}
	problem := func(format string, args ...any) { d.Problems = append(d.Problems, fmt.Sprintf(format, args...)) }
	var left []Excused
	// excuse reports whether step's effect is excused, and records it.
	excuse := func(step, format string, args ...any) bool {
		if excused[step] {
			left = append(left, Excused{Step: step, Problem: fmt.Sprintf(format, args...)})
		}
		return excused[step]
	}

	if f.docs.order == nil {
		d.OrderStatus = "MISSING"
		held = held && !excuse(StepReserveStock, "stock held without an order: %v", f.reservation.Held)
		captured = captured && !excuse(StepChargePayment, "payment of %d captured without an order", f.payment.Amount)
		shipped = shipped && !excuse(StepCreateShipment, "shipment booked without an order")
		if !held && !captured && !shipped {
			return d, left, verdictCancelled, nil // every effect compensated, or excused
		}
		if !quiet {
			return d, left, verdictInFlight, nil
		}
		problem("effects without an order: stock held %t, payment captured %t, shipment booked %t", held, captured, shipped)
		return d, left, verdictBroken, nil
	}
	o := f.docs.order
	d.OrderStatus = string(o.status)
	status := o.status
	if status != orders.Confirmed && status != orders.Cancelled && excuse(StepCreateOrder, "order still %s, cancelled by hand", o.status) {
		status = orders.Cancelled // its other effects must be undone as for a cancelled order
	}
	switch status {
	case orders.Confirmed:
		if !held {
			problem("confirmed but no stock held")
		} else if itemsDigest(f.reservation.Held) != o.items || len(f.reservation.Freed) > 0 {
			items, err := orderItems(o.id)
			if err != nil {
				return Disagreement{}, nil, 0, err
			}
			problem("confirmed but stock held %v differs from the order's items %v", f.reservation.Held, items)
		}
		switch {
		case !captured:
			problem("confirmed but no payment captured")
		case f.payment.Amount != o.total || f.payment.CustomerID != o.customerID:
			problem("confirmed but payment is %d from %s, order says %d from %s",
				f.payment.Amount, f.payment.CustomerID, o.total, o.customerID)
		}
		if !shipped {
			problem("confirmed but no shipment booked")
		}
		if len(d.Problems) > 0 {
			return d, nil, verdictBroken, nil
		}
		return d, nil, verdictConfirmed, nil
	case orders.Cancelled:
		if held && !excuse(StepReserveStock, "cancelled but stock still held: %v", f.reservation.Held) {
			problem("cancelled but stock still held: %v", f.reservation.Held)
		}
		if captured && !excuse(StepChargePayment, "cancelled but payment of %d still captured", f.payment.Amount) {
			problem("cancelled but payment of %d still captured", f.payment.Amount)
		}
		if shipped && !excuse(StepCreateShipment, "cancelled but shipment still booked") {
			problem("cancelled but shipment still booked")
		}
		if len(d.Problems) > 0 {
			return d, left, verdictBroken, nil
		}
		return d, left, verdictCancelled, nil
	default:
		if !quiet {
			return d, nil, verdictInFlight, nil
		}
		problem("order still %s with nothing in flight", o.status)
		return d, nil, verdictBroken, nil
	}
}

func (f *facts) orderID() string {
	switch {
	case f.docs.order != nil:
		return f.docs.order.id
	case f.reservation != nil:
		return f.reservation.OrderID
	case f.payment != nil:
		return f.payment.OrderID
	case f.docs.shipment != nil:
		return f.docs.shipment.orderID
	}
	return ""
}
