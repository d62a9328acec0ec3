package gle

import (
	"fmt"
	"strings"

	"github.com/gle-go/gle/internal/vmath"
)

// Activation is a neuron's rate function φ together with the derivative φ′
// that the reference uses (docs/model.md §3, table of activations).
type Activation int

// The activations of docs/model.md §3. The zero value is Linear.
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

// ParseActivation returns the activation with the given spec name ("" is
// linear). It returns ErrUnknownName (wrapped) for any other name.
func ParseActivation(name string) (Activation, error) {
	if name == "" {
		return Linear, nil
	}
	for i, n := range activationNames {
		if n == name {
			return Activation(i), nil
		}
	}
	return 0, fieldErr(ErrUnknownName, "activation", name, "want one of %s", strings.Join(activationNames[:], ", "))
}

// MarshalText writes the spec name.
func (a Activation) MarshalText() ([]byte, error) {
	if !a.valid() {
		return nil, fieldErr(ErrInvalid, "activation", int(a), "not an activation")
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads a spec name.
func (a *Activation) UnmarshalText(b []byte) error {
	v, err := ParseActivation(string(b))
	*a = v
	return err
}

func (a Activation) valid() bool { return a >= 0 && int(a) < len(activationNames) }

// softplusThreshold is the input above which softplus returns x itself,
// as the reference (PyTorch's default threshold of 20) does.
const softplusThreshold = 20

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
		return vmath.TanhAt(x)
	case Sigmoid:
		return vmath.SigmoidAt(x)
	case Softplus:
		return vmath.SoftplusAt(x, softplusThreshold)
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
func (a Activation) Apply(phi, dphi, x []float64) { applyPhi(a, phi, dphi, x) }

// applyPhi is Apply for a population of T (float32 values are evaluated
// in float64 and rounded once).
func applyPhi[T Float](a Activation, phi, dphi, x []T) {
	phi, dphi = phi[:len(x)], dphi[:len(x)]
	switch a {
	case Linear:
		copy(phi, x)
		for i := range dphi {
			dphi[i] = 1
		}
	case Tanh:
		vmath.Tanh(phi, dphi, x)
	case Sigmoid:
		vmath.Sigmoid(phi, dphi, x)
	case Softplus:
		vmath.Softplus(phi, dphi, x, softplusThreshold)
	default:
		for i, v := range x {
			p, d := a.Eval(float64(v))
			phi[i], dphi[i] = T(p), T(d)
		}
	}
}
