package invariants

import (
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/sagaflow/sagaflow/services"
	"github.com/sagaflow/sagaflow/services/orders"
	"github.com/sagaflow/sagaflow/services/shipping"
)

// docFacts are what the MongoDB stores hold for one saga, compact: a
// million of them fit in a few hundred MiB.
type docFacts struct {
	order    *orderFacts // nil: no order document
	shipment *shipmentFacts
}

// orderFacts is what judge needs of an order document.
type orderFacts struct {
	id         string
	customerID string
	status     orders.Status
	total      int64
	// items is the digest of the order's items (itemsDigest).
	items uint64
}

// shipmentFacts is what judge needs of a shipment document.
type shipmentFacts struct {
	orderID string
	status  shipping.Status
}

// readDocs reads the order documents, then the shipment documents, into
// their sagas' facts, keyed by saga id. With atRest (nothing moves) it
// reads both at once: a FerretDB cursor keeps one core busy at most. While
// sagas run, the shipments are read after the orders (see the package
// comment: a saga read as confirmed has booked its shipment already).
func readDocs(ctx context.Context, st Stores, atRest bool) (map[string]docFacts, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	orderCh := make(chan []orders.Order, 2)
	shipCh := make(chan []shipping.Shipment, 2)
	var orderErr, shipErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(orderCh)
		s := sender[orders.Order]{ctx: ctx, ch: orderCh}
		orderErr = st.Orders.Audit(ctx, s.send)
		orderErr = errors.Join(orderErr, s.flush(orderErr))
	})
	readShipments := func() {
		wg.Go(func() {
			defer close(shipCh)
			s := sender[shipping.Shipment]{ctx: ctx, ch: shipCh}
			shipErr = st.Shipping.Audit(ctx, s.send)
			shipErr = errors.Join(shipErr, s.flush(shipErr))
		})
	}
	if atRest {
		readShipments()
	}
	docs := map[string]docFacts{}
	in := newInterner()
	for orderCh != nil || shipCh != nil {
		select {
		case batch, ok := <-orderCh:
			if !ok {
				orderCh = nil
				switch {
				case atRest:
				case orderErr != nil: // set before orderCh closed
					shipCh = nil
				default:
					readShipments()
				}
			}
			for _, o := range batch {
				d := docs[o.SagaID]
				d.order = &orderFacts{id: o.ID, customerID: in.intern(o.CustomerID),
					status: orders.Status(in.intern(string(o.Status))), total: o.Total, items: itemsDigest(o.Items)}
				if d.shipment != nil && d.shipment.orderID == o.ID {
					d.shipment.orderID = d.order.id // one copy of the id
				}
				docs[o.SagaID] = d
			}
		case batch, ok := <-shipCh:
			if !ok {
				shipCh = nil
			}
			for _, sh := range batch {
				d := docs[sh.SagaID]
				orderID := sh.OrderID
				if d.order != nil && d.order.id == orderID {
					orderID = d.order.id // one copy of the id
				}
				d.shipment = &shipmentFacts{orderID: orderID, status: shipping.Status(in.intern(string(sh.Status)))}
				docs[sh.SagaID] = d
			}
		}
	}
	wg.Wait()
	if err := errors.Join(orderErr, shipErr); err != nil {
		return nil, err
	}
	return docs, nil
}

// itemsDigest is a 64-bit FNV-1a digest of items sorted by SKU (then
// quantity): two lists of the same lines, in any order, have one digest.
func itemsDigest(items []services.Item) uint64 {
	less := func(a, b services.Item) int {
		if c := strings.Compare(a.SKU, b.SKU); c != 0 {
			return c
		}
		return int(min(max(a.Quantity-b.Quantity, -1), 1))
	}
	if !slices.IsSortedFunc(items, less) {
		items = slices.Clone(items)
		slices.SortFunc(items, less)
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	add := func(b byte) { h = (h ^ uint64(b)) * prime }
	var q [8]byte
	for _, it := range items {
		for i := range len(it.SKU) {
			add(it.SKU[i])
		}
		add(0) // SKUs hold no NUL (services.ValidateID): the end of one
		binary.LittleEndian.PutUint64(q[:], uint64(it.Quantity))
		for _, b := range q {
			add(b)
		}
	}
	return h
}

// interner keeps one copy of the strings many documents repeat
// (customers, statuses), up to a bound.
type interner map[string]string

const maxInterned = 1 << 16

func newInterner() interner { return interner{} }

func (in interner) intern(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	if len(in) < maxInterned {
		in[s] = s
	}
	return s
}
