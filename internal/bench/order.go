package bench

import (
	"fmt"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// Workload says how a cell's orders spread over the catalog.
type Workload string

// The workloads.
const (
	// Spread spreads the orders over SpreadSKUs SKUs, round robin.
	Spread Workload = "spread"
	// Hot puts every order on one SKU.
	Hot Workload = "hot"
	// NoStock is the workload of the modes that touch no store (bare
	// Temporal): the same for every catalog.
	NoStock Workload = "none"
)

// Catalog figures: every order is one unit of one SKU at UnitPrice, paid by
// one of Customers customers, each rich enough for any run.
const (
	SpreadSKUs      = 64
	Customers       = 256
	UnitPrice       = 100
	customerBalance = 100_000_000_000
	// AmpleStock is the stock of each SKU in throughput cells: more than
	// any cell sells, so every order can complete.
	AmpleStock = 1_000_000
)

// Region is the region of every order (one task queue per cell anyway).
const Region = "eu"

// address is where every order ships to.
var address = services.Address{Name: "Bench", Street: "Benchmark Road 1", City: "Berlin", PostalCode: "10115", Country: "DE"}

// Order is one order of a cell: Quantity units of SKU for Customer.
type Order struct {
	ID       string
	Customer string
	SKU      string
	Quantity int64
}

// Items returns the order's items.
func (o Order) Items() []services.Item { return []services.Item{{SKU: o.SKU, Quantity: o.Quantity}} }

// Input returns the saga input of the order.
func (o Order) Input() workflows.OrderInput {
	return workflows.OrderInput{OrderID: o.ID, CustomerID: o.Customer, Region: Region, Items: o.Items(), ShipTo: address}
}

// catalog is the stock a cell seeds and the orders it places.
type catalog struct {
	skus  []string
	stock int64 // per SKU
}

func newCatalog(w Workload, stock int64) catalog {
	switch w {
	case Spread:
		skus := make([]string, SpreadSKUs)
		for i := range skus {
			skus[i] = fmt.Sprintf("B-%02d", i)
		}
		return catalog{skus: skus, stock: stock}
	case Hot:
		return catalog{skus: []string{"B-HOT"}, stock: stock}
	}
	return catalog{}
}

// order returns the cell's i-th order (from 0), with an id unique to the
// cell (prefix names the run and the cell).
func (c catalog) order(prefix string, i int) Order {
	o := Order{ID: fmt.Sprintf("%s-%06d", prefix, i), Customer: customer(i % Customers), Quantity: 1}
	if len(c.skus) > 0 {
		o.SKU = c.skus[i%len(c.skus)]
	} else {
		o.SKU = "B-NONE"
	}
	return o
}

func customer(i int) string { return fmt.Sprintf("b-cust-%03d", i) }
