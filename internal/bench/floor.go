package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/sagaflow/sagaflow/services/invariants"
	"github.com/sagaflow/sagaflow/services/orders"
)

// floorOrder returns the floor: the saga's database operations on the real
// services, called directly in this process without Temporal. It does what
// the saga does, in the same shape (ReserveStock and ChargePayment in
// parallel) and with the same idempotency keys, and compensates a refusal
// the same way, so the stores end as the saga leaves them.
func floorOrder(st invariants.Stores) orderFunc {
	return func(ctx context.Context, o Order) (Outcome, error) {
		sagaID := "floor-" + o.ID
		total, err := st.Inventory.Quote(ctx, o.Items())
		if err != nil {
			return refusedOr(o, "PriceOrder", err)
		}
		if _, err := st.Orders.Create(ctx, sagaID, orders.Order{
			ID: o.ID, CustomerID: o.Customer, Region: Region, Items: o.Items(), ShipTo: address, Total: total,
		}); err != nil {
			return floorCompensate(ctx, st, o, sagaID, "CreateOrder", err, false)
		}
		var wg sync.WaitGroup
		var reserveErr, chargeErr error
		wg.Go(func() { _, reserveErr = st.Inventory.Reserve(ctx, sagaID, o.ID, o.Items()) })
		wg.Go(func() { _, chargeErr = st.Payments.Charge(ctx, sagaID, o.ID, o.Customer, total) })
		wg.Wait()
		if err := errors.Join(reserveErr, chargeErr); err != nil {
			return floorCompensate(ctx, st, o, sagaID, "ReserveStock/ChargePayment", err, false)
		}
		if _, _, err := st.Shipping.Create(ctx, sagaID, o.ID, address); err != nil {
			return floorCompensate(ctx, st, o, sagaID, "CreateShipment", err, true)
		}
		if _, err := st.Orders.Confirm(ctx, sagaID, o.ID); err != nil {
			return floorCompensate(ctx, st, o, sagaID, "ConfirmOrder", err, true)
		}
		return Completed, nil
	}
}

// floorCompensate undoes what a failed floor order did, in reverse order
// (each compensation is a null compensation for a step that never ran),
// and returns the outcome of the failure.
func floorCompensate(ctx context.Context, st invariants.Stores, o Order, sagaID, step string, cause error, shipped bool) (Outcome, error) {
	var errs []error
	if shipped {
		if _, err := st.Shipping.Cancel(ctx, sagaID, o.ID); err != nil {
			errs = append(errs, orderError(o, "CancelShipment", err))
		}
	}
	if _, err := st.Payments.Refund(ctx, sagaID, o.ID); err != nil {
		errs = append(errs, orderError(o, "RefundPayment", err))
	}
	if _, err := st.Inventory.Release(ctx, sagaID, o.ID); err != nil {
		errs = append(errs, orderError(o, "ReleaseStock", err))
	}
	if _, err := st.Orders.Cancel(ctx, sagaID, o.ID, "floor compensated"); err != nil {
		errs = append(errs, orderError(o, "CancelOrder", err))
	}
	if err := errors.Join(errs...); err != nil {
		return 0, errors.Join(orderError(o, step, cause), err)
	}
	return refusedOr(o, step, cause)
}

// refusedOr returns the business outcome of err, or err as an order error.
func refusedOr(o Order, step string, err error) (Outcome, error) {
	if out, ok := businessOutcome(err); ok {
		return out, nil
	}
	return 0, orderError(o, step, err)
}
