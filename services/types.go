package services

import (
	"fmt"
	"slices"
	"strings"
)

// Item is one line of an order: a quantity of one SKU.
type Item struct {
	SKU      string `json:"sku" bson:"sku"`
	Quantity int64  `json:"quantity" bson:"quantity"`
}

// NormalizeItems validates items and returns them merged by SKU (a SKU listed
// twice has its quantities added) and sorted by SKU, the order in which
// stores lock rows, so that two orders never wait on each other in a cycle.
func NormalizeItems(items []Item) ([]Item, error) {
	if len(items) == 0 {
		return nil, Invalid("items", "is empty")
	}
	for i, it := range items {
		field := fmt.Sprintf("items[%d]", i)
		if err := ValidateID(field+".sku", it.SKU); err != nil {
			return nil, err
		}
		if err := ValidateQuantity(field+".quantity", it.Quantity); err != nil {
			return nil, err
		}
	}
	// Sort a copy, then merge neighbours: no map, so the result is the same
	// in workflow code on every replay.
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b Item) int { return strings.Compare(a.SKU, b.SKU) })
	out := make([]Item, 0, len(sorted))
	for _, it := range sorted {
		if n := len(out); n > 0 && out[n-1].SKU == it.SKU {
			out[n-1].Quantity += it.Quantity
			if err := ValidateQuantity(fmt.Sprintf("total quantity of %s", it.SKU), out[n-1].Quantity); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, it)
	}
	if len(out) > MaxItems {
		return nil, Invalid("items", fmt.Sprintf("has %d distinct SKUs, more than %d", len(out), MaxItems))
	}
	return out, nil
}

// Address is where an order ships to.
type Address struct {
	Name       string `json:"name" bson:"name"`
	Street     string `json:"street" bson:"street"`
	City       string `json:"city" bson:"city"`
	PostalCode string `json:"postal_code" bson:"postal_code"`
	// Country is an ISO 3166-1 alpha-2 code, such as "DE".
	Country string `json:"country" bson:"country"`
}

// MaxAddressField is the longest address field accepted, in bytes.
const MaxAddressField = 200

// Validate checks that every field is present, printable, valid UTF-8 and at
// most MaxAddressField bytes, and that Country is two upper-case letters.
// Whether a country is served is the shipping service's business rule.
func (a Address) Validate() error {
	fields := []struct{ name, value string }{
		{"ship_to.name", a.Name}, {"ship_to.street", a.Street}, {"ship_to.city", a.City},
		{"ship_to.postal_code", a.PostalCode}, {"ship_to.country", a.Country},
	}
	for _, f := range fields {
		if err := validateText(f.name, f.value); err != nil {
			return err
		}
	}
	if len(a.Country) != 2 || strings.ToUpper(a.Country) != a.Country ||
		a.Country[0] < 'A' || a.Country[0] > 'Z' || a.Country[1] < 'A' || a.Country[1] > 'Z' {
		return Invalid("ship_to.country", fmt.Sprintf("is %q, want a two-letter ISO code such as DE", a.Country))
	}
	return nil
}

func validateText(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return Invalid(field, "is empty")
	}
	if len(s) > MaxAddressField {
		return Invalid(field, fmt.Sprintf("is %d bytes long, more than %d", len(s), MaxAddressField))
	}
	return validatePrintable(field, s)
}
