package projector_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sagaflow/sagaflow/internal/projector"
	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/internal/sagatest"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/shipping"
	"github.com/sagaflow/sagaflow/workflows"
)

// readSide is a read store on a schema of the test's own, and the write
// stores of e as its sources.
func readSide(t *testing.T, e *sagatest.Env) (*readstore.Store, []projector.Source, readstore.WriteStores) {
	t.Helper()
	store := readstore.New(testenv.Postgres(t, testenv.Reporting))
	if err := store.Migrate(e.Ctx); err != nil {
		t.Fatal(err)
	}
	sources := projector.Sources(e.InventoryPool, e.PaymentsPool, e.MongoDB, e.MongoDB)
	w := readstore.WriteStores{Inventory: e.InventoryPool, Payments: e.PaymentsPool,
		Orders: e.MongoDB.Collection(orders.Collection), Shipments: e.MongoDB.Collection(shipping.Collection)}
	return store, sources, w
}

// run runs a projector until the test ends.
func run(t *testing.T, store *readstore.Store, sources []projector.Source, holder string) context.CancelFunc {
	t.Helper()
	p, err := projector.New(store, sources, projector.Options{Holder: holder, TTL: 2 * time.Second, LagEvery: 200 * time.Millisecond}, nil, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

// TestProjectorBuildsTheViewsOfRealSagas runs completed, compensated and
// rejected sagas through a worker with a projector beside it: once it has
// caught up, every order's view equals its write stores' records, every
// counter the sum of its orders, and the compensated order's timeline
// holds the events of the services it touched, in order.
func TestProjectorBuildsTheViewsOfRealSagas(t *testing.T) {
	e := sagatest.Start(t, sagatest.Options{})
	store, sources, w := readSide(t, e)
	run(t, store, sources, "p1")

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
	report, err := store.Check(e.Ctx, w)
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
	if c, ok, err := store.Customer(e.Ctx, sagatest.Poor); err != nil || !ok || c.Cancelled != 1 || c.Captured != 0 {
		t.Fatalf("poor's counters %+v %v %v", c, ok, err)
	}
}
