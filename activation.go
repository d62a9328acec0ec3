package gle

import (
	"fmt"
	"math"
)

// Activation is a neuron's rate function φ together with the derivative φ′
// that the reference uses (SPEC §3, table of activations).
type Activation int

// The activations of SPEC §3. The zero value is Linear.
const (
	Linear Activation = iota
	ReLU
	Tanh
	Sigmoid
	Softplus
	HardTanh
	HardSigmoid
)

var activationNames = [...]string{
	Linear:      "linear",
	ReLU:        "relu",
	Tanh:        "tanh",
	Sigmoid:     "sigmoid",
	Softplus:    "softplus",
	HardTanh:    "hard_tanh",
	HardSigmoid: "hard_sigmoid",
}

// String returns the name used in spec files, e.g. "hard_tanh".
func (a Activation) String() string {
	if a < 0 || int(a) >= len(activationNames) {
		return fmt.Sprintf("Activation(%d)", int(a))
	}
	return activationNames[a]
}

// ParseActivation returns the activation with the given spec name.
// It returns ErrUnknownName (wrapped) for any other name.
func ParseActivation(name string) (Activation, error) {
	for i, n := range activationNames {
		if n == name {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("%w: activation %q (want one of %v)", ErrUnknownName, name, activationNames)
}

// softplusThreshold is the input above which softplus returns x itself,
// as the reference (PyTorch's default threshold of 20) does.
const softplusThreshold = 20

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// softplus returns log(1+eˣ) (x itself above the threshold) and σ(x),
// from one exponential. For e > 1/16, log(1+e) is within 2e-15 relative
// of the exact value (1+e rounds by at most half an ulp); below, log1p
// keeps full relative precision.
func softplus(x float64) (phi, dphi float64) {
	if x > softplusThreshold {
		return x, sigmoid(x)
	}
	e := math.Exp(x)
	if e > 0.0625 {
		phi = math.Log(1 + e)
	} else {
		phi = math.Log1p(e)
	}
	return phi, e / (1 + e)
}

// Eval returns φ(x) and φ′(x) for one value.
func (a Activation) Eval(x float64) (phi, dphi float64) {
	switch a {
	case Linear:
		return x, 1
	case ReLU:
		if x > 0 {
			return x, 1
		}
		return 0, 0
	case Tanh:
		t := math.Tanh(x)
		return t, 1 - t*t
	case Sigmoid:
		s := sigmoid(x)
		return s, s * (1 - s)
	case Softplus:
		return softplus(x)
	case HardTanh:
		// φ′ = 1[−1 ≤ x ≤ 1] (boundaries included, as the reference).
		switch {
		case x < -1:
			return -1, 0
		case x > 1:
			return 1, 0
		}
		return x, 1
	case HardSigmoid:
		// φ = clamp(x, 0, 1), φ′ = 1[0 ≤ x ≤ 1] (the reference's derivative).
		switch {
		case x < 0:
			return 0, 0
		case x > 1:
			return 1, 0
		}
		return x, 1
	}
	panic("gle: invalid activation " + a.String())
}

// Apply writes φ(x) into phi and φ′(x) into dphi element-wise.
// All three slices must have the same length.
func (a Activation) Apply(phi, dphi, x []float64) {
	phi, dphi = phi[:len(x)], dphi[:len(x)]
	switch a {
	case Linear:
		copy(phi, x)
		for i := range dphi {
			dphi[i] = 1
		}
	case Tanh:
		for i, v := range x {
			t := math.Tanh(v)
			phi[i], dphi[i] = t, 1-t*t
		}
	case Softplus:
		for i, v := range x {
			phi[i], dphi[i] = softplus(v)
		}
	default:
		for i, v := range x {
			phi[i], dphi[i] = a.Eval(v)
		}
	}
}
