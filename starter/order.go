package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/sagaflow/sagaflow/services"
)

// itemForm is the expected form of --item, for error messages.
const itemForm = "SKU:QTY with QTY a positive integer, such as SKU-1:2"

// parseItem parses one --item value, SKU:QTY. The SKU is what precedes the
// last colon; Validate checks it like any other input.
func parseItem(v string) (services.Item, error) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return services.Item{}, fmt.Errorf("--item %q: no quantity; want %s", v, itemForm)
	}
	sku, qty := strings.TrimSpace(v[:i]), strings.TrimSpace(v[i+1:])
	if sku == "" {
		return services.Item{}, fmt.Errorf("--item %q: no SKU; want %s", v, itemForm)
	}
	n, err := strconv.ParseInt(qty, 10, 64)
	if err != nil || n <= 0 {
		return services.Item{}, fmt.Errorf("--item %q: quantity %q is not a positive integer; want %s", v, qty, itemForm)
	}
	return services.Item{SKU: sku, Quantity: n}, nil
}

// parseItems parses every --item value.
func parseItems(values []string) ([]services.Item, error) {
	items := make([]services.Item, 0, len(values))
	for _, v := range values {
		it, err := parseItem(v)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// shipToForm is the expected form of --ship-to, for help and errors.
const shipToForm = "Name;Street;City;PostalCode;CC"

// parseShipTo parses --ship-to: five fields separated by semicolons, in
// the order of a postal address, the country as an ISO 3166-1 alpha-2 code
// (case does not matter). Fields are trimmed; Validate checks them.
func parseShipTo(v string) (services.Address, error) {
	f := strings.Split(v, ";")
	if len(f) != 5 {
		return services.Address{}, fmt.Errorf("--ship-to %q has %d field(s); want 5 separated by ';': %s, such as \"Ada Lovelace;1 Main St;Berlin;10115;DE\"",
			v, len(f), shipToForm)
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	return services.Address{Name: f[0], Street: f[1], City: f[2], PostalCode: f[3], Country: strings.ToUpper(f[4])}, nil
}

// defaultShipTo is each region's default destination, a country shipping
// serves. (apac has no served country of its own yet: its customers in the
// demo live in Canada.)
var defaultShipTo = map[string]services.Address{
	"eu":   {Name: "Erika Mustermann", Street: "Hauptstrasse 1", City: "Berlin", PostalCode: "10115", Country: "DE"},
	"us":   {Name: "John Doe", Street: "1 Main Street", City: "Springfield", PostalCode: "62701", Country: "US"},
	"apac": {Name: "Mei Tanaka", Street: "1 Harbour Road", City: "Vancouver", PostalCode: "V6B 1A1", Country: "CA"},
}

// newOrderID returns a fresh order id, prefix-<12 hex digits>.
func newOrderID(prefix string) string {
	return prefix + "-" + randomHex(6)
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // since Go 1.24 it never returns an error (it crashes instead)
	return hex.EncodeToString(b)
}
