package prefill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/saga/mongobarrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/mongostore"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// shapeOrders are enough orders for every ending at 50% cancelled.
const shapeOrders = 12

// filledSagas fills s with shapeOrders orders, half of them cancelled,
// and returns them as Fill shaped them; every ending is among them.
func filledSagas(t *testing.T, ctx context.Context, s *stores) []saga {
	t.Helper()
	opts := Options{Orders: shapeOrders, CancelledPercent: 50}
	if _, err := Fill(ctx, s.Target, opts); err != nil {
		t.Fatal(err)
	}
	p := newPlanner(s.Target, opts, time.Now())
	if err := p.prepare(ctx); err != nil {
		t.Fatal(err)
	}
	var sagas []saga
	seen := map[ending]bool{}
	for n := range shapeOrders {
		sg := p.sagaAt(n)
		sagas = append(sagas, sg)
		seen[sg.end] = true
	}
	if len(seen) != 4 {
		t.Fatalf("endings among %d orders: %v; want all four", shapeOrders, seen)
	}
	return sagas
}

// drive runs sg's steps through the services, as the saga does, ending as
// sg ended.
func drive(ctx context.Context, s *stores, sg saga) error {
	st := s.svc
	var errs []error
	step := func(_ any, err error) { errs = append(errs, err) }
	step(st.Orders.Create(ctx, sg.sagaID, orders.Order{ID: sg.orderID, CustomerID: sg.customer, Region: sg.region,
		Items: sg.items, ShipTo: sg.shipTo, Total: sg.total}))
	if sg.reserved() {
		step(st.Inventory.Reserve(ctx, sg.sagaID, sg.orderID, sg.items))
	}
	step(st.Payments.Charge(ctx, sg.sagaID, sg.orderID, sg.customer, sg.total))
	if sg.end == confirmed || sg.end == cancelledAfterBooking {
		_, out, err := st.Shipping.Create(ctx, sg.sagaID, sg.orderID, sg.shipTo)
		step(out, err)
	}
	if sg.end == refusedDestination {
		if _, _, err := st.Shipping.Create(ctx, sg.sagaID, sg.orderID, sg.shipTo); !errors.Is(err, services.ErrInvalidAddress) {
			errs = append(errs, fmt.Errorf("shipment to %s: %v, want ErrInvalidAddress", sg.shipTo.Country, err))
		}
	}
	if sg.end == confirmed {
		step(st.Orders.Confirm(ctx, sg.sagaID, sg.orderID))
		return errors.Join(errs...)
	}
	// The compensations, last registered first.
	if sg.end != refusedStock {
		step(st.Shipping.Cancel(ctx, sg.sagaID, sg.orderID))
	}
	step(st.Payments.Refund(ctx, sg.sagaID, sg.orderID))
	step(st.Inventory.Release(ctx, sg.sagaID, sg.orderID))
	step(st.Orders.Cancel(ctx, sg.sagaID, sg.orderID, cancelReason))
	return errors.Join(errs...)
}

// TestFillWritesWhatTheServicesWrite fills stores with a few orders, and
// drives the same sagas through the services into other stores: every
// PostgreSQL row and every document are alike, but for the times.
func TestFillWritesWhatTheServicesWrite(t *testing.T) {
	filled := newStores(t, nil, 0, 0, nil, 0)
	ctx := testenv.Context(t)
	sagas := filledSagas(t, ctx, filled)
	driven := newStores(t, ownSKUs(), ownUnitPrice, 1_000, ownCustomers(), 1_000_000)
	for _, sg := range sagas {
		if err := drive(ctx, driven, sg); err != nil {
			t.Fatalf("drive %s (ending %d): %v", sg.orderID, sg.end, err)
		}
	}
	for _, q := range []struct {
		db  func(*stores) *pgxpool.Pool
		sql string
	}{
		{inv, `SELECT saga_id, step, op, origin FROM saga_barrier ORDER BY 1, 2, 3`},
		{pay, `SELECT saga_id, step, op, origin FROM saga_barrier ORDER BY 1, 2, 3`},
		{inv, `SELECT order_id, saga_id FROM order_sagas ORDER BY 1`},
		{pay, `SELECT order_id, saga_id FROM order_sagas ORDER BY 1`},
		{inv, `SELECT saga_id, order_id, sku, quantity, status, released_at IS NULL FROM reservations ORDER BY 1, 3`},
		{pay, `SELECT saga_id, order_id, customer_id, amount, status, refunded_at IS NULL FROM payments ORDER BY 1`},
		{inv, `SELECT saga_id, order_id, kind, detail FROM events ORDER BY 1, 3`},
		{pay, `SELECT saga_id, order_id, kind, detail FROM events ORDER BY 1, 3`},
	} {
		got, want := rowsOf(t, ctx, q.db(filled), q.sql), rowsOf(t, ctx, q.db(driven), q.sql)
		if got != want {
			t.Errorf("%s\nfilled:\n%s\ndriven:\n%s", q.sql, got, want)
		}
	}
	for _, coll := range []string{orders.Collection, shipping.Collection} {
		got, want := docsOf(t, ctx, filled.Mongo.Collection(coll)), docsOf(t, ctx, driven.Mongo.Collection(coll))
		if got != want {
			t.Errorf("%s\nfilled:\n%s\ndriven:\n%s", coll, got, want)
		}
	}
}

func inv(s *stores) *pgxpool.Pool { return s.Target.Inventory }
func pay(s *stores) *pgxpool.Pool { return s.Target.Payments }

func rowsOf(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sql string) string {
	t.Helper()
	rows, err := pool.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, v...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// timeFields are the fields that hold the time a document was written.
var timeFields = []string{"created_at", "updated_at", mongobarrier.MarkerField + ".at", mongostore.EventsField + ".at"}

// docsOf returns every document of coll, in _id order, their times blanked.
func docsOf(t *testing.T, ctx context.Context, coll *mongo.Collection) string {
	t.Helper()
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range docs {
		lines = append(lines, fmt.Sprint(blankTimes(d, "")))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func blankTimes(d bson.D, path string) bson.D {
	for i, e := range d {
		switch v := e.Value.(type) {
		case bson.D:
			d[i].Value = blankTimes(v, path+e.Key+".")
		case bson.A:
			for j, el := range v {
				if sub, ok := el.(bson.D); ok {
					v[j] = blankTimes(sub, path+e.Key+".")
				}
			}
		case bson.DateTime:
			if slices.Contains(timeFields, path+e.Key) {
				d[i].Value = "<time>"
			}
		}
	}
	return d
}

// TestFilledSagasAreTheServicesOwn runs the steps of filled sagas again,
// as late retries would: the barrier finds each one done or compensated,
// refuses other sagas of the same order ids, and nothing changes.
func TestFilledSagasAreTheServicesOwn(t *testing.T) {
	s := newStores(t, nil, 0, 0, nil, 0)
	ctx := testenv.Context(t)
	sagas := filledSagas(t, ctx, s)
	before := s.check(t, ctx)
	st := s.svc
	for _, sg := range sagas {
		outcome := func(step string, got barrier.Outcome, err error, want barrier.Outcome, refusal error) {
			t.Helper()
			if (refusal == nil && (err != nil || got != want)) || (refusal != nil && !errors.Is(err, refusal)) {
				t.Errorf("%s (ending %d), %s again: %v, %v; want %v %v", sg.orderID, sg.end, step, got, err, want, refusal)
			}
		}
		other := sg.sagaID + "-other"
		out, err := st.Orders.Create(ctx, other, orders.Order{ID: sg.orderID, CustomerID: sg.customer, Region: sg.region,
			Items: sg.items, ShipTo: sg.shipTo, Total: sg.total})
		outcome("CreateOrder of another saga", out, err, 0, services.ErrOrderExists)
		out, err = st.Payments.Charge(ctx, other, sg.orderID, sg.customer, sg.total)
		outcome("ChargePayment of another saga", out, err, 0, services.ErrOrderExists)
		if sg.reserved() {
			out, err = st.Inventory.Reserve(ctx, other, sg.orderID, sg.items)
			outcome("ReserveStock of another saga", out, err, 0, services.ErrOrderExists)
		}
		if sg.end == confirmed {
			out, err = st.Orders.Create(ctx, sg.sagaID, orders.Order{ID: sg.orderID, CustomerID: sg.customer,
				Region: sg.region, Items: sg.items, ShipTo: sg.shipTo, Total: sg.total})
			outcome("CreateOrder", out, err, barrier.Duplicate, nil)
			out, err = st.Inventory.Reserve(ctx, sg.sagaID, sg.orderID, sg.items)
			outcome("ReserveStock", out, err, barrier.Duplicate, nil)
			out, err = st.Payments.Charge(ctx, sg.sagaID, sg.orderID, sg.customer, sg.total)
			outcome("ChargePayment", out, err, barrier.Duplicate, nil)
			sh, out, err := st.Shipping.Create(ctx, sg.sagaID, sg.orderID, sg.shipTo)
			outcome("CreateShipment", out, err, barrier.Duplicate, nil)
			if sh.Tracking != shipping.Tracking(sg.sagaID, sg.orderID) || sh.Status != shipping.Created {
				t.Errorf("%s: shipment %+v", sg.orderID, sh)
			}
			out, err = st.Orders.Confirm(ctx, sg.sagaID, sg.orderID)
			outcome("ConfirmOrder", out, err, barrier.Duplicate, nil)
			out, err = st.Orders.Cancel(ctx, sg.sagaID, sg.orderID, "late")
			outcome("CancelOrder", out, err, 0, services.ErrOrderConfirmed)
			continue
		}
		out, err = st.Orders.Create(ctx, sg.sagaID, orders.Order{ID: sg.orderID, CustomerID: sg.customer,
			Region: sg.region, Items: sg.items, ShipTo: sg.shipTo, Total: sg.total})
		outcome("CreateOrder", out, err, 0, services.ErrStepCompensated)
		out, err = st.Inventory.Reserve(ctx, sg.sagaID, sg.orderID, sg.items)
		outcome("ReserveStock", out, err, 0, services.ErrStepCompensated)
		out, err = st.Payments.Charge(ctx, sg.sagaID, sg.orderID, sg.customer, sg.total)
		outcome("ChargePayment", out, err, 0, services.ErrStepCompensated)
		out, err = st.Orders.Confirm(ctx, sg.sagaID, sg.orderID)
		outcome("ConfirmOrder", out, err, 0, services.ErrOrderCancelled)
		out, err = st.Orders.Cancel(ctx, sg.sagaID, sg.orderID, cancelReason)
		outcome("CancelOrder", out, err, barrier.AlreadyCompensated, nil)
		out, err = st.Inventory.Release(ctx, sg.sagaID, sg.orderID)
		outcome("ReleaseStock", out, err, barrier.AlreadyCompensated, nil)
		out, err = st.Payments.Refund(ctx, sg.sagaID, sg.orderID)
		outcome("RefundPayment", out, err, barrier.AlreadyCompensated, nil)
		if sg.end != refusedStock {
			served := sg.shipTo
			served.Country = "DE" // past the destination check, to the barrier
			_, out, err = st.Shipping.Create(ctx, sg.sagaID, sg.orderID, served)
			outcome("CreateShipment", out, err, 0, services.ErrStepCompensated)
			out, err = st.Shipping.Cancel(ctx, sg.sagaID, sg.orderID)
			outcome("CancelShipment", out, err, barrier.AlreadyCompensated, nil)
		}
	}
	if after := s.check(t, ctx); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("before the late steps: %s\nafter: %s", before, after)
	}
}
