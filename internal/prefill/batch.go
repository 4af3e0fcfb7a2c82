package prefill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/sagaflow/sagaflow/saga/mongobarrier"
	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/inventory"
	"github.com/sagaflow/sagaflow/services/mongostore"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/payments"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// planner shapes the sagas of one Fill and writes them, batch by batch.
type planner struct {
	t         Target
	opts      Options
	now       time.Time
	skus      []string
	customers []string
	prices    map[string]int64 // unit price per SKU
	countries []string         // served destinations
	orders    *mongo.Collection
	shipments *mongo.Collection
}

func newPlanner(t Target, opts Options, now time.Time) *planner {
	shipDB := t.Shipping
	if shipDB == nil {
		shipDB = t.Mongo
	}
	return &planner{t: t, opts: opts, now: now.Truncate(time.Millisecond), skus: opts.SKUs, customers: opts.Customers,
		countries: shipping.DefaultCountries,
		orders:    t.Mongo.Collection(orders.Collection), shipments: shipDB.Collection(shipping.Collection)}
}

// prepare creates the SKUs and accounts of Fill's own when Options name
// none, and reads the unit prices; a SKU or customer that does not exist
// is an error.
func (p *planner) prepare(ctx context.Context) error {
	if len(p.skus) == 0 {
		p.skus = ownSKUs()
		if err := createSKUs(ctx, p.t.Inventory, p.skus); err != nil {
			return err
		}
	}
	if len(p.customers) == 0 {
		p.customers = ownCustomers()
		if err := createAccounts(ctx, p.t.Payments, p.customers); err != nil {
			return err
		}
	}
	var err error
	if p.prices, err = unitPrices(ctx, p.t.Inventory, p.skus); err != nil {
		return err
	}
	return accountsExist(ctx, p.t.Payments, p.customers)
}

// ownSKUs and ownCustomers are what Fill creates when Options name none.
func ownSKUs() []string {
	out := make([]string, 16)
	for i := range out {
		out[i] = fmt.Sprintf("%ssku-%02d", Prefix, i)
	}
	return out
}

func ownCustomers() []string {
	out := make([]string, 64)
	for i := range out {
		out[i] = fmt.Sprintf("%scust-%03d", Prefix, i)
	}
	return out
}

// rows are the rows of one PostgreSQL database for a batch, per table.
type rows struct {
	barrier [][]any // saga_id, step, op, origin
	claims  [][]any // order_id, saga_id
	lines   [][]any // reservations or payments
	events  [][]any // saga_id, order_id, kind, detail
}

func (r *rows) count() int { return len(r.barrier) + len(r.claims) + len(r.lines) + len(r.events) }

// forward and compensate are the barrier rows of a step that ran (and was
// compensated); nullCompensation those of a step compensated before it ran.
func (r *rows) forward(sagaID, step string) {
	r.barrier = append(r.barrier, []any{sagaID, step, "forward", "forward"})
}

func (r *rows) compensate(sagaID, step string) {
	r.barrier = append(r.barrier, []any{sagaID, step, "compensate", "compensate"})
}

func (r *rows) nullCompensation(sagaID, step string) {
	r.barrier = append(r.barrier, []any{sagaID, step, "forward", "compensate"}, []any{sagaID, step, "compensate", "compensate"})
}

// event adds a domain event, its detail encoded as pgstore.AppendEvent does.
func (r *rows) event(s saga, kind string, detail any) error {
	body, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", kind, err)
	}
	r.events = append(r.events, []any{s.sagaID, s.orderID, kind, body})
	return nil
}

// batch is what a run of consecutive orders writes.
type batch struct {
	sagas     []saga
	confirmed int
	inventory rows
	payments  rows
	// stock is the units per SKU the confirmed orders hold; credit the
	// money per customer they captured.
	stock        map[string]int64
	credit       map[string]int64
	orderDocs    []any
	shipmentDocs []any
	rows         int
}

// batch shapes orders first to end-1.
func (p *planner) batch(first, end int) (*batch, error) {
	b := &batch{sagas: make([]saga, 0, end-first), stock: map[string]int64{}, credit: map[string]int64{}}
	for n := first; n < end; n++ {
		s := p.sagaAt(n)
		b.sagas = append(b.sagas, s)
		if err := b.addInventory(s, p.prices, p.now); err != nil {
			return nil, err
		}
		if err := b.addPayment(s, p.now); err != nil {
			return nil, err
		}
		if err := b.addDocs(s, p.now); err != nil {
			return nil, err
		}
		if s.end == confirmed {
			b.confirmed++
		}
	}
	b.rows = b.inventory.count() + b.payments.count()
	return b, nil
}

// addInventory adds what ReserveStock and ReleaseStock leave.
func (b *batch) addInventory(s saga, prices map[string]int64, now time.Time) error {
	r := &b.inventory
	if !s.reserved() {
		r.nullCompensation(s.sagaID, inventory.StepReserve)
		return nil
	}
	r.forward(s.sagaID, inventory.StepReserve)
	r.claims = append(r.claims, []any{s.orderID, s.sagaID})
	lines := make([]services.StockLine, len(s.items))
	for i, it := range s.items {
		lines[i] = services.StockLine{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: prices[it.SKU]}
	}
	if err := r.event(s, services.EventStockReserved, lines); err != nil {
		return err
	}
	for _, it := range s.items {
		if s.end == confirmed {
			r.lines = append(r.lines, []any{s.sagaID, s.orderID, it.SKU, it.Quantity, "reserved", nil})
			b.stock[it.SKU] += it.Quantity
		} else {
			r.lines = append(r.lines, []any{s.sagaID, s.orderID, it.SKU, it.Quantity, "released", now})
		}
	}
	if s.end == confirmed {
		return nil
	}
	r.compensate(s.sagaID, inventory.StepReserve)
	return r.event(s, services.EventStockReleased, s.items)
}

// addPayment adds what ChargePayment and RefundPayment leave: every
// prefilled saga's charge ran.
func (b *batch) addPayment(s saga, now time.Time) error {
	r := &b.payments
	detail := services.PaymentDetail{CustomerID: s.customer, Amount: s.total}
	r.forward(s.sagaID, payments.StepCharge)
	r.claims = append(r.claims, []any{s.orderID, s.sagaID})
	if err := r.event(s, services.EventPaymentCaptured, detail); err != nil {
		return err
	}
	if s.end == confirmed {
		r.lines = append(r.lines, []any{s.sagaID, s.orderID, s.customer, s.total, "captured", nil})
		b.credit[s.customer] += s.total
		return nil
	}
	r.lines = append(r.lines, []any{s.sagaID, s.orderID, s.customer, s.total, "refunded", now})
	r.compensate(s.sagaID, payments.StepCharge)
	return r.event(s, services.EventPaymentRefunded, detail)
}

// addDocs adds the order document and the shipment document, if any, as
// the orders and shipping services leave them.
func (b *batch) addDocs(s saga, now time.Time) error {
	o := orders.Order{ID: s.orderID, SagaID: s.sagaID, CustomerID: s.customer, Region: s.region, Items: s.items,
		ShipTo: s.shipTo, Total: s.total, Status: orders.Confirmed, CreatedAt: now, UpdatedAt: now}
	marks := []mongobarrier.Mark{{Step: orders.StepCreate}, {Step: orders.StepConfirm}}
	event := func(kind string, detail any) mongostore.Event {
		return mongostore.Event{ID: mongostore.EventID(orders.Collection, s.orderID, kind), Kind: kind, SagaID: s.sagaID, At: now, Detail: detail}
	}
	events := []mongostore.Event{event(services.EventOrderCreated,
		services.OrderDetail{CustomerID: s.customer, Region: s.region, Items: s.items, Total: s.total})}
	if s.end != confirmed {
		o.Status, marks = orders.Cancelled, []mongobarrier.Mark{{Step: orders.StepCreate, Compensated: true}}
		events = append(events, event(services.EventOrderCancelled, services.CancelDetail{Reason: cancelReason}))
	} else {
		events = append(events, event(services.EventOrderConfirmed, nil))
	}
	doc, err := mongobarrier.MarkedDoc(s.sagaID, orderWithEvents{Order: o, Events: events}, marks...)
	if err != nil {
		return fmt.Errorf("order %s: %w", s.orderID, err)
	}
	if s.end != confirmed {
		// Cancel's $set adds the reason (omitted by Create) after the
		// fields Create wrote, as MongoDB adds a new field.
		doc = append(doc, bson.E{Key: "reason", Value: cancelReason})
	}
	b.orderDocs = append(b.orderDocs, doc)

	switch {
	case s.booked():
		sh := shipping.Shipment{OrderID: s.orderID, SagaID: s.sagaID, ShipTo: s.shipTo,
			Tracking: shipping.Tracking(s.sagaID, s.orderID), Status: shipping.Created, CreatedAt: now, UpdatedAt: now}
		shipEvent := func(kind string, detail any) mongostore.Event {
			return mongostore.Event{ID: mongostore.EventID(shipping.Collection, s.orderID, kind), Kind: kind, SagaID: s.sagaID, At: now, Detail: detail}
		}
		events := []mongostore.Event{shipEvent(services.EventShipmentCreated,
			services.ShipmentDetail{Tracking: sh.Tracking, Country: s.shipTo.Country})}
		if s.end != confirmed {
			sh.Status = shipping.Cancelled
			events = append(events, shipEvent(services.EventShipmentCancelled, nil))
		}
		doc, err = mongobarrier.MarkedDoc(s.sagaID, shipmentWithEvents{Shipment: sh, Events: events},
			mongobarrier.Mark{Step: shipping.StepCreate, Compensated: s.end != confirmed})
	case s.end == refusedDestination:
		// CancelShipment found no shipment: shipping.Cancel's tombstone.
		doc, err = mongobarrier.MarkedTombstone(s.sagaID, shipping.StepCreate, shipping.Shipment{OrderID: s.orderID,
			SagaID: s.sagaID, Status: shipping.Cancelled, Tombstone: true, CreatedAt: now, UpdatedAt: now}, now)
	default:
		return nil // never registered: no document
	}
	if err != nil {
		return fmt.Errorf("shipment %s: %w", s.orderID, err)
	}
	b.shipmentDocs = append(b.shipmentDocs, doc)
	return nil
}

// orderWithEvents and shipmentWithEvents are the documents as the services
// insert them, with their events (see services/mongostore.EventsField),
// which a prefill writes whole: no outbox entry points at them, so a
// projector reads none of them (bench scale starts its read stores at the
// head of the event logs).
type orderWithEvents struct {
	orders.Order `bson:",inline"`
	Events       []mongostore.Event `bson:"events"`
}

type shipmentWithEvents struct {
	shipping.Shipment `bson:",inline"`
	Events            []mongostore.Event `bson:"events"`
}

// write writes b into both PostgreSQL databases and MongoDB at once.
func (p *planner) write(ctx context.Context, b *batch) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, w := range []func(context.Context, *batch) error{p.writeInventory, p.writePayments, p.writeDocs} {
		wg.Go(func() {
			if errs[i] = w(ctx, b); errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("prefill orders %s to %s: %w", b.sagas[0].orderID, b.sagas[len(b.sagas)-1].orderID, err)
	}
	return nil
}
