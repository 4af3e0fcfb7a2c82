package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/orders"
)

// PriceInput asks for the price of items.
type PriceInput struct {
	Items []services.Item `json:"items"`
}

// PriceResult is PriceOrder's result.
type PriceResult struct {
	Result
	// Total is the order's price in minor units.
	Total int64 `json:"total"`
}

// PriceOrder prices the items at current unit prices (read-only: nothing
// to compensate). Unknown SKUs are a business error.
func (a *Activities) PriceOrder(ctx context.Context, in PriceInput) (PriceResult, error) {
	total, err := a.Inventory.Quote(ctx, in.Items)
	return PriceResult{Result: Result{Outcome: "priced", Attempt: activity.GetInfo(ctx).Attempt}, Total: total},
		classify(ctx, err)
}

// CreateOrderInput is the order to create.
type CreateOrderInput struct {
	Ref
	CustomerID string           `json:"customer_id"`
	Region     string           `json:"region"`
	Items      []services.Item  `json:"items"`
	ShipTo     services.Address `json:"ship_to"`
	Total      int64            `json:"total"`
	Fail       bool             `json:"fail,omitempty"`
}

// CreateOrder creates the order document, PENDING.
func (a *Activities) CreateOrder(ctx context.Context, in CreateOrderInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, forced("CreateOrder"))
	}
	out, err := a.Orders.Create(ctx, in.SagaID, orders.Order{
		ID: in.OrderID, CustomerID: in.CustomerID, Region: in.Region, Items: in.Items, ShipTo: in.ShipTo, Total: in.Total,
	})
	return result(ctx, out), classify(ctx, err)
}

// CancelOrderInput names the order to cancel and why.
type CancelOrderInput struct {
	Ref
	Reason string `json:"reason"`
	// Fail makes every attempt fail with a retryable error (demo).
	Fail bool `json:"fail,omitempty"`
}

// CancelOrder compensates CreateOrder.
func (a *Activities) CancelOrder(ctx context.Context, in CancelOrderInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, unavailable("CancelOrder"))
	}
	out, err := a.Orders.Cancel(ctx, in.SagaID, in.OrderID, in.Reason)
	return result(ctx, out), classify(ctx, err)
}

// ReserveInput names the items to reserve.
type ReserveInput struct {
	Ref
	Items []services.Item `json:"items"`
	Fail  bool            `json:"fail,omitempty"`
}

// ReserveStock reserves the order's items.
func (a *Activities) ReserveStock(ctx context.Context, in ReserveInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, forced("ReserveStock"))
	}
	out, err := a.Inventory.Reserve(ctx, in.SagaID, in.OrderID, in.Items)
	return result(ctx, out), classify(ctx, err)
}

// ReleaseStock compensates ReserveStock.
func (a *Activities) ReleaseStock(ctx context.Context, in UndoInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, unavailable("ReleaseStock"))
	}
	out, err := a.Inventory.Release(ctx, in.SagaID, in.OrderID)
	return result(ctx, out), classify(ctx, err)
}

// ChargeInput names the payment to capture.
type ChargeInput struct {
	Ref
	CustomerID string `json:"customer_id"`
	Amount     int64  `json:"amount"`
	Fail       bool   `json:"fail,omitempty"`
}

// ChargePayment captures the order's total from the customer's account.
func (a *Activities) ChargePayment(ctx context.Context, in ChargeInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, forced("ChargePayment"))
	}
	out, err := a.Payments.Charge(ctx, in.SagaID, in.OrderID, in.CustomerID, in.Amount)
	return result(ctx, out), classify(ctx, err)
}

// RefundPayment compensates ChargePayment.
func (a *Activities) RefundPayment(ctx context.Context, in UndoInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, unavailable("RefundPayment"))
	}
	out, err := a.Payments.Refund(ctx, in.SagaID, in.OrderID)
	return result(ctx, out), classify(ctx, err)
}

// ShipInput names the destination of the shipment.
type ShipInput struct {
	Ref
	ShipTo services.Address `json:"ship_to"`
	Fail   bool             `json:"fail,omitempty"`
}

// ShipResult is CreateShipment's result.
type ShipResult struct {
	Result
	Tracking string `json:"tracking"`
}

// CreateShipment books the shipment.
func (a *Activities) CreateShipment(ctx context.Context, in ShipInput) (ShipResult, error) {
	if in.Fail {
		return ShipResult{}, classify(ctx, forced("CreateShipment"))
	}
	sh, out, err := a.Shipping.Create(ctx, in.SagaID, in.OrderID, in.ShipTo)
	return ShipResult{Result: result(ctx, out), Tracking: sh.Tracking}, classify(ctx, err)
}

// CancelShipment compensates CreateShipment.
func (a *Activities) CancelShipment(ctx context.Context, in UndoInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, unavailable("CancelShipment"))
	}
	out, err := a.Shipping.Cancel(ctx, in.SagaID, in.OrderID)
	return result(ctx, out), classify(ctx, err)
}

// ConfirmInput names the order to confirm.
type ConfirmInput struct {
	Ref
	Fail bool `json:"fail,omitempty"`
}

// ConfirmOrder confirms the order: the saga's pivot.
func (a *Activities) ConfirmOrder(ctx context.Context, in ConfirmInput) (Result, error) {
	if in.Fail {
		return Result{}, classify(ctx, forced("ConfirmOrder"))
	}
	out, err := a.Orders.Confirm(ctx, in.SagaID, in.OrderID)
	return result(ctx, out), classify(ctx, err)
}
