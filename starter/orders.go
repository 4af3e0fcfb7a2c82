package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sagaflow/sagaflow/internal/readstore"
	"github.com/sagaflow/sagaflow/services"
)

// customerOrders is what orders reports.
type customerOrders struct {
	CustomerID string        `json:"customer_id"`
	Orders     []orderFacts  `json:"orders"`
	Counts     customerTotal `json:"counts"`
	lagFields
}

// orderFacts are an order's view with its outcome.
type orderFacts struct {
	readstore.Facts
	Outcome string `json:"outcome"`
}

// customerTotal are a customer's counters; Spend is Captured - Refunded
// (minor units, like the others).
type customerTotal struct {
	Orders    int64 `json:"orders"`
	Confirmed int64 `json:"confirmed"`
	Cancelled int64 `json:"cancelled"`
	Captured  int64 `json:"captured"`
	Refunded  int64 `json:"refunded"`
	Spend     int64 `json:"spend"`
}

func (c *cli) ordersCommand() *cobra.Command {
	var customer string
	cmd := &cobra.Command{
		Use:   "orders --customer ID",
		Short: "List a customer's orders from the read store, oldest first, with the customer's totals",
		Long: `orders lists a customer's orders as the read store (the reporting database,
built by the projector from the services' events) holds them, oldest first:
outcome, status, total, items, payment, stock and shipment, and when the
order's first event occurred; then the customer's counters, spend being
captured minus refunded.

It reads the read store only, never Temporal nor the services' stores: what
it shows is as fresh as the projector made it, and it warns when the
projector lags or does not run.`,
		Example: `  starter orders --customer alice
  starter orders --customer alice --json | jq '.orders[] | {order_id, outcome}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			customer = strings.TrimSpace(customer)
			if customer == "" {
				return errors.New("--customer is required: the customer whose orders to list, such as --customer alice")
			}
			return c.withReadStore(cmd.Context(), func(ctx context.Context, q *readQuery) error {
				return q.orders(ctx, customer)
			})
		},
	}
	cmd.Flags().StringVar(&customer, "customer", "", "the customer whose orders to list (required)")
	return cmd
}

// orders prints a customer's orders and counters; a customer the read
// store has no order of is an error.
func (q *readQuery) orders(ctx context.Context, customerID string) error {
	lag, err := q.lag(ctx)
	if err != nil {
		return err
	}
	views, err := q.store.OrdersOfCustomer(ctx, customerID)
	if err != nil {
		return err
	}
	if len(views) == 0 {
		return fmt.Errorf("no order of customer %s in the read store: %s", customerID, mayLag(lag, "the customer has none"))
	}
	counts, _, err := q.store.Customer(ctx, customerID)
	if err != nil {
		return err
	}
	r := customerOrders{CustomerID: customerID, Orders: make([]orderFacts, len(views)), lagFields: lag,
		Counts: customerTotal{Orders: counts.Orders, Confirmed: counts.Confirmed, Cancelled: counts.Cancelled,
			Captured: counts.Captured, Refunded: counts.Refunded, Spend: counts.Captured - counts.Refunded}}
	for i, f := range views {
		r.Orders[i] = orderFacts{Facts: f, Outcome: f.Outcome()}
	}
	return q.emit(r, lag, func(w io.Writer) { writeCustomerOrders(w, r) })
}

func writeCustomerOrders(w io.Writer, r customerOrders) {
	t := newTable(w, "ORDER", "OUTCOME", "STATUS", "TOTAL", "ITEMS", "PAYMENT", "STOCK", "SHIPMENT", "FIRST EVENT")
	for _, o := range r.Orders {
		t.row(o.OrderID, o.Outcome, o.Status, totalText(o.Facts), itemsText(o.Items), paymentText(o.Facts), o.Stock, o.Shipment,
			o.FirstEventAt.Local().Format(time.DateTime))
	}
	t.flush()
	n := r.Counts
	fmt.Fprintf(w, "\ncustomer %s: %s (%d confirmed, %d cancelled), captured %s, refunded %s, spend %s\n",
		r.CustomerID, plural(int(n.Orders), "order"), n.Confirmed, n.Cancelled, money(n.Captured), money(n.Refunded), money(n.Spend))
}

// totalText is the order's total, "" until its OrderCreated event is in.
func totalText(f readstore.Facts) string {
	if len(f.Items) == 0 {
		return ""
	}
	return money(f.Total)
}

// itemsText renders items compactly: "SKU-1 x2, SKU-2 x1".
func itemsText(items []services.Item) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = fmt.Sprintf("%s x%d", it.SKU, it.Quantity)
	}
	return strings.Join(parts, ", ")
}

// paymentText renders the payment's state and amount: "captured 24.00".
func paymentText(f readstore.Facts) string {
	if f.Payment == "" {
		return ""
	}
	return f.Payment + " " + money(f.Amount)
}
