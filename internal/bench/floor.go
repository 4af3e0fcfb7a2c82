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
// the same way, so the stores end as the saga leaves them. ops, when not
// nil, records how long each store operation took (the scale run's
// per-operation figures).
func floorOrder(st invariants.Stores, ops *opClock) orderFunc {
	return func(ctx context.Context, o Order) (Outcome, error) {
		sagaID := "floor-" + o.ID
		var total int64
		err := ops.time(OpQuote, func() (err error) { total, err = st.Inventory.Quote(ctx, o.Items()); return err })
		if err != nil {
			return refusedOr(o, "PriceOrder", err)
		}
		if err := ops.time(OpCreateOrder, func() error {
			_, err := st.Orders.Create(ctx, sagaID, orders.Order{
				ID: o.ID, CustomerID: o.Customer, Region: Region, Items: o.Items(), ShipTo: address, Total: total,
			})
			return err
		}); err != nil {
			return floorCompensate(ctx, st, ops, o, sagaID, "CreateOrder", err, false)
		}
		var wg sync.WaitGroup
		var reserveErr, chargeErr error
		wg.Go(func() {
			reserveErr = ops.time(OpReserve, func() error { _, err := st.Inventory.Reserve(ctx, sagaID, o.ID, o.Items()); return err })
		})
		wg.Go(func() {
			chargeErr = ops.time(OpCharge, func() error { _, err := st.Payments.Charge(ctx, sagaID, o.ID, o.Customer, total); return err })
		})
		wg.Wait()
		if err := errors.Join(reserveErr, chargeErr); err != nil {
			return floorCompensate(ctx, st, ops, o, sagaID, "ReserveStock/ChargePayment", err, false)
		}
		if err := ops.time(OpCreateShipment, func() error { _, _, err := st.Shipping.Create(ctx, sagaID, o.ID, address); return err }); err != nil {
			return floorCompensate(ctx, st, ops, o, sagaID, "CreateShipment", err, true)
		}
		if err := ops.time(OpConfirmOrder, func() error { _, err := st.Orders.Confirm(ctx, sagaID, o.ID); return err }); err != nil {
			return floorCompensate(ctx, st, ops, o, sagaID, "ConfirmOrder", err, true)
		}
		return Completed, nil
	}
}

// floorCompensate undoes what a failed floor order did, in reverse order
// (each compensation is a null compensation for a step that never ran),
// and returns the outcome of the failure.
func floorCompensate(ctx context.Context, st invariants.Stores, ops *opClock, o Order, sagaID, step string, cause error, shipped bool) (Outcome, error) {
	var errs []error
	if shipped {
		if err := ops.time(OpCancelShipment, func() error { _, err := st.Shipping.Cancel(ctx, sagaID, o.ID); return err }); err != nil {
			errs = append(errs, orderError(o, "CancelShipment", err))
		}
	}
	if err := ops.time(OpRefund, func() error { _, err := st.Payments.Refund(ctx, sagaID, o.ID); return err }); err != nil {
		errs = append(errs, orderError(o, "RefundPayment", err))
	}
	if err := ops.time(OpRelease, func() error { _, err := st.Inventory.Release(ctx, sagaID, o.ID); return err }); err != nil {
		errs = append(errs, orderError(o, "ReleaseStock", err))
	}
	if err := ops.time(OpCancelOrder, func() error { _, err := st.Orders.Cancel(ctx, sagaID, o.ID, "floor compensated"); return err }); err != nil {
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
