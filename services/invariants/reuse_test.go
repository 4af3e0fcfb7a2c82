package invariants_test

import (
	"errors"
	"testing"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/orders"
)

// The checker keys effects by saga id and finds an order's saga in its
// document. A new saga of an order id whose saga Temporal has forgotten
// ("order-<id>/<first run id>" next to the old "order-<id>") gets every
// forward step refused with ORDER_EXISTS and every compensation as a null
// one; the stores then hold the old sagas' outcomes unchanged and no breach,
// whether the old saga completed, compensated everything, or failed before
// it reserved anything (the new saga's CancelShipment then leaves a
// tombstone of its own, an empty cancelled saga).
func TestANewSagaOfAReusedOrderIDBreaksNoInvariant(t *testing.T) {
	f := setup(t)
	ctx, st := f.ctx, f.st
	f.run("order-o1", "o1", false)
	f.run("order-o2", "o2", true)
	items := []services.Item{{SKU: "A", Quantity: 2}}
	order := func(id string) orders.Order {
		return orders.Order{ID: id, CustomerID: "alice", Region: "eu", Items: items, ShipTo: berlin, Total: 200}
	}
	if _, err := st.Orders.Create(ctx, "order-o3", order("o3")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Orders.Cancel(ctx, "order-o3", "o3", "out of stock"); err != nil {
		t.Fatal(err)
	}
	before := f.check(true)
	if before.Breaches() != 0 || before.Confirmed != 1 || before.Cancelled != 2 {
		t.Fatalf("before the new sagas:\n%s", before)
	}

	for _, id := range []string{"o1", "o2", "o3"} {
		saga := testenv.SagaIDPerRun(id)
		refused := func(step string, err error) {
			t.Helper()
			if !errors.Is(err, services.ErrOrderExists) {
				t.Fatalf("%s: %s by %s: %v; want ORDER_EXISTS", id, step, saga, err)
			}
		}
		null := func(step string, out barrier.Outcome, err error) {
			t.Helper()
			if err != nil || out != barrier.NullCompensation {
				t.Fatalf("%s: %s by %s: %v, %v; want a null compensation", id, step, saga, out, err)
			}
		}
		_, err := st.Orders.Create(ctx, saga, order(id))
		refused("CreateOrder", err)
		if id != "o3" { // o3's old saga reserved and charged nothing
			_, err = st.Inventory.Reserve(ctx, saga, id, items)
			refused("ReserveStock", err)
			_, err = st.Payments.Charge(ctx, saga, id, "alice", 200)
			refused("ChargePayment", err)
			_, _, err = st.Shipping.Create(ctx, saga, id, berlin)
			refused("CreateShipment", err)
		}
		out, err := st.Shipping.Cancel(ctx, saga, id)
		null("CancelShipment", out, err)
		out, err = st.Payments.Refund(ctx, saga, id)
		null("RefundPayment", out, err)
		out, err = st.Inventory.Release(ctx, saga, id)
		null("ReleaseStock", out, err)
		out, err = st.Orders.Cancel(ctx, saga, id, "order id already used")
		null("CancelOrder", out, err)
		_, err = st.Orders.Confirm(ctx, saga, id)
		refused("ConfirmOrder", err)
	}

	after := f.check(true)
	if after.Breaches() != 0 || after.Confirmed != 1 || after.Cancelled != 3 || after.Sagas != before.Sagas+1 {
		t.Fatalf("after the new sagas (want o3's new saga as one more, empty, cancelled saga):\nbefore %s\nafter  %s", before, after)
	}
	for _, id := range []string{"o1", "o2", "o3"} {
		o, err := st.Orders.Get(ctx, id)
		if err != nil || o.SagaID != "order-"+id {
			t.Fatalf("order %s: %+v, %v; want it still the old saga's", id, o, err)
		}
	}
}
