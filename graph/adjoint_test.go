package graph

import (
	"math"
	"testing"

	"github.com/gle-go/gle"
)

// TestAdjointConvergesToBPTT: on a random recurrent graph driven by smooth
// signals over a fixed time, the continuous adjoint's gradient and dt times
// the exact discrete (BPTT) gradient approach each other as dt shrinks,
// roughly in proportion to dt.
func TestAdjointConvergesToBPTT(t *testing.T) {
	const horizon = 8.0
	var prev float64
	for i, dt := range []float64{0.04, 0.02, 0.01, 0.005} {
		n := randomGraph(t, 3, "tanh", "mse")
		for _, p := range n.Projs { // a stable, smooth regime
			for k := range p.W {
				p.W[k] *= 0.4
			}
		}
		n.Dt = dt
		steps := int(math.Round(horizon / dt))
		xs, ts := make([][]float64, steps), make([]gle.Target, steps)
		for s := range steps {
			tt := float64(s) * dt
			xs[s] = []float64{math.Sin(0.8 * tt), math.Cos(0.5*tt + 1)}
			ts[s] = gle.Target{Values: []float64{0.4 * math.Sin(0.6*tt-0.5), 0.3 * math.Cos(tt)}}
		}
		exact, adj := NewGrads(n), NewGrads(n)
		jb, err := Loss(n, 1, xs, ts, exact)
		if err != nil {
			t.Fatal(err)
		}
		ja, err := Adjoint(n, 1, xs, ts, adj)
		if err != nil {
			t.Fatal(err)
		}
		var diff, norm float64
		groups := [][2][][]float64{{exact.W, adj.W}, {exact.B, adj.B}, {exact.TauM, adj.TauM}, {exact.TauR, adj.TauR}}
		for _, gr := range groups {
			for q := range gr[0] {
				for k, v := range gr[0][q] {
					d := dt*v - gr[1][q][k]
					diff += d * d
					norm += gr[1][q][k] * gr[1][q][k]
				}
			}
		}
		rel := math.Sqrt(diff / norm)
		t.Logf("dt %-6g J: dt·ΣL %.6g, ∫ℓ %.6g; |dt·∇BPTT − ∇adjoint| / |∇adjoint| = %.3g", dt, dt*jb, ja, rel)
		if i > 0 && !(rel < 0.7*prev) {
			t.Errorf("dt %g: relative difference %.3g did not shrink (was %.3g)", dt, rel, prev)
		}
		prev = rel
	}
	if prev > 0.005 {
		t.Errorf("at dt = 0.005 the adjoint and BPTT still differ by %.3g", prev)
	}
}

// TestLossFromWindows: LossFrom over consecutive windows, carrying the
// state, runs the same forward pass as Loss over the whole sequence (equal
// summed loss, final state equal to the engine's), and over a single
// window gives Loss's gradient.
func TestLossFromWindows(t *testing.T) {
	n := randomGraph(t, 5, "tanh", "mse")
	xs, ts := sequence(5, 60, 2, 2, 2, "mse")
	whole := NewGrads(n)
	jw, err := Loss(n, 2, xs, ts, whole)
	if err != nil {
		t.Fatal(err)
	}
	s := NewState(n, 2)
	var js float64
	for w := 0; w < 60; w += 20 {
		j, err := LossFrom(n, s, xs[w:w+20], ts[w:w+20], NewGrads(n))
		if err != nil {
			t.Fatal(err)
		}
		js += j
	}
	if math.Abs(js-jw) > 1e-12*math.Abs(jw) {
		t.Errorf("windows sum to %.17g, whole sequence %.17g", js, jw)
	}
	e := NewEngine(n, 2)
	out := make([]float64, 4)
	for _, x := range xs {
		if err := e.Step(out, x, gle.Target{}); err != nil {
			t.Fatal(err)
		}
	}
	for q := range n.Pops {
		for i, v := range e.State.U[q] {
			if math.Abs(v-s.U[q][i]) > 1e-12 || math.Abs(e.State.R[q][i]-s.R[q][i]) > 1e-12 {
				t.Fatalf("population %d: final state differs from the engine's", q)
			}
		}
	}
	one := NewGrads(n)
	if _, err := LossFrom(n, NewState(n, 2), xs, ts, one); err != nil {
		t.Fatal(err)
	}
	for k := range one.W {
		for i, v := range one.W[k] {
			if v != whole.W[k][i] {
				t.Fatalf("W%d[%d]: LossFrom %g, Loss %g", k, i, v, whole.W[k][i])
			}
		}
	}
}
