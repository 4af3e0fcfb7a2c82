package services_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/sagaflow/sagaflow/internal/testenv"
	"github.com/sagaflow/sagaflow/services"
)

func TestValidateIDRejectsEachBadID(t *testing.T) {
	for problem, id := range testenv.BadIDs() {
		err := services.ValidateID("customer_id", id)
		if !errors.Is(err, services.ErrInvalidInput) {
			t.Errorf("%q: got %v, want ErrInvalidInput", id, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "customer_id ") || !strings.Contains(err.Error(), problem) {
			t.Errorf("%q: error %q should name the field and say %q", id, err, problem)
		}
	}
	for _, ok := range []string{"SKU-1", "alice", "order-42", "kunde_ä", strings.Repeat("x", 64)} {
		if err := services.ValidateID("id", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
}

func TestValidateSagaIDTakesTheSagaIDsOfLongOrderIDs(t *testing.T) {
	for problem, id := range testenv.BadSagaIDs() {
		err := services.ValidateSagaID("saga_id", id)
		if !errors.Is(err, services.ErrInvalidInput) || !strings.HasPrefix(err.Error(), "saga_id ") || !strings.Contains(err.Error(), problem) {
			t.Errorf("%q: got %v, want invalid input naming saga_id and saying %q", id, err, problem)
		}
	}
	orderID := strings.Repeat("o", services.MaxIDLength)
	for _, ok := range []string{"order-" + orderID, testenv.SagaIDPerRun(orderID), strings.Repeat("x", services.MaxSagaIDLength)} {
		if err := services.ValidateSagaID("saga_id", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
		if err := services.ValidateStepIDs(ok, orderID); err != nil {
			t.Errorf("step ids %q, %q refused: %v", ok, orderID, err)
		}
	}
}

func TestNormalizeItems(t *testing.T) {
	got, err := services.NormalizeItems([]services.Item{{SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 3}})
	if err != nil {
		t.Fatal(err)
	}
	want := []services.Item{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 5}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	cases := []struct {
		name  string
		items []services.Item
		field string
	}{
		{"empty", nil, "items is empty"},
		{"zero", []services.Item{{SKU: "A", Quantity: 0}}, "items[0].quantity is 0"},
		{"negative", []services.Item{{SKU: "A", Quantity: -3}}, "items[0].quantity is -3"},
		{"too many", []services.Item{{SKU: "A", Quantity: services.MaxQuantity + 1}}, "items[0].quantity is 1000001"},
		{"max int", []services.Item{{SKU: "A", Quantity: math.MaxInt64}}, "items[0].quantity"},
		{"sum overflows", []services.Item{{SKU: "A", Quantity: services.MaxQuantity}, {SKU: "A", Quantity: 1}}, "total quantity of A"},
		{"bad sku", []services.Item{{SKU: "A$", Quantity: 1}}, "items[0].sku contains '$'"},
	}
	for _, c := range cases {
		_, err := services.NormalizeItems(c.items)
		if !errors.Is(err, services.ErrInvalidInput) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: got %v, want an invalid-input error mentioning %q", c.name, err, c.field)
		}
	}
}

func TestAmountArithmeticRefusesOverflow(t *testing.T) {
	if _, err := services.MulAmount("line", math.MaxInt64/2, 3); !errors.Is(err, services.ErrInvalidInput) {
		t.Errorf("MulAmount overflow: got %v", err)
	}
	if _, err := services.MulAmount("line", services.MaxAmount, 2); !errors.Is(err, services.ErrInvalidInput) {
		t.Errorf("MulAmount over limit: got %v", err)
	}
	if _, err := services.AddAmount("total", services.MaxAmount, 1); !errors.Is(err, services.ErrInvalidInput) {
		t.Errorf("AddAmount over limit: got %v", err)
	}
	if v, err := services.MulAmount("line", 250, 4); err != nil || v != 1000 {
		t.Errorf("MulAmount(250, 4) = %d, %v", v, err)
	}
}

func TestAddressValidate(t *testing.T) {
	good := services.Address{Name: "Ada", Street: "Main 1", City: "Berlin", PostalCode: "10115", Country: "DE"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Country = "Germany"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "ship_to.country") {
		t.Errorf("country: got %v", err)
	}
	bad = good
	bad.City = ""
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "ship_to.city is empty") {
		t.Errorf("city: got %v", err)
	}
	bad = good
	bad.Street = "Main\x00 1"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "ship_to.street") {
		t.Errorf("street: got %v", err)
	}
}

func TestBusinessErrorClassification(t *testing.T) {
	err := services.Invalid("x", "is bad")
	if !services.IsBusiness(err) || services.Code(err) != "INVALID_INPUT" {
		t.Errorf("Invalid: business %t code %q", services.IsBusiness(err), services.Code(err))
	}
	if services.IsBusiness(errors.New("connection refused")) {
		t.Error("plain error classified as business")
	}
}
