package projector_test

import (
	"context"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// TestProjectorBuildsTheViewsOfRealSagas runs completed, compensated and
// rejected sagas through a worker with a projector beside it: once it has
// caught up, every order's view equals its write stores' records, every
// counter the sum of its orders, and the compensated order's timeline
// holds the events of the services it touched, in order.
func TestProjectorBuildsTheViewsOfRealSagas(t *testing.T) {
	e := sagatest.Start(t, sagatest.Options{})
	store, w := e.ReadSide(), e.WriteStores()

	ins := []workflows.OrderInput{sagatest.Order(sagatest.Rich, 1), sagatest.Order(sagatest.Rich, 2), sagatest.Order(sagatest.Rich, 3),
		sagatest.Order(sagatest.Poor, 2), sagatest.Order(sagatest.Rich, 1)}
	ins[4].Items = []services.Item{{SKU: "T-NONE", Quantity: 1}}
	want := []string{"", "", "", workflows.ErrTypeCompensated, workflows.ErrTypeRejected}
	for i, in := range ins {
		if _, end := e.Run(in); end != want[i] {
			t.Fatalf("order %d ended %q, want %q", i, end, want[i])
		}
	}
	settled := time.Now()
	ctx, cancel := context.WithTimeout(e.Ctx, 30*time.Second)
	defer cancel()
	if err := store.CaughtUp(ctx, settled); err != nil {
		t.Fatal(err)
	}
	report, err := store.Check(e.Ctx, w, true)
	if err != nil {
		t.Fatal(err)
	}
	if report.Orders != 4 || len(report.Drift) != 0 {
		t.Fatalf("check: %d orders, drift %q", report.Orders, report.Drift)
	}
	rich, err := store.OrdersOfCustomer(e.Ctx, sagatest.Rich)
	if err != nil {
		t.Fatal(err)
	}
	if len(rich) != 3 {
		t.Fatalf("rich has %d orders in the read store, want 3", len(rich))
	}
	for _, f := range rich {
		if f.Outcome() != readstore.OutcomeCompleted {
			t.Errorf("order %s: %s, want COMPLETED", f.OrderID, f.Outcome())
		}
	}
	f, timeline, err := store.Order(e.Ctx, ins[3].OrderID)
	if err != nil {
		t.Fatal(err)
	}
	if f.Outcome() != readstore.OutcomeCompensated {
		t.Fatalf("the compensated order's view: %+v", f)
	}
	var kinds []string
	for _, ev := range timeline {
		kinds = append(kinds, ev.Kind)
	}
	// Inventory reserves and the charge is refused; the stock goes back and
	// the order is cancelled.
	if len(kinds) != 4 || kinds[0] != services.EventOrderCreated || kinds[3] != services.EventOrderCancelled {
		t.Fatalf("timeline %v", kinds)
	}
	// Each event names itself: a MongoDB one by its document and kind.
	if id := "orders/" + ins[3].OrderID + "/" + services.EventOrderCreated; timeline[0].EventID != id {
		t.Fatalf("the order's first event is %q, want %q", timeline[0].EventID, id)
	}
	if c, ok, err := store.Customer(e.Ctx, sagatest.Poor); err != nil || !ok || c.Cancelled != 1 || c.Captured != 0 {
		t.Fatalf("poor's counters %+v %v %v", c, ok, err)
	}
}
