package main

import (
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

func TestParseItem(t *testing.T) {
	good := map[string]services.Item{
		"SKU-1:2":       {SKU: "SKU-1", Quantity: 2},
		" SKU-2 : 10 ":  {SKU: "SKU-2", Quantity: 10},
		"ns:SKU-9:1":    {SKU: "ns:SKU-9", Quantity: 1}, // the quantity follows the last colon
		"SKU-4:1000000": {SKU: "SKU-4", Quantity: 1_000_000},
	}
	for in, want := range good {
		got, err := parseItem(in)
		if err != nil || got != want {
			t.Errorf("parseItem(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":          "no quantity",
		"SKU-1":     "no quantity",
		":2":        "no SKU",
		"SKU-1:":    "not a positive integer",
		"SKU-1:x":   "not a positive integer",
		"SKU-1:0":   "not a positive integer",
		"SKU-1:-3":  "not a positive integer",
		"SKU-1:2.5": "not a positive integer",
		"SKU-1:1e3": "not a positive integer",
	}
	for in, problem := range bad {
		_, err := parseItem(in)
		if err == nil {
			t.Errorf("parseItem(%q) accepted", in)
			continue
		}
		msg := err.Error()
		for _, want := range []string{"--item", "SKU:QTY", problem} {
			if !strings.Contains(msg, want) {
				t.Errorf("parseItem(%q) error %q does not say %q", in, msg, want)
			}
		}
	}
}

func TestParseShipTo(t *testing.T) {
	got, err := parseShipTo(" Ada Lovelace ; 1 Main St;Berlin ;10115; de")
	want := services.Address{Name: "Ada Lovelace", Street: "1 Main St", City: "Berlin", PostalCode: "10115", Country: "DE"}
	if err != nil || got != want {
		t.Fatalf("parseShipTo = %+v, %v; want %+v", got, err, want)
	}
	for _, in := range []string{"", "a;b;c;d", "a;b;c;d;e;f", "Ada, 1 Main St, Berlin, 10115, DE"} {
		_, err := parseShipTo(in)
		if err == nil || !strings.Contains(err.Error(), "--ship-to") || !strings.Contains(err.Error(), shipToForm) {
			t.Errorf("parseShipTo(%q) error = %v; want one naming the flag and the form", in, err)
		}
	}
	// Empty fields parse, and Validate names them.
	in := placeFlags{customer: "alice", region: "eu", items: []string{"SKU-1:1"}, shipTo: "Ada;;Berlin;10115;DE"}
	if _, err := in.input(); err == nil || !strings.Contains(err.Error(), "ship_to.street") {
		t.Errorf("empty street: error = %v; want one naming ship_to.street", err)
	}
}

func TestPlaceFlagsInput(t *testing.T) {
	base := placeFlags{customer: "alice", region: "eu", items: []string{"SKU-2:1", "SKU-1:2", "SKU-2:1"}}
	in, err := base.input()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(in.OrderID, "o-") || in.ShipTo != defaultShipTo["eu"] {
		t.Errorf("defaults: order %q, ship to %+v", in.OrderID, in.ShipTo)
	}
	if want := []services.Item{{SKU: "SKU-1", Quantity: 2}, {SKU: "SKU-2", Quantity: 2}}; len(in.Items) != 2 || in.Items[0] != want[0] || in.Items[1] != want[1] {
		t.Errorf("items %+v, want merged and sorted %+v", in.Items, want)
	}
	for _, region := range workflows.Regions {
		f := base
		f.region = region
		if _, err := f.input(); err != nil {
			t.Errorf("region %s with its default address: %v", region, err)
		}
	}

	cases := []struct {
		name   string
		change func(*placeFlags)
		want   string
	}{
		{"unknown region", func(f *placeFlags) { f.region = "mars" }, "region"},
		{"bad order id", func(f *placeFlags) { f.order = "o.1" }, "order_id"},
		{"malformed item", func(f *placeFlags) { f.items = []string{"SKU-1=2"} }, `--item "SKU-1=2"`},
		{"unknown step", func(f *placeFlags) { f.failAt = "Nope" }, "demo.fail_at"},
		{"fail at a read-only step", func(f *placeFlags) { f.failAt = workflows.StepPriceOrder }, "demo.fail_at"},
		{"pause without duration", func(f *placeFlags) { f.pauseBefore = workflows.StepCreateShipment }, "--pause"},
		{"duration without step", func(f *placeFlags) { f.pause = time.Minute }, "--pause-before"},
		{"negative pause", func(f *placeFlags) { f.pauseBefore, f.pause = workflows.StepCreateShipment, -time.Second }, "demo.pause"},
	}
	for _, tc := range cases {
		f := base
		tc.change(&f)
		if _, err := f.input(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v; want one containing %q", tc.name, err, tc.want)
		}
	}
}
