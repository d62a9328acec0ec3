package plots

import (
	"bytes"
	"gonum.org/v1/plot"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSave(t *testing.T) {
	base := filepath.Join(t.TempDir(), "fig")
	err := Save(base, 1, 3, 9, 3,
		Panel{Title: "lines", Series: []Series{{Name: "a", X: []float64{0, 1, 2}, Y: []float64{1, 3, 2}}, {Name: "b", X: []float64{0, 2}, Y: []float64{2, 2}, Dashed: true}}},
		Panel{Title: "log", LogY: true, Series: []Series{{X: []float64{1, 2, 3}, Y: []float64{1e-3, 0, 1}}}},
		Panel{Title: "matrix", Matrix: [][]float64{{1, 2}, {3, 4}}, MatrixLabels: []string{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(base + ".png")
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("no PNG: %v", err)
	}
	svg, err := os.ReadFile(base + ".svg")
	if err != nil || !bytes.Contains(svg, []byte("<svg")) {
		t.Fatalf("no SVG: %v", err)
	}
	if err := Save(base, 1, 1, 3, 3, Panel{}, Panel{}); err == nil {
		t.Error("two panels in a 1×1 grid accepted")
	}
	if err := Save(base, 1, 1, 3, 3, Panel{Series: []Series{{X: []float64{1}, Y: nil}}}); err == nil {
		t.Error("a series with mismatched x and y accepted")
	}
}

func TestTickLabels(t *testing.T) {
	for v, want := range map[float64]string{0.09999999999999998: "0.1", 9.999999999999998e-05: "0.0001", 1e-7: "1e-7", 2.5e6: "2.5e6", -3e-12: "-3e-12", 42: "42"} {
		if got := tickLabel(v); got != want {
			t.Errorf("tickLabel(%v) = %q, want %q", v, got, want)
		}
	}
	// Less than a decade on a log axis still gets several labels.
	var labelled int
	for _, tk := range (logTicks{}).Ticks(0.9, 1.6) {
		if tk.Label != "" {
			labelled++
		}
	}
	if labelled < 3 {
		t.Errorf("%d labelled ticks on [0.9, 1.6]", labelled)
	}
}

// TestTicks: round labels (0 and 1 among them when in range), whole
// numbers on integer axes, at least two labels on a log axis, and nothing
// unbounded for degenerate ranges.
func TestTicks(t *testing.T) {
	labels := func(ts []plot.Tick) []string {
		var ls []string
		for _, tk := range ts {
			if tk.Label != "" {
				ls = append(ls, tk.Label)
			}
		}
		return ls
	}
	for _, c := range []struct {
		ticker   plot.Ticker
		min, max float64
		want     []string
	}{
		{linearTicks{}, -0.0175, 0.0025, []string{"-0.015", "-0.01", "-0.005", "0"}},
		{linearTicks{}, 0.75, 1.7, []string{"0.8", "1", "1.2", "1.4", "1.6"}},
		{linearTicks{integers: true}, 1, 12, []string{"2", "4", "6", "8", "10", "12"}},
		{linearTicks{integers: true}, 1, 3, []string{"1", "2", "3"}},
		{linearTicks{end: true, hi: 30}, 1, 39, []string{"5", "10", "15", "20", "25", "30"}},
		{logTicks{}, 0.0028, 0.08, []string{"0.005", "0.01", "0.02", "0.05"}},
		{logTicks{}, 1e-5, 1, []string{"1e-5", "0.0001", "0.001", "0.01", "0.1", "1"}},
		{logTicks{}, 1e-14, 0.3, []string{"1e-14", "1e-12", "1e-10", "1e-8", "1e-6", "0.0001", "0.01"}},
		{linearTicks{}, math.Inf(-1), 1, nil},
		{linearTicks{}, math.NaN(), 1, nil},
	} {
		if got := labels(c.ticker.Ticks(c.min, c.max)); !slices.Equal(got, c.want) {
			t.Errorf("%T%+v on [%g, %g]: %v, want %v", c.ticker, c.ticker, c.min, c.max, got, c.want)
		}
	}
}
