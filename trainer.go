package gle

import (
	"fmt"
	"math"
)

// Optimizer updates parameters from gradients, in place: params[k] and
// grads[k] are aligned slices (see Pairs). Package optim implements SGD
// and Adam with PyTorch's semantics.
type Optimizer interface {
	Step(params, grads [][]float64)
	LR() float64
	SetLR(lr float64)
}

// Trainer runs a float64 Engine with online learning.
type Trainer = TrainerOf[float64]

// Trainer32 runs a float32 Engine32 with online learning; parameters,
// gradients and the optimizer stay in float64 (see Float).
type Trainer32 = TrainerOf[float32]

// TrainerOf runs an engine with online learning: at every dt step it
// computes the gradients of SPEC §3, lets the optimizer step on them, then
// clamps τm from below (SPEC §3, §5).
type TrainerOf[T Float] struct {
	Engine *EngineOf[T]
	// Opt steps on the gradients; nil runs the network without learning.
	Opt Optimizer
	// TauMMin, when positive, clamps every τm to at least this value after
	// each optimizer step.
	TauMMin float64
	// LearnFromStep is the first step (counting from 0) at which Opt steps.
	LearnFromStep int
	// Steps counts the calls of Step so far.
	Steps int

	params, grads [][]float64
}

// NewTrainer returns a float64 trainer for n with a zero state for the
// given batch size; opt may be nil.
func NewTrainer(n *Network, batch int, opt Optimizer) (*Trainer, error) {
	return NewTrainerOf[float64](n, batch, opt)
}

// NewTrainerOf returns a trainer in T for n with a zero state for the
// given batch size; opt may be nil.
func NewTrainerOf[T Float](n *Network, batch int, opt Optimizer) (*TrainerOf[T], error) {
	for i, l := range n.Layers {
		if l.LearnTauR && opt != nil {
			return nil, fieldErr(ErrInvalid, fmt.Sprintf("layers[%d].learn_tau_r", i), true,
				"GLE's local rule has no τr update; train τr with exact gradients (package bptt)")
		}
	}
	e, err := NewEngineOf[T](n, batch)
	if err != nil {
		return nil, err
	}
	g := NewGrads(n)
	tr := &TrainerOf[T]{Engine: e, Opt: opt}
	tr.params, tr.grads = Pairs(n, g)
	e.Grads = g
	return tr, nil
}

// Step runs one dt step of the engine (see Engine.Step for the output lag)
// and, from LearnFromStep on, one optimizer step. It returns the loss of
// the output against t (0 without a target). It fails with ErrDiverged,
// naming the layer, variable, sample and neuron, when the state becomes
// NaN or ±Inf.
func (tr *TrainerOf[T]) Step(out, x []float64, t Target) (float64, error) {
	if out == nil {
		return 0, fmt.Errorf("%w: Trainer.Step needs an output buffer", ErrShape)
	}
	learn := tr.Opt != nil && tr.Steps >= tr.LearnFromStep
	grads := tr.Engine.Grads
	if !learn {
		tr.Engine.Grads = nil // skip computing gradients nobody uses
	}
	err := tr.Engine.Step(out, x, t)
	tr.Engine.Grads = grads
	if err != nil {
		return 0, err
	}
	tr.Steps++
	loss := tr.Engine.Net.Loss.Value(out, t, tr.Engine.Net.Outputs())
	if math.IsNaN(loss) || math.IsInf(loss, 0) || firstNonFinite(out) >= 0 {
		if err := tr.Engine.State.CheckFinite(); err != nil {
			return loss, fmt.Errorf("step %d: %w", tr.Steps-1, err)
		}
		return loss, fmt.Errorf("step %d: %w: output or loss is %v", tr.Steps-1, ErrDiverged, loss)
	}
	if learn {
		tr.Opt.Step(tr.params, tr.grads)
		if tr.TauMMin > 0 {
			clampTauM(tr.Engine.Net, tr.TauMMin)
		}
	}
	return loss, nil
}

// clampTauM sets τm = max(τm, min) for every neuron of n.
func clampTauM(n *Network, min float64) {
	for i := range n.Layers {
		ClampTaus(n.Layers[i].TauM, min)
	}
}

// ClampTaus sets every τ in taus to at least min.
func ClampTaus(taus []float64, min float64) {
	for j, v := range taus {
		if v < min {
			taus[j] = min
		}
	}
}
