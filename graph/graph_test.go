package graph

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/optim"
)

// TestLayeredSpecialCase: a chain graph built from a layered network runs
// exactly like the layered GLE engine (errors on, prospective, γ ≠ 0).
func TestLayeredSpecialCase(t *testing.T) {
	beta := 0.7
	s := &gle.Spec{Dt: 0.05, Beta: &beta, Loss: "ce", Seed: 9, Layers: []gle.LayerSpec{
		{In: 3, Out: 6, Phi: "tanh", TauM: gle.Taus{0.5, 1, 1, 0.5, 1, 0.7}, TauR: gle.Taus{0.1, 1, 0.2, 0.5, 0.05, 0.7}, Gamma: 0.3},
		{In: 6, Out: 5, Phi: "softplus", TauM: gle.Taus{0.8}, TauR: gle.Taus{0.1}, Bias: gle.Bias{Disabled: true}},
		{In: 5, Out: 4, Phi: "linear", TauM: gle.Taus{1}, TauR: gle.Taus{1}},
	}}
	ln, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	gn := FromLayered(ln)
	le, _ := gle.NewEngine(ln, 2)
	ge := NewEngine(gn, 2)
	o1, o2 := make([]float64, 8), make([]float64, 8)
	var worst float64
	for step := range 300 {
		x := []float64{math.Sin(0.1 * float64(step)), 1, -0.5, math.Cos(0.07 * float64(step)), 0.2, 0.3}
		tgt := gle.Target{Classes: []int{step / 50 % 4, 3}}
		if err := le.Step(o1, x, tgt); err != nil {
			t.Fatal(err)
		}
		if err := ge.Step(o2, x, tgt); err != nil {
			t.Fatal(err)
		}
		for i := range o1 {
			worst = math.Max(worst, math.Abs(o1[i]-o2[i]))
		}
		for l := range ln.Layers {
			for i, v := range le.State.Layers[l].U {
				worst = math.Max(worst, math.Abs(v-ge.State.U[l][i]))
			}
			for i, v := range le.State.Layers[l].V {
				worst = math.Max(worst, math.Abs(v-ge.State.V[l][i]))
			}
		}
	}
	t.Logf("largest difference from the layered engine: %g", worst)
	if worst > 1e-12 {
		t.Errorf("graph engine differs from the layered engine by %g", worst)
	}
}

// randomGraph has feed-forward, skip, lateral and recurrent (self)
// projections.
func randomGraph(t *testing.T, seed uint64, phi, loss string) *Network {
	rng := rand.New(rand.NewPCG(seed, 3))
	taus := func(n int, lo, hi float64) gle.Taus {
		v := make(gle.Taus, n)
		for i := range v {
			v[i] = lo + (hi-lo)*rng.Float64()
		}
		return v
	}
	s := &Spec{Dt: 0.05, Beta: 1, Loss: loss, Inputs: 2, Output: "out", Seed: seed,
		Populations: []PopulationSpec{
			{Name: "a", Size: 4, Phi: phi, TauM: taus(4, 0.3, 1), TauR: taus(4, 0.05, 0.25)},
			{Name: "b", Size: 3, Phi: phi, TauM: taus(3, 0.3, 1), TauR: taus(3, 0.05, 0.25), Bias: gle.Bias{Disabled: true}},
			{Name: "out", Size: 2, Phi: "linear", TauM: taus(2, 0.5, 1), TauR: taus(2, 0.05, 0.4)},
		},
		Projections: []ProjectionSpec{
			{From: Input, To: "a"}, {From: "a", To: "a"}, {From: "a", To: "b"}, {From: "b", To: "a"},
			{From: "b", To: "out"}, {From: "a", To: "out"}, {From: Input, To: "out"},
		}}
	n, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range n.Projs {
		for k := range p.W {
			p.W[k] = 1.2 * rng.NormFloat64()
		}
	}
	return n
}

func sequence(seed uint64, T, B, in, k int, loss string) ([][]float64, []gle.Target) {
	rng := rand.New(rand.NewPCG(seed, 5))
	xs, ts := make([][]float64, T), make([]gle.Target, T)
	for t := range T {
		xs[t] = make([]float64, B*in)
		for i := range xs[t] {
			xs[t][i] = math.Sin(0.3*float64(t)+float64(i)) + 0.2*rng.NormFloat64()
		}
		if loss == "ce" {
			c := make([]int, B)
			for b := range c {
				c[b] = (t/15 + b) % k
			}
			ts[t] = gle.Target{Classes: c}
		} else {
			v := make([]float64, B*k)
			for i := range v {
				v[i] = math.Cos(0.2*float64(t) + float64(i))
			}
			ts[t] = gle.Target{Values: v}
		}
	}
	return xs, ts
}

// TestGraphGradCheck: the graph BPTT gradient of every weight, bias, τm
// and τr of random recurrent graphs agrees with fourth-order central
// differences to 1e-6 relative.
func TestGraphGradCheck(t *testing.T) {
	for i, c := range []struct{ phi, loss string }{{"tanh", "mse"}, {"sigmoid", "ce"}, {"softplus", "mse"}, {"tanh", "ce"}} {
		t.Run(fmt.Sprintf("%s-%s", c.phi, c.loss), func(t *testing.T) {
			n := randomGraph(t, uint64(i+1), c.phi, c.loss)
			xs, ts := sequence(uint64(i), 60, 2, 2, 2, c.loss)
			g := NewGrads(n)
			if _, err := Loss(n, 2, xs, ts, g); err != nil {
				t.Fatal(err)
			}
			type param struct {
				name string
				p, d []float64
			}
			var ps []param
			for k := range n.Projs {
				ps = append(ps, param{fmt.Sprintf("W%d", k), n.Projs[k].W, g.W[k]})
			}
			for q := range n.Pops {
				ps = append(ps, param{"tau_m " + n.Pops[q].Name, n.Pops[q].TauM, g.TauM[q]}, param{"tau_r " + n.Pops[q].Name, n.Pops[q].TauR, g.TauR[q]})
				if n.Pops[q].B != nil {
					ps = append(ps, param{"b " + n.Pops[q].Name, n.Pops[q].B, g.B[q]})
				}
			}
			var scale float64
			num := make([][]float64, len(ps))
			for pi, p := range ps {
				num[pi] = make([]float64, len(p.p))
				for k := range p.p {
					orig, h := p.p[k], 1e-4*math.Max(1, math.Abs(p.p[k]))
					var j [4]float64
					for a, off := range [4]float64{h, -h, 2 * h, -2 * h} {
						p.p[k] = orig + off
						j[a], _ = Loss(n, 2, xs, ts, nil)
					}
					p.p[k] = orig
					num[pi][k] = (8*(j[0]-j[1]) - (j[2] - j[3])) / (12 * h)
					scale = math.Max(scale, math.Abs(num[pi][k]))
				}
			}
			var worst float64
			for pi, p := range ps {
				for k := range p.p {
					e := math.Abs(p.d[k]-num[pi][k]) / math.Max(math.Abs(num[pi][k]), 1e-4*scale)
					if e > worst {
						worst = e
					}
					if e > 1e-6 {
						t.Errorf("%s[%d]: exact %.10g, numeric %.10g (rel %.3g)", p.name, k, p.d[k], num[pi][k], e)
					}
				}
			}
			t.Logf("max relative error %.3g", worst)
		})
	}
}

// TestForwardMatchesEngine: with no target, the engine runs the forward
// pass the BPTT differentiates (the same outputs).
func TestGraphForwardMatchesEngine(t *testing.T) {
	n := randomGraph(t, 7, "tanh", "mse")
	xs, ts := sequence(7, 40, 2, 2, 2, "mse")
	e := NewEngine(n, 2)
	out := make([]float64, 4)
	var j float64
	for step, x := range xs {
		if err := e.Step(out, x, gle.Target{}); err != nil {
			t.Fatal(err)
		}
		j += n.Loss.Value(out, ts[step], 2)
	}
	jb, err := Loss(n, 2, xs, ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if j != jb {
		t.Errorf("engine loss %.17g, BPTT forward %.17g", j, jb)
	}
}

func TestSpecErrors(t *testing.T) {
	base := func() *Spec {
		return &Spec{Dt: 0.1, Beta: 1, Loss: "mse", Inputs: 1, Output: "o",
			Populations: []PopulationSpec{{Name: "h", Size: 2, TauM: gle.Taus{1}, TauR: gle.Taus{1}}, {Name: "o", Size: 1, TauM: gle.Taus{1}, TauR: gle.Taus{1}}},
			Projections: []ProjectionSpec{{From: Input, To: "h"}, {From: "h", To: "o"}}}
	}
	if _, err := New(base()); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Spec){
		"dangling from":   func(s *Spec) { s.Projections[1].From = "ghost" },
		"dangling to":     func(s *Spec) { s.Projections[0].To = "ghost" },
		"no output":       func(s *Spec) { s.Output = "nowhere" },
		"unreachable":     func(s *Spec) { s.Projections = s.Projections[:1] },
		"weight shape":    func(s *Spec) { s.Projections[1].Weight = [][]float64{{1, 2, 3}} },
		"duplicate name":  func(s *Spec) { s.Populations[1].Name = "h" },
		"tau below dt":    func(s *Spec) { s.Populations[0].TauM = gle.Taus{0.01} },
		"unknown phi":     func(s *Spec) { s.Populations[0].Phi = "gelu" },
		"reserved name":   func(s *Spec) { s.Populations[0].Name = Input },
		"non-positive dt": func(s *Spec) { s.Dt = 0 },
	} {
		s := base()
		edit(s)
		_, err := New(s)
		var fe *gle.FieldError
		if err == nil || !errors.As(err, &fe) {
			t.Errorf("%s: %v, want a FieldError", name, err)
		}
	}
}

// TestLayeredLearningSpecialCase: with GLE's local rule and Adam on both,
// a chain graph learns exactly as the layered trainer (weights and
// biases; ≤ 1e-12 after 300 steps).
func TestLayeredLearningSpecialCase(t *testing.T) {
	s := &gle.Spec{Dt: 0.1, Loss: "mse", Seed: 4, Optimizer: gle.OptimizerSpec{Kind: "adam", LR: 0.01}, Layers: []gle.LayerSpec{
		{In: 2, Out: 5, Phi: "tanh", TauM: gle.Taus{1, 0.5, 1, 0.7, 1}, TauR: gle.Taus{0.1, 0.5, 0.2, 0.1, 1}},
		{In: 5, Out: 2, Phi: "linear", TauM: gle.Taus{1}, TauR: gle.Taus{1}},
	}}
	ln, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	gn := FromLayered(ln)
	lt, err := gle.NewTrainer(ln, 3, optim.NewAdam(0.01))
	if err != nil {
		t.Fatal(err)
	}
	ge := NewEngine(gn, 3)
	ge.Grads = NewGrads(gn)
	params, grads := Pairs(gn, ge.Grads)
	adam := optim.NewAdam(0.01)
	o1, o2 := make([]float64, 6), make([]float64, 6)
	for step := range 300 {
		x := []float64{math.Sin(0.2 * float64(step)), 0.5, -1, 0.3, math.Cos(0.1 * float64(step)), 0}
		y := gle.Target{Values: []float64{0.5 * math.Sin(0.2*float64(step-3)), 0.1, 0, 0.2, -0.3, 0.4}}
		if _, err := lt.Step(o1, x, y); err != nil {
			t.Fatal(err)
		}
		if err := ge.Step(o2, x, y); err != nil {
			t.Fatal(err)
		}
		adam.Step(params, grads)
	}
	var worst float64
	for l := range ln.Layers {
		for k, v := range ln.Layers[l].W {
			worst = math.Max(worst, math.Abs(v-gn.Projs[l].W[k]))
		}
		for k, v := range ln.Layers[l].B {
			worst = math.Max(worst, math.Abs(v-gn.Pops[l].B[k]))
		}
	}
	t.Logf("largest parameter difference after 300 learning steps: %g", worst)
	if worst > 1e-12 {
		t.Errorf("graph learning differs from layered GLE by %g", worst)
	}
}

func TestEngineAllocatesNothing(t *testing.T) {
	n := randomGraph(t, 2, "tanh", "ce")
	e := NewEngine(n, 2)
	e.Grads = NewGrads(n)
	out := make([]float64, 4)
	x := []float64{0.1, 0.2, 0.3, 0.4}
	tgt := gle.Target{Classes: []int{0, 1}}
	e.Step(out, x, tgt)
	if a := testing.AllocsPerRun(100, func() { e.Step(out, x, tgt) }); a != 0 {
		t.Errorf("%v allocations per step", a)
	}
}
