package invariants_test

import (
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/orders"
)

// compensateAllBut drives one order's forward steps (all but the pivot),
// then every compensation except the one of step, which is left as an
// operator who resolved it by hand leaves it.
func (f *fixture) compensateAllBut(saga, order, step string) {
	f.t.Helper()
	ctx, st := f.ctx, f.st
	items := []services.Item{{SKU: "A", Quantity: 2}}
	must := func(_ any, err error) {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
	}
	must(st.Orders.Create(ctx, saga, orders.Order{ID: order, CustomerID: "alice", Region: "eu", Items: items, ShipTo: berlin, Total: 200}))
	must(st.Inventory.Reserve(ctx, saga, order, items))
	must(st.Payments.Charge(ctx, saga, order, "alice", 200))
	_, _, err := st.Shipping.Create(ctx, saga, order, berlin)
	must(nil, err)
	if step != invariants.StepCreateShipment {
		must(st.Shipping.Cancel(ctx, saga, order))
	}
	if step != invariants.StepChargePayment {
		must(st.Payments.Refund(ctx, saga, order))
	}
	if step != invariants.StepReserveStock {
		must(st.Inventory.Release(ctx, saga, order))
	}
	if step != invariants.StepCreateOrder {
		must(st.Orders.Cancel(ctx, saga, order, "test"))
	}
}

func (f *fixture) checkExcusing(excuse ...invariants.Excuse) invariants.Report {
	f.t.Helper()
	r, err := invariants.Check(f.ctx, f.st, invariants.Options{Quiet: true, Excuse: excuse})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// A compensation resolved by hand leaves its effect in its service's store:
// for the order it was resolved for, that effect is excused; the same effect
// of another order, or another effect of that order, is still a breach.
func TestResolvedCompensationIsExcusedForItsOrderOnly(t *testing.T) {
	for _, tc := range []struct {
		step, problem string
	}{
		{invariants.StepChargePayment, "cancelled but payment of 200 still captured"},
		{invariants.StepReserveStock, "cancelled but stock still held"},
		{invariants.StepCreateShipment, "cancelled but shipment still booked"},
		{invariants.StepCreateOrder, "order still PENDING"},
	} {
		t.Run(tc.step, func(t *testing.T) {
			f := setup(t)
			f.compensateAllBut("saga-1", "o1", tc.step)
			f.compensateAllBut("saga-2", "o2", tc.step)

			r := f.checkExcusing()
			if len(r.Disagreements) != 2 || len(r.Excused) != 0 {
				t.Fatalf("without an excuse, want both orders to disagree:\n%s", r)
			}

			r = f.checkExcusing(invariants.Excuse{OrderID: "o1", Step: tc.step})
			if len(r.Disagreements) != 1 || r.Disagreements[0].OrderID != "o2" ||
				!strings.Contains(strings.Join(r.Disagreements[0].Problems, ";"), tc.problem) {
				t.Errorf("o2 (no excuse) must still disagree with %q:\n%s", tc.problem, r)
			}
			if len(r.Excused) != 1 || r.Excused[0].OrderID != "o1" || r.Excused[0].SagaID != "saga-1" ||
				r.Excused[0].Step != tc.step || !strings.Contains(r.Excused[0].Problem, tc.problem) {
				t.Errorf("excused: %+v; want o1's %q", r.Excused, tc.problem)
			}
			if r.Breaches() != 1 || len(r.MoneyBreaches) != 0 || len(r.StockBreaches) != 0 || r.Cancelled != 1 {
				t.Errorf("breaches %d, cancelled %d:\n%s", r.Breaches(), r.Cancelled, r)
			}
			if !strings.Contains(r.String(), "excused, compensations resolved by hand (no breach): 1") {
				t.Errorf("summary does not count the excused effect:\n%s", r)
			}
		})
	}
}

// An excuse covers the effect of the step it names, not the order's others.
func TestExcuseOfAnotherStepExcusesNothing(t *testing.T) {
	f := setup(t)
	f.compensateAllBut("saga-1", "o1", invariants.StepChargePayment)
	r := f.checkExcusing(invariants.Excuse{OrderID: "o1", Step: invariants.StepReserveStock},
		invariants.Excuse{OrderID: "o1", Step: invariants.StepCreateShipment})
	if len(r.Disagreements) != 1 || len(r.Excused) != 0 ||
		!strings.Contains(strings.Join(r.Disagreements[0].Problems, ";"), "payment of 200 still captured") {
		t.Fatalf("report:\n%s", r)
	}
}

func TestExcuseOfAnUnknownStepIsRefused(t *testing.T) {
	f := setup(t)
	_, err := invariants.Check(f.ctx, f.st, invariants.Options{Excuse: []invariants.Excuse{{OrderID: "o1", Step: "RefundPayment"}}})
	if err == nil || !strings.Contains(err.Error(), `order o1 names step "RefundPayment"`) {
		t.Fatalf("error = %v", err)
	}
}

// An order whose saga still runs (listed in Options.Running) is in flight
// even in a Quiet check; the same half-done order unlisted is a breach.
func TestRunningSagasOrderIsInFlightAtRest(t *testing.T) {
	f := setup(t)
	f.compensateAllBut("s-running", "o-running", invariants.StepCreateOrder) // the order left PENDING
	r, err := invariants.Check(f.ctx, f.st, invariants.Options{Quiet: true, Running: []string{"o-running"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Breaches() != 0 || r.InFlight != 1 {
		t.Fatalf("listed as running: %d breaches, %d in flight\n%s", r.Breaches(), r.InFlight, r)
	}
	r = f.checkExcusing()
	if r.Breaches() != 1 {
		t.Fatalf("not listed: %d breaches, want 1\n%s", r.Breaches(), r)
	}
}
