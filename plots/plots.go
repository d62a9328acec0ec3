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
	LogX, LogY            bool // logarithmic axes (non-positive values are left out)
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

// cleanTicks relabels another ticker's major ticks with tickLabel.
type cleanTicks struct{ plot.Ticker }

func (c cleanTicks) Ticks(min, max float64) []plot.Tick {
	ts := c.Ticker.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = tickLabel(ts[i].Value)
		}
	}
	return ts
}

// logTicks marks powers of ten, and falls back to linear ticks when the
// range spans less than a decade (one label would be all there is).
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min > 0 && max/min < 10 {
		return cleanTicks{plot.DefaultTicks{}}.Ticks(min, max)
	}
	return cleanTicks{plot.LogTicks{Prec: -1}}.Ticks(min, max)
}

// Palette holds distinguishable line colours (Okabe–Ito).
var Palette = []color.Color{
	color.RGBA{0, 114, 178, 255}, color.RGBA{213, 94, 0, 255}, color.RGBA{0, 158, 115, 255},
	color.RGBA{204, 121, 167, 255}, color.RGBA{230, 159, 0, 255}, color.RGBA{86, 180, 233, 255},
	color.RGBA{0, 0, 0, 255}, color.RGBA{240, 228, 66, 255},
}

func (p Panel) plot() (*plot.Plot, error) {
	pl := plot.New()
	pl.Title.Text, pl.X.Label.Text, pl.Y.Label.Text = p.Title, p.XLabel, p.YLabel
	if p.Matrix != nil {
		return p.heatMap(pl)
	}
	pl.Add(plotter.NewGrid())
	pl.X.Tick.Marker, pl.Y.Tick.Marker = cleanTicks{plot.DefaultTicks{}}, cleanTicks{plot.DefaultTicks{}}
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
			if (p.LogY && !(s.Y[k] > 0)) || (p.LogX && !(s.X[k] > 0)) {
				continue
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
	if p.LogY && ymax >= ymin { // the log axis spans the data, at least a factor of 2
		if ymax < 2*ymin {
			mid := math.Sqrt(ymin * ymax)
			ymin, ymax = mid/1.5, mid*1.5
		}
		pl.Y.Min, pl.Y.Max = ymin, ymax
	}
	if legend && xmax > xmin {
		// A margin right of the data, a quarter of its width, holds the
		// legend.
		pl.X.Min, pl.X.Max = xmin, xmax+0.3*(xmax-xmin)
		if p.LogX {
			pl.X.Max = xmax * math.Pow(xmax/xmin, 0.3)
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
	// White (0) to dark blue (the largest count).
	cols := make([]color.Color, 64)
	for i := range cols {
		f := float64(i) / 63
		cols[i] = color.RGBA{uint8(255 * (1 - 0.9*f)), uint8(255 * (1 - 0.6*f)), uint8(255 - 80*f), 255}
	}
	hm := plotter.NewHeatMap(g, palette.Palette(colors(cols)))
	pl.Add(hm)
	// The colour key: five swatches from the smallest value to the largest.
	for i := range 5 {
		v := hm.Min + float64(4-i)/4*(hm.Max-hm.Min)
		k := 0
		if hm.Max > hm.Min {
			k = int(math.Round((v - hm.Min) / (hm.Max - hm.Min) * float64(len(cols)-1)))
		}
		pl.Legend.Add(tickLabel(v), swatch{cols[k]})
	}
	pl.Legend.Top = true
	var labels plotter.XYLabels
	rows, ncols := len(p.Matrix), len(p.Matrix[0])
	if p.MatrixX != nil {
		lo, hi := p.MatrixX[0], p.MatrixX[ncols-1]
		pl.X.Min, pl.X.Max = lo, hi+0.3*(hi-lo)
		pl.X.Tick.Marker = cleanTicks{plot.DefaultTicks{}}
	} else {
		pl.X.Max = float64(ncols) + 0.35*float64(ncols)
	}
	ticks := func(n int, flip bool) plot.ConstantTicks {
		step := max(1, n/10) // at most about ten labels
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
	if p.HideValues {
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
	if p.MatrixX == nil {
		pl.X.Tick.Marker = ticks(ncols, false)
	}
	return pl, nil
}

// swatch is a legend thumbnail filled with one colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, c.ClipPolygonXY([]vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}))
}

// colors is a fixed palette.
type colors []color.Color

func (c colors) Colors() []color.Color { return c }
