package bench

import (
	"fmt"
	"image/color"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// modeColors gives every mode one color across the chart's panels.
var modeColors = map[string]color.Color{
	ModeFloor:         color.RGBA{R: 0x59, G: 0x59, B: 0x59, A: 0xff},
	ModeBare:          color.RGBA{R: 0x9e, G: 0xc5, B: 0xe8, A: 0xff},
	ModeBareLocal:     color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	ModeSagaflow:      color.RGBA{R: 0xa8, G: 0xdd, B: 0x9c, A: 0xff},
	ModeSagaflowLocal: color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	ModeCoordinated:   color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

// WriteChart draws the report as a PNG at path: throughput by mode and
// concurrency as grouped bars, one panel per workload, and the p50 and p99
// latency of each mode at concurrency 1.
func WriteChart(path string, rep *Report) error {
	var panels []*plot.Plot
	for _, w := range []Workload{Spread, Hot} {
		if p := throughputPlot(rep, w); p != nil {
			panels = append(panels, p)
		}
	}
	if p := latencyPlot(rep); p != nil {
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return fmt.Errorf("chart: the report has no throughput cell")
	}
	return savePanels(path, panels, 5.2*vg.Inch, 4.2*vg.Inch)
}

// savePanels draws panels side by side, each width by height, as a PNG at
// path.
func savePanels(path string, panels []*plot.Plot, width, height vg.Length) error {
	img := vgimg.New(vg.Length(len(panels))*width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter * 4, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2}
	for i, p := range panels {
		p.Draw(tiles.At(dc, i, 0))
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("chart: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

// throughputPlot is one workload's throughput: a group of bars per
// concurrency, a bar per mode (the bare modes, which touch no stock, in
// both workloads).
func throughputPlot(rep *Report, w Workload) *plot.Plot {
	concs := rep.Settings.Concurrency
	var modes []string
	values := map[string]plotter.Values{}
	for _, r := range throughputRows(rep) {
		if r.workload != string(w) && r.workload != string(NoStock) {
			continue
		}
		vals := make(plotter.Values, len(concs))
		for i, c := range concs {
			vals[i] = r.byConc[c].Throughput
		}
		modes = append(modes, r.mode)
		values[r.mode] = vals
	}
	if len(modes) == 0 || !hasStockRow(rep, w) {
		return nil
	}
	slices.SortStableFunc(modes, func(a, b string) int { return slices.Index(Modes, a) - slices.Index(Modes, b) })
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Throughput, %s workload", w)
	if w == Hot {
		p.Title.Text = "Throughput, one hot SKU"
	}
	p.Y.Label.Text = "completed orders / s"
	p.X.Label.Text = "concurrent clients"
	barWidth := vg.Points(9)
	for i, m := range modes {
		bars, err := plotter.NewBarChart(values[m], barWidth)
		if err != nil {
			continue
		}
		bars.Color = modeColors[m]
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(i)-float64(len(modes)-1)/2) * barWidth
		p.Add(bars)
		p.Legend.Add(m, bars)
	}
	labels := make([]string, len(concs))
	for i, c := range concs {
		labels[i] = fmt.Sprint(c)
	}
	p.NominalX(labels...)
	p.Legend.Top, p.Legend.Left = true, true
	p.Y.Min = 0
	p.Y.Max = headroom(values, len(modes))
	return p
}

// headroom is the top of a panel's Y axis: the tallest bar and room above
// it for a legend of n entries.
func headroom(values map[string]plotter.Values, n int) float64 {
	top := 1.0
	for _, vals := range values {
		for _, v := range vals {
			top = max(top, v)
		}
	}
	return top * (1.15 + 0.09*float64(n))
}

func hasStockRow(rep *Report, w Workload) bool {
	for _, c := range rep.Cells {
		if c.Kind == KindThroughput && c.Workload == string(w) {
			return true
		}
	}
	return false
}

// latencyPlot is the p50 and p99 latency of each mode at concurrency 1
// (spread workload, or none for the bare modes).
func latencyPlot(rep *Report) *plot.Plot {
	var modes []string
	var p50, p99 plotter.Values
	for _, m := range Modes {
		for _, c := range rep.Cells {
			if c.Kind == KindThroughput && c.Mode == m && c.Concurrency == 1 && (c.Workload == string(Spread) || c.Workload == string(NoStock)) {
				modes = append(modes, m)
				p50 = append(p50, c.Latency.P50)
				p99 = append(p99, c.Latency.P99)
				break
			}
		}
	}
	if len(modes) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = "Latency at concurrency 1"
	p.Y.Label.Text = "ms"
	barWidth := vg.Points(14)
	for i, s := range []struct {
		name string
		vals plotter.Values
		gray uint8
	}{{"p50", p50, 0x70}, {"p99", p99, 0xc0}} {
		bars, err := plotter.NewBarChart(s.vals, barWidth)
		if err != nil {
			continue
		}
		bars.Color = color.Gray{Y: s.gray}
		bars.LineStyle.Width = 0
		bars.Offset = vg.Length(float64(i)-0.5) * barWidth
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.NominalX(modes...)
	p.X.Tick.Label.Rotation = 0.5
	p.X.Tick.Label.XAlign = draw.XRight
	p.Legend.Top, p.Legend.Left = true, true
	p.Y.Min = 0
	p.Y.Max = headroom(map[string]plotter.Values{"p50": p50, "p99": p99}, 2)
	return p
}
