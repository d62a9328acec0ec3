package gradient

import (
	"hash/fnv"
	"math"

	"github.com/gle-go/gle"
)

// CheckResult compares one parameter tensor's exact gradient with central
// finite differences.
type CheckResult struct {
	Tensor         string  // e.g. "layers.1.tau_m"
	N              int     // components compared
	MaxRelErr      float64 // max |exact − numeric| / max(|numeric|, floor) over the compared components
	Worst          int     // index of the worst component (−1 if none was compared)
	Exact, Numeric float64 // the worst component's values
	// Kinks counts the components left out because every perturbation
	// tried moved a neuron of a piecewise-linear activation (relu,
	// hard_tanh, hard_sigmoid) across a kink: there the loss has no
	// derivative a finite difference can estimate, and a mismatch says
	// nothing about the gradient.
	Kinks int
}

// GradCheck compares the full-sequence BPTT gradient of every parameter
// (W, b, τm, τr of every population and projection) with fourth-order
// central differences (8(J(θ+h) − J(θ−h)) − (J(θ+2h) − J(θ−2h))) / 12h.
// The step starts at h = 1e-4·max(1, |θ|); where the four perturbed runs
// do not all keep every piecewise-linear neuron on the side of its kink
// it had in the unperturbed run, h shrinks tenfold (down to 1e-8); a
// component that crosses a kink at every step is counted in Kinks instead
// of compared. The relative error of a component is |exact − numeric| /
// max(|numeric|, 1e-4·G), G being the largest numeric gradient component.
// n's parameters are restored.
func GradCheck(n *gle.Network, batch int, xs [][]float64, ts []gle.Target) ([]CheckResult, error) {
	if n == nil {
		return nil, &gle.FieldError{Field: "network", Why: "is nil", Err: gle.ErrInvalid}
	}
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
		kink        []bool
	}
	var groups []*group
	// Every parameter that has a gradient (feedback weights never enter
	// the forward pass and have none), paired by name.
	params := map[string][]float64{}
	for _, pt := range n.Tensors() {
		params[pt.Name] = pt.Data
	}
	for _, gt := range g.Tensors(n) {
		p := params[gt.Name]
		groups = append(groups, &group{gt.Name, p, gt.Data, make([]float64, len(p)), make([]bool, len(p))})
	}
	base, err := b.kinkPattern(xs, ts)
	if err != nil {
		return nil, err
	}
	var scale float64
	for _, gr := range groups {
		for k := range gr.param {
			d, kink, err := b.derivative(gr.param, k, xs, ts, base)
			if err != nil {
				return nil, err
			}
			gr.numeric[k], gr.kink[k] = d, kink
			if !kink {
				scale = math.Max(scale, math.Abs(d))
			}
		}
	}
	floor := 1e-4 * scale
	if floor == 0 {
		floor = 1e-300
	}
	out := make([]CheckResult, 0, len(groups))
	for _, gr := range groups {
		r := CheckResult{Tensor: gr.name, N: len(gr.param), Worst: -1}
		for k, num := range gr.numeric {
			if gr.kink[k] {
				r.Kinks++
				continue
			}
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

// MaxRelErr returns the largest error over all tensors.
func MaxRelErr(rs []CheckResult) float64 {
	var m float64
	for _, r := range rs {
		m = math.Max(m, r.MaxRelErr)
	}
	return m
}

// piecewise reports whether φ has kinks.
func piecewise(a gle.Activation) bool {
	return a == gle.ReLU || a == gle.HardTanh || a == gle.HardSigmoid
}

// kinkPattern runs the sequence and returns a hash of which side of its
// kinks every piecewise-linear neuron was on at every step (its φ′, 0 or
// 1); 0 when the network has no such neuron.
func (b *BPTT) kinkPattern(xs [][]float64, ts []gle.Target) (uint64, error) {
	if _, err := b.run(xs, ts); err != nil {
		return 0, err
	}
	return b.tapePattern(len(xs)), nil
}

// tapePattern hashes the recorded φ′ of the piecewise-linear populations
// over the first steps of the tape.
func (b *BPTT) tapePattern(steps int) uint64 {
	h := fnv.New64a()
	found := false
	var bit [1]byte
	for q, p := range b.Net.Pops {
		if !piecewise(p.Phi) {
			continue
		}
		found = true
		for _, v := range b.rp[q][:steps*b.Batch*p.N] {
			bit[0] = 0
			if v != 0 {
				bit[0] = 1
			}
			h.Write(bit[:])
		}
	}
	if !found {
		return 0
	}
	return h.Sum64()
}

// derivative estimates ∂J/∂p[k] with the fourth-order central difference,
// at the largest step h (from 1e-4 down to 1e-8, × max(1, |p[k]|)) whose
// four runs keep every piecewise-linear neuron on the side of its kink it
// had at p (the pattern base); kink reports that no step did. p[k] is
// restored.
func (b *BPTT) derivative(p []float64, k int, xs [][]float64, ts []gle.Target, base uint64) (d float64, kink bool, err error) {
	orig := p[k]
	defer func() { p[k] = orig }()
	for _, rel := range [...]float64{1e-4, 1e-5, 1e-6, 1e-7, 1e-8} {
		h := rel * math.Max(1, math.Abs(orig))
		var j [4]float64
		crossed := false
		for i, off := range [4]float64{h, -h, 2 * h, -2 * h} {
			p[k] = orig + off
			if j[i], err = b.run(xs, ts); err != nil {
				return 0, false, err
			}
			if base != 0 && b.tapePattern(len(xs)) != base {
				crossed = true
			}
		}
		if !crossed {
			return (8*(j[0]-j[1]) - (j[2] - j[3])) / (12 * h), false, nil
		}
	}
	return 0, true, nil
}
