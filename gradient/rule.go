package gradient

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gle-go/gle"
)

// Rule is a gle.Rule that learns with exact gradients: truncated BPTT
// over windows of Window steps (TBPTT), or full BPTT per sequence
// (FullBPTT: the gradient of each whole sequence, at EndSequence).
// The trainer's engine runs the errors-off forward pass (docs/model.md
// §7) and the rule records it.
type Rule struct {
	Window int  // steps per gradient (the tape's length)
	full   bool // the gradient comes at EndSequence, not when the tape is full
	bptt   *BPTT
}

// TBPTT returns truncated BPTT over windows of window steps: every window
// steps the gradient of the window's loss, the graph cut at the window's
// start, the state carried on. (The reference scales the learning rate by
// the window length; do that when building the optimizer.)
func TBPTT(window int) *Rule { return &Rule{Window: window} }

// FullBPTT returns full BPTT per sequence of at most maxSteps steps: the
// gradient of the whole sequence's loss when the trainer's EndSequence is
// called.
func FullBPTT(maxSteps int) *Rule { return &Rule{Window: maxSteps, full: true} }

// Name implements gle.Rule: "tbptt:N" or "bptt:N".
func (r *Rule) Name() string {
	if r.full {
		return fmt.Sprintf("bptt:%d", r.Window)
	}
	return fmt.Sprintf("tbptt:%d", r.Window)
}

// bind (re)builds the tape for e (on the first step, or after a batch change).
func (r *Rule) bind(e *gle.Engine) error {
	if e == nil {
		return fmt.Errorf("%w: exact-gradient rules need a float64 engine", gle.ErrInvalid)
	}
	if r.bptt != nil && r.bptt.Engine == e && r.bptt.Batch == e.Batch() {
		return nil
	}
	if r.Window <= 0 {
		return &gle.FieldError{Field: "rule window", Value: r.Window, Why: "must be positive", Err: gle.ErrInvalid}
	}
	b, err := newOn(e, r.Window)
	if err != nil {
		return err
	}
	r.bptt = b
	return nil
}

// Step implements gle.Rule.
func (r *Rule) Step(e *gle.Engine, out, x []float64, t gle.Target, g *gle.Grads) (bool, error) {
	if err := r.bind(e); err != nil {
		return false, err
	}
	if r.bptt.Steps() == r.Window {
		return false, fmt.Errorf("%w: the sequence is longer than the %d steps of rule %s: call EndSequence at its end", gle.ErrInvalid, r.Window, r.Name())
	}
	if _, err := r.bptt.Step(out, x, t); err != nil {
		return false, err
	}
	if r.full || r.bptt.Steps() < r.Window {
		return false, nil
	}
	return true, r.bptt.Backward(g)
}

// EndSequence implements gle.Rule: the gradient of the steps since the
// last one.
func (r *Rule) EndSequence(e *gle.Engine, g *gle.Grads) (bool, error) {
	if r.bptt == nil || r.bptt.Steps() == 0 {
		return false, nil
	}
	return true, r.bptt.Backward(g)
}

// Pending implements gle.Rule.
func (r *Rule) Pending() int {
	if r.bptt == nil {
		return 0
	}
	return r.bptt.Steps()
}

// Reset implements gle.Rule.
func (r *Rule) Reset() {
	if r.bptt != nil {
		r.bptt.Discard()
	}
}

// RuleNames lists the rules ParseRule reads.
var RuleNames = []string{"gle", "tbptt:N", "bptt:N", "rtrl", "snap1", "snap2", "eprop"}

// ParseRule returns the learning rule called name: "gle" (nil: GLE's
// local rule), "tbptt:N" (TBPTT(N)), "bptt:N" (FullBPTT(N); "bptt" alone
// takes N = steps, the longest sequence the caller will feed), "rtrl",
// "snap1", "snap2" or "eprop" (NewOnline of the Mode). Errors name the
// field "rule".
func ParseRule(name string, steps int) (gle.Rule, error) {
	if mode, ok := ParseMode(name); ok {
		return NewOnline(mode), nil
	}
	switch name {
	case "", "gle":
		return nil, nil
	case "bptt":
		if steps <= 0 {
			return nil, &gle.FieldError{Field: "rule", Value: name, Why: "say the longest sequence: bptt:N", Err: gle.ErrInvalid}
		}
		return FullBPTT(steps), nil
	}
	kind, num, ok := strings.Cut(name, ":")
	if ok && (kind == "tbptt" || kind == "bptt") {
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 {
			return nil, &gle.FieldError{Field: "rule", Value: name, Why: "the number of steps must be a positive integer", Err: gle.ErrInvalid}
		}
		if kind == "bptt" {
			return FullBPTT(n), nil
		}
		return TBPTT(n), nil
	}
	return nil, &gle.FieldError{Field: "rule", Value: name, Why: "want " + strings.Join(RuleNames, ", "), Err: gle.ErrUnknownName}
}
