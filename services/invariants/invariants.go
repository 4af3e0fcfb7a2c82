// Package invariants checks, across all four stores, that the saga kept its
// promises: no stock and no money appeared or vanished, and every order's
// stores agree with its outcome.
//
// It is read-only and can run at any moment. While sagas are in flight a
// PENDING order, or effects whose order does not exist yet, are counted as
// in flight; with Options.Quiet (the system is at rest) they are breaches.
package invariants

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/pgstore"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// Stores are the four services whose stores the checker reads.
type Stores struct {
	Inventory *inventory.Service
	Payments  *payments.Service
	Orders    *orders.Service
	Shipping  *shipping.Service
}

// Options tune a check.
type Options struct {
	// Quiet says no saga is in flight: a half-done order is then a breach.
	Quiet bool
	// Excuse lists compensations declared done by hand (see Excuse): the
	// effect each leaves is counted in Report.Excused, not as a breach.
	Excuse []Excuse
	// Running lists orders whose sagas still run although the check is
	// Quiet (sagas of another run, say, waiting on an operator): their
	// half-done orders are in flight, not breaches.
	Running []string
}

// Disagreement is one saga whose stores contradict its order's status.
type Disagreement struct {
	SagaID      string   `json:"saga_id"`
	OrderID     string   `json:"order_id"`
	OrderStatus string   `json:"order_status"`
	Problems    []string `json:"problems"`
}

// Report is the verdict of a check, as numbers and the offending records.
type Report struct {
	SKUs      int `json:"skus"`
	Accounts  int `json:"accounts"`
	Sagas     int `json:"sagas"`
	Confirmed int `json:"confirmed"`
	Cancelled int `json:"cancelled"`
	InFlight  int `json:"in_flight"`
	// StockBreaches are SKUs where available + reserved != total, or whose
	// reserved counter differs from the reservation ledger.
	StockBreaches []inventory.SKUAudit `json:"stock_breaches"`
	// MoneyBreaches are accounts where balance + captured != credited.
	MoneyBreaches []payments.AccountAudit `json:"money_breaches"`
	// Disagreements are sagas whose stores contradict their outcome.
	Disagreements []Disagreement `json:"disagreements"`
	// DuplicateEffects are effects applied more than once for one saga.
	DuplicateEffects []DuplicateEffect `json:"duplicate_effects"`
	// Excused are effects left by a compensation declared done by hand
	// (Options.Excuse): no breach.
	Excused []Excused `json:"excused"`
}

// DuplicateEffect is one effect applied more than once for one saga.
type DuplicateEffect struct {
	Store string `json:"store"`
	pgstore.DuplicateEvent
}

// Breaches is the number of conservation breaches and disagreements.
func (r Report) Breaches() int {
	return len(r.StockBreaches) + len(r.MoneyBreaches) + len(r.Disagreements) + len(r.DuplicateEffects)
}

// String is a short human summary.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "checked %d SKUs, %d accounts, %d sagas (%d confirmed, %d cancelled, %d in flight)\n",
		r.SKUs, r.Accounts, r.Sagas, r.Confirmed, r.Cancelled, r.InFlight)
	fmt.Fprintf(&b, "stock breaches: %d, money breaches: %d, orders whose stores disagree: %d, duplicate effects: %d\n",
		len(r.StockBreaches), len(r.MoneyBreaches), len(r.Disagreements), len(r.DuplicateEffects))
	for _, s := range r.StockBreaches {
		fmt.Fprintf(&b, "  SKU %s: total %d, available %d, reserved %d, reserved per ledger %d\n",
			s.SKU, s.Total, s.Available, s.Reserved, s.LedgerReserved)
	}
	for _, a := range r.MoneyBreaches {
		fmt.Fprintf(&b, "  account %s: credited %d, balance %d, captured %d\n", a.CustomerID, a.Credited, a.Balance, a.Captured)
	}
	for _, d := range r.DuplicateEffects {
		fmt.Fprintf(&b, "  %s: saga %s has %d %s effects\n", d.Store, d.SagaID, d.Count, d.Kind)
	}
	for _, d := range r.Disagreements {
		fmt.Fprintf(&b, "  order %s (saga %s, %s): %s\n", d.OrderID, d.SagaID, d.OrderStatus, strings.Join(d.Problems, "; "))
	}
	if len(r.Excused) > 0 {
		fmt.Fprintf(&b, "excused, compensations resolved by hand (no breach): %d\n", len(r.Excused))
		for _, e := range r.Excused {
			fmt.Fprintf(&b, "  order %s (saga %s, %s), %s resolved: %s\n", e.OrderID, e.SagaID, e.OrderStatus, e.Step, e.Problem)
		}
	}
	return b.String()
}

// Check reads all four stores and returns the report. An error means a
// store could not be read, not that an invariant broke.
func Check(ctx context.Context, st Stores, opts Options) (Report, error) {
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
	sagas := sagaFacts{}
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
		case verdictConfirmed:
			r.Confirmed++
		case verdictCancelled:
			r.Cancelled++
		case verdictInFlight:
			r.InFlight++
		}
		if len(d.Problems) > 0 {
			d.SagaID = id
			r.Disagreements = append(r.Disagreements, d)
		}
	}
	return r, nil
}

// facts are what the four stores hold for one saga.
type facts struct {
	order       *orders.Order
	reservation *inventory.Reservation
	payment     *payments.Payment
	shipment    *shipping.Shipment
}

type sagaFacts map[string]*facts

func (s sagaFacts) get(id string) *facts {
	f := s[id]
	if f == nil {
		f = &facts{}
		s[id] = f
	}
	return f
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
// effects they leave are returned as Excused, not as problems.
func (f *facts) judge(quiet bool, excused map[string]bool) (Disagreement, []Excused, verdict) {
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
			return d, left, verdictCancelled // every effect compensated, or excused
		}
		if !quiet {
			return d, left, verdictInFlight
		}
		problem("effects without an order: stock held %t, payment captured %t, shipment booked %t", held, captured, shipped)
		return d, left, verdictBroken
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
		} else if !sameItems(f.reservation.Held, o.Items) || len(f.reservation.Freed) > 0 {
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
			return d, nil, verdictBroken
		}
		return d, nil, verdictConfirmed
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
			return d, left, verdictBroken
		}
		return d, left, verdictCancelled
	default:
		if !quiet {
			return d, nil, verdictInFlight
		}
		problem("order still %s with nothing in flight", o.Status)
		return d, nil, verdictBroken
	}
}

func (f *facts) orderID() string {
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

func sameItems(a, b []services.Item) bool {
	key := func(items []services.Item) []services.Item {
		out := slices.Clone(items)
		sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
		return out
	}
	return slices.Equal(key(a), key(b))
}
