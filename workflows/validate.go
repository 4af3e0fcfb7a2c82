package workflows

import (
	"fmt"
	"slices"

	"github.com/sagaflow/sagaflow/services"
)

// Validate checks an order before its saga starts, with the services' own
// rules, and returns it with its items normalized (merged and sorted). The
// starter calls it before starting a saga and the saga calls it first, so
// invalid input never reaches a store.
func Validate(in OrderInput) (OrderInput, error) {
	if err := services.ValidateID("order_id", in.OrderID); err != nil {
		return in, err
	}
	if err := services.ValidateID("customer_id", in.CustomerID); err != nil {
		return in, err
	}
	if !slices.Contains(Regions, in.Region) {
		return in, services.Invalid("region", fmt.Sprintf("is %q, want one of %v", in.Region, Regions))
	}
	items, err := services.NormalizeItems(in.Items)
	if err != nil {
		return in, err
	}
	in.Items = items
	if err := in.ShipTo.Validate(); err != nil {
		return in, err
	}
	if in.Demo.FailAt != "" && !slices.Contains(ForceableSteps, in.Demo.FailAt) {
		return in, services.Invalid("demo.fail_at", fmt.Sprintf("is %q, want one of %v", in.Demo.FailAt, ForceableSteps))
	}
	if in.Demo.PauseBefore != "" && !slices.Contains(Steps, in.Demo.PauseBefore) {
		return in, services.Invalid("demo.pause_before", fmt.Sprintf("is %q, want one of %v", in.Demo.PauseBefore, Steps))
	}
	if in.Demo.Pause < 0 {
		return in, services.Invalid("demo.pause", "is negative")
	}
	return in, nil
}
