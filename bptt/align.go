package bptt

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/gle-go/gle"
)

// AlignmentRow compares GLE's accumulated updates with the exact gradient
// for one layer, one parameter group and one window of time.
type AlignmentRow struct {
	Window int    // −1: the whole sequence
	Start  int    // first step of the window
	End    int    // one past its last step
	Layer  int    //
	Param  string // weight, bias, tau_m, or all
	Cosine float64
	// NormRatio is |GLE| / (c·|exact|), c being the factor by which GLE's
	// target error differs from the loss gradient (β for CE, β·K/2 for MSE
	// with K outputs): 1 means equal magnitude.
	NormRatio float64
}

// MarshalJSON writes the row with snake_case keys; an undefined cosine or
// ratio (a zero gradient) is null.
func (r AlignmentRow) MarshalJSON() ([]byte, error) {
	num := func(v float64) any {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	}
	return json.Marshal(map[string]any{
		"window": r.Window, "start": r.Start, "end": r.End, "layer": r.Layer, "param": r.Param,
		"cosine": num(r.Cosine), "norm_ratio": num(r.NormRatio),
	})
}

// Align runs the network with GLE's errors (no learning, γ set to 0 so the
// forward pass is the one BPTT differentiates) and, on the same inputs and
// targets, full BPTT. For every window of `window` steps it compares the
// sum of GLE's per-step updates (∂W = −⟨ê r_belowᵀ⟩ …) with the part of the
// exact gradient of Σ_t L_t contributed by the parameters' uses during that
// window (BackwardSplit), per layer and parameter group. n is not changed.
func Align(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, window int) ([]AlignmentRow, error) {
	T := len(xs)
	if window <= 0 || window > T {
		return nil, fmt.Errorf("%w: window = %d, want 1…%d steps", gle.ErrInvalid, window, T)
	}
	parts := (T + window - 1) / window
	gleNet := n.Clone()
	for i := range gleNet.Layers {
		gleNet.Layers[i].Gamma = 0
	}
	e, err := gle.NewEngine(gleNet, batch)
	if err != nil {
		return nil, err
	}
	e.Grads = gle.NewFullGrads(gleNet)
	local := make([]*gle.Grads, parts)
	exact := make([]*gle.Grads, parts)
	for i := range parts {
		local[i], exact[i] = gle.NewFullGrads(n), gle.NewFullGrads(n)
	}
	out := make([]float64, batch*n.Outputs())
	for t, x := range xs {
		if err := e.Step(out, x, ts[t]); err != nil {
			return nil, fmt.Errorf("GLE step %d: %w", t, err)
		}
		acc := local[t/window]
		for li := range acc.Layers {
			a, g := &acc.Layers[li], &e.Grads.Layers[li]
			for _, p := range [3][2][]float64{{a.W, g.W}, {a.B, g.B}, {a.TauM, g.TauM}} {
				for k, v := range p[1] {
					p[0][k] += v
				}
			}
		}
	}
	b, err := New(n.Clone(), batch, T)
	if err != nil {
		return nil, err
	}
	if _, err := b.run(xs, ts); err != nil {
		return nil, err
	}
	if err := b.BackwardSplit(exact, window); err != nil {
		return nil, err
	}
	c := n.Beta
	if n.Loss == gle.MSE {
		c *= float64(n.Outputs()) / 2
	}
	var rows []AlignmentRow
	compare := func(w, start, end int, lg, eg *gle.Grads) {
		for li := range lg.Layers {
			a, x := &lg.Layers[li], &eg.Layers[li]
			var all [3]float64
			for _, p := range []struct {
				name string
				a, x []float64
			}{{"weight", a.W, x.W}, {"bias", a.B, x.B}, {"tau_m", a.TauM, x.TauM}} {
				if p.a == nil {
					continue
				}
				d, na, nx := dots(p.a, p.x)
				all[0], all[1], all[2] = all[0]+d, all[1]+na, all[2]+nx
				rows = append(rows, alignRow(w, start, end, li, p.name, d, na, nx, c))
			}
			rows = append(rows, alignRow(w, start, end, li, "all", all[0], all[1], all[2], c))
		}
	}
	totalL, totalX := gle.NewFullGrads(n), gle.NewFullGrads(n)
	for i := range parts {
		compare(i, i*window, min((i+1)*window, T), local[i], exact[i])
		addGrads(totalL, local[i])
		addGrads(totalX, exact[i])
	}
	compare(-1, 0, T, totalL, totalX)
	return rows, nil
}

// dots returns ⟨a, x⟩, |a|² and |x|².
func dots(a, x []float64) (d, na, nx float64) {
	for k := range a {
		d += a[k] * x[k]
		na += a[k] * a[k]
		nx += x[k] * x[k]
	}
	return d, na, nx
}

func alignRow(w, start, end, layer int, param string, d, na, nx, c float64) AlignmentRow {
	r := AlignmentRow{Window: w, Start: start, End: end, Layer: layer, Param: param, Cosine: math.NaN(), NormRatio: math.NaN()}
	if na > 0 && nx > 0 {
		r.Cosine = d / math.Sqrt(na*nx)
		r.NormRatio = math.Sqrt(na) / (c * math.Sqrt(nx))
	}
	return r
}

func addGrads(dst, src *gle.Grads) {
	for li := range dst.Layers {
		d, s := &dst.Layers[li], &src.Layers[li]
		for _, p := range [4][2][]float64{{d.W, s.W}, {d.B, s.B}, {d.TauM, s.TauM}, {d.TauR, s.TauR}} {
			for k, v := range p[1] {
				p[0][k] += v
			}
		}
	}
}
