package gradient_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// smoothSequence is sequence with the noise rounded away (no white noise:
// the local rule's lags matter less on slowly varying signals).
func smoothSequence(seed uint64, steps, batch, in, out int, loss gle.Loss) ([][]float64, []gle.Target) {
	xs, ts := sequence(seed, steps, batch, in, out, loss)
	for _, x := range xs {
		for i := range x {
			x[i] = math.Round(x[i]*10) / 10
		}
	}
	return xs, ts
}

// rowsFor returns the rows of window w.
func rowsFor(rows []gradient.AlignmentRow, w int) map[string]gradient.AlignmentRow {
	m := map[string]gradient.AlignmentRow{}
	for _, r := range rows {
		if r.Window == w {
			m[r.Param] = r
		}
	}
	return m
}

// TestAlignTopLayer: the top layer's local update is the exact gradient's
// per-step contribution up to the one-step output lag, so on a slowly
// varying task they align almost perfectly and the norm ratio is ≈ 1
// after the loss factor.
func TestAlignTopLayer(t *testing.T) {
	for _, loss := range []gle.Loss{gle.MSE, gle.CE} {
		n := randomChain(t, 8, gle.Tanh, loss, false)
		n.Dt = 0.01
		xs, ts := smoothSequence(8, 2000, 2, 2, 2, loss)
		before := n.Clone()
		rows, err := gradient.Align(n, 2, xs, ts, 250)
		if err != nil {
			t.Fatal(err)
		}
		if d := paramsDiffer(before, n); d != "" || n.Pops[0].Gamma != before.Pops[0].Gamma {
			t.Errorf("Align changed the network: %s", d)
		}
		r, ok := rowsFor(rows, -1)["layers.2.weight"]
		if !ok {
			t.Fatalf("%v: no whole-sequence row for layers.2.weight", loss)
		}
		t.Logf("%v: top layer cosine %.6f ratio %.4f", loss, r.Cosine, r.NormRatio)
		if r.Cosine < 0.99 || math.Abs(r.NormRatio-1) > 0.05 {
			t.Errorf("%v: top layer cosine %.4f, ratio %.4f; want ≈ 1, 1", loss, r.Cosine, r.NormRatio)
		}
	}
}

// leChain is a chain 2 → 6 (tanh) → 4 (tanh) → 2 (linear) of LE neurons
// (τr = τm, per neuron): prospective errors are then instantaneous and the
// prospective rates undo the membrane lag.
func leChain(t *testing.T) *gle.Network {
	t.Helper()
	taus := gle.Taus{0.3, 0.5, 0.2, 0.4, 0.25, 0.35}
	s := &gle.Spec{Dt: 0.01, Loss: gle.MSE, Seed: 21, Layers: []gle.LayerSpec{
		{In: 2, Out: 6, Phi: gle.Tanh, TauM: taus, TauR: taus, LearnTauM: true},
		{In: 6, Out: 4, Phi: gle.Tanh, TauM: taus[:4], TauR: taus[:4], LearnTauM: true},
		{In: 4, Out: 2, Phi: gle.Linear, TauM: taus[:2], TauR: taus[:2]},
	}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// slowTask is a smooth regression task in time t = step·dt: two inputs
// per sample, sinusoids of periods ≈ 6–20 time units, and a nonlinear
// function of them as the two targets.
func slowTask(dt float64, steps, batch int) ([][]float64, []gle.Target) {
	xs, ts := make([][]float64, steps), make([]gle.Target, steps)
	for k := range steps {
		tt := dt * float64(k)
		x, y := make([]float64, 2*batch), make([]float64, 2*batch)
		for b := range batch {
			ph := float64(b)
			x[2*b], x[2*b+1] = math.Sin(0.7*tt+ph), math.Cos(0.3*tt+2*ph)
			y[2*b], y[2*b+1] = 0.8*math.Tanh(2*x[2*b]*x[2*b+1]), 0.5*x[2*b]-0.2
		}
		xs[k], ts[k] = x, gle.Target{Values: y}
	}
	return xs, ts
}

// TestAlignLENeurons: on a chain of LE neurons (τm = τr) the local rule's
// summed updates of every weight and bias, and of all parameters together,
// point along the exact gradient (cosine ≥ 0.99 over the sequence and in
// every window; τm's ≥ 0.95) with the magnitude the loss factor predicts. The rows
// cover the windows in order, and the whole-sequence rows compare the sums
// of the windows.
func TestAlignLENeurons(t *testing.T) {
	n := leChain(t)
	const T, W = 2000, 500
	xs, ts := slowTask(n.Dt, T, 2)
	rows, err := gradient.Align(n, 2, xs, ts, W)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"all": true}
	for _, tn := range n.Tensors() {
		if len(tn.Name) > 6 && tn.Name[len(tn.Name)-6:] == ".tau_r" {
			continue // the local rule has no τr update
		}
		names[tn.Name] = true
	}
	for w := -1; w < T/W; w++ {
		rs := rowsFor(rows, w)
		if len(rs) != len(names) {
			t.Errorf("window %d: %d rows, want one per tensor but τr, and all (%d)", w, len(rs), len(names))
		}
		for name := range names {
			r, ok := rs[name]
			if !ok {
				t.Errorf("window %d: no row for %s", w, name)
				continue
			}
			start, end := w*W, (w+1)*W
			if w < 0 {
				start, end = 0, T
			}
			if r.Start != start || r.End != end {
				t.Errorf("window %d %s: steps %d…%d, want %d…%d", w, name, r.Start, r.End, start, end)
			}
			if w == -1 {
				t.Logf("%-16s cosine %.6f ratio %.4f", name, r.Cosine, r.NormRatio)
			}
			isTau := len(name) > 6 && name[len(name)-6:] == ".tau_m"
			if want := map[bool]float64{false: 0.99, true: 0.95}[isTau]; !(r.Cosine >= want) {
				t.Errorf("window %d %s: cosine %.4f, want ≥ 0.99 (τm: 0.95)", w, name, r.Cosine)
			}
			if !isTau && w == -1 && math.Abs(r.NormRatio-1) > 0.1 {
				t.Errorf("%s: norm ratio %.4f, want ≈ 1", name, r.NormRatio)
			}
		}
	}
	// A window that does not divide the sequence: the last one is short,
	// and the whole-sequence rows do not depend on the window.
	short, err := gradient.Align(n, 2, xs[:1000], ts[:1000], 300)
	if err != nil {
		t.Fatal(err)
	}
	one, err := gradient.Align(n, 2, xs[:1000], ts[:1000], 1000)
	if err != nil {
		t.Fatal(err)
	}
	if last := rowsFor(short, 3)["all"]; last.Start != 900 || last.End != 1000 || len(rowsFor(short, 4)) != 0 {
		t.Errorf("windows of 300 over 1000 steps: the last is %d…%d (window 4 has %d rows)", last.Start, last.End, len(rowsFor(short, 4)))
	}
	for name, r := range rowsFor(short, -1) {
		o := rowsFor(one, -1)[name]
		if math.Abs(r.Cosine-o.Cosine) > 1e-9 || math.Abs(r.NormRatio-o.NormRatio) > 1e-9 {
			t.Errorf("%s over the whole sequence: cosine %.12f ratio %.12f with windows of 300, %.12f %.12f with one window", name, r.Cosine, r.NormRatio, o.Cosine, o.NormRatio)
		}
	}
	// The rows marshal with snake_case keys.
	b, err := json.Marshal(rows[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"window", "start", "end", "param", "cosine", "norm_ratio"} {
		if _, ok := m[k]; !ok {
			t.Errorf("the JSON row %s has no %q", b, k)
		}
	}
}

// loopNet is the recurrent population of the former graph ExampleAlign:
// input → h (6, tanh) with a self projection, h → out.
func loopNet(t *testing.T) *gle.Network {
	t.Helper()
	spec, err := gle.DecodeSpec([]byte(`
dt: 0.02
loss: mse
beta: 1
prospective_errors: true
inputs: 1
output: out
seed: 2
populations:
  - {name: h, size: 6, phi: tanh, tau_m: 0.3, tau_r: 0.1}
  - {name: out, size: 1, phi: linear, tau_m: 0.3, tau_r: 0.1}
projections:
  - {from: input, to: h}
  - {from: h, to: h}
  - {from: h, to: out}
`))
	if err != nil {
		t.Fatal(err)
	}
	n, err := gle.NewNetwork(spec)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func loopTask(steps int) ([][]float64, []gle.Target) {
	var xs [][]float64
	var ts []gle.Target
	for k := range steps {
		tt := 0.02 * float64(k)
		xs = append(xs, []float64{math.Sin(tt)})
		ts = append(ts, gle.Target{Values: []float64{0.5 * math.Cos(tt)}})
	}
	return xs, ts
}

// TestAlignLoopGain: on a recurrent population the local updates, summed
// over a run, point along the exact gradient while the loop gain
// ρ(W_hh)·τm/τr stays well below 1, and stray from it above 1 (the former
// ExampleAlign: cosines 1.000 at gain 0.18, −0.2 at 1.79).
func TestAlignLoopGain(t *testing.T) {
	n := loopNet(t)
	xs, ts := loopTask(2000)
	for _, c := range []struct {
		scale float64
		small bool
	}{{1, false}, {0.1, true}} {
		for i := range n.Projs[1].W {
			n.Projs[1].W[i] *= c.scale
		}
		gains, err := gle.LoopGains(n)
		if err != nil || len(gains) != 1 {
			t.Fatalf("loop gains %v, %v: want one loop", gains, err)
		}
		rows, err := gradient.Align(n, 1, xs, ts, len(xs))
		if err != nil {
			t.Fatal(err)
		}
		rs := rowsFor(rows, -1)
		in, hh, out := rs["projections.0.weight"], rs["projections.1.weight"], rs["projections.2.weight"]
		t.Logf("loop gain %.3f: input→h %.4f, h→h %.4f, h→out %.4f", gains[0].Gain, in.Cosine, hh.Cosine, out.Cosine)
		if c.small {
			if gains[0].Gain > 0.5 {
				t.Fatalf("loop gain %.3f, want a small one", gains[0].Gain)
			}
			for _, r := range []gradient.AlignmentRow{in, hh, out} {
				if !(r.Cosine > 0.99) {
					t.Errorf("loop gain %.2f: %s cosine %.4f, want ≈ 1", gains[0].Gain, r.Param, r.Cosine)
				}
			}
			continue
		}
		if gains[0].Gain < 1 {
			t.Fatalf("loop gain %.3f, want one above 1", gains[0].Gain)
		}
		if !(in.Cosine < 0.5) || !(hh.Cosine < 0.5) {
			t.Errorf("loop gain %.2f: cosines input→h %.4f, h→h %.4f; want the hidden updates to stray from the gradient", gains[0].Gain, in.Cosine, hh.Cosine)
		}
		if !(out.Cosine > 0.99) {
			t.Errorf("loop gain %.2f: h→out cosine %.4f, the output layer's update is local and exact", gains[0].Gain, out.Cosine)
		}
	}
}

// TestAlignDiverges: on a recurrent graph whose loop gain is far above 1
// the real-time errors grow without bound; Align says so with an error
// wrapping gle.ErrDiverged (not NaN rows).
func TestAlignDiverges(t *testing.T) {
	n := loopNet(t)
	for i := range n.Projs[1].W {
		n.Projs[1].W[i] *= 3
	}
	for q := range n.Pops {
		for j := range n.Pops[q].TauR {
			n.Pops[q].TauR[j] = 0.02 // τm/τr = 15
		}
	}
	gains, err := gle.LoopGains(n)
	if err != nil {
		t.Fatal(err)
	}
	xs, ts := loopTask(2000)
	var rows []gradient.AlignmentRow
	err = noPanic(t, "Align", func() error {
		var err error
		rows, err = gradient.Align(n, 1, xs, ts, 500)
		return err
	})
	t.Logf("loop gain %.3g: %v", gains[0].Gain, err)
	if !errors.Is(err, gle.ErrDiverged) || rows != nil {
		t.Errorf("loop gain %.3g: Align returned %d rows and %v, want an error wrapping ErrDiverged", gains[0].Gain, len(rows), err)
	}
}

// TestAlignErrors: a window out of range or targets that do not match the
// inputs are errors.
func TestAlignErrors(t *testing.T) {
	n := leChain(t)
	xs, ts := smoothSequence(9, 50, 2, 2, 2, gle.MSE)
	for _, c := range []struct {
		name   string
		window int
		ts     []gle.Target
		want   error
	}{
		{"window 0", 0, ts, gle.ErrInvalid},
		{"window −1", -1, ts, gle.ErrInvalid},
		{"window > steps", 51, ts, gle.ErrInvalid},
		{"targets short", 10, ts[:49], gle.ErrShape},
	} {
		err := noPanic(t, c.name, func() error { _, err := gradient.Align(n, 2, xs, c.ts, c.window); return err })
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	var fe *gle.FieldError
	if _, err := gradient.Align(n, 2, xs, ts, 0); !errors.As(err, &fe) || fe.Field != "window" {
		t.Errorf("window 0: %v, want a FieldError naming the window", err)
	}
	if _, err := gradient.Align(n, 2, xs, ts, 50); err != nil {
		t.Errorf("window = steps: %v", err)
	}
}
