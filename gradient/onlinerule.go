package gradient

import (
	"fmt"
	"slices"

	"github.com/gle-go/gle"
)

// Online is a gle.Rule that learns online from a Forward's per-step
// gradient: the optimizer steps at every dt step on the gradient of that
// step's loss, as GLE's local rule does. With the parameters changing as
// they learn, RTRL's sensitivities are those of the recent past under the
// parameters of the moment (the usual online RTRL).
type Online struct {
	Mode     Mode
	fwd      *Forward
	restored [][]float64 // SetRuleState's arrays, waiting for the first step
}

// NewOnline returns the online rule of mode.
func NewOnline(mode Mode) *Online { return &Online{Mode: mode} }

// Name implements gle.Rule: "rtrl", "snap1" or "snap2".
func (o *Online) Name() string { return o.Mode.String() }

// Step implements gle.Rule: every step has a gradient.
func (o *Online) Step(e *gle.Engine, out, x []float64, t gle.Target, g *gle.Grads) (bool, error) {
	if e == nil {
		return false, fmt.Errorf("%w: forward-mode rules need a float64 engine", gle.ErrInvalid)
	}
	if o.fwd == nil || o.fwd.Engine != e || o.fwd.batch != e.Batch() {
		f, err := newForwardOn(e, o.Mode, g)
		if err != nil {
			return false, err
		}
		o.fwd = f
	}
	if o.restored != nil {
		dst := o.fwd.carried()
		if len(dst) != len(o.restored) {
			return false, fmt.Errorf("%w: the %s rule's saved state has %d arrays, this network needs %d", gle.ErrShape, o.Name(), len(o.restored), len(dst))
		}
		for i, x := range o.restored {
			if len(x) != len(dst[i]) {
				return false, fmt.Errorf("%w: the %s rule's saved array %d has %d values, this network needs %d", gle.ErrShape, o.Name(), i, len(x), len(dst[i]))
			}
			copy(dst[i], x)
		}
		o.restored = nil
	}
	if _, err := o.fwd.Step(out, x, t, g); err != nil {
		return false, err
	}
	return true, nil
}

// RuleState implements gle.StatefulRule: copies of the sensitivities
// (nil before the first step).
func (o *Online) RuleState() [][]float64 {
	if o.restored != nil {
		return o.restored
	}
	if o.fwd == nil {
		return nil
	}
	var out [][]float64
	for _, x := range o.fwd.carried() {
		out = append(out, slices.Clone(x))
	}
	return out
}

// SetRuleState implements gle.StatefulRule: the sensitivities to continue
// from, checked and copied in at the next step.
func (o *Online) SetRuleState(s [][]float64) { o.restored = s }

// EndSequence implements gle.Rule: nothing is pending.
func (o *Online) EndSequence(*gle.Engine, *gle.Grads) (bool, error) { return false, nil }

// Pending implements gle.Rule: 0, the gradient is delivered every step.
func (o *Online) Pending() int { return 0 }

// Reset implements gle.Rule: the sensitivities restart from zero (the
// state they describe was reset or replaced).
func (o *Online) Reset() {
	o.restored = nil
	if o.fwd != nil {
		o.fwd.resetSensitivities()
	}
}
