package experiments

import (
	"context"
	"math"
	"testing"
)

// TestLagNetErrorsMatchAdjoint: in the layers above the first, GLE's ê
// and the adjoint λ are in phase at the driving frequency and their gain
// ratio is the predicted Π (1+ω²τm²)/(1+ω²τr²), for several frequencies.
// (The first layer's tanh′ modulation mixes harmonics; it is reported, not
// asserted.)
func TestLagNetErrorsMatchAdjoint(t *testing.T) {
	for _, omega := range []float64{0.5, 1, 2} {
		c := DefaultLagNet()
		c.Omega = omega
		res, err := RunLagNet(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range res.Neurons {
			t.Logf("ω=%g layer %d neuron %d: phase %+.4f gain %.4g (theory %.4g)", omega, n.Layer, n.Neuron, n.Phase, n.Gain, n.PredictedGain)
			if n.Layer == 0 {
				continue
			}
			if math.Abs(n.Phase) > 0.03 {
				t.Errorf("ω=%g layer %d neuron %d: phase %.4f rad, want ≈ 0", omega, n.Layer, n.Neuron, n.Phase)
			}
			if math.Abs(n.Gain/n.PredictedGain-1) > 0.03 {
				t.Errorf("ω=%g layer %d neuron %d: gain %.4g, theory %.4g", omega, n.Layer, n.Neuron, n.Gain, n.PredictedGain)
			}
		}
	}
}
