// Package plots draws the project's figures with gonum/plot and saves
// each as PNG and SVG side by side.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/gle-go/gle/internal/atomicfile"
)

// Series is one line of a panel.
type Series struct {
	Name   string
	X, Y   []float64
	Dashed bool
	Color  int // index into Palette; −1 picks the series' position
}

// Panel is one plot of a figure.
type Panel struct {
	Title, XLabel, YLabel string
	Series                []Series
	LogX, LogY            bool // logarithmic axes (non-positive values are left out, as NaN and ±Inf on any axis)
	// Legend places the legend: "" top right, "bottom right", or "none".
	// Line panels leave a margin right of the data for it, so that it
	// never covers a curve.
	Legend string
	// Matrix, when set, draws a heat map instead of lines: row i at the
	// top of the panel, with each cell's value printed; MatrixLabels name
	// the rows and columns (default: their indices).
	Matrix       [][]float64
	MatrixLabels []string
	// HideValues leaves the heat map's cells unlabelled (large matrices).
	HideValues bool
	// MatrixX, when set, gives the x coordinate of every column (e.g. the
	// time of each sample); the x axis is then numeric, labelled XLabel.
	MatrixX []float64
	// XIntegers labels only whole x values (epochs, trials).
	XIntegers bool
	// YRange fixes the y axis to [YRange[0], YRange[1]] when the second is
	// larger (accuracies, cosines); otherwise the axis spans the data.
	YRange [2]float64
}

// grid adapts a matrix to plotter.GridXYZ (row 0 at the top), with
// optional column coordinates.
type grid struct {
	m [][]float64
	x []float64
}

func (g grid) Dims() (c, r int)   { return len(g.m[0]), len(g.m) }
func (g grid) Z(c, r int) float64 { return g.m[len(g.m)-1-r][c] }
func (g grid) X(c int) float64 {
	if g.x != nil {
		return g.x[c]
	}
	return float64(c)
}
func (g grid) Y(r int) float64 { return float64(r) }

// Tick labels: at most 4 significant digits, exponents without padding
// (0.1, 2.5e-5 — never 0.09999999999999998 or 9.999999999999998e-05).
func tickLabel(v float64) string {
	s := strconv.FormatFloat(v, 'g', 4, 64)
	if i := strings.IndexAny(s, "e"); i >= 0 {
		mant, exp := s[:i], s[i+1:]
		sign := ""
		if exp[0] == '-' || exp[0] == '+' {
			if exp[0] == '-' {
				sign = "-"
			}
			exp = exp[1:]
		}
		s = mant + "e" + sign + strings.TrimLeft(exp, "0")
	}
	return s
}

// niceStep returns the tick step for [min, max]: 1, 2, 2.5 or 5 times a
// power of ten, giving 3 to 7 labels.
func niceStep(min, max float64) float64 {
	span := max - min
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	base := math.Pow(10, math.Floor(math.Log10(span/5)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if span/(m*base) <= 7 {
			return m * base
		}
	}
	return 10 * base
}

// linearTicks labels the multiples of a nice step inside the axis (0 and
// 1 among them when in range: never 0.0025, −0.0075, …) with minor ticks
// between them; with end set, the ticks end at hi, when below max (the
// margin that holds a legend gets none). integers keeps only whole values.
type linearTicks struct {
	end      bool
	hi       float64
	integers bool
}

func (lt linearTicks) Ticks(min, max float64) []plot.Tick {
	if math.IsNaN(min) || math.IsNaN(max) || math.IsInf(min, 0) || math.IsInf(max, 0) || min > max {
		return nil
	}
	top := max
	if lt.end && lt.hi > min && lt.hi < max {
		top = lt.hi
	}
	step := niceStep(min, top)
	if lt.integers {
		step = math.Max(1, math.Round(step))
	}
	minor := step / 5
	if lt.integers && minor < 1 {
		minor = step
	}
	var ts []plot.Tick
	for k := math.Ceil(min/minor - 1e-9); k*minor <= top*(1+1e-12)+1e-300 && len(ts) < 100; k++ {
		v := k * minor
		if math.Abs(v) < minor*1e-9 {
			v = 0
		}
		t := plot.Tick{Value: v}
		if r := v / step; math.Abs(r-math.Round(r)) < 1e-9 {
			t.Label = tickLabel(v)
		}
		ts = append(ts, t)
	}
	return ts
}

// logTicks labels powers of ten, and 2× and 5× them when fewer than two
// powers of ten fall inside the axis; it falls back to linear ticks when
// the axis spans less than a decade.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || max/min < 10 || math.IsInf(max, 0) {
		return linearTicks{}.Ticks(min, max)
	}
	var ts []plot.Tick
	labelled := map[float64]bool{1: true}
	decades := math.Floor(math.Log10(max)) - math.Ceil(math.Log10(min))
	if decades < 1 {
		labelled[2], labelled[5] = true, true
	}
	// Every decade up to 7 of them; beyond, every second or third (and no
	// minor ticks between), so that labels never crowd.
	every := math.Max(1, math.Ceil((decades+1)/7))
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for m := 1.0; m < 10; m++ {
			v := m * math.Pow(10, e)
			if v < min*(1-1e-12) || v > max*(1+1e-12) || (every > 1 && m != 1) {
				continue
			}
			t := plot.Tick{Value: v}
			if labelled[m] && math.Mod(e, every) == 0 {
				t.Label = tickLabel(v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// Palette holds distinguishable line colours: Okabe–Ito's eight, then
// grey and brown (ten keywords on one panel).
var Palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255}, color.RGBA{240, 228, 66, 255}, color.RGBA{128, 128, 128, 255}, color.RGBA{140, 86, 75, 255},
}

func (p Panel) plot() (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text, pl.X.Label.Text, pl.Y.Label.Text = p.Title, p.XLabel, p.YLabel
	if p.Matrix != nil {
		return p.heatMap(pl)
	}
	pl.Add(plotter.NewGrid())
	pl.X.Tick.Marker, pl.Y.Tick.Marker = linearTicks{integers: p.XIntegers}, linearTicks{}
	if p.LogY {
		pl.Y.Scale = plot.LogScale{}
		pl.Y.Tick.Marker = logTicks{}
	}
	if p.LogX {
		pl.X.Scale = plot.LogScale{}
		pl.X.Tick.Marker = logTicks{}
	}
	xmin, xmax := math.Inf(1), math.Inf(-1)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	legend := false
	for i, s := range p.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plots: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, 0, len(s.X))
		for k := range s.X {
			if (p.LogY && !(s.Y[k] > 0)) || (p.LogX && !(s.X[k] > 0)) || !finite(s.X[k]) || !finite(s.Y[k]) {
				continue // off a log axis, or undefined (a ratio to zero)
			}
			xy = append(xy, plotter.XY{X: s.X[k], Y: s.Y[k]})
		}
		if len(xy) == 0 {
			continue
		}
		for _, v := range xy {
			xmin, xmax = math.Min(xmin, v.X), math.Max(xmax, v.X)
			ymin, ymax = math.Min(ymin, v.Y), math.Max(ymax, v.Y)
		}
		line, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("plots: series %q: %w", s.Name, err)
		}
		c := s.Color
		if c < 0 {
			c = i
		}
		line.Color = Palette[c%len(Palette)]
		line.Width = vg.Points(1.2)
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		pl.Add(line)
		if s.Name != "" && p.Legend != "none" {
			pl.Legend.Add(s.Name, line)
			legend = true
		}
	}
	pl.Legend.Top = p.Legend != "bottom right"
	if p.YRange[1] > p.YRange[0] {
		pl.Y.Min, pl.Y.Max = p.YRange[0], p.YRange[1]
	}
	if p.LogY && !(ymax >= ymin) { // nothing positive to draw: an empty log axis
		pl.Y.Min, pl.Y.Max = 1, 10
	}
	if p.LogX && !(xmax >= xmin) {
		pl.X.Min, pl.X.Max = 1, 10
	}
	if p.LogY && ymax >= ymin { // the log axis spans the data, at least a factor of 2
		if ymax < 2*ymin {
			mid := math.Sqrt(ymin * ymax)
			ymin, ymax = mid/1.5, mid*1.5
		}
		pl.Y.Min, pl.Y.Max = ymin, ymax
	}
	if p.LogX && xmax >= xmin && xmax < 1.5*xmin { // one point, or a narrow range: a factor of 4 around it
		mid := math.Sqrt(xmin * xmax)
		pl.X.Min, pl.X.Max = mid/2, mid*2
		xmin, xmax = pl.X.Min, pl.X.Max
	}
	if legend && xmax > xmin {
		// A margin right of the data holds the legend; the x ticks end
		// with the data.
		pl.X.Min, pl.X.Max = xmin, xmax+0.3*(xmax-xmin)
		if p.LogX {
			pl.X.Max = xmax * math.Pow(xmax/xmin, 0.3)
		} else {
			pl.X.Tick.Marker = linearTicks{end: true, hi: xmax, integers: p.XIntegers}
		}
	}
	return pl, nil
}

// Save draws the panels in a grid of rows × cols (row-major) and writes
// base+".png" and base+".svg" atomically. width and height are in inches.
func Save(base string, rows, cols int, width, height float64, panels ...Panel) (err error) {
	defer func() { // gonum/plot panics on some degenerate data: report it instead
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: cannot draw %s: %v", base, r)
		}
	}()
	if rows*cols < len(panels) {
		return fmt.Errorf("plots: %d panels do not fit %d×%d", len(panels), rows, cols)
	}
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, p := range panels {
		pl, err := p.plot()
		if err != nil {
			return err
		}
		grid[i/cols][i%cols] = pl
	}
	w, h := vg.Length(width)*vg.Inch, vg.Length(height)*vg.Inch
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	draw1 := func(c vg.CanvasSizer) {
		dc := draw.New(c)
		canvases := plot.Align(grid, tiles, dc)
		for r := range grid {
			for k, pl := range grid[r] {
				if pl != nil {
					pl.Draw(canvases[r][k])
				}
			}
		}
	}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))
	draw1(img)
	var png bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&png); err != nil {
		return err
	}
	if err := atomicfile.Write(base+".png", png.Bytes()); err != nil {
		return err
	}
	svg := vgsvg.New(w, h)
	draw1(svg)
	var sb bytes.Buffer
	if _, err := svg.WriteTo(&sb); err != nil {
		return err
	}
	return atomicfile.Write(base+".svg", sb.Bytes())
}

// heatMap draws p.Matrix with its values written in the cells (unless
// HideValues), and a colour key of five values in a legend beside it.
func (p Panel) heatMap(pl *plot.Plot) (*plot.Plot, error) {
	if len(p.Matrix) == 0 || len(p.Matrix[0]) == 0 {
		return nil, fmt.Errorf("plots: empty matrix")
	}
	if p.MatrixX != nil && len(p.MatrixX) != len(p.Matrix[0]) {
		return nil, fmt.Errorf("plots: %d column coordinates for %d columns", len(p.MatrixX), len(p.Matrix[0]))
	}
	g := grid{p.Matrix, p.MatrixX}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, row := range p.Matrix {
		for _, v := range row {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	// Values of one sign: white (0 or the smallest) to dark blue; signed
	// values: blue (negative), white (0), red (positive), symmetric.
	cols := make([]color.Color, 65)
	signed := lo < 0 && hi > 0
	for i := range cols {
		f := float64(i) / 64
		if signed {
			cols[i] = diverging(2*f - 1)
		} else {
			cols[i] = color.RGBA{uint8(255 * (1 - 0.9*f)), uint8(255 * (1 - 0.6*f)), uint8(255 - 80*f), 255}
		}
	}
	hm := plotter.NewHeatMap(g, palette.Palette(colors(cols)))
	if signed {
		m := math.Max(-lo, hi)
		hm.Min, hm.Max = -m, m
	}
	pl.Add(hm)
	// The colour key: round values from the smallest to the largest.
	var keys []float64
	for _, t := range (linearTicks{}).Ticks(hm.Min, hm.Max) {
		if t.Label != "" {
			keys = append(keys, t.Value)
		}
	}
	if hm.Max <= hm.Min {
		keys = []float64{hm.Min}
	}
	for i := len(keys) - 1; i >= 0; i-- {
		k := 0
		if hm.Max > hm.Min {
			k = int(math.Round((keys[i] - hm.Min) / (hm.Max - hm.Min) * float64(len(cols)-1)))
		}
		pl.Legend.Add(tickLabel(keys[i]), swatch{cols[min(max(k, 0), len(cols)-1)]})
	}
	pl.Legend.Top = true
	var labels plotter.XYLabels
	rows, ncols := len(p.Matrix), len(p.Matrix[0])
	if p.MatrixX != nil {
		x0, x1 := p.MatrixX[0], p.MatrixX[ncols-1]
		pl.X.Min, pl.X.Max = x0, x1+0.3*(x1-x0)
		pl.X.Tick.Marker = linearTicks{end: true, hi: x1}
	} else {
		pl.X.Max = float64(ncols) + 0.35*float64(ncols)
	}
	ticks := func(n int, flip bool) plot.ConstantTicks {
		step := max(1, n/10) // at most about ten numbers
		if p.MatrixLabels != nil {
			step = max(1, n/40) // every name up to 40 classes
		}
		var t plot.ConstantTicks
		for i := range n {
			v := i
			if flip {
				v = n - 1 - i // row 0 is drawn at the top
			}
			label := fmt.Sprint(v)
			if v < len(p.MatrixLabels) {
				label = p.MatrixLabels[v]
			}
			if v%step != 0 {
				label = ""
			}
			t = append(t, plot.Tick{Value: float64(i), Label: label})
		}
		return t
	}
	pl.Y.Tick.Marker = ticks(rows, true)
	if p.MatrixLabels != nil && p.MatrixX == nil {
		// Names along x stand upright, so that neighbours never overlap,
		// smaller beyond a dozen classes.
		pl.X.Tick.Label.Rotation = math.Pi / 2
		pl.X.Tick.Label.XAlign, pl.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
		if ncols > 12 {
			size := vg.Points(max(5, 10-float64(ncols-12)/7))
			pl.X.Tick.Label.Font.Size, pl.Y.Tick.Label.Font.Size = size, size
		}
	}
	if p.MatrixX == nil {
		pl.X.Tick.Marker = ticks(ncols, false)
	}
	if p.HideValues || (rows*ncols > 400 && p.MatrixLabels != nil) {
		return pl, nil
	}
	for r := range rows {
		for c := range ncols {
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(rows - 1 - r)})
			labels.Labels = append(labels.Labels, fmt.Sprintf("%g", p.Matrix[r][c]))
		}
	}
	l, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].Font.Size = vg.Points(7)
		l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
	}
	pl.Add(l)
	return pl, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// diverging maps f in [−1, 1] to blue (−1), white (0) and red (1).
func diverging(f float64) color.Color {
	a := math.Abs(f)
	fade := func(full float64) uint8 { return uint8(255 - (255-full)*a) }
	if f < 0 {
		return color.RGBA{fade(33), fade(102), fade(172), 255}
	}
	return color.RGBA{fade(178), fade(24), fade(43), 255}
}

// swatch is a legend thumbnail filled with one colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, c.ClipPolygonXY([]vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}))
}

// colors is a fixed palette.
type colors []color.Color

func (c colors) Colors() []color.Color { return c }
