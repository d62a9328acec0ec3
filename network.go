package gle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Network holds the parameters of a layered GLE network (SPEC §2–3).
// Layer l reads the rates of layer l−1 (layer 0 reads the input) and the
// top layer's rates are the network output.
type Network struct {
	Dt                float64 // Euler step
	Beta              float64 // target error scale β
	Loss              Loss
	ProspectiveErrors bool // ê = v + τm v̇ (GLE) instead of ê = e
	Layers            []Layer
}

// Layer holds one layer's parameters. W is Out×In, row-major: W[o*In+i].
type Layer struct {
	In, Out int
	Phi     Activation
	W       []float64
	B       []float64 // nil: no bias
	TauM    []float64 // τm per neuron (Out)
	TauR    []float64 // τr per neuron (Out)
	Gamma   float64   // error nudging γ: τm u̇ = −u + W r + b + γ ê

	LearnW, LearnB, LearnTauM, LearnTauR bool
}

// NewNetwork validates s and builds its network, drawing weights that the
// spec does not give from its initializers seeded with s.Seed.
func NewNetwork(s *Spec) (*Network, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	loss, _ := ParseLoss(s.Loss)
	n := &Network{Dt: s.Dt, Beta: s.BetaOrDefault(), Loss: loss, ProspectiveErrors: s.Prospective()}
	for i := range s.Layers {
		ls := &s.Layers[i]
		phi := Linear
		if ls.Phi != "" {
			phi, _ = ParseActivation(ls.Phi)
		}
		l := Layer{
			In: ls.In, Out: ls.Out, Phi: phi, Gamma: ls.Gamma,
			W:      make([]float64, ls.Out*ls.In),
			TauM:   broadcast(ls.TauM, ls.Out),
			TauR:   broadcast(ls.TauR, ls.Out),
			LearnW: ls.learnWeight(), LearnB: ls.learnBias() && !ls.Bias.Disabled,
			LearnTauM: ls.LearnTauM, LearnTauR: ls.LearnTauR,
		}
		if !ls.Bias.Disabled {
			l.B = make([]float64, ls.Out)
		}
		// Each layer draws from its own stream, so adding a layer or giving
		// one layer's weights leaves the others' draws unchanged.
		rng := rand.New(rand.NewPCG(s.Seed, uint64(i)))
		l.initialize(ls.Init, rng)
		for o, row := range ls.Weight {
			copy(l.W[o*l.In:], row)
		}
		if ls.Bias.Values != nil {
			copy(l.B, ls.Bias.Values)
		}
		n.Layers = append(n.Layers, l)
	}
	return n, nil
}

func broadcast(t Taus, n int) []float64 {
	if len(t) == 1 {
		out := make([]float64, n)
		for i := range out {
			out[i] = t[0]
		}
		return out
	}
	return slices.Clone(t)
}

// initialize draws W and B: "pytorch" is uniform in ±1/√In for both (as
// torch.nn.Linear), "zeros" sets both to zero, "identity" sets W = I and
// B = 0.
func (l *Layer) initialize(init string, rng *rand.Rand) {
	switch init {
	case "", "pytorch":
		bound := 1 / math.Sqrt(float64(l.In))
		for i := range l.W {
			l.W[i] = bound * (2*rng.Float64() - 1)
		}
		for i := range l.B {
			l.B[i] = bound * (2*rng.Float64() - 1)
		}
	case "identity":
		for i := range l.Out {
			l.W[i*l.In+i] = 1
		}
	}
}

// Inputs returns the number of network inputs; Outputs the number of outputs.
func (n *Network) Inputs() int  { return n.Layers[0].In }
func (n *Network) Outputs() int { return n.Layers[len(n.Layers)-1].Out }

// NumParams returns the number of weights, biases and τm values that learn.
func (n *Network) NumParams() int {
	var c int
	for i := range n.Layers {
		l := &n.Layers[i]
		if l.LearnW {
			c += len(l.W)
		}
		if l.LearnB {
			c += len(l.B)
		}
		if l.LearnTauM {
			c += len(l.TauM)
		}
		if l.LearnTauR {
			c += len(l.TauR)
		}
	}
	return c
}

// Clone returns a deep copy of n.
func (n *Network) Clone() *Network {
	c := *n
	c.Layers = slices.Clone(n.Layers)
	for i := range c.Layers {
		l := &c.Layers[i]
		l.W, l.B = slices.Clone(l.W), slices.Clone(l.B)
		l.TauM, l.TauR = slices.Clone(l.TauM), slices.Clone(l.TauR)
	}
	return &c
}

// Check verifies shapes, finiteness and τ ≥ dt of a network built or
// edited by hand.
func (n *Network) Check() error {
	if !(n.Dt > 0) || math.IsInf(n.Dt, 0) {
		return fieldErr(ErrInvalid, "Dt", n.Dt, "must be positive and finite")
	}
	if len(n.Layers) == 0 {
		return fieldErr(ErrInvalid, "Layers", 0, "need at least one layer")
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		name := fmt.Sprintf("Layers[%d]", i)
		if l.In <= 0 || l.Out <= 0 {
			return fieldErr(ErrInvalid, name, fmt.Sprintf("%d×%d", l.Out, l.In), "sizes must be positive")
		}
		if i > 0 && l.In != n.Layers[i-1].Out {
			return fieldErr(ErrShape, name+".In", l.In, "must equal Layers[%d].Out = %d", i-1, n.Layers[i-1].Out)
		}
		if len(l.W) != l.In*l.Out {
			return fieldErr(ErrShape, name+".W", len(l.W), "want Out×In = %d", l.In*l.Out)
		}
		if l.B != nil && len(l.B) != l.Out {
			return fieldErr(ErrShape, name+".B", len(l.B), "want Out = %d", l.Out)
		}
		if len(l.TauM) != l.Out || len(l.TauR) != l.Out {
			return fieldErr(ErrShape, name+".TauM/TauR", fmt.Sprintf("%d/%d", len(l.TauM), len(l.TauR)), "want Out = %d", l.Out)
		}
		for j := range l.Out {
			if !(l.TauM[j] >= n.Dt) || !(l.TauR[j] >= n.Dt) {
				return fieldErr(ErrInvalid, fmt.Sprintf("%s.TauM/TauR[%d]", name, j), fmt.Sprintf("%g/%g", l.TauM[j], l.TauR[j]), "must be ≥ dt = %g", n.Dt)
			}
		}
		if j := firstNonFinite(l.W); j >= 0 {
			return fieldErr(ErrNonFinite, fmt.Sprintf("%s.W[%d]", name, j), l.W[j], "must be finite")
		}
		if j := firstNonFinite(l.B); j >= 0 {
			return fieldErr(ErrNonFinite, fmt.Sprintf("%s.B[%d]", name, j), l.B[j], "must be finite")
		}
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or −1.
func firstNonFinite[T Float](x []T) int {
	for i, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return i
		}
	}
	return -1
}

// ToSpec returns a copy of base whose layers carry n's current parameters
// (weights, biases, τm, τr), so that NewNetwork(ToSpec(base)) rebuilds n.
// base must be the spec n was built from (or one of the same shapes).
func (n *Network) ToSpec(base *Spec) *Spec {
	s := *base
	s.Layers = slices.Clone(base.Layers)
	for i := range s.Layers {
		l, ls := &n.Layers[i], &s.Layers[i]
		ls.Weight = make([][]float64, l.Out)
		for o := range l.Out {
			ls.Weight[o] = slices.Clone(l.W[o*l.In : (o+1)*l.In])
		}
		if l.B == nil {
			ls.Bias = Bias{Disabled: true}
		} else {
			ls.Bias = Bias{Values: slices.Clone(l.B)}
		}
		ls.TauM, ls.TauR = slices.Clone(l.TauM), slices.Clone(l.TauR)
	}
	return &s
}
