package bench

import (
	"context"
	"fmt"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/mongostore"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// CheckScaleStores runs the invariant checker, at rest, over the stores a
// scale run named schema (see StoreHandles), as `starter verify --at-rest`
// runs it over the stack's. bench runs it in a process of its own to
// measure its time and memory.
func CheckScaleStores(ctx context.Context, cfg config.Config, schema string) (invariants.Report, error) {
	inv, err := schemaPool(ctx, "inventory", cfg.InventoryURL, schema, 4)
	if err != nil {
		return invariants.Report{}, err
	}
	defer inv.Close()
	pay, err := schemaPool(ctx, "payments", cfg.PaymentsURL, schema, 4)
	if err != nil {
		return invariants.Report{}, err
	}
	defer pay.Close()
	client, err := mongostore.Connect(cfg.MongoURI)
	if err != nil {
		return invariants.Report{}, err
	}
	defer client.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck // closing
	db := client.Database(schema + "_docs")
	st := invariants.Stores{
		Inventory: inventory.New(inv), Payments: payments.New(pay),
		Orders: orders.New(db), Shipping: shipping.New(db, nil),
	}
	rep, err := invariants.Check(ctx, st, invariants.Options{Quiet: true})
	if err != nil {
		return rep, fmt.Errorf("check %s: %w", schema, err)
	}
	return rep, nil
}
