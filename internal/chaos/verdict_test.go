package chaos_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/sagaflow/sagaflow/activities"
	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/chaos"
	"github.com/sagaflow/sagaflow/internal/sagaclient"
	"github.com/sagaflow/sagaflow/internal/temporalclient"
	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/internal/workers"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
	"github.com/sagaflow/sagaflow/workflows"
)

func setup(t *testing.T) (context.Context, client.Client, string, invariants.Stores, func(sql string)) {
	t.Helper()
	cfg := testenv.Config(t, config.EnvTemporalAddress, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	ctx := testenv.Context(t)
	payPool := testenv.Postgres(t, testenv.Payments)
	db := testenv.Mongo(t)
	st := invariants.Stores{
		Inventory: inventory.New(testenv.Postgres(t, testenv.Inventory)), Payments: payments.New(payPool),
		Orders: orders.New(db), Shipping: shipping.New(db, nil),
	}
	for _, m := range []interface{ Migrate(context.Context) error }{st.Inventory, st.Payments, st.Orders, st.Shipping} {
		if err := m.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := chaos.Seed(ctx, st); err != nil {
		t.Fatal(err)
	}
	c, err := temporalclient.Dial(ctx, cfg, temporalclient.Options{Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), Timeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	exec := func(sql string) {
		t.Helper()
		if _, err := payPool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	return ctx, c, testenv.ID("verdict"), st, exec
}

func order(id string) workflows.OrderInput {
	return workflows.OrderInput{OrderID: id, CustomerID: chaos.Customer(1), Region: "eu",
		Items:  []services.Item{{SKU: chaos.SKU(1), Quantity: 1}},
		ShipTo: services.Address{Name: "A", Street: "B", City: "C", PostalCode: "1", Country: "DE"}}
}

func start(t *testing.T, ctx context.Context, c client.Client, queue string, in workflows.OrderInput) {
	t.Helper()
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(in.OrderID), TaskQueue: queue},
		workflows.OrderSaga, in); err != nil {
		t.Fatal(err)
	}
}

func TestVerdictCatchesADuplicatedEffect(t *testing.T) {
	ctx, c, queue, st, exec := setup(t)
	pool, err := workers.Start(c, &activities.Activities{Inventory: st.Inventory, Payments: st.Payments, Orders: st.Orders, Shipping: st.Shipping},
		[]string{queue}, workers.Options{StopTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Stop()
	id := testenv.ID("dup")
	start(t, ctx, c, queue, order(id))
	if out, err := sagaclient.Wait(ctx, c, id, ""); err != nil || out.Kind != sagaclient.Completed {
		t.Fatalf("saga: %+v, %v", out, err)
	}
	clean, err := chaos.Judge(ctx, c, st, []string{id}, 30*time.Second)
	if err != nil || clean.Breaches() != 0 || clean.Replayed != 1 {
		t.Fatalf("clean run: %+v, %v", clean, err)
	}
	// The charge applied a second time, as if the barrier had let a retry through.
	exec(`UPDATE accounts SET balance = balance - 100 WHERE customer_id = '` + chaos.Customer(1) + `';
		INSERT INTO events (saga_id, order_id, kind, detail) VALUES ('` + workflows.WorkflowID(id) + `', '` + id + `', 'PaymentCaptured', '{}')`)
	v, err := chaos.Judge(ctx, c, st, []string{id}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Invariants.DuplicateEffects) != 1 || v.Breaches() == 0 {
		t.Fatalf("verdict missed the duplicate: %+v", v)
	}
}

func TestVerdictCatchesAnAbandonedSaga(t *testing.T) {
	ctx, c, queue, st, _ := setup(t)
	id := testenv.ID("abandoned")
	start(t, ctx, c, queue, order(id)) // no worker polls this queue: the saga never ends
	t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), workflows.WorkflowID(id), "", "test over") })
	v, err := chaos.Judge(ctx, c, st, []string{id}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.NotTerminal, []string{id}) || v.Lost() != 1 || v.Breaches() == 0 {
		t.Fatalf("verdict missed the abandoned saga: %+v", v)
	}
}
