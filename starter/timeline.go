package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services"
)

// timeFormat renders the time of a timeline's events, to the millisecond:
// a saga's events often fall in the same second.
const timeFormat = "2006-01-02 15:04:05.000"

// orderView is what order reports.
type orderView struct {
	Order    orderFacts      `json:"order"`
	Timeline []timelineEvent `json:"timeline"`
	lagFields
}

// timelineEvent is one event of an order's timeline with its detail in
// words.
type timelineEvent struct {
	readstore.TimelineEntry
	Summary string `json:"summary,omitempty"`
}

func (c *cli) orderCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "order ORDER",
		Short: "Print an order's view and its timeline from the read store: every event of the four services",
		Long: `order prints an order as the read store (the reporting database, built by the
projector from the services' events) holds it: its facts and outcome, then
its timeline, one line per event in the order they occurred, with the
service that recorded it (orders, inventory, payments, shipping): a
compensated order shows its whole life, the steps and their compensations.

It reads the read store only, never Temporal (starter status asks the saga
itself): what it shows is as fresh as the projector made it, and it warns
when the projector lags or does not run.`,
		Example: `  starter order o-1a2b3c4d5e6f
  starter order o-1a2b3c4d5e6f --json | jq '.timeline[] | {source, kind, summary}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withReadStore(cmd.Context(), func(ctx context.Context, q *readQuery) error {
				return q.order(ctx, args[0])
			})
		},
	}
}

// order prints an order's view and timeline; an order the read store does
// not hold is an error that says the store may lag.
func (q *readQuery) order(ctx context.Context, orderID string) error {
	lag, err := q.lag(ctx)
	if err != nil {
		return err
	}
	f, timeline, err := q.store.Order(ctx, orderID)
	if errors.Is(err, readstore.ErrUnknownOrder) {
		return fmt.Errorf("order %s is not in the read store: %s", orderID, mayLag(lag, "no such order"))
	}
	if err != nil {
		return err
	}
	v := orderView{Order: orderFacts{Facts: f, Outcome: f.Outcome()}, Timeline: make([]timelineEvent, len(timeline)), lagFields: lag}
	for i, e := range timeline {
		v.Timeline[i] = timelineEvent{TimelineEntry: e, Summary: eventDetail(e.Kind, e.Detail)}
	}
	return q.emit(v, lag, func(w io.Writer) { writeOrderView(w, v) })
}

func writeOrderView(w io.Writer, v orderView) {
	f := v.Order
	kv := newKV(w)
	kv.add("order", fmt.Sprintf("%s (saga %s)", f.OrderID, orDash(f.SagaID)))
	kv.add("customer", fmt.Sprintf("%s, region %s", orDash(f.CustomerID), orDash(f.Region)))
	kv.add("outcome", f.Outcome)
	status := orDash(f.Status)
	if f.Reason != "" {
		status += ": " + f.Reason
	}
	kv.add("status", status)
	if len(f.Items) > 0 {
		kv.add("total", fmt.Sprintf("%s (%s)", money(f.Total), itemsText(f.Items)))
	}
	stock := orDash(f.Stock)
	if len(f.Lines) > 0 {
		stock += ": " + linesText(f.Lines)
	}
	kv.add("stock", stock)
	kv.add("payment", orDash(paymentText(f.Facts)))
	shipment := orDash(f.Shipment)
	if f.Tracking != "" {
		shipment += fmt.Sprintf(" (tracking %s to %s)", f.Tracking, orDash(f.Country))
	}
	kv.add("shipment", shipment)
	kv.add("events", fmt.Sprintf("%s to %s", f.FirstEventAt.Local().Format(timeFormat), f.LastEventAt.Local().Format(timeFormat)))
	kv.flush()
	fmt.Fprintln(w)
	t := newTable(w, "TIME", "SERVICE", "EVENT", "DETAIL")
	for _, e := range v.Timeline {
		t.row(e.OccurredAt.Local().Format(timeFormat), e.Source, e.Kind, e.Summary)
	}
	t.flush()
}

// eventDetail renders an event's detail compactly, by kind: StockReserved
// "SKU-1 x2 @ 12.00", PaymentCaptured "alice 24.00". A detail it cannot
// read is shown as its JSON, cut short.
func eventDetail(kind string, detail json.RawMessage) string {
	if len(detail) == 0 || string(detail) == "null" {
		return ""
	}
	var s string
	var err error
	switch kind {
	case services.EventOrderCreated:
		var d services.OrderDetail
		if err = json.Unmarshal(detail, &d); err == nil {
			s = fmt.Sprintf("%s %s %s, total %s", d.CustomerID, d.Region, itemsText(d.Items), money(d.Total))
		}
	case services.EventOrderCancelled:
		var d services.CancelDetail
		if err = json.Unmarshal(detail, &d); err == nil {
			s = d.Reason
		}
	case services.EventStockReserved, services.EventStockReleased:
		var lines []services.StockLine
		if err = json.Unmarshal(detail, &lines); err == nil {
			s = linesText(lines)
		}
	case services.EventPaymentCaptured, services.EventPaymentRefunded:
		var d services.PaymentDetail
		if err = json.Unmarshal(detail, &d); err == nil {
			s = fmt.Sprintf("%s %s", d.CustomerID, money(d.Amount))
		}
	case services.EventShipmentCreated:
		var d services.ShipmentDetail
		if err = json.Unmarshal(detail, &d); err == nil {
			s = fmt.Sprintf("tracking %s to %s", d.Tracking, d.Country)
		}
	default:
		err = errors.New("no rendering")
	}
	if err != nil {
		var b bytes.Buffer
		if json.Compact(&b, detail) != nil {
			return oneLine(string(detail), 80)
		}
		return oneLine(b.String(), 80)
	}
	return s
}

// linesText renders stock lines: "SKU-1 x2 @ 12.00, SKU-2 x1" (a line
// without a price, as a release may carry, has none).
func linesText(lines []services.StockLine) string {
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = fmt.Sprintf("%s x%d", l.SKU, l.Quantity)
		if l.UnitPrice != 0 {
			parts[i] += " @ " + money(l.UnitPrice)
		}
	}
	return strings.Join(parts, ", ")
}
