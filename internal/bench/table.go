package bench

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// line is the progress line of a finished cell.
func (c Cell) line() string {
	s := fmt.Sprintf("%-10s %-15s %-6s c=%-3d %7.1f/s  p50 %7.1f ms  p99 %7.1f ms  ok %d", c.Kind, c.Mode, c.Workload,
		c.Concurrency, c.Throughput, c.Latency.P50, c.Latency.P99, c.Completed)
	if c.OutOfStock > 0 {
		s += fmt.Sprintf(", out of stock %d", c.OutOfStock)
	}
	if c.Refused > 0 {
		s += fmt.Sprintf(", refused %d", c.Refused)
	}
	if c.Errors > 0 {
		s += fmt.Sprintf(", ERRORS %d (%s)", c.Errors, c.FirstError)
	}
	if c.Stock.Checked {
		if c.Stock.OK() {
			s += ", stock OK"
		} else {
			s += fmt.Sprintf(", STOCK BROKEN (oversold %d): %s", c.Stock.Oversold, c.Stock.Detail)
		}
	}
	if c.ReadLag != nil {
		s += fmt.Sprintf(", read side lag p50 %.0f ms p99 %.0f ms (%d events)", c.ReadLag.P50, c.ReadLag.P99, c.ReadEvents)
	}
	if c.LockHeld != nil {
		s += fmt.Sprintf(", locks held p50 %.1f ms", c.LockHeld.P50)
	}
	if len(c.CPU) > 0 {
		s += "  cpu " + c.CPU.String()
	}
	return s
}

// String lists the CPU shares by name.
func (s CPUShare) String() string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.2f", n, s[n])
	}
	return strings.Join(parts, ", ")
}

// WriteTable prints the report: throughput by mode and concurrency per
// workload, latency at concurrency 1, the sellout and sustained cells, the
// stock checks and the targets.
func WriteTable(w io.Writer, rep *Report) {
	m := rep.Machine
	fmt.Fprintf(w, "run %s: %d cores (%s), %s, load %s before, %s after; %.0f s\n",
		rep.RunID, m.Cores, m.CPU, m.GoVersion, m.LoadBefore, m.LoadAfter, float64(rep.Elapsed))
	if len(m.TemporalFlags) > 0 {
		fmt.Fprintf(w, "Temporal dev server: %s\n\n", strings.Join(m.TemporalFlags, " "))
	}
	if l := rep.Settings.LinkLatency; l > 0 {
		fmt.Fprintf(w, "links to the servers: %s added to every round trip (--link-latency)\n\n", linkLatency(l))
	}
	concs := rep.Settings.Concurrency
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "mode\tworkload\t"
	for _, c := range concs {
		header += fmt.Sprintf("c=%d/s\t", c)
	}
	header += "p50 ms\tp95 ms\tp99 ms\toversold\t"
	fmt.Fprintln(tw, header)
	for _, row := range throughputRows(rep) {
		line := row.mode + "\t" + workloadLabel(row.workload) + "\t"
		for _, c := range concs {
			if cell, ok := row.byConc[c]; ok {
				line += fmt.Sprintf("%.1f\t", cell.Throughput)
			} else {
				line += "-\t"
			}
		}
		if one, ok := row.byConc[1]; ok {
			line += fmt.Sprintf("%.1f\t%.1f\t%.1f\t", one.Latency.P50, one.Latency.P95, one.Latency.P99)
		} else {
			line += "-\t-\t-\t"
		}
		line += row.oversold() + "\t"
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	fmt.Fprintln(w, "throughput: completed orders per second at c concurrent clients; latency at c=1; oversold: units sold beyond the stock, over every cell of the row (- : no stock touched)")

	var extra []Cell
	for _, c := range rep.Cells {
		if c.Kind != KindThroughput {
			extra = append(extra, c)
		}
	}
	if len(extra) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "cell\tmode\tc\tseconds\tcompleted\tout of stock\terrors\tstock\tsold\treserved\toversold\tbreaches\tthroughput/s\tp50 ms\tp99 ms\t")
		for _, c := range extra {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t\n", c.Kind, c.Mode, c.Concurrency,
				float64(c.Seconds), c.Completed, c.OutOfStock, c.Errors, c.Stock.Stock, c.Stock.Sold, c.Stock.Reserved,
				c.Stock.Oversold, c.Stock.Breaches, c.Throughput, c.Latency.P50, c.Latency.P99)
		}
		tw.Flush()
		for _, c := range extra {
			if len(c.Windows) > 0 {
				fmt.Fprintf(w, "sustained %s, completions per window: %v\n", c.Mode, c.Windows)
			}
		}
	}
	var broken []string
	for _, c := range rep.Cells {
		if c.Errors > 0 {
			broken = append(broken, fmt.Sprintf("%s %s %s c=%d: %d errors, first: %s", c.Kind, c.Mode, c.Workload, c.Concurrency, c.Errors, c.FirstError))
		}
		if c.Stock.Checked && !c.Stock.OK() {
			broken = append(broken, fmt.Sprintf("%s %s %s c=%d: %s", c.Kind, c.Mode, c.Workload, c.Concurrency, c.Stock.Detail))
		}
	}
	if len(broken) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, b := range broken {
			fmt.Fprintln(w, "  "+b)
		}
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "target\twanted\tmeasured\tmet\t")
		for _, t := range rep.Targets {
			met := "no"
			switch {
			case !t.Measured:
				met = "not measured"
			case t.Met:
				met = "yes"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", t.Name, t.Want, t.Got, met)
		}
		tw.Flush()
	}
}

// workloadLabel is how the tables name a workload.
func workloadLabel(w string) string {
	if w == string(NoStock) {
		return "no stock"
	}
	return w
}

// row is one mode under one workload, its throughput cells by concurrency.
type row struct {
	mode, workload string
	byConc         map[int]Cell
}

func (r row) oversold() string {
	var n int64
	checked := false
	for _, c := range r.byConc {
		if c.Stock.Checked {
			checked = true
			n += c.Stock.Oversold
		}
	}
	if !checked {
		return "-"
	}
	return fmt.Sprint(n)
}

// throughputRows groups the throughput cells by mode and workload, in the
// order they ran.
func throughputRows(rep *Report) []row {
	var rows []row
	index := map[string]int{}
	for _, c := range rep.Cells {
		if c.Kind != KindThroughput {
			continue
		}
		key := c.Mode + "/" + c.Workload
		i, ok := index[key]
		if !ok {
			i = len(rows)
			index[key] = i
			rows = append(rows, row{mode: c.Mode, workload: c.Workload, byConc: map[int]Cell{}})
		}
		rows[i].byConc[c.Concurrency] = c
	}
	return rows
}

// linkLatency renders a round trip given in seconds.
func linkLatency(s Seconds) string {
	return time.Duration(float64(s) * float64(time.Second)).String()
}
