package graph

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
)

// Trainer runs an Engine with online learning by the local rule: at every
// dt step the optimizer steps on the gradients the engine wrote (as
// gle.Trainer does for layered networks).
type Trainer struct {
	Engine *Engine
	Opt    gle.Optimizer // nil: no learning
	Steps  int           // calls of Step so far

	params, grads [][]float64
}

// NewTrainer returns a trainer for n with a zero state; opt may be nil.
func NewTrainer(n *Network, batch int, opt gle.Optimizer) (*Trainer, error) {
	if batch <= 0 {
		return nil, &gle.FieldError{Field: "batch", Value: batch, Why: "must be positive", Err: gle.ErrInvalid}
	}
	e := NewEngine(n, batch)
	tr := &Trainer{Engine: e, Opt: opt}
	if opt != nil {
		e.Grads = NewGrads(n)
		tr.params, tr.grads = Pairs(n, e.Grads)
	}
	return tr, nil
}

// Step runs one dt step and, with an optimizer, one learning step. It
// returns the loss of the output against t and fails with gle.ErrDiverged
// when the output or the state stops being finite.
func (tr *Trainer) Step(out, x []float64, t gle.Target) (float64, error) {
	if err := tr.Engine.Step(out, x, t); err != nil {
		return 0, err
	}
	tr.Steps++
	n := tr.Engine.Net
	loss := n.Loss.Value(out, t, n.Outputs())
	finite := !math.IsNaN(loss) && !math.IsInf(loss, 0)
	for _, v := range out {
		finite = finite && !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	if !finite {
		if err := tr.Engine.CheckFinite(); err != nil {
			return loss, fmt.Errorf("step %d: %w", tr.Steps-1, err)
		}
		return loss, fmt.Errorf("step %d: %w: output or loss is %v", tr.Steps-1, gle.ErrDiverged, loss)
	}
	if tr.Opt != nil {
		tr.Opt.Step(tr.params, tr.grads)
	}
	return loss, nil
}
