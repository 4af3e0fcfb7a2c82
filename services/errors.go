// Package services holds what the four services share: the order's value
// types, input validation and the business errors they return.
//
// Each service lives in its own subpackage and owns its store: inventory and
// payments in PostgreSQL, orders and shipping in MongoDB.
package services

import "errors"

// Error is a business error: the request was understood and refused by a
// business rule. Retrying it cannot succeed, and a saga that meets one
// compensates. Read it back with errors.As or compare with errors.Is against
// the sentinel values below.
type Error struct {
	// Code is a stable, machine-readable name, such as "OUT_OF_STOCK".
	Code string
	// Message is a short human description.
	Message string
}

func (e *Error) Error() string { return e.Message }

// The business errors of the four services.
var (
	ErrInvalidInput      = &Error{Code: "INVALID_INPUT", Message: "invalid input"}
	ErrOutOfStock        = &Error{Code: "OUT_OF_STOCK", Message: "out of stock"}
	ErrInsufficientFunds = &Error{Code: "INSUFFICIENT_FUNDS", Message: "insufficient funds"}
	ErrUnknownSKU        = &Error{Code: "UNKNOWN_SKU", Message: "unknown SKU"}
	ErrUnknownCustomer   = &Error{Code: "UNKNOWN_CUSTOMER", Message: "unknown customer"}
	ErrInvalidAddress    = &Error{Code: "INVALID_ADDRESS", Message: "invalid or unsupported address"}
	ErrUnknownOrder      = &Error{Code: "UNKNOWN_ORDER", Message: "unknown order"}
	// ErrOrderExists means another saga already owns an order with this id.
	ErrOrderExists = &Error{Code: "ORDER_EXISTS", Message: "order id already used by another saga"}
	// ErrOrderCancelled means the order was cancelled and cannot be confirmed.
	ErrOrderCancelled = &Error{Code: "ORDER_CANCELLED", Message: "order is cancelled"}
	// ErrOrderConfirmed means the order passed its pivot and cannot be cancelled.
	ErrOrderConfirmed = &Error{Code: "ORDER_CONFIRMED", Message: "order is confirmed"}
	// ErrStepCompensated means a forward step arrived after its compensation
	// (a late retry) and was refused without effect.
	ErrStepCompensated = &Error{Code: "STEP_COMPENSATED", Message: "step already compensated"}
)

// IsBusiness reports whether err is, or wraps, a business error.
func IsBusiness(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Code returns the business error code of err, or "" when err is not a
// business error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
