package gle

import (
	"errors"
	"math"
	"testing"
)

func TestActivationTable(t *testing.T) {
	for _, tc := range []struct {
		a         Activation
		x         float64
		phi, dphi float64
	}{
		{Linear, -3, -3, 1},
		{ReLU, 2, 2, 1}, {ReLU, -2, 0, 0}, {ReLU, 0, 0, 0},
		{Tanh, 0.5, math.Tanh(0.5), 1 - math.Tanh(0.5)*math.Tanh(0.5)},
		{Sigmoid, 0, 0.5, 0.25},
		{Softplus, 0, math.Log(2), 0.5},
		{Softplus, 25, 25, 1 / (1 + math.Exp(-25))}, // x itself above 20
		{Softplus, -40, math.Log1p(math.Exp(-40)), 1 / (1 + math.Exp(40))},
		{HardTanh, 1, 1, 1}, {HardTanh, -1, -1, 1}, {HardTanh, 1.5, 1, 0}, {HardTanh, -2, -1, 0},
		{HardSigmoid, 0, 0, 1}, {HardSigmoid, 1, 1, 1}, {HardSigmoid, 0.3, 0.3, 1},
		{HardSigmoid, -0.1, 0, 0}, {HardSigmoid, 1.2, 1, 0},
	} {
		phi, dphi := tc.a.Eval(tc.x)
		if math.Abs(phi-tc.phi) > 1e-15 || math.Abs(dphi-tc.dphi) > 1e-15 {
			t.Errorf("%v(%g) = %g, %g; want %g, %g", tc.a, tc.x, phi, dphi, tc.phi, tc.dphi)
		}
	}
}

// TestActivationDerivative checks φ′ against central differences where φ
// is differentiable, and that Apply agrees with Eval.
func TestActivationDerivative(t *testing.T) {
	const h = 1e-6
	xs := []float64{-3.3, -1.7, -0.45, 0.2, 0.61, 1.4, 2.9, 19.5}
	for a := Linear; a <= HardSigmoid; a++ {
		phi, dphi := make([]float64, len(xs)), make([]float64, len(xs))
		a.Apply(phi, dphi, xs)
		for i, x := range xs {
			p, d := a.Eval(x)
			if p != phi[i] || d != dphi[i] {
				t.Errorf("%v: Apply(%g) = %g, %g; Eval = %g, %g", a, x, phi[i], dphi[i], p, d)
			}
			pp, _ := a.Eval(x + h)
			pm, _ := a.Eval(x - h)
			if fd := (pp - pm) / (2 * h); math.Abs(fd-d) > 1e-7*max(1, math.Abs(d)) {
				t.Errorf("%v′(%g) = %g, finite difference %g", a, x, d, fd)
			}
		}
	}
}

func TestParseActivation(t *testing.T) {
	for a := Linear; a <= HardSigmoid; a++ {
		got, err := ParseActivation(a.String())
		if err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a.String(), got, err)
		}
	}
	if _, err := ParseActivation("swish"); !errors.Is(err, ErrUnknownName) {
		t.Errorf("ParseActivation(swish): %v, want ErrUnknownName", err)
	}
}

// BenchmarkApply times φ and φ′ of 100 values per activation.
func BenchmarkApply(b *testing.B) {
	x := make([]float64, 100)
	for i := range x {
		x[i] = float64(i)/25 - 2
	}
	phi, dphi := make([]float64, 100), make([]float64, 100)
	for a := Linear; a <= HardSigmoid; a++ {
		b.Run(a.String(), func(b *testing.B) {
			for range b.N {
				a.Apply(phi, dphi, x)
			}
		})
	}
}
