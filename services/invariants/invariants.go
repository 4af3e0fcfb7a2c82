// Package invariants checks, across all four stores, that the saga kept its
// promises: no stock and no money appeared or vanished, and every order's
// stores agree with its outcome.
//
// It is read-only and can run at any moment. While sagas are in flight a
// PENDING order, or effects whose order does not exist yet, are counted as
// in flight; with Options.Quiet (the system is at rest) they are breaches.
//
// It streams, so that its memory does not hold the stores: it reads the
// order and shipment documents through cursors, in no particular order,
// keeping a few compact facts per saga (the order's status, customer,
// total and a digest of its items; the shipment's status), then the
// reservations and payments, each sorted by saga id in PostgreSQL, merged
// as they come; each saga is judged as soon as the merge reaches it and
// its facts are dropped. The orders are read first: a status read before
// the effects it implies cannot be contradicted by a saga that moves on
// meanwhile (the effects of a confirmed order stay, those of a cancelled
// one never return). At rest (Options.Quiet, no Options.Running), nothing
// moves, and the shipments are read at the same time as the orders.
package invariants

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
	c := &checker{ctx: ctx, st: st, excuses: ex, quiet: opts.Quiet, running: map[string]bool{}}
	for _, id := range opts.Running {
		c.running[id] = true
	}
	docs, err := readDocs(ctx, st, opts.Quiet && len(opts.Running) == 0)
	if err != nil {
		return Report{}, err
	}
	inv, pay, err := mergePostgres(ctx, st, func(id string, res *inventory.Reservation, p *payments.Payment) error {
		d, ok := docs[id]
		if ok {
			delete(docs, id)
		}
		return c.judge(id, facts{docs: d, reservation: res, payment: p})
	})
	if err != nil {
		return Report{}, err
	}
	for id, d := range docs { // sagas with documents alone
		if err := c.judge(id, facts{docs: d}); err != nil {
			return Report{}, err
		}
	}
	r := c.report
	r.SKUs, r.Accounts = len(inv.SKUs), len(pay.Accounts)
	for _, d := range inv.Duplicates {
		r.DuplicateEffects = append(r.DuplicateEffects, DuplicateEffect{Store: "inventory", DuplicateEvent: d})
	}
	for _, d := range pay.Duplicates {
		r.DuplicateEffects = append(r.DuplicateEffects, DuplicateEffect{Store: "payments", DuplicateEvent: d})
	}
	for _, s := range inv.SKUs {
		if !s.Balanced() {
			r.StockBreaches = append(r.StockBreaches, s)
		}
	}
	for _, a := range pay.Accounts {
		if !a.Balanced() {
			r.MoneyBreaches = append(r.MoneyBreaches, a)
		}
	}
	// Sagas are judged as the stores yield them: report them in saga id order.
	slices.SortStableFunc(r.Disagreements, func(a, b Disagreement) int { return cmp.Compare(a.SagaID, b.SagaID) })
	slices.SortStableFunc(r.Excused, func(a, b Excused) int { return cmp.Compare(a.SagaID, b.SagaID) })
	return r, nil
}

// checker judges sagas one at a time into its report.
type checker struct {
	ctx     context.Context
	st      Stores
	excuses excuses
	quiet   bool
	running map[string]bool
	report  Report
}

// judge judges one saga and counts it.
func (c *checker) judge(id string, f facts) error {
	orderID := f.orderID()
	d, excused, v, err := f.judge(c.quiet && !c.running[orderID], c.excuses[orderID], c.orderItems)
	if err != nil {
		return err
	}
	r := &c.report
	r.Sagas++
	for _, e := range excused {
		e.SagaID, e.OrderID, e.OrderStatus = id, d.OrderID, d.OrderStatus
		r.Excused = append(r.Excused, e)
	}
	switch v {
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
	return nil
}

// orderItems reads the items of an order again, for the message of a
// confirmed order whose stock held differs from them: the facts keep a
// digest of the items only.
func (c *checker) orderItems(orderID string) ([]services.Item, error) {
	o, err := c.st.Orders.Get(c.ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("check the invariants: read the items of order %s: %w", orderID, err)
	}
	return o.Items, nil
}
