package gradient

import (
	"hash/fnv"
	"math"
	"slices"

	"github.com/gle-go/gle"
)

// CheckResult compares one parameter tensor's gradient (Full's, or one
// handed to CheckGrads) with central finite differences.
type CheckResult struct {
	Tensor         string  // e.g. "layers.1.tau_m"
	N              int     // components in the tensor
	MaxRelErr      float64 // max |exact − numeric| / max(|numeric|, FloorFraction·G) over the compared components
	Worst          int     // index of the worst component (−1 if none was compared)
	Exact, Numeric float64 // the worst component's values (Exact: the gradient checked)
	// Kinks counts the components left out because every perturbation
	// tried moved a neuron of a piecewise-linear activation (relu,
	// hard_tanh, hard_sigmoid) across a kink: there the loss has no
	// derivative a finite difference can estimate, and a mismatch says
	// nothing about the gradient.
	Kinks int
}

// FloorFraction sets the floor of the relative error of a gradient
// check: a component's error is |given − numeric| / max(|numeric|,
// FloorFraction·G), G being the largest numeric gradient component, so
// that components near zero are measured against the gradient's scale
// rather than their own.
const FloorFraction = 1e-4

// GradCheck compares the full-sequence BPTT gradient (Full) of every
// parameter (W, b, τm, τr of every population and projection) with
// finite differences: CheckGrads on the gradient Full computes. n's
// parameters are restored.
func GradCheck(n *gle.Network, batch int, xs [][]float64, ts []gle.Target) ([]CheckResult, error) {
	if n == nil {
		return nil, &gle.FieldError{Field: "network", Why: "is nil", Err: gle.ErrInvalid}
	}
	g := gle.NewFullGrads(n)
	if _, err := Full(n, batch, xs, ts, g); err != nil {
		return nil, err
	}
	return CheckGrads(n, batch, xs, ts, g)
}

// CheckGrads compares a given gradient g of J = Σ_t L_t over xs and ts
// (from the zero state, errors off, as Full defines it) with finite
// differences: FiniteDifferences, then Numeric.Check. Every tensor of g
// is compared. n's parameters are restored.
func CheckGrads(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, g *gle.Grads) ([]CheckResult, error) {
	num, err := FiniteDifferences(n, batch, xs, ts)
	if err != nil {
		return nil, err
	}
	return num.Check(n, g)
}

// Numeric holds finite-difference estimates of ∂J/∂θ for every parameter
// that enters the forward pass (the tensors of gle.NewFullGrads), to
// check any number of candidate gradients against.
type Numeric struct {
	Names []string    // tensor names, as Grads.Tensors gives them
	Value [][]float64 // ∂J/∂θ per component
	Kink  [][]bool    // components left out (see CheckResult.Kinks)
	// Scale is G, the largest |Value| over the components that are not
	// kinks.
	Scale float64
}

// FiniteDifferences estimates the gradient of J = Σ_t L_t (Full's J)
// with fourth-order central differences
//
//	∂J/∂θ ≈ (8(J(θ+h) − J(θ−h)) − (J(θ+2h) − J(θ−2h))) / 12h.
//
// The step starts at h = 1e-4·max(1, |θ|); where the four perturbed runs
// do not all keep every piecewise-linear neuron on the side of its kink
// it had in the unperturbed run, h shrinks tenfold (down to 1e-8); a
// component that crosses a kink at every step is marked in Kink instead.
// n's parameters are restored.
func FiniteDifferences(n *gle.Network, batch int, xs [][]float64, ts []gle.Target) (*Numeric, error) {
	if n == nil {
		return nil, &gle.FieldError{Field: "network", Why: "is nil", Err: gle.ErrInvalid}
	}
	b, err := New(n, batch, len(xs))
	if err != nil {
		return nil, err
	}
	// Every parameter that enters the forward pass (feedback weights do
	// not), in the order of NewFullGrads' tensors.
	params := map[string][]float64{}
	for _, pt := range n.Tensors() {
		params[pt.Name] = pt.Data
	}
	base, err := b.kinkPattern(xs, ts)
	if err != nil {
		return nil, err
	}
	num := &Numeric{}
	for _, gt := range gle.NewFullGrads(n).Tensors(n) {
		p := params[gt.Name]
		value, kink := make([]float64, len(p)), make([]bool, len(p))
		for k := range p {
			d, kk, err := b.derivative(p, k, xs, ts, base)
			if err != nil {
				return nil, err
			}
			value[k], kink[k] = d, kk
			if !kk {
				num.Scale = math.Max(num.Scale, math.Abs(d))
			}
		}
		num.Names, num.Value, num.Kink = append(num.Names, gt.Name), append(num.Value, value), append(num.Kink, kink)
	}
	return num, nil
}

// Check compares every tensor of g (a gradient for n) with the finite
// differences, component by component: the relative error is
//
//	|g − numeric| / max(|numeric|, FloorFraction·G)
//
// (G = Scale); kinks are counted, not compared. A NaN error counts as
// +Inf. It fails when g does not fit n or holds a tensor num has no
// estimate for.
func (num *Numeric) Check(n *gle.Network, g *gle.Grads) ([]CheckResult, error) {
	if g == nil {
		return nil, &gle.FieldError{Field: "gradient", Why: "is nil", Err: gle.ErrInvalid}
	}
	if err := g.Fits(n); err != nil {
		return nil, err
	}
	floor := FloorFraction * num.Scale
	if floor == 0 {
		floor = 1e-300
	}
	var out []CheckResult
	for _, gt := range g.Tensors(n) {
		i := slices.Index(num.Names, gt.Name)
		if i < 0 || len(num.Value[i]) != len(gt.Data) {
			return nil, &gle.FieldError{Field: "gradient", Value: gt.Name, Why: "has no finite-difference estimate", Err: gle.ErrShape}
		}
		r := CheckResult{Tensor: gt.Name, N: len(gt.Data), Worst: -1}
		for k, v := range num.Value[i] {
			if num.Kink[i][k] {
				r.Kinks++
				continue
			}
			e := math.Abs(gt.Data[k]-v) / math.Max(math.Abs(v), floor)
			if math.IsNaN(e) {
				e = math.Inf(1)
			}
			if r.Worst < 0 || e > r.MaxRelErr {
				r.MaxRelErr, r.Worst, r.Exact, r.Numeric = e, k, gt.Data[k], v
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
