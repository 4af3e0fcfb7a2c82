package workflows_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// Validate refuses each invalid field with an error that names it, and
// returns a valid order with its items merged by SKU and sorted.
func TestValidate(t *testing.T) {
	cases := map[string]struct {
		field  string
		mutate func(*workflows.OrderInput)
	}{
		"empty order id":      {"order_id", func(in *workflows.OrderInput) { in.OrderID = "" }},
		"order id with $":     {"order_id", func(in *workflows.OrderInput) { in.OrderID = "a$b" }},
		"empty customer":      {"customer_id", func(in *workflows.OrderInput) { in.CustomerID = "" }},
		"customer with space": {"customer_id", func(in *workflows.OrderInput) { in.CustomerID = "al ice" }},
		"unknown region":      {"region", func(in *workflows.OrderInput) { in.Region = "mars" }},
		"no items":            {"items", func(in *workflows.OrderInput) { in.Items = nil }},
		"zero quantity":       {"quantity", func(in *workflows.OrderInput) { in.Items[0].Quantity = 0 }},
		"no street":           {"ship_to.street", func(in *workflows.OrderInput) { in.ShipTo.Street = "" }},
		"bad country":         {"ship_to.country", func(in *workflows.OrderInput) { in.ShipTo.Country = "Germany" }},
		"fail at PriceOrder":  {"demo.fail_at", func(in *workflows.OrderInput) { in.Demo.FailAt = workflows.StepPriceOrder }},
		"pause before nothing": {"demo.pause_before", func(in *workflows.OrderInput) {
			in.Demo.PauseBefore, in.Demo.Pause = "Nap", time.Second
		}},
		"negative pause": {"demo.pause", func(in *workflows.OrderInput) {
			in.Demo.PauseBefore, in.Demo.Pause = workflows.StepCreateOrder, -time.Second
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := validOrder()
			c.mutate(&in)
			if _, err := workflows.Validate(in); !errors.Is(err, services.ErrInvalidInput) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("Validate: %v, want an invalid-input error naming %s", err, c.field)
			}
		})
	}

	in := validOrder()
	in.Items = []services.Item{{SKU: "SKU-2", Quantity: 1}, {SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 3}}
	in.Demo = workflows.Demo{FailAt: workflows.StepConfirmOrder, PauseBefore: workflows.StepPriceOrder, Pause: 0}
	out, err := workflows.Validate(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 4}}; !slices.Equal(out.Items, want) {
		t.Fatalf("items %v, want %v", out.Items, want)
	}
	for _, step := range workflows.ForceableSteps {
		in := validOrder()
		in.Demo.FailAt = step
		in.Demo.PauseBefore, in.Demo.Pause = step, time.Minute
		for _, region := range workflows.Regions {
			in.Region = region
			if _, err := workflows.Validate(in); err != nil {
				t.Errorf("fail at and pause before %s in %s: %v", step, region, err)
			}
		}
	}
}
