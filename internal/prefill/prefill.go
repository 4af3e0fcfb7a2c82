// Package prefill writes finished order sagas straight into the four
// stores, fast: what a saga that completed or compensated leaves behind,
// without running one. The scale benchmark fills its stores with it before
// measuring, so that a saga's cost can be measured with 100,000 or
// 1,000,000 orders stored.
//
// Every saga is shaped as the services write it: in inventory and payments
// the barrier rows (saga_barrier, op and origin), the order claim
// (order_sagas), the reservation lines and the payment, the domain events;
// in MongoDB the order and shipment documents with the barrier's marker
// (saga/mongobarrier.MarkedDoc). Most orders are CONFIRMED; a percentage end
// CANCELLED with every effect compensated, in the three ways real sagas
// compensate (a refused destination, a cancellation after the shipment was
// booked, a refused reservation). The invariant checker passes over them:
// Fill raises the stock (total and reserved: a confirmed order keeps its
// units reserved) of the SKUs the confirmed orders bought and the credit of
// the accounts that paid, so what the seeding made available stays
// available.
//
// PostgreSQL rows go in with COPY, a transaction per batch in each
// database (the rows of a batch and its stock and credit commit together);
// MongoDB documents with unordered InsertMany, several batches at once.
package prefill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Prefix starts every id Fill makes: order ids ("prefill-000000001"),
// and the SKUs and customers it creates when given none.
const Prefix = "prefill-"

// Target are the stores to fill, migrated (and, for the SKUs and customers
// Options name, seeded). The pools may set a search_path to a schema of
// their own.
type Target struct {
	Inventory *pgxpool.Pool
	Payments  *pgxpool.Pool
	// Mongo holds the orders collection, and the shipments collection
	// unless Shipping is set.
	Mongo *mongo.Database
	// Shipping, when not nil, holds the shipments collection (the stack's
	// layout: databases "orders" and "shipping").
	Shipping *mongo.Database
}

// Options say what to fill.
type Options struct {
	// Orders is how many sagas to write.
	Orders int
	// FirstOrder numbers the first order (ids Prefix + 9 digits): a second
	// Fill from the first's Result.NextOrder adds orders after it.
	FirstOrder int
	// SKUs are existing SKUs the orders buy, at their unit price. Empty:
	// Fill creates SKUs of its own (Prefix + "sku-NN").
	SKUs []string
	// Customers are existing accounts that pay. Empty: Fill creates
	// accounts of its own (Prefix + "cust-NNN").
	Customers []string
	// CancelledPercent of the orders (0 to 100) end CANCELLED, compensated.
	CancelledPercent int
	// Progress, when not nil, is called after each batch with the orders
	// this call has written so far.
	Progress func(done int)
}

// Result says what Fill wrote.
type Result struct {
	Orders    int `json:"orders"`
	Confirmed int `json:"confirmed"`
	Cancelled int `json:"cancelled"`
	// NextOrder is the FirstOrder of a Fill that adds more.
	NextOrder int `json:"next_order"`
	// Rows are the PostgreSQL rows written (both databases), Documents the
	// MongoDB documents.
	Rows      int           `json:"rows"`
	Documents int           `json:"documents"`
	Elapsed   time.Duration `json:"elapsed"`
}

// ErrExists is what Fill returns when an order id it would write exists
// already. Fill looks for the ids of its range before it writes anything
// (in PostgreSQL every id of the range, in MongoDB its first and last), and
// then writes nothing; an id found later by a batch's unique keys fails that
// batch, and the batches before it stay.
var ErrExists = errors.New("prefilled orders exist already")

// batchOrders is how many orders one batch holds: one transaction in
// each PostgreSQL database, and batchOrders/docBatch InsertMany calls.
const batchOrders = 20_000

// maxOrderNumber bounds order numbers to the nine digits of an id.
const maxOrderNumber = 999_999_999

// Fill writes opts.Orders finished sagas into t, numbered from
// opts.FirstOrder. It refuses order ids that exist with ErrExists. An
// error midway leaves the batches written so far (each consistent on its
// own in PostgreSQL; MongoDB's documents of the failed batch may be partly
// written); Fill does not resume: drop the stores, or fill again from
// another FirstOrder.
func Fill(ctx context.Context, t Target, opts Options) (Result, error) {
	start := time.Now()
	if err := opts.validate(t); err != nil {
		return Result{}, err
	}
	p := newPlanner(t, opts, start.UTC())
	if err := p.refuseExisting(ctx); err != nil {
		return Result{}, err
	}
	if err := p.prepare(ctx); err != nil {
		return Result{}, err
	}
	res := Result{NextOrder: opts.FirstOrder + opts.Orders}
	for first := opts.FirstOrder; first < res.NextOrder; first += batchOrders {
		b, err := p.batch(first, min(first+batchOrders, res.NextOrder))
		if err == nil {
			err = p.write(ctx, b)
		}
		if err != nil {
			res.Elapsed = time.Since(start)
			return res, err
		}
		res.add(b)
		if opts.Progress != nil {
			opts.Progress(res.Orders)
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func (o Options) validate(t Target) error {
	switch {
	case t.Inventory == nil || t.Payments == nil || t.Mongo == nil:
		return errors.New("prefill: target needs the inventory and payments pools and a MongoDB database")
	case o.Orders < 0:
		return fmt.Errorf("prefill: %d orders", o.Orders)
	case o.FirstOrder < 0 || o.FirstOrder+o.Orders > maxOrderNumber+1:
		return fmt.Errorf("prefill: orders %d to %d: order numbers run from 0 to %d", o.FirstOrder, o.FirstOrder+o.Orders-1, maxOrderNumber)
	case o.CancelledPercent < 0 || o.CancelledPercent > 100:
		return fmt.Errorf("prefill: cancelled percent %d, want 0 to 100", o.CancelledPercent)
	}
	return nil
}

func (r *Result) add(b *batch) {
	r.Orders += len(b.sagas)
	r.Confirmed += b.confirmed
	r.Cancelled += len(b.sagas) - b.confirmed
	r.Rows += b.rows
	r.Documents += len(b.orderDocs) + len(b.shipmentDocs)
}
