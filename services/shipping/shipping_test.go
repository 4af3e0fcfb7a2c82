package shipping_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/saga/barrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/shipping"
)

func setup(t *testing.T) (*shipping.Service, context.Context) {
	t.Helper()
	ctx := testenv.Context(t)
	svc := shipping.New(testenv.Mongo(t), nil)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return svc, ctx
}

var berlin = services.Address{Name: "Ada", Street: "Main 1", City: "Berlin", PostalCode: "10115", Country: "DE"}

func TestCreateTwiceHasOneEffect(t *testing.T) {
	svc, ctx := setup(t)
	first, out, err := svc.Create(ctx, "saga-1", "o1", berlin)
	if err != nil || out != barrier.Applied || first.Tracking == "" {
		t.Fatalf("first create: %+v, %v, %v", first, out, err)
	}
	second, out, err := svc.Create(ctx, "saga-1", "o1", berlin)
	if err != nil || out != barrier.Duplicate || second.Tracking != first.Tracking {
		t.Fatalf("second create: %+v, %v, %v", second, out, err)
	}
	if all, err := svc.All(ctx); err != nil || len(all) != 1 {
		t.Fatalf("shipments: %d, %v", len(all), err)
	}
}

func TestCancelTwiceHasOneEffectAndBlocksLateCreate(t *testing.T) {
	svc, ctx := setup(t)
	if _, _, err := svc.Create(ctx, "saga-1", "o1", berlin); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.Cancel(ctx, "saga-1", "o1"); err != nil || out != barrier.Applied {
		t.Fatalf("cancel: %v, %v", out, err)
	}
	if out, err := svc.Cancel(ctx, "saga-1", "o1"); err != nil || out != barrier.AlreadyCompensated {
		t.Fatalf("cancel again: %v, %v", out, err)
	}
	if _, _, err := svc.Create(ctx, "saga-1", "o1", berlin); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("create after cancel: %v", err)
	}
	sh, err := svc.Get(ctx, "o1")
	if err != nil || sh.Status != shipping.Cancelled {
		t.Fatalf("after cancel: %+v, %v", sh, err)
	}
}

func TestCancelWithoutCreateIsNullAndBlocksLateCreate(t *testing.T) {
	svc, ctx := setup(t)
	if out, err := svc.Cancel(ctx, "saga-2", "o2"); err != nil || out != barrier.NullCompensation {
		t.Fatalf("null cancel: %v, %v", out, err)
	}
	if _, _, err := svc.Create(ctx, "saga-2", "o2", berlin); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("late create: %v", err)
	}
	sh, err := svc.Get(ctx, "o2")
	if err != nil || !sh.Tombstone || sh.Status != shipping.Cancelled {
		t.Fatalf("tombstone: %+v, %v", sh, err)
	}
}

func TestUnsupportedDestinationIsABusinessError(t *testing.T) {
	svc, ctx := setup(t)
	to := berlin
	to.Country = "AQ"
	_, _, err := svc.Create(ctx, "saga-3", "o3", to)
	if !errors.Is(err, services.ErrInvalidAddress) || !strings.Contains(err.Error(), "AQ") {
		t.Fatalf("Antarctica: %v", err)
	}
	to.City = ""
	if _, _, err := svc.Create(ctx, "saga-3", "o3", to); !errors.Is(err, services.ErrInvalidAddress) || !strings.Contains(err.Error(), "ship_to.city") {
		t.Fatalf("no city: %v", err)
	}
	if all, err := svc.All(ctx); err != nil || len(all) != 0 {
		t.Fatalf("refused address wrote %d shipments (%v)", len(all), err)
	}
}

func TestBadIDsAreRefusedBeforeAnyWrite(t *testing.T) {
	svc, ctx := setup(t)
	for problem, id := range testenv.BadSagaIDs() {
		if _, _, err := svc.Create(ctx, id, "o", berlin); !errors.Is(err, services.ErrInvalidInput) || !strings.Contains(err.Error(), "saga_id") {
			t.Errorf("saga id %s: %v", problem, err)
		}
	}
	for problem, id := range testenv.BadIDs() {
		if _, err := svc.Cancel(ctx, "s", id); !errors.Is(err, services.ErrInvalidInput) || !strings.Contains(err.Error(), "order_id") {
			t.Errorf("order id %s: %v", problem, err)
		}
	}
	if all, err := svc.All(ctx); err != nil || len(all) != 0 {
		t.Fatalf("bad input wrote %d shipments (%v)", len(all), err)
	}
}

func TestAnotherSagasShipmentIsLeftAlone(t *testing.T) {
	svc, ctx := setup(t)
	if _, _, err := svc.Create(ctx, "saga-1", "o1", berlin); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Create(ctx, "saga-other", "o1", berlin); !errors.Is(err, services.ErrOrderExists) {
		t.Fatalf("create by another saga: %v", err)
	}
	if out, err := svc.Cancel(ctx, "saga-other", "o1"); err != nil || out != barrier.NullCompensation {
		t.Fatalf("cancel by another saga: %v, %v", out, err)
	}
	if sh, err := svc.Get(ctx, "o1"); err != nil || sh.Status != shipping.Created || sh.SagaID != "saga-1" {
		t.Fatalf("after another saga's steps: %+v, %v", sh, err)
	}
}

// reusedOrderID is an order id of the longest length allowed, so that the
// saga ids built from it are the longest an order saga makes.
func reusedOrderID() string {
	id := testenv.ID("reused")
	return id + strings.Repeat("x", services.MaxIDLength-len(id))
}

// A new saga of an order id whose saga Temporal has forgotten (its saga id
// "order-<id>/<first run id>" differs from the old saga's "order-<id>") finds
// the old saga's shipment: creating it is refused with ORDER_EXISTS, never
// taken for a duplicate; its cancellation is a null compensation; a late
// create is still refused; and the old document does not change, byte for
// byte, whatever state the old saga left it in.
func TestANewSagaOfAReusedOrderIDLeavesTheOldShipmentAlone(t *testing.T) {
	for _, old := range []string{"created", "cancelled", "tombstone"} {
		t.Run(old, func(t *testing.T) {
			ctx := testenv.Context(t)
			db := testenv.Mongo(t)
			svc := shipping.New(db, nil)
			if err := svc.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			id := reusedOrderID()
			oldSaga, newSaga := "order-"+id, testenv.SagaIDPerRun(id)
			if old != "tombstone" {
				if _, _, err := svc.Create(ctx, oldSaga, id, berlin); err != nil {
					t.Fatal(err)
				}
			}
			if old != "created" {
				if _, err := svc.Cancel(ctx, oldSaga, id); err != nil {
					t.Fatal(err)
				}
			}
			coll := db.Collection(shipping.Collection)
			read := func() bson.Raw {
				t.Helper()
				doc, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
				if err != nil {
					t.Fatal(err)
				}
				return doc
			}
			before := read()

			refusedExists := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, services.ErrOrderExists) || services.Code(err) != "ORDER_EXISTS" || !strings.Contains(err.Error(), id) {
					t.Fatalf("%s by the new saga: %v; want ORDER_EXISTS naming %s", what, err, id)
				}
			}
			sh, out, err := svc.Create(ctx, newSaga, id, berlin)
			refusedExists("create", err)
			if out != 0 || sh.Tracking != "" {
				t.Fatalf("refused create: %+v, outcome %v", sh, out)
			}
			for i := range 2 {
				if out, err := svc.Cancel(ctx, newSaga, id); err != nil || out != barrier.NullCompensation {
					t.Fatalf("cancel %d by the new saga: %v, %v; want a null compensation", i, out, err)
				}
			}
			_, _, err = svc.Create(ctx, newSaga, id, berlin)
			refusedExists("late create", err)
			if after := read(); !bytes.Equal(after, before) {
				t.Fatalf("the new saga changed the old saga's shipment:\nbefore %s\nafter  %s", before, after)
			}
			if n, err := coll.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
				t.Fatalf("%d shipments, %v; want 1", n, err)
			}
		})
	}
}

// The reads that decide an outcome or answer go to the primary even when
// MONGO_URI asks for readPreference=secondaryPreferred: the barrier's reads
// and the service's own (the shipment a duplicate Create returns, Get, All).
func TestEveryReadAsksForThePrimary(t *testing.T) {
	ctx := testenv.Context(t)
	db, reads := testenv.MongoSecondaryPreferred(t)
	svc := shipping.New(db, nil)
	if err := svc.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	reads.Reset()
	first, out, err := svc.Create(ctx, "saga-1", "o1", berlin)
	if err != nil || out != barrier.Applied {
		t.Fatalf("create: %v, %v", out, err)
	}
	again, out, err := svc.Create(ctx, "saga-1", "o1", berlin)
	if err != nil || out != barrier.Duplicate || again.Tracking != first.Tracking {
		t.Fatalf("create again: %+v, %v, %v", again, out, err)
	}
	if _, _, err := svc.Create(ctx, "saga-2", "o1", berlin); !errors.Is(err, services.ErrOrderExists) {
		t.Fatalf("create by another saga: %v", err)
	}
	if out, err := svc.Cancel(ctx, "saga-2", "o1"); err != nil || out != barrier.NullCompensation {
		t.Fatalf("cancel by another saga: %v, %v", out, err)
	}
	if out, err := svc.Cancel(ctx, "saga-1", "o1"); err != nil || out != barrier.Applied {
		t.Fatalf("cancel: %v, %v", out, err)
	}
	if out, err := svc.Cancel(ctx, "saga-1", "o1"); err != nil || out != barrier.AlreadyCompensated {
		t.Fatalf("cancel again: %v, %v", out, err)
	}
	if _, _, err := svc.Create(ctx, "saga-1", "o1", berlin); !errors.Is(err, services.ErrStepCompensated) {
		t.Fatalf("late create: %v", err)
	}
	if sh, err := svc.Get(ctx, "o1"); err != nil || sh.Status != shipping.Cancelled {
		t.Fatalf("get: %+v, %v", sh, err)
	}
	if all, err := svc.All(ctx); err != nil || len(all) != 1 {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	reads.Check(t, 8)
}
