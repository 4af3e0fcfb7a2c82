package sagaclient

import (
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

func TestStartOptionsLabelTheSagaForTheWebUI(t *testing.T) {
	in := workflows.OrderInput{OrderID: "o-1", CustomerID: "alice", Region: "eu",
		Items:  []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 1}},
		ShipTo: services.Address{Name: "Ada Lovelace", Street: "1 Main St", City: "Berlin", PostalCode: "10115", Country: "DE"},
		Demo:   workflows.Demo{FailAt: workflows.StepCreateShipment}}
	opts, started := StartOptions(in)
	if !started.AttributesAtStart || in.AttributesAtStart || started.OrderID != in.OrderID {
		t.Errorf("started with %+v: want the input marked AttributesAtStart (and in left as it was)", started)
	}
	if opts.ID != "order-o-1" || opts.TaskQueue != "orders-eu" {
		t.Errorf("id %q, task queue %q", opts.ID, opts.TaskQueue)
	}
	if want := "Order o-1 for alice: 2 x SKU-1, 1 x SKU-2"; opts.StaticSummary != want {
		t.Errorf("summary %q, want %q", opts.StaticSummary, want)
	}
	for _, line := range []string{
		"- **Order:** o-1 for alice in eu\n",
		"- **Items:** 2 x SKU-1, 1 x SKU-2\n",
		"- **Ship to:** Ada Lovelace, 1 Main St, 10115 Berlin, DE\n",
		"- **Demo:** fails at CreateShipment\n",
	} {
		if !strings.Contains(opts.StaticDetails, line) {
			t.Errorf("details lack %q:\n%s", line, opts.StaticDetails)
		}
	}
	for _, key := range []string{"OrderId", "CustomerId", "SagaStatus"} {
		found := false
		for k := range opts.TypedSearchAttributes.GetUntypedValues() {
			found = found || k.GetName() == key
		}
		if !found {
			t.Errorf("search attribute %s not set at start", key)
		}
	}
}
