package bptt

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
)

// Trainer learns with truncated BPTT: it runs the network forward and,
// every Window steps, computes the exact gradient of the window's summed
// loss, lets the optimizer step once, clamps the time constants, and cuts
// the graph (the state carries on). The reference scales the learning rate
// by the window length; do that when building the optimizer.
type Trainer struct {
	BPTT *BPTT
	Opt  gle.Optimizer // nil: no learning
	// TauMMin and TauRMin, when positive, clamp τm and τr after each
	// optimizer step.
	TauMMin, TauRMin float64
	// LearnFromStep: windows that end before this step do not learn.
	LearnFromStep int
	Steps         int // steps taken

	grads       *gle.Grads
	params, gsl [][]float64
}

// NewTrainer returns a truncated-BPTT trainer over windows of window steps.
// It learns the parameters n marks as learnable (including τr).
func NewTrainer(n *gle.Network, batch, window int, opt gle.Optimizer) (*Trainer, error) {
	b, err := New(n, batch, window)
	if err != nil {
		return nil, err
	}
	g := gle.NewGrads(n)
	tr := &Trainer{BPTT: b, Opt: opt, grads: g}
	tr.params, tr.gsl = gle.Pairs(n, g)
	return tr, nil
}

// Step runs one forward step (out receives the output, as gle.Engine.Step)
// and, at the end of each window, one learning step. It returns the step's
// loss, and ErrDiverged when the output becomes NaN or ±Inf.
func (tr *Trainer) Step(out, x []float64, t gle.Target) (float64, error) {
	loss, err := tr.BPTT.Step(out, x, t)
	if err != nil {
		return 0, err
	}
	tr.Steps++
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("step %d: %w: loss is %v", tr.Steps-1, gle.ErrDiverged, loss)
	}
	if tr.BPTT.Steps() < tr.BPTT.Window {
		return loss, nil
	}
	if tr.Opt == nil || tr.Steps <= tr.LearnFromStep {
		tr.BPTT.Discard()
		return loss, nil
	}
	tr.BPTT.Backward(tr.grads)
	tr.Opt.Step(tr.params, tr.gsl)
	for i := range tr.BPTT.Net.Layers {
		l := &tr.BPTT.Net.Layers[i]
		if tr.TauMMin > 0 {
			gle.ClampTaus(l.TauM, tr.TauMMin)
		}
		if tr.TauRMin > 0 {
			gle.ClampTaus(l.TauR, tr.TauRMin)
		}
	}
	return loss, nil
}
