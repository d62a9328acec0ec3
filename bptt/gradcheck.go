package bptt

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
)

// Full computes the full-sequence BPTT gradient of J = Σ_t L_t over the
// inputs xs[t] (Batch×In each) and targets ts[t], from the zero state,
// into the non-nil slices of g. It returns J.
func Full(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, g *gle.Grads) (float64, error) {
	b, err := New(n, batch, len(xs))
	if err != nil {
		return 0, err
	}
	j, err := b.run(xs, ts)
	if err != nil {
		return 0, err
	}
	b.Backward(g)
	return j, nil
}

// run resets b, feeds the whole sequence and returns Σ_t L_t.
func (b *BPTT) run(xs [][]float64, ts []gle.Target) (float64, error) {
	if len(ts) != len(xs) {
		return 0, fmt.Errorf("%w: %d input steps but %d targets", gle.ErrShape, len(xs), len(ts))
	}
	b.Reset()
	var j float64
	for t, x := range xs {
		l, err := b.Step(nil, x, ts[t])
		if err != nil {
			return 0, fmt.Errorf("step %d: %w", t, err)
		}
		j += l
	}
	return j, nil
}

// CheckResult compares one group of gradient components (e.g. "layer 1
// tau_m") with central finite differences.
type CheckResult struct {
	Group          string
	N              int     // components compared
	MaxRelErr      float64 // max |exact − numeric| / max(|numeric|, floor)
	Worst          int     // index of the worst component
	Exact, Numeric float64 // the worst component's values
}

// GradCheck compares the full-sequence BPTT gradient of every parameter
// (W, b, τm, τr of every layer) with fourth-order central differences
// (8(J(θ+h) − J(θ−h)) − (J(θ+2h) − J(θ−2h))) / 12h (see derivative for
// the choice of h). The relative error of a
// component is |exact − numeric| / max(|numeric|, 1e-4·G), G being the
// largest numeric gradient component: components far below the gradient's
// scale are compared in absolute terms. n's parameters are restored.
func GradCheck(n *gle.Network, batch int, xs [][]float64, ts []gle.Target) ([]CheckResult, error) {
	g := gle.NewFullGrads(n)
	if _, err := Full(n, batch, xs, ts, g); err != nil {
		return nil, err
	}
	b, err := New(n, batch, len(xs))
	if err != nil {
		return nil, err
	}
	type group struct {
		name        string
		param, grad []float64
		numeric     []float64
	}
	var groups []*group
	for i := range n.Layers {
		l, lg := &n.Layers[i], &g.Layers[i]
		for _, p := range []struct {
			name        string
			param, grad []float64
		}{{"weight", l.W, lg.W}, {"bias", l.B, lg.B}, {"tau_m", l.TauM, lg.TauM}, {"tau_r", l.TauR, lg.TauR}} {
			if p.grad != nil {
				groups = append(groups, &group{fmt.Sprintf("layer %d %s", i, p.name), p.param, p.grad, make([]float64, len(p.param))})
			}
		}
	}
	var scale float64
	for _, gr := range groups {
		for k := range gr.param {
			d, err := b.derivative(gr.param, k, xs, ts)
			if err != nil {
				return nil, err
			}
			gr.numeric[k] = d
			scale = math.Max(scale, math.Abs(d))
		}
	}
	floor := 1e-4 * scale
	if floor == 0 {
		floor = 1e-300
	}
	out := make([]CheckResult, 0, len(groups))
	for _, gr := range groups {
		r := CheckResult{Group: gr.name, N: len(gr.param), Worst: -1}
		for k, num := range gr.numeric {
			e := math.Abs(gr.grad[k]-num) / math.Max(math.Abs(num), floor)
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			if r.Worst < 0 || e > r.MaxRelErr {
				r.MaxRelErr, r.Worst, r.Exact, r.Numeric = e, k, gr.grad[k], num
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// MaxRelErr returns the largest error over all groups.
func MaxRelErr(rs []CheckResult) float64 {
	var m float64
	for _, r := range rs {
		m = math.Max(m, r.MaxRelErr)
	}
	return m
}

// derivative estimates ∂J/∂p[k] with the fourth-order central difference
// at steps h = 1e-4, 1e-5 and 1e-6 (× max(1, |p[k]|)) and returns the
// largest-step estimate (the most precise for a smooth J) unless it
// disagrees with the next one by more than 1e-5 relative while the two
// smaller steps agree better: then a kink of a piecewise-linear φ lies
// within reach of the largest step, and the 1e-5 estimate is returned.
// p[k] is restored.
func (b *BPTT) derivative(p []float64, k int, xs [][]float64, ts []gle.Target) (float64, error) {
	orig := p[k]
	defer func() { p[k] = orig }()
	var est [3]float64
	for e, rel := range [3]float64{1e-4, 1e-5, 1e-6} {
		h := rel * math.Max(1, math.Abs(orig))
		var j [4]float64
		for i, off := range [4]float64{h, -h, 2 * h, -2 * h} {
			p[k] = orig + off
			var err error
			if j[i], err = b.run(xs, ts); err != nil {
				return 0, err
			}
		}
		est[e] = (8*(j[0]-j[1]) - (j[2] - j[3])) / (12 * h)
	}
	d01, d12 := math.Abs(est[0]-est[1]), math.Abs(est[1]-est[2])
	if d01 > 1e-5*math.Max(math.Abs(est[0]), math.Abs(est[1])) && d12 < d01 {
		return est[1], nil // the largest step straddles a kink
	}
	return est[0], nil
}
