package shipping_test

import (
	"testing"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// TestAuditReadsEveryShipmentWithTheCheckersFields: shipments and
// tombstones, with their order id, saga and status only.
func TestAuditReadsEveryShipmentWithTheCheckersFields(t *testing.T) {
	svc, ctx := setup(t)
	if _, _, err := svc.Create(ctx, "saga-1", "o1", berlin); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Cancel(ctx, "saga-2", "o2"); err != nil {
		t.Fatal(err)
	}
	got := map[string]shipping.Shipment{}
	if err := svc.Audit(ctx, func(sh shipping.Shipment) error { got[sh.OrderID] = sh; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["o1"].SagaID != "saga-1" || got["o1"].Status != shipping.Created ||
		got["o2"].SagaID != "saga-2" || got["o2"].Status != shipping.Cancelled {
		t.Fatalf("audited: %+v", got)
	}
	if sh := got["o1"]; sh.Tracking != "" || sh.ShipTo != (services.Address{}) || sh.Tombstone {
		t.Fatalf("fields beyond the checker's read: %+v", sh)
	}
	if sh, err := svc.Get(ctx, "o1"); err != nil || sh.Tracking != shipping.Tracking("saga-1", "o1") {
		t.Fatalf("tracking %q, want Tracking's %q (%v)", sh.Tracking, shipping.Tracking("saga-1", "o1"), err)
	}
}
