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
