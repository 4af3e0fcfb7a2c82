package readstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/pgstore"
)

// The sources of events, as the read store names them.
const (
	SourceOrders    = "orders"
	SourceInventory = "inventory"
	SourcePayments  = "payments"
	SourceShipping  = "shipping"
)

// Sources are the four services whose events the projector reads.
var Sources = []string{SourceOrders, SourceInventory, SourcePayments, SourceShipping}

// IsDocumentSource says whether source keeps its events in documents
// (MongoDB) rather than a log (PostgreSQL).
func IsDocumentSource(source string) bool {
	return source == SourceOrders || source == SourceShipping
}

// PGEventID and DocEventID name events across sources.
func PGEventID(source string, id int64) string { return fmt.Sprintf("%s/%d", source, id) }

// DocEventID names the event at index of the document docID of source.
func DocEventID(source, docID string, index int) string {
	return fmt.Sprintf("%s/%s/%d", source, docID, index+1)
}

// seq returns the facts' count of source's document events.
func (f *Facts) seq(source string) *int {
	if source == SourceShipping {
		return &f.ShippingSeq
	}
	return &f.OrdersSeq
}

// The states of an order's stock, payment and shipment in its view; ""
// until the first event of the service arrives.
const (
	StockReserved     = "reserved"
	StockReleased     = "released"
	PaymentCaptured   = "captured"
	PaymentRefunded   = "refunded"
	ShipmentCreated   = "created"
	ShipmentCancelled = "cancelled"
)

// Event is one domain event as the read store takes it in.
type Event struct {
	// ID is unique across sources: "<source>/<event id>" for a PostgreSQL
	// source; for a MongoDB one the event's own (mongostore.EventID,
	// "<collection>/<document id>/<kind>"), or "<source>/<document
	// id>/<index + 1>" for an event written before events carried one.
	ID     string
	Source string
	// Position is the event's position in a PostgreSQL source's log.
	Position pgstore.Position
	// Index is the event's index in its MongoDB document's events.
	Index      int
	OrderID    string
	SagaID     string
	Kind       string
	OccurredAt time.Time
	Detail     json.RawMessage
}

// Facts are what an order's events have established, from any of the four
// services in any order: each event moves a fact forward and never back
// (a refund after a capture, not the reverse), so applying the events of
// an order in any order, or one of them twice, gives the same facts.
type Facts struct {
	OrderID    string               `json:"order_id"`
	SagaID     string               `json:"saga_id"`
	CustomerID string               `json:"customer_id,omitempty"`
	Region     string               `json:"region,omitempty"`
	Items      []services.Item      `json:"items,omitempty"`
	Total      int64                `json:"total,omitempty"`
	Status     string               `json:"status,omitempty"`
	Reason     string               `json:"reason,omitempty"`
	Stock      string               `json:"stock,omitempty"`
	Lines      []services.StockLine `json:"stock_lines,omitempty"`
	Payment    string               `json:"payment,omitempty"`
	Amount     int64                `json:"amount,omitempty"`
	Shipment   string               `json:"shipment,omitempty"`
	Tracking   string               `json:"tracking,omitempty"`
	Country    string               `json:"country,omitempty"`
	// OrdersSeq and ShippingSeq are how many events of the order's
	// document in each MongoDB service the view holds: the projector's
	// position in that document.
	OrdersSeq    int       `json:"orders_seq"`
	ShippingSeq  int       `json:"shipping_seq"`
	FirstEventAt time.Time `json:"first_event_at"`
	LastEventAt  time.Time `json:"last_event_at"`
}

// The order statuses, as the orders service writes them.
const (
	statusPending   = "PENDING"
	statusConfirmed = "CONFIRMED"
	statusCancelled = "CANCELLED"
)

// Apply moves the facts forward by one event. An unknown kind, or a detail
// that does not decode, is an error and changes nothing.
func (f *Facts) Apply(e Event) error {
	next := *f
	switch e.Kind {
	case services.EventOrderCreated:
		var d services.OrderDetail
		if err := decode(e, &d); err != nil {
			return err
		}
		next.CustomerID, next.Region, next.Items, next.Total = d.CustomerID, d.Region, d.Items, d.Total
		if next.Status == "" {
			next.Status = statusPending
		}
	case services.EventOrderConfirmed:
		next.Status = statusConfirmed
	case services.EventOrderCancelled:
		var d services.CancelDetail
		if err := decode(e, &d); err != nil {
			return err
		}
		next.Status, next.Reason = statusCancelled, d.Reason
	case services.EventStockReserved:
		var lines []services.StockLine
		if err := decode(e, &lines); err != nil {
			return err
		}
		next.Lines = lines
		if next.Stock == "" {
			next.Stock = StockReserved
		}
	case services.EventStockReleased:
		var lines []services.StockLine
		if err := decode(e, &lines); err != nil {
			return err
		}
		if next.Lines == nil {
			next.Lines = lines
		}
		next.Stock = StockReleased
	case services.EventPaymentCaptured, services.EventPaymentRefunded:
		var d services.PaymentDetail
		if err := decode(e, &d); err != nil {
			return err
		}
		if next.CustomerID == "" {
			next.CustomerID = d.CustomerID
		}
		next.Amount = d.Amount
		if e.Kind == services.EventPaymentRefunded {
			next.Payment = PaymentRefunded
		} else if next.Payment == "" {
			next.Payment = PaymentCaptured
		}
	case services.EventShipmentCreated:
		var d services.ShipmentDetail
		if err := decode(e, &d); err != nil {
			return err
		}
		next.Tracking, next.Country = d.Tracking, d.Country
		if next.Shipment == "" {
			next.Shipment = ShipmentCreated
		}
	case services.EventShipmentCancelled:
		next.Shipment = ShipmentCancelled
	default:
		return fmt.Errorf("event %s: unknown kind %q", e.ID, e.Kind)
	}
	if next.SagaID == "" {
		next.SagaID = e.SagaID
	}
	if next.FirstEventAt.IsZero() || e.OccurredAt.Before(next.FirstEventAt) {
		next.FirstEventAt = e.OccurredAt
	}
	if e.OccurredAt.After(next.LastEventAt) {
		next.LastEventAt = e.OccurredAt
	}
	*f = next
	return nil
}

// decode reads an event's detail into out.
func decode(e Event, out any) error {
	if len(e.Detail) == 0 || string(e.Detail) == "null" {
		return fmt.Errorf("event %s (%s): no detail", e.ID, e.Kind)
	}
	if err := json.Unmarshal(e.Detail, out); err != nil {
		return fmt.Errorf("event %s (%s): decode detail: %w", e.ID, e.Kind, err)
	}
	return nil
}

// CustomerCounts are one customer's counters.
type CustomerCounts struct {
	Orders, Confirmed, Cancelled, Captured, Refunded int64
}

// StockCounts are the counters of a SKU or a region: units reserved (held
// by an order not yet confirmed), sold (held by a confirmed order) and
// released, and revenue captured and refunded.
type StockCounts struct {
	Orders, Reserved, Sold, Released, RevenueCaptured, RevenueRefunded int64
}

// Contribution is what one order adds to the counters.
type Contribution struct {
	Customers map[string]CustomerCounts
	SKUs      map[string]StockCounts
	Regions   map[string]StockCounts
}

// Contribution returns what the order adds to the counters. Counters are
// sums of contributions, so a change of facts changes them by the
// difference of the two contributions, whatever order the events came in.
func (f Facts) Contribution() Contribution {
	c := Contribution{Customers: map[string]CustomerCounts{}, SKUs: map[string]StockCounts{}, Regions: map[string]StockCounts{}}
	captured, refunded := int64(0), int64(0)
	if f.Payment == PaymentCaptured || f.Payment == PaymentRefunded {
		captured = f.Amount
	}
	if f.Payment == PaymentRefunded {
		refunded = f.Amount
	}
	var region StockCounts
	for _, l := range f.Lines {
		var s StockCounts
		switch {
		case f.Stock == StockReleased:
			s.Released = l.Quantity
		case f.Stock == StockReserved && f.Status == statusConfirmed:
			s.Sold = l.Quantity
		case f.Stock == StockReserved:
			s.Reserved = l.Quantity
		}
		if captured != 0 {
			s.RevenueCaptured = l.Quantity * l.UnitPrice
		}
		if refunded != 0 {
			s.RevenueRefunded = l.Quantity * l.UnitPrice
		}
		c.SKUs[l.SKU] = c.SKUs[l.SKU].plus(s)
		region.Reserved += s.Reserved
		region.Sold += s.Sold
		region.Released += s.Released
	}
	if f.CustomerID != "" {
		cc := CustomerCounts{Captured: captured, Refunded: refunded}
		if f.Status != "" {
			cc.Orders = 1
		}
		if f.Status == statusConfirmed {
			cc.Confirmed = 1
		}
		if f.Status == statusCancelled {
			cc.Cancelled = 1
		}
		c.Customers[f.CustomerID] = cc
	}
	if f.Region != "" {
		if f.Status != "" {
			region.Orders = 1
		}
		region.RevenueCaptured, region.RevenueRefunded = captured, refunded
		c.Regions[f.Region] = region
	}
	return c
}

func (a StockCounts) plus(b StockCounts) StockCounts {
	return StockCounts{a.Orders + b.Orders, a.Reserved + b.Reserved, a.Sold + b.Sold, a.Released + b.Released,
		a.RevenueCaptured + b.RevenueCaptured, a.RevenueRefunded + b.RevenueRefunded}
}

func (a StockCounts) minus(b StockCounts) StockCounts {
	return StockCounts{a.Orders - b.Orders, a.Reserved - b.Reserved, a.Sold - b.Sold, a.Released - b.Released,
		a.RevenueCaptured - b.RevenueCaptured, a.RevenueRefunded - b.RevenueRefunded}
}

func (a CustomerCounts) plus(b CustomerCounts) CustomerCounts {
	return CustomerCounts{a.Orders + b.Orders, a.Confirmed + b.Confirmed, a.Cancelled + b.Cancelled,
		a.Captured + b.Captured, a.Refunded + b.Refunded}
}

func (a CustomerCounts) minus(b CustomerCounts) CustomerCounts {
	return CustomerCounts{a.Orders - b.Orders, a.Confirmed - b.Confirmed, a.Cancelled - b.Cancelled,
		a.Captured - b.Captured, a.Refunded - b.Refunded}
}

// Add adds o's contribution to c.
func (c *Contribution) Add(o Contribution) {
	for k, v := range o.Customers {
		c.Customers[k] = c.Customers[k].plus(v)
	}
	for k, v := range o.SKUs {
		c.SKUs[k] = c.SKUs[k].plus(v)
	}
	for k, v := range o.Regions {
		c.Regions[k] = c.Regions[k].plus(v)
	}
}

// Delta is after minus before, without the keys that do not change.
func Delta(before, after Contribution) Contribution {
	d := Contribution{Customers: map[string]CustomerCounts{}, SKUs: map[string]StockCounts{}, Regions: map[string]StockCounts{}}
	for k := range union(before.Customers, after.Customers) {
		if v := after.Customers[k].minus(before.Customers[k]); v != (CustomerCounts{}) {
			d.Customers[k] = v
		}
	}
	for k := range union(before.SKUs, after.SKUs) {
		if v := after.SKUs[k].minus(before.SKUs[k]); v != (StockCounts{}) {
			d.SKUs[k] = v
		}
	}
	for k := range union(before.Regions, after.Regions) {
		if v := after.Regions[k].minus(before.Regions[k]); v != (StockCounts{}) {
			d.Regions[k] = v
		}
	}
	return d
}

// union returns the keys of a and b.
func union[V any](a, b map[string]V) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
