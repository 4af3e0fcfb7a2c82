package bench

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the report's tables as markdown, for the README.
func WriteMarkdown(w io.Writer, rep *Report) {
	if l := rep.Settings.LinkLatency; l > 0 {
		fmt.Fprintf(w, "Every link to the servers had %s added to each round trip (`--link-latency`).\n\n", linkLatency(l))
	}
	concs := rep.Settings.Concurrency
	head := []string{"mode", "workload"}
	for _, c := range concs {
		if c == 1 {
			head = append(head, "1 client")
		} else {
			head = append(head, fmt.Sprintf("%d clients", c))
		}
	}
	head = append(head, "p50 / p95 / p99 at 1 client", "oversold")
	mdRow(w, head)
	mdRow(w, strings.Split(strings.Repeat("---,", len(head)-1)+"---", ","))
	for _, r := range throughputRows(rep) {
		cells := []string{"`" + r.mode + "`", workloadLabel(r.workload)}
		for _, c := range concs {
			if cell, ok := r.byConc[c]; ok {
				cells = append(cells, fmt.Sprintf("%.1f/s", cell.Throughput))
			} else {
				cells = append(cells, "-")
			}
		}
		if one, ok := r.byConc[1]; ok {
			cells = append(cells, fmt.Sprintf("%.0f / %.0f / %.0f ms", one.Latency.P50, one.Latency.P95, one.Latency.P99))
		} else {
			cells = append(cells, "-")
		}
		mdRow(w, append(cells, r.oversold()))
	}
	var extra []Cell
	for _, c := range rep.Cells {
		if c.Kind != KindThroughput {
			extra = append(extra, c)
		}
	}
	if len(extra) > 0 {
		fmt.Fprintln(w)
		mdRow(w, []string{"cell", "mode", "clients", "orders", "completed", "out of stock", "stock", "oversold", "checker breaches", "throughput"})
		mdRow(w, strings.Split("---,---,---,---,---,---,---,---,---,---", ","))
		for _, c := range extra {
			mdRow(w, []string{c.Kind, "`" + c.Mode + "`", fmt.Sprint(c.Concurrency), fmt.Sprint(c.Completed + c.OutOfStock + c.Refused + c.Errors),
				fmt.Sprint(c.Completed), fmt.Sprint(c.OutOfStock), fmt.Sprint(c.Stock.Stock), fmt.Sprint(c.Stock.Oversold),
				fmt.Sprint(c.Stock.Breaches), fmt.Sprintf("%.1f/s over %.0f s", c.Throughput, float64(c.Seconds))})
		}
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w)
		mdRow(w, []string{"target", "wanted", "measured", "met"})
		mdRow(w, []string{"---", "---", "---", "---"})
		for _, t := range rep.Targets {
			met := "no"
			if t.Met {
				met = "yes"
			}
			if !t.Measured {
				met = "not measured"
			}
			mdRow(w, []string{t.Name, t.Want, t.Got, met})
		}
	}
}

func mdRow(w io.Writer, cells []string) {
	fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
}
