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
