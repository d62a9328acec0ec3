package bptt

import (
	"math"
	"testing"

	"github.com/gle-go/gle"
)

// TestAdjointConstantError: a single linear neuron with a constant α = 1
// has λ[t] = (dt/τm) (1 − e^{−(T−t)dt/τm}) / (1 − e^{−dt/τm}) for t ≥ 1.
func TestAdjointConstantError(t *testing.T) {
	const T, dt, tm, tr = 500, 0.01, 0.5, 0.1
	n := &gle.Network{Dt: dt, Beta: 1, Loss: gle.MSE, Layers: []gle.Layer{{In: 1, Out: 1, W: []float64{1}, TauM: []float64{tm}, TauR: []float64{tr}}}}
	rec := &Recording{Steps: T, Batch: 1, RPrime: [][]float64{make([]float64, T)}, TopError: make([]float64, T)}
	for i := range T {
		rec.RPrime[0][i], rec.TopError[i] = 1, 1
	}
	lam := Adjoint(n, rec)[0]
	q := math.Exp(-dt / tm)
	for i := 1; i < T; i++ {
		want := dt / tm * (1 - math.Pow(q, float64(T-i))) / (1 - q)
		if math.Abs(lam[i]-want) > 1e-12 {
			t.Fatalf("λ[%d] = %.15g, want %.15g", i, lam[i], want)
		}
	}
}

// TestAlignTopLayer: the top layer's local update is the exact gradient's
// per-step contribution up to the one-step output lag, so on a slowly
// varying task they align almost perfectly; the norm ratio is ≈ 1 after
// the loss factor.
func TestAlignTopLayer(t *testing.T) {
	for _, loss := range []string{"mse", "ce"} {
		n := randomNet(t, 8, "tanh", loss, false)
		n.Dt = 0.01
		xs, ts := randomSequence(8, 2000, 2, 2, 2, loss)
		for _, x := range xs { // smooth the inputs: no white noise
			for i := range x {
				x[i] = math.Round(x[i]*10) / 10
			}
		}
		rows, err := Align(n, 2, xs, ts, 250)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Window == -1 && r.Layer == 2 && r.Param == "weight" {
				t.Logf("%s: top layer cosine %.6f ratio %.4f", loss, r.Cosine, r.NormRatio)
				if r.Cosine < 0.99 || math.Abs(r.NormRatio-1) > 0.05 {
					t.Errorf("%s: top layer cosine %.4f, ratio %.4f; want ≈ 1, 1", loss, r.Cosine, r.NormRatio)
				}
			}
		}
	}
}
