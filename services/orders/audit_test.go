package orders_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/orders"
)

// TestAuditReadsEveryOrderWithTheCheckersFields reads more orders than a
// cursor batch holds, tombstones included, with the fields the invariant
// checker needs and no others.
func TestAuditReadsEveryOrderWithTheCheckersFields(t *testing.T) {
	svc, ctx := setup(t)
	const n = 1_100
	for i := range n {
		if _, err := svc.Create(ctx, fmt.Sprintf("saga-%d", i), order(fmt.Sprintf("o%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Cancel(ctx, "saga-t", "o-t", "never created"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	err := svc.Audit(ctx, func(o orders.Order) error {
		seen = append(seen, o.ID)
		if o.ID == "o-t" {
			if o.SagaID != "saga-t" || o.Status != orders.Cancelled || o.Reason != "" {
				t.Errorf("tombstone as audited: %+v", o)
			}
			return nil
		}
		want := order(o.ID)
		if o.SagaID == "" || o.CustomerID != want.CustomerID || o.Total != want.Total || o.Status != orders.Pending ||
			!slices.Equal(o.Items, want.Items) || o.ShipTo != (services.Address{}) || o.Region != "" || !o.CreatedAt.IsZero() {
			t.Errorf("order as audited: %+v", o)
		}
		return nil
	})
	if err != nil || len(seen) != n+1 {
		t.Fatalf("audit: %d orders, %v; want %d", len(seen), err, n+1)
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != n+1 {
		t.Fatal("an order read twice")
	}
	stop := errors.New("stop")
	calls := 0
	if err := svc.Audit(ctx, func(orders.Order) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("audit stopped by its callback: %v after %d calls", err, calls)
	}
}
