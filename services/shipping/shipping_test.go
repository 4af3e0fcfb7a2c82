package shipping_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
	for problem, id := range testenv.BadIDs() {
		if _, _, err := svc.Create(ctx, id, "o", berlin); !errors.Is(err, services.ErrInvalidInput) || !strings.Contains(err.Error(), "saga_id") {
			t.Errorf("saga id %s: %v", problem, err)
		}
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
