package prefill

import (
	"fmt"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/workflows"
)

// ending is how a prefilled saga ended.
type ending int

const (
	// confirmed: every step ran, the order is CONFIRMED.
	confirmed ending = iota
	// refusedDestination: CreateShipment refused the order's destination
	// (ErrInvalidAddress); the shipment's compensation left a tombstone,
	// the payment was refunded, the stock released, the order cancelled.
	refusedDestination
	// cancelledAfterBooking: the saga was cancelled after its shipment was
	// booked (before the pivot); every effect was undone.
	cancelledAfterBooking
	// refusedStock: ReserveStock was refused (ErrOutOfStock) and its
	// compensation was a null compensation; the payment charged beside it
	// was refunded; no shipment was ever registered.
	refusedStock
)

// cancelReason is the reason the saga's CancelOrder gives
// (workflows/order_saga.go).
const cancelReason = "saga compensated"

// unservedCountry is a destination shipping.DefaultCountries does not
// serve: the orders whose shipment was refused ship there.
const unservedCountry = "AQ"

// saga is one prefilled saga: its ids, its order as CreateOrder wrote it
// and how it ended.
type saga struct {
	sagaID   string
	orderID  string
	customer string
	items    []services.Item // normalized: merged and sorted by SKU
	total    int64
	region   string
	shipTo   services.Address
	end      ending
}

// orderID is the id of order number n.
func orderID(n int) string { return fmt.Sprintf("%s%09d", Prefix, n) }

// runID is the first run id Fill gives order number n's saga: shaped like
// Temporal's (a UUID), never one Temporal made.
func runID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// sagaAt shapes order number n, the same on every call: customers, SKUs,
// quantities and destinations rotate, and CancelledPercent of every 100
// consecutive orders end cancelled, spread over the hundred.
func (p *planner) sagaAt(n int) saga {
	id := orderID(n)
	s := saga{
		sagaID:   workflows.SagaID(workflows.WorkflowID(id), runID(n)),
		orderID:  id,
		customer: p.customers[n%len(p.customers)],
		region:   workflows.Regions[n%len(workflows.Regions)],
		shipTo: services.Address{Name: "Prefill Customer", Street: fmt.Sprintf("Main Street %d", n%1000+1),
			City: "Springfield", PostalCode: fmt.Sprintf("%05d", n%100_000), Country: p.countries[n%len(p.countries)]},
	}
	if (n*37)%100 < p.opts.CancelledPercent {
		s.end = ending(1 + n%3)
	}
	if s.end == refusedDestination {
		s.shipTo.Country = unservedCountry
	}
	items := []services.Item{{SKU: p.skus[n%len(p.skus)], Quantity: int64(1 + n%3)}}
	if n%4 == 0 && len(p.skus) > 1 {
		items = append(items, services.Item{SKU: p.skus[(n+1)%len(p.skus)], Quantity: 1})
	}
	s.items, _ = services.NormalizeItems(items) // valid ids and quantities: cannot fail
	for _, it := range s.items {
		s.total += p.prices[it.SKU] * it.Quantity
	}
	return s
}

// reserved reports whether the saga's reservation ran (and so has lines,
// a claim and an event).
func (s saga) reserved() bool { return s.end != refusedStock }

// booked reports whether the saga's shipment was created.
func (s saga) booked() bool { return s.end == confirmed || s.end == cancelledAfterBooking }
