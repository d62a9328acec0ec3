package graph

import (
	"encoding/json"
	"fmt"
	"math"
	"math/cmplx"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/gle-go/gle"
)

// Clone returns a deep copy of n.
func (n *Network) Clone() *Network {
	c := *n
	c.Pops = slices.Clone(n.Pops)
	for i := range c.Pops {
		p := &c.Pops[i]
		p.TauM, p.TauR, p.B = slices.Clone(p.TauM), slices.Clone(p.TauR), slices.Clone(p.B)
	}
	c.Projs = slices.Clone(n.Projs)
	for i := range c.Projs {
		p := &c.Projs[i]
		p.W, p.B = slices.Clone(p.W), slices.Clone(p.B)
	}
	return &c
}

// SpectralRadius returns the largest eigenvalue modulus of the weights of
// projection k, which must be a population's projection onto itself.
func (n *Network) SpectralRadius(k int) (float64, error) {
	p := &n.Projs[k]
	if p.From != p.To {
		return 0, fmt.Errorf("%w: projection %d is not recurrent (%d → %d)", gle.ErrInvalid, k, p.From, p.To)
	}
	N := n.Pops[p.To].N
	var eig mat.Eigen
	if !eig.Factorize(mat.NewDense(N, N, slices.Clone(p.W)), mat.EigenNone) {
		return 0, fmt.Errorf("graph: the eigenvalues of projection %d did not converge", k)
	}
	var rho float64
	for _, v := range eig.Values(nil) {
		rho = max(rho, cmplx.Abs(v))
	}
	return rho, nil
}

// Alignment compares the local rule's summed updates with the exact
// gradient for one parameter group.
type Alignment struct {
	Param  string  // "W from→to", "b pop" or "tau_m pop"
	Cosine float64 // cos∠(Σ_t local, ∂J/∂θ); NaN for a zero gradient
	// NormRatio is |Σ_t local| / (c |∂J/∂θ|), with c the factor by which
	// the target error differs from −∂L/∂r (β for CE, β·K/2 for MSE with K
	// outputs): 1 means equal magnitude.
	NormRatio float64
}

// MarshalJSON writes snake_case keys, an undefined cosine or ratio as null.
func (a Alignment) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"param": a.Param, "cosine": finiteOrNil(a.Cosine), "norm_ratio": finiteOrNil(a.NormRatio)})
}

func finiteOrNil(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// Align runs n with its real-time errors and local rule (no learning; γ
// set to 0 so that the forward pass is the one BPTT differentiates) over
// xs and ts from the zero state, sums the local gradients over time, and
// compares them with the exact gradient of Σ_t L_t (Loss), per projection
// weight, bias and τm. n is not changed.
func Align(n *Network, batch int, xs [][]float64, ts []gle.Target) ([]Alignment, error) {
	local := n.Clone()
	for i := range local.Pops {
		local.Pops[i].Gamma = 0
	}
	e := NewEngine(local, batch)
	e.Grads = NewGrads(local)
	sum := NewGrads(local)
	out := make([]float64, batch*n.Outputs())
	for t, x := range xs {
		if err := e.Step(out, x, ts[t]); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		for _, p := range [][2][][]float64{{sum.W, e.Grads.W}, {sum.B, e.Grads.B}, {sum.TauM, e.Grads.TauM}} {
			for k := range p[0] {
				for i, v := range p[1][k] {
					p[0][k][i] += v
				}
			}
		}
	}
	for _, p := range [][][]float64{sum.W, sum.B, sum.TauM} {
		for k := range p {
			for _, v := range p[k] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("%w: the real-time errors grew without bound over %d steps "+
						"(a recurrent loop whose prospective gain exceeds 1)", gle.ErrDiverged, len(xs))
				}
			}
		}
	}
	exact := NewGrads(n)
	if _, err := Loss(n, batch, xs, ts, exact); err != nil {
		return nil, err
	}
	c := n.Beta
	if n.Loss == gle.MSE {
		c *= float64(n.Outputs()) / 2
	}
	name := func(q int) string {
		if q < 0 {
			return Input
		}
		return n.Pops[q].Name
	}
	var rows []Alignment
	row := func(param string, a, x []float64) {
		if a == nil {
			return
		}
		// Scaled by the largest magnitudes, so that the squares cannot
		// overflow when the real-time errors grow large (an unstable loop).
		var sa, sx float64
		for k := range a {
			sa, sx = max(sa, math.Abs(a[k])), max(sx, math.Abs(x[k]))
		}
		r := Alignment{Param: param, Cosine: math.NaN(), NormRatio: math.NaN()}
		if sa > 0 && sx > 0 {
			var d, na, nx float64
			for k := range a {
				ak, xk := a[k]/sa, x[k]/sx
				d, na, nx = d+ak*xk, na+ak*ak, nx+xk*xk
			}
			r.Cosine = d / math.Sqrt(na*nx)
			r.NormRatio = sa / sx * math.Sqrt(na) / (c * math.Sqrt(nx))
		}
		rows = append(rows, r)
	}
	for k, p := range n.Projs {
		row(fmt.Sprintf("W %s→%s", name(p.From), name(p.To)), sum.W[k], exact.W[k])
	}
	for q, p := range n.Pops {
		row("b "+p.Name, sum.B[q], exact.B[q])
		row("tau_m "+p.Name, sum.TauM[q], exact.TauM[q])
	}
	return rows, nil
}
