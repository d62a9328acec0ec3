package gradient_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// activations lists every activation of the library.
var activations = []gle.Activation{gle.Linear, gle.ReLU, gle.Tanh, gle.Sigmoid, gle.Softplus, gle.HardTanh, gle.HardSigmoid}

// randomTaus returns n values drawn uniformly in [lo, hi).
func randomTaus(rng *rand.Rand, n int, lo, hi float64) gle.Taus {
	v := make(gle.Taus, n)
	for i := range v {
		v[i] = lo + (hi-lo)*rng.Float64()
	}
	return v
}

// belowTauM caps every τr at 0.9 τm.
func belowTauM(tr, tm gle.Taus) gle.Taus {
	out := slices.Clone(tr)
	for i := range out {
		out[i] = math.Min(tr[i], 0.9*tm[i])
	}
	return out
}

// randomChain is a layered network 2 → 4 (phi) → 3 (phi, no bias) → 2
// (linear) with random time constants (τr < τm) and weights of scale 1.5.
func randomChain(t testing.TB, seed uint64, phi gle.Activation, loss gle.Loss, learnTau bool) *gle.Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	dt := 0.05
	s := &gle.Spec{Dt: dt, Loss: loss, Seed: seed, Layers: []gle.LayerSpec{
		{In: 2, Out: 4, Phi: phi, TauM: randomTaus(rng, 4, 0.2, 1), TauR: randomTaus(rng, 4, dt, 0.3), LearnTauM: learnTau},
		{In: 4, Out: 3, Phi: phi, TauM: randomTaus(rng, 3, 0.2, 1), TauR: randomTaus(rng, 3, dt, 1), LearnTauM: learnTau, Bias: gle.Bias{Disabled: true}},
		{In: 3, Out: 2, Phi: gle.Linear, TauM: randomTaus(rng, 2, 0.3, 1), TauR: randomTaus(rng, 2, 0.3, 1)},
	}}
	for i := range s.Layers {
		s.Layers[i].TauR = belowTauM(s.Layers[i].TauR, s.Layers[i].TauM) // still ≥ dt: τm ≥ 0.2
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	for k := range n.Projs {
		for i := range n.Projs[k].W {
			n.Projs[k].W[i] = 1.5 * rng.NormFloat64()
		}
	}
	return n
}

// graphSpec is a recurrent graph of populations: a and b both read the
// input (the same depth) and project laterally onto each other (a loop),
// a has a self projection, c reads both and gets top-down input from the
// output, and the output has skip projections from a and from the input:
//
//	input → a, input → b, a → a, a → b, b → a, a → c, b → c, c → c,
//	c → out, out → c, a → out, input → out
func graphSpec(seed uint64, phi gle.Activation, loss gle.Loss) *gle.Spec {
	rng := rand.New(rand.NewPCG(seed, 3))
	dt := 0.05
	pop := func(name string, size int, phi gle.Activation, bias bool) gle.PopulationSpec {
		p := gle.PopulationSpec{Name: name, Size: size, Phi: phi, TauM: randomTaus(rng, size, 0.3, 1), TauR: randomTaus(rng, size, dt, 0.25)}
		if !bias {
			p.Bias = gle.Bias{Disabled: true}
		} else {
			p.Bias = gle.Bias{Values: make([]float64, size)}
			for i := range p.Bias.Values {
				p.Bias.Values[i] = 0.4 * rng.NormFloat64()
			}
		}
		return p
	}
	in := gle.InputName
	return &gle.Spec{Dt: dt, Loss: loss, Inputs: 2, Output: "out", Seed: seed,
		Populations: []gle.PopulationSpec{
			pop("a", 4, phi, true),
			pop("b", 3, phi, false),
			pop("c", 3, phi, true),
			pop("out", 2, gle.Linear, true),
		},
		Projections: []gle.ProjectionSpec{
			{From: in, To: "a"}, {From: in, To: "b"}, {From: "a", To: "a"}, {From: "a", To: "b"}, {From: "b", To: "a"},
			{From: "a", To: "c"}, {From: "b", To: "c"}, {From: "c", To: "c"}, {From: "c", To: "out"}, {From: "out", To: "c"},
			{From: "a", To: "out"}, {From: in, To: "out"},
		}}
}

// randomGraph builds graphSpec and draws its weights with scale `scale`.
func randomGraph(t testing.TB, seed uint64, phi gle.Activation, loss gle.Loss, scale float64) *gle.Network {
	t.Helper()
	n, err := gle.NewNetwork(graphSpec(seed, phi, loss))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 4))
	for k := range n.Projs {
		for i := range n.Projs[k].W {
			n.Projs[k].W[i] = scale * rng.NormFloat64()
		}
	}
	return n
}

// sequence returns steps input frames (batch × in: noisy sinusoids) and
// targets for the loss (batch × out cosines for MSE, labels that change
// every 15 steps for CE, none for NoLoss).
func sequence(seed uint64, steps, batch, in, out int, loss gle.Loss) ([][]float64, []gle.Target) {
	rng := rand.New(rand.NewPCG(seed, 11))
	xs := make([][]float64, steps)
	ts := make([]gle.Target, steps)
	for t := range steps {
		xs[t] = make([]float64, batch*in)
		for i := range xs[t] {
			xs[t][i] = math.Sin(0.2*float64(t)+float64(i)) + 0.3*rng.NormFloat64()
		}
		switch loss {
		case gle.MSE:
			v := make([]float64, batch*out)
			for i := range v {
				v[i] = math.Cos(0.15*float64(t) + float64(i))
			}
			ts[t] = gle.Target{Values: v}
		case gle.CE:
			c := make([]int, batch)
			for i := range c {
				c[i] = (t/15 + i) % out
			}
			ts[t] = gle.Target{Classes: c}
		}
	}
	return xs, ts
}

// totalLoss runs the errors-off forward pass from rest and returns Σ_t L_t.
func totalLoss(t testing.TB, n *gle.Network, batch int, xs [][]float64, ts []gle.Target) float64 {
	t.Helper()
	b, err := gradient.New(n, batch, len(xs))
	if err != nil {
		t.Fatal(err)
	}
	var j float64
	for i, x := range xs {
		l, err := b.Step(nil, x, ts[i])
		if err != nil {
			t.Fatal(err)
		}
		j += l
	}
	return j
}

// tensors returns the non-nil gradient tensors of g, named.
func tensors(n *gle.Network, g *gle.Grads) []gle.Tensor { return g.Tensors(n) }

// maxAbs returns the largest |x| over all tensors of g.
func maxAbs(n *gle.Network, g *gle.Grads) float64 {
	var m float64
	for _, tn := range tensors(n, g) {
		for _, v := range tn.Data {
			m = math.Max(m, math.Abs(v))
		}
	}
	return m
}

// gradsDiffer reports the first tensor where a and b differ by more than
// tol (absolute), or "" if none does.
func gradsDiffer(n *gle.Network, a, b *gle.Grads, tol float64) string {
	ta, tb := tensors(n, a), tensors(n, b)
	if len(ta) != len(tb) {
		return fmt.Sprintf("%d tensors vs %d", len(ta), len(tb))
	}
	for i := range ta {
		if ta[i].Name != tb[i].Name {
			return fmt.Sprintf("tensor %s vs %s", ta[i].Name, tb[i].Name)
		}
		for k, v := range ta[i].Data {
			w := tb[i].Data[k]
			if !(math.Abs(v-w) <= tol) || (tol == 0 && v != w) { // NaN fails too
				return fmt.Sprintf("%s[%d]: %.17g vs %.17g", ta[i].Name, k, v, w)
			}
		}
	}
	return ""
}

// paramsDiffer compares every parameter of two networks bit for bit.
func paramsDiffer(a, b *gle.Network) string {
	ta, tb := a.Tensors(), b.Tensors()
	if len(ta) != len(tb) {
		return fmt.Sprintf("%d tensors vs %d", len(ta), len(tb))
	}
	for i := range ta {
		if ta[i].Name != tb[i].Name {
			return fmt.Sprintf("tensor %s vs %s", ta[i].Name, tb[i].Name)
		}
		for k, v := range ta[i].Data {
			if w := tb[i].Data[k]; v != w {
				return fmt.Sprintf("%s[%d]: %.17g vs %.17g", ta[i].Name, k, v, w)
			}
		}
	}
	return ""
}

// cosine returns the cosine of the angle between a and b.
func cosine(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d, na, nb = d+a[i]*b[i], na+a[i]*a[i], nb+b[i]*b[i]
	}
	return d / math.Sqrt(na*nb)
}

// copyState returns a copy of the engine state s.
func copyState(n *gle.Network, s *gle.State) *gle.State {
	c := gle.NewState(n, s.Batch)
	c.CopyFrom(s)
	return c
}

// errPanicked is what noPanic returns for a call that panicked.
var errPanicked = errors.New("panicked")

// noPanic runs f and turns a panic into a test failure (and errPanicked),
// so that one panicking call does not stop the other checks.
func noPanic(t *testing.T, name string, f func() error) error {
	t.Helper()
	r, err := catch(f)
	if r != nil {
		t.Errorf("%s panicked (want an error): %v", name, r)
		return errPanicked
	}
	return err
}

// catch runs f and returns what it panicked with, or its error.
func catch(f func() error) (recovered any, err error) {
	defer func() { recovered = recover() }()
	return nil, f()
}
