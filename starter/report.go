package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
)

// salesReport is what report reports.
type salesReport struct {
	SKUs    []skuLine    `json:"skus"`
	Regions []regionLine `json:"regions"`
	lagFields
}

// skuLine is one SKU's counters: units reserved (held by an order not yet
// confirmed), sold and released; revenue in minor units.
type skuLine struct {
	SKU             string `json:"sku"`
	Reserved        int64  `json:"reserved"`
	Sold            int64  `json:"sold"`
	Released        int64  `json:"released"`
	RevenueCaptured int64  `json:"revenue_captured"`
	RevenueRefunded int64  `json:"revenue_refunded"`
}

// regionLine is one region's counters.
type regionLine struct {
	Region          string `json:"region"`
	Orders          int64  `json:"orders"`
	Reserved        int64  `json:"reserved"`
	Sold            int64  `json:"sold"`
	Released        int64  `json:"released"`
	RevenueCaptured int64  `json:"revenue_captured"`
	RevenueRefunded int64  `json:"revenue_refunded"`
}

func (c *cli) reportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "report",
		Short: "Print units and revenue per SKU and per region from the read store",
		Long: `report prints, from the read store (the reporting database, built by the
projector from the services' events), per SKU the units reserved (held by
an order not yet confirmed), sold and released and the revenue captured and
refunded, and per region the same with the number of orders.

It reads the read store only: what it shows is as fresh as the projector
made it, and it warns when the projector lags or does not run.`,
		Example: `  starter report
  starter report --json | jq .regions`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withReadStore(cmd.Context(), func(ctx context.Context, q *readQuery) error {
				return q.report(ctx)
			})
		},
	}
}

// report prints the counters of every SKU and region.
func (q *readQuery) report(ctx context.Context) error {
	lag, err := q.lag(ctx)
	if err != nil {
		return err
	}
	skus, regions, err := q.store.Report(ctx)
	if err != nil {
		return err
	}
	r := salesReport{SKUs: make([]skuLine, len(skus)), Regions: make([]regionLine, len(regions)), lagFields: lag}
	for i, s := range skus {
		r.SKUs[i] = skuLine{SKU: s.SKU, Reserved: s.Reserved, Sold: s.Sold, Released: s.Released,
			RevenueCaptured: s.RevenueCaptured, RevenueRefunded: s.RevenueRefunded}
	}
	for i, g := range regions {
		r.Regions[i] = regionLine{Region: g.Region, Orders: g.Orders, Reserved: g.Reserved, Sold: g.Sold, Released: g.Released,
			RevenueCaptured: g.RevenueCaptured, RevenueRefunded: g.RevenueRefunded}
	}
	return q.emit(r, lag, func(w io.Writer) { writeReport(w, r) })
}

func writeReport(w io.Writer, r salesReport) {
	if len(r.SKUs) == 0 && len(r.Regions) == 0 {
		fmt.Fprintln(w, "the read store holds no order yet")
		return
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	t := newTable(w, "SKU", "RESERVED", "SOLD", "RELEASED", "CAPTURED", "REFUNDED")
	for _, s := range r.SKUs {
		t.row(s.SKU, n(s.Reserved), n(s.Sold), n(s.Released), money(s.RevenueCaptured), money(s.RevenueRefunded))
	}
	t.flush()
	fmt.Fprintln(w)
	t = newTable(w, "REGION", "ORDERS", "RESERVED", "SOLD", "RELEASED", "CAPTURED", "REFUNDED")
	for _, g := range r.Regions {
		t.row(g.Region, n(g.Orders), n(g.Reserved), n(g.Sold), n(g.Released), money(g.RevenueCaptured), money(g.RevenueRefunded))
	}
	t.flush()
}
