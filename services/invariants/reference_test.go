package invariants

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// referenceCheck is Check as it was before it streamed: it loads every
// order, shipment, reservation and payment. The tests hold the streaming
// Check to its reports.
func referenceCheck(ctx context.Context, st Stores, opts Options) (Report, error) {
	ex, err := indexExcuses(opts.Excuse)
	if err != nil {
		return Report{}, err
	}
	inv, err := st.Inventory.Audit(ctx)
	if err != nil {
		return Report{}, err
	}
	pay, err := st.Payments.Audit(ctx)
	if err != nil {
		return Report{}, err
	}
	skus, reservations, accounts, pays := inv.SKUs, inv.Reservations, pay.Accounts, pay.Payments
	orderDocs, err := st.Orders.All(ctx)
	if err != nil {
		return Report{}, err
	}
	shipDocs, err := st.Shipping.All(ctx)
	if err != nil {
		return Report{}, err
	}
	r := Report{SKUs: len(skus), Accounts: len(accounts)}
	for _, d := range inv.Duplicates {
		r.DuplicateEffects = append(r.DuplicateEffects, DuplicateEffect{Store: "inventory", DuplicateEvent: d})
	}
	for _, d := range pay.Duplicates {
		r.DuplicateEffects = append(r.DuplicateEffects, DuplicateEffect{Store: "payments", DuplicateEvent: d})
	}
	for _, s := range skus {
		if !s.Balanced() {
			r.StockBreaches = append(r.StockBreaches, s)
		}
	}
	for _, a := range accounts {
		if !a.Balanced() {
			r.MoneyBreaches = append(r.MoneyBreaches, a)
		}
	}
	sagas := refSagaFacts{}
	for _, o := range orderDocs {
		sagas.get(o.SagaID).order = &o
	}
	for id, res := range reservations {
		sagas.get(id).reservation = res
	}
	for id, p := range pays {
		sagas.get(id).payment = &p
	}
	for _, sh := range shipDocs {
		sagas.get(sh.SagaID).shipment = &sh
	}
	ids := make([]string, 0, len(sagas))
	for id := range sagas {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	r.Sagas = len(ids)
	for _, id := range ids {
		f := sagas[id]
		d, excused, verdict := f.judge(opts.Quiet && !slices.Contains(opts.Running, f.orderID()), ex[f.orderID()])
		for _, e := range excused {
			e.SagaID, e.OrderID, e.OrderStatus = id, d.OrderID, d.OrderStatus
			r.Excused = append(r.Excused, e)
		}
		switch verdict {
		case refConfirmed:
			r.Confirmed++
		case refCancelled:
			r.Cancelled++
		case refInFlight:
			r.InFlight++
		}
		if len(d.Problems) > 0 {
			d.SagaID = id
			r.Disagreements = append(r.Disagreements, d)
		}
	}
	return r, nil
}

// refFacts are what the four stores hold for one saga.
type refFacts struct {
	order       *orders.Order
	reservation *inventory.Reservation
	payment     *payments.Payment
	shipment    *shipping.Shipment
}

type refSagaFacts map[string]*refFacts

func (s refSagaFacts) get(id string) *refFacts {
	f := s[id]
	if f == nil {
		f = &refFacts{}
		s[id] = f
	}
	return f
}

type refVerdict int

const (
	refConfirmed refVerdict = iota + 1
	refCancelled
	refInFlight
	refBroken
)

// judge compares one saga's effects with its order's status. excused are
// the steps whose compensation was declared done by hand for this order: the
// effects they leave are returned as Excused, not as problems.
func (f *refFacts) judge(quiet bool, excused map[string]bool) (Disagreement, []Excused, refVerdict) {
	held := f.reservation != nil && len(f.reservation.Held) > 0
	captured := f.payment != nil && f.payment.Status == "captured"
	shipped := f.shipment != nil && f.shipment.Status == shipping.Created
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

	if f.order == nil {
		d.OrderStatus = "MISSING"
		held = held && !excuse(StepReserveStock, "stock held without an order: %v", f.reservation.Held)
		captured = captured && !excuse(StepChargePayment, "payment of %d captured without an order", f.payment.Amount)
		shipped = shipped && !excuse(StepCreateShipment, "shipment booked without an order")
		if !held && !captured && !shipped {
			return d, left, refCancelled // every effect compensated, or excused
		}
		if !quiet {
			return d, left, refInFlight
		}
		problem("effects without an order: stock held %t, payment captured %t, shipment booked %t", held, captured, shipped)
		return d, left, refBroken
	}
	o := f.order
	d.OrderStatus = string(o.Status)
	status := o.Status
	if status != orders.Confirmed && status != orders.Cancelled && excuse(StepCreateOrder, "order still %s, cancelled by hand", o.Status) {
		status = orders.Cancelled // its other effects must be undone as for a cancelled order
	}
	switch status {
	case orders.Confirmed:
		if !held {
			problem("confirmed but no stock held")
		} else if !refSameItems(f.reservation.Held, o.Items) || len(f.reservation.Freed) > 0 {
			problem("confirmed but stock held %v differs from the order's items %v", f.reservation.Held, o.Items)
		}
		switch {
		case !captured:
			problem("confirmed but no payment captured")
		case f.payment.Amount != o.Total || f.payment.CustomerID != o.CustomerID:
			problem("confirmed but payment is %d from %s, order says %d from %s",
				f.payment.Amount, f.payment.CustomerID, o.Total, o.CustomerID)
		}
		if !shipped {
			problem("confirmed but no shipment booked")
		}
		if len(d.Problems) > 0 {
			return d, nil, refBroken
		}
		return d, nil, refConfirmed
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
			return d, left, refBroken
		}
		return d, left, refCancelled
	default:
		if !quiet {
			return d, nil, refInFlight
		}
		problem("order still %s with nothing in flight", o.Status)
		return d, nil, refBroken
	}
}

func (f *refFacts) orderID() string {
	switch {
	case f.order != nil:
		return f.order.ID
	case f.reservation != nil:
		return f.reservation.OrderID
	case f.payment != nil:
		return f.payment.OrderID
	case f.shipment != nil:
		return f.shipment.OrderID
	}
	return ""
}

func refSameItems(a, b []services.Item) bool {
	key := func(items []services.Item) []services.Item {
		out := slices.Clone(items)
		sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
		return out
	}
	return slices.Equal(key(a), key(b))
}
