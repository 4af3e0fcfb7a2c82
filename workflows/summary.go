package workflows

import (
	"fmt"
	"strings"

	"github.com/sagaflow/sagaflow/services"
)

// itemsSummary renders items for activity summaries: "2 x SKU-1, 1 x SKU-2".
func itemsSummary(items []services.Item) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = fmt.Sprintf("%d x %s", it.Quantity, it.SKU)
	}
	return strings.Join(parts, ", ")
}

// money renders minor units as a decimal amount: 12345 -> "123.45".
func money(minor int64) string {
	return fmt.Sprintf("%d.%02d", minor/100, minor%100)
}

// compensationSummary labels the compensation of step in the Web UI:
// "Compensate ReserveStock: release 2 x SKU-1 of order o-1".
func compensationSummary(step string, in OrderInput, total int64) string {
	var what string
	switch step {
	case StepCreateOrder:
		what = "cancel order " + in.OrderID
	case StepReserveStock:
		what = fmt.Sprintf("release %s of order %s", itemsSummary(in.Items), in.OrderID)
	case StepChargePayment:
		what = fmt.Sprintf("refund %s %s of order %s", in.CustomerID, money(total), in.OrderID)
	case StepCreateShipment:
		what = "cancel the shipment of order " + in.OrderID
	default:
		what = "undo " + step + " of order " + in.OrderID
	}
	return fmt.Sprintf("Compensate %s: %s", step, what)
}
