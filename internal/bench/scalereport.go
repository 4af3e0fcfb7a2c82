package bench

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// WriteScaleMarkdown writes a scale report as markdown tables: the saga,
// the store operations and the checker per size, then the targets.
func WriteScaleMarkdown(w io.Writer, rep *ScaleReport) {
	fmt.Fprintf(w, "Scale run %s, mode `%s` (%d cores, %s; load %s before, %s after; %.0f s)\n\n",
		rep.RunID, rep.Mode, rep.Machine.Cores, rep.Machine.CPU, rep.Machine.LoadBefore, rep.Machine.LoadAfter, rep.Elapsed)
	header := []string{"stored orders", "prefill", "throughput", "p50 / p99 at 1 client", "checker"}
	mdRow(w, header)
	mdRow(w, dashes(len(header)))
	for _, s := range rep.Steps {
		fill, verify := "-", "-"
		if s.FillSeconds > 0 {
			fill = fmt.Sprintf("%.0f s", s.FillSeconds)
		}
		if s.SettleSeconds > 0 {
			fill += fmt.Sprintf(" + %.0f s vacuum", s.SettleSeconds)
		}
		if v := s.Verify; v != nil {
			verify = fmt.Sprintf("%.1f s, %.0f MB, %d breaches", v.Seconds, v.MaxRSSMB, v.Breaches)
		}
		mdRow(w, []string{ordersLabel(s.Orders), fill,
			fmt.Sprintf("%.1f/s at c=%d", s.Throughput.Throughput, s.Throughput.Concurrency),
			fmt.Sprintf("%.1f / %.1f ms", s.Latency.Latency.P50, s.Latency.Latency.P99), verify})
	}
	fmt.Fprintln(w)
	header = []string{"store operation, p50 / p99"}
	for _, s := range rep.Steps {
		header = append(header, ordersLabel(s.Orders))
	}
	mdRow(w, header)
	mdRow(w, dashes(len(header)))
	for _, op := range storeOps {
		row := []string{"`" + op + "`"}
		seen := false
		for _, s := range rep.Steps {
			cell := "-"
			for _, l := range s.Ops {
				if l.Op == op {
					cell, seen = fmt.Sprintf("%.2f / %.2f ms", l.P50, l.P99), true
				}
			}
			row = append(row, cell)
		}
		if seen {
			mdRow(w, row)
		}
	}
	if rep.Soak != nil {
		writeSoak(w, rep.Mode, rep.Soak)
	}
	if len(rep.Targets) == 0 {
		return
	}
	fmt.Fprintln(w)
	mdRow(w, []string{"target", "want", "measured", "met"})
	mdRow(w, dashes(4))
	for _, t := range rep.Targets {
		met, got := "no", t.Got
		switch {
		case !t.Measured:
			met = "not measured"
		case t.Met:
			met = "yes"
		}
		if got == "" {
			got = "-"
		}
		mdRow(w, []string{t.Name, t.Want, got, met})
	}
}

// writeSoak writes the soak's samples as a table: a row per window.
func writeSoak(w io.Writer, mode string, s *SoakReport) {
	fmt.Fprintf(w, "\nSoak: `%s` at %d clients for %.0f s on fresh stores, %.0f s windows; cleanup cutoff %.0f s (0: no cleanup); %d completed, %d errors\n\n",
		mode, s.Cell.Concurrency, s.Cell.Seconds, s.Window, s.Retention, s.Cell.Completed, s.Cell.Errors)
	header := []string{"at", "sagas in the window", "closed workflows", "visibility list / count", "barrier rows", "events", "tombstones", "pruned", "orders stored"}
	mdRow(w, header)
	mdRow(w, dashes(len(header)))
	for i, x := range s.Samples {
		window := "-"
		if i > 0 && i-1 < len(s.Cell.Windows) {
			window = strconv.Itoa(s.Cell.Windows[i-1])
		}
		mdRow(w, []string{fmt.Sprintf("%.0f s", x.At), window, strconv.FormatInt(x.Closed, 10),
			fmt.Sprintf("%.0f / %.0f ms", x.ListMillis, x.CountMillis), strconv.FormatInt(x.BarrierRows, 10),
			strconv.FormatInt(x.Events, 10), strconv.FormatInt(x.Tombstones, 10), strconv.Itoa(x.Pruned), strconv.FormatInt(x.Orders, 10)})
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "\nsoak error: %s\n", e)
	}
}

// ordersLabel formats a number of stored orders.
func ordersLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1_000 && n%1_000 == 0:
		return strconv.Itoa(n/1_000) + "k"
	}
	return strconv.Itoa(n)
}

func dashes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "---"
	}
	return out
}

// WriteScaleChart draws the report as a PNG at path, against the stored
// orders: the saga's throughput, its p50 latency at one client, and each
// store operation's p50.
func WriteScaleChart(path string, rep *ScaleReport) error {
	if len(rep.Steps) == 0 {
		return fmt.Errorf("chart: the scale report has no step")
	}
	var names []string
	tp, lat := make(plotter.XYs, len(rep.Steps)), make(plotter.XYs, len(rep.Steps))
	for i, s := range rep.Steps {
		names = append(names, ordersLabel(s.Orders))
		tp[i] = plotter.XY{X: float64(i), Y: s.Throughput.Throughput}
		lat[i] = plotter.XY{X: float64(i), Y: s.Latency.Latency.P50}
	}
	panel := func(title, unit string) *plot.Plot {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "stored orders"
		p.Y.Label.Text = unit
		return p
	}
	throughput := panel(rep.Mode+" throughput", "orders/s")
	latency := panel(rep.Mode+" p50 latency, 1 client", "ms")
	ops := panel("store operations, p50", "ms")
	if err := addLine(throughput, fmt.Sprintf("%d clients", rep.Steps[0].Throughput.Concurrency), tp, modeColors[ModeSagaflowLocal]); err != nil {
		return err
	}
	if err := addLine(latency, "p50", lat, modeColors[ModeCoordinated]); err != nil {
		return err
	}
	for k, op := range storeOps {
		var xy plotter.XYs
		for i, s := range rep.Steps {
			for _, l := range s.Ops {
				if l.Op == op {
					xy = append(xy, plotter.XY{X: float64(i), Y: l.P50})
				}
			}
		}
		if len(xy) == 0 {
			continue
		}
		if err := addLine(ops, op, xy, hue(float64(k)/float64(len(storeOps)))); err != nil {
			return err
		}
	}
	panels := []*plot.Plot{throughput, latency, ops}
	for _, p := range panels {
		p.NominalX(names...)
		p.Y.Min = 0
		p.Y.Max *= 1.15 // room for the legend
		p.Legend.Top = true
	}
	return savePanels(path, panels, 4.6*vg.Inch, 4.5*vg.Inch)
}

// addLine adds a line with points named name to p.
func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color) error {
	l, pts, err := plotter.NewLinePoints(xy)
	if err != nil {
		return fmt.Errorf("chart: %s: %w", name, err)
	}
	l.Color, pts.Color = c, c
	p.Add(l, pts)
	p.Legend.Add(name, l, pts)
	return nil
}

// hue returns a saturated color at h (0 to 1) around the color wheel.
func hue(h float64) color.Color {
	channel := func(offset float64) uint8 {
		x := math.Mod(h+offset, 1) * 6
		v := math.Max(0, math.Min(1, math.Abs(x-3)-1))
		return uint8(40 + 170*v)
	}
	return color.RGBA{R: channel(0), G: channel(2.0 / 3), B: channel(1.0 / 3), A: 0xff}
}
