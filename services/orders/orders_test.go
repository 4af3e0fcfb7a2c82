package orders_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/orders"
)

func setup(t *testing.T) (*orders.Service, context.Context) {
	t.Helper()
	ctx := testenv.Context(t)
	svc := orders.New(testenv.Mongo(t))
	for range 2 { // migrating twice is harmless
		if err := svc.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return svc, ctx
}

func order(id string) orders.Order {
	return orders.Order{
		ID: id, CustomerID: "alice", Region: "eu",
		Items:  []services.Item{{SKU: "A", Quantity: 2}},
		ShipTo: services.Address{Name: "Ada", Street: "Main 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
		Total:  500,
	}
}

func status(t *testing.T, ctx context.Context, svc *orders.Service, id string) orders.Status {
	t.Helper()
	o, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return o.Status
}

func TestCreateTwiceHasOneEffect(t *testing.T) {
	svc, ctx := setup(t)
	out, err := svc.Create(ctx, "saga-1", order("o1"))
	if err != nil || out != barrier.Applied {
		t.Fatalf("first create: %v, %v", out, err)
	}
	out, err = svc.Create(ctx, "saga-1", order("o1"))
	if err != nil || out != barrier.Duplicate {
		t.Fatalf("second create: %v, %v", out, err)
	}
	all, err := svc.All(ctx)
	if err != nil || len(all) != 1 || all[0].Status != orders.Pending || all[0].Total != 500 {
		t.Fatalf("orders: %+v, %v", all, err)
	}
	if _, err := svc.Create(ctx, "saga-other", order("o1")); !errors.Is(err, services.ErrOrderExists) {
		t.Fatalf("create by another saga: %v", err)
	}
}

func TestConfirmTwiceHasOneEffectAndCancelAfterConfirmIsRefused(t *testing.T) {
	svc, ctx := setup(t)
	if _, err := svc.Create(ctx, "saga-1", order("o1")); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.Confirm(ctx, "saga-1", "o1"); err != nil || out != barrier.Applied {
		t.Fatalf("confirm: %v, %v", out, err)
	}
	if out, err := svc.Confirm(ctx, "saga-1", "o1"); err != nil || out != barrier.Duplicate {
		t.Fatalf("confirm again: %v, %v", out, err)
	}
	if _, err := svc.Cancel(ctx, "saga-1", "o1", "late"); !errors.Is(err, services.ErrOrderConfirmed) {
		t.Fatalf("cancel after confirm: %v", err)
	}
	if s := status(t, ctx, svc, "o1"); s != orders.Confirmed {
		t.Fatalf("status %s", s)
	}
	if _, err := svc.Confirm(ctx, "saga-1", "nope"); !errors.Is(err, services.ErrUnknownOrder) {
		t.Fatalf("confirm unknown: %v", err)
	}
}

func TestCancelTwiceHasOneEffectAndBlocksConfirmAndCreate(t *testing.T) {
	svc, ctx := setup(t)
	if _, err := svc.Create(ctx, "saga-1", order("o1")); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.Cancel(ctx, "saga-1", "o1", "out of stock"); err != nil || out != barrier.Applied {
		t.Fatalf("cancel: %v, %v", out, err)
	}
	if out, err := svc.Cancel(ctx, "saga-1", "o1", "again"); err != nil || out != barrier.AlreadyCompensated {
		t.Fatalf("cancel again: %v, %v", out, err)
	}
	o, err := svc.Get(ctx, "o1")
	if err != nil || o.Status != orders.Cancelled || o.Reason != "out of stock" {
		t.Fatalf("after cancel: %+v, %v", o, err)
	}
	if _, err := svc.Confirm(ctx, "saga-1", "o1"); !errors.Is(err, services.ErrOrderCancelled) {
		t.Fatalf("confirm after cancel: %v", err)
	}
	if _, err := svc.Create(ctx, "saga-1", order("o1")); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("create after cancel: %v", err)
	}
}

func TestCancelWithoutCreateIsNullAndBlocksLateCreate(t *testing.T) {
	svc, ctx := setup(t)
	out, err := svc.Cancel(ctx, "saga-2", "o2", "saga failed")
	if err != nil || out != barrier.NullCompensation {
		t.Fatalf("null cancel: %v, %v", out, err)
	}
	if _, err := svc.Create(ctx, "saga-2", order("o2")); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("late create: %v", err)
	}
	o, err := svc.Get(ctx, "o2")
	if err != nil || !o.Tombstone || o.Status != orders.Cancelled || len(o.Items) != 0 {
		t.Fatalf("tombstone: %+v, %v", o, err)
	}
	if out, err := svc.Cancel(ctx, "saga-2", "o2", "again"); err != nil || out != barrier.AlreadyCompensated {
		t.Fatalf("cancel tombstone again: %v, %v", out, err)
	}
}

func TestBadInputIsRefusedBeforeAnyWrite(t *testing.T) {
	svc, ctx := setup(t)
	check := func(name, field string, err error) {
		t.Helper()
		if !errors.Is(err, services.ErrInvalidInput) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v, want invalid input naming %s", name, err, field)
		}
	}
	for problem, id := range testenv.BadIDs() {
		o := order("o")
		o.ID = id
		_, err := svc.Create(ctx, "s", o)
		check("order id "+problem, "order_id", err)
		o = order("o")
		o.CustomerID = id
		_, err = svc.Create(ctx, "s", o)
		check("customer id "+problem, "customer_id", err)
		_, err = svc.Confirm(ctx, "s", id)
		check("confirm order id "+problem, "order_id", err)
	}
	for problem, id := range testenv.BadSagaIDs() {
		_, err := svc.Create(ctx, id, order("o"))
		check("saga id "+problem, "saga_id", err)
		_, err = svc.Cancel(ctx, id, "o", "r")
		check("cancel saga id "+problem, "saga_id", err)
	}
	o := order("o")
	o.Items = nil
	_, err := svc.Create(ctx, "s", o)
	check("no items", "items", err)
	o = order("o")
	o.Total = services.MaxAmount + 1
	_, err = svc.Create(ctx, "s", o)
	check("total", "total", err)
	o = order("o")
	o.ShipTo.Country = ""
	_, err = svc.Create(ctx, "s", o)
	check("country", "ship_to.country", err)
	if all, err := svc.All(ctx); err != nil || len(all) != 0 {
		t.Fatalf("bad input wrote %d orders (%v)", len(all), err)
	}
}

func TestAnotherSagasOrderIsLeftAlone(t *testing.T) {
	svc, ctx := setup(t)
	if _, err := svc.Create(ctx, "saga-1", order("o1")); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Confirm(ctx, "saga-other", "o1"); !errors.Is(err, services.ErrOrderExists) {
		t.Fatalf("confirm by another saga: %v", err)
	}
	if out, err := svc.Cancel(ctx, "saga-other", "o1", "not mine"); err != nil || out != barrier.NullCompensation {
		t.Fatalf("cancel by another saga: %v, %v", out, err)
	}
	o, err := svc.Get(ctx, "o1")
	if err != nil || o.Status != orders.Pending || o.SagaID != "saga-1" || o.Reason != "" {
		t.Fatalf("after another saga's steps: %+v, %v", o, err)
	}
	if out, err := svc.Confirm(ctx, "saga-1", "o1"); err != nil || out != barrier.Applied {
		t.Fatalf("confirm by the owner: %v, %v", out, err)
	}
}

// reusedOrderID is an order id of the longest length allowed, so that the
// saga ids built from it are the longest an order saga makes.
func reusedOrderID() string {
	id := testenv.ID("reused")
	return id + strings.Repeat("x", services.MaxIDLength-len(id))
}

// raw reads the order document as stored, markers included.
func raw(t *testing.T, ctx context.Context, db *mongo.Database, id string) bson.Raw {
	t.Helper()
	doc, err := db.Collection(orders.Collection).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatalf("read order %s: %v", id, err)
	}
	return doc
}

// A new saga of an order id whose saga Temporal has forgotten (its saga id
// "order-<id>/<first run id>" differs from the old saga's "order-<id>") finds
// the old saga's order document: creating it is refused with ORDER_EXISTS,
// never taken for a duplicate; its cancellation is a null compensation; a
// late create is still refused; and the old document does not change, byte
// for byte, whatever state the old saga left it in.
func TestANewSagaOfAReusedOrderIDLeavesTheOldOrderAlone(t *testing.T) {
	for _, old := range []string{"pending", "confirmed", "cancelled", "tombstone"} {
		t.Run(old, func(t *testing.T) {
			ctx := testenv.Context(t)
			db := testenv.Mongo(t)
			svc := orders.New(db)
			if err := svc.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			id := reusedOrderID()
			oldSaga, newSaga := "order-"+id, testenv.SagaIDPerRun(id)
			if len(newSaga) != 6+services.MaxIDLength+37 {
				t.Fatalf("saga id %q is %d bytes", newSaga, len(newSaga))
			}
			must := func(_ barrier.Outcome, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			if old != "tombstone" {
				must(svc.Create(ctx, oldSaga, order(id)))
			}
			switch old {
			case "confirmed":
				must(svc.Confirm(ctx, oldSaga, id))
			case "cancelled", "tombstone":
				must(svc.Cancel(ctx, oldSaga, id, "old saga failed"))
			}
			before := raw(t, ctx, db, id)

			refusedExists := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, services.ErrOrderExists) || services.Code(err) != "ORDER_EXISTS" || !strings.Contains(err.Error(), id) {
					t.Fatalf("%s by the new saga: %v; want ORDER_EXISTS naming %s", what, err, id)
				}
			}
			out, err := svc.Create(ctx, newSaga, order(id))
			refusedExists("create", err)
			if out != 0 {
				t.Fatalf("refused create: outcome %v", out)
			}
			_, err = svc.Confirm(ctx, newSaga, id)
			refusedExists("confirm", err)
			for i := range 2 {
				if out, err := svc.Cancel(ctx, newSaga, id, "new saga compensates"); err != nil || out != barrier.NullCompensation {
					t.Fatalf("cancel %d by the new saga: %v, %v; want a null compensation", i, out, err)
				}
			}
			_, err = svc.Create(ctx, newSaga, order(id))
			refusedExists("late create", err)
			if after := raw(t, ctx, db, id); !bytes.Equal(after, before) {
				t.Fatalf("the new saga changed the old saga's order:\nbefore %s\nafter  %s", before, after)
			}
			if old == "pending" { // the old saga still owns it
				if out, err := svc.Confirm(ctx, oldSaga, id); err != nil || out != barrier.Applied {
					t.Fatalf("confirm by the old saga: %v, %v", out, err)
				}
			}
		})
	}
}

// The reads that decide an outcome go to the primary even when MONGO_URI
// asks for readPreference=secondaryPreferred: the barrier's reads and the
// service's own (Get, All).
func TestEveryReadAsksForThePrimary(t *testing.T) {
	ctx := testenv.Context(t)
	db, reads := testenv.MongoSecondaryPreferred(t)
	svc := orders.New(db)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	reads.Reset()
	outcome := func(what string, got barrier.Outcome, err error, want barrier.Outcome) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s: %v, %v; want %v", what, got, err, want)
		}
	}
	refusal := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v; want %v", what, err, want)
		}
	}
	out, err := svc.Create(ctx, "saga-1", order("o1"))
	outcome("create", out, err, barrier.Applied)
	out, err = svc.Create(ctx, "saga-1", order("o1"))
	outcome("create again", out, err, barrier.Duplicate)
	_, err = svc.Create(ctx, "saga-2", order("o1"))
	refusal("create by another saga", err, services.ErrOrderExists)
	_, err = svc.Confirm(ctx, "saga-2", "o1")
	refusal("confirm by another saga", err, services.ErrOrderExists)
	out, err = svc.Cancel(ctx, "saga-2", "o1", "not mine")
	outcome("cancel by another saga", out, err, barrier.NullCompensation)
	out, err = svc.Confirm(ctx, "saga-1", "o1")
	outcome("confirm", out, err, barrier.Applied)
	out, err = svc.Confirm(ctx, "saga-1", "o1")
	outcome("confirm again", out, err, barrier.Duplicate)
	_, err = svc.Cancel(ctx, "saga-1", "o1", "late")
	refusal("cancel after confirm", err, services.ErrOrderConfirmed)
	_, err = svc.Confirm(ctx, "saga-1", "nope")
	refusal("confirm a missing order", err, services.ErrUnknownOrder)
	if s := status(t, ctx, svc, "o1"); s != orders.Confirmed {
		t.Fatalf("status %s", s)
	}
	if all, err := svc.All(ctx); err != nil || len(all) != 1 {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	reads.Check(t, 10)
}
