package gradient

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gle-go/gle"
)

// Methods lists the names Gradient accepts.
var Methods = []string{"bptt", "tbptt:N", "adjoint", "rtrl", "snap1", "snap2", "eprop", "gle"}

// Gradient returns the gradient of J = Σ_t L_t over the sequence (xs[t],
// ts[t]) from rest, for every parameter of n (gle.NewFullGrads), by
// method:
//
//   - "bptt": full BPTT (Full);
//   - "tbptt:N": truncated BPTT, the sum of the gradients of the windows of
//     N steps, the state carried from window to window, the graph cut at
//     each window's start;
//   - "adjoint": the continuous adjoint (Adjoint; it returns ∫ℓ dt, and its
//     gradient is that of ∫ℓ dt ≈ dt·J);
//   - "rtrl", "snap1", "snap2", "eprop": forward-mode sensitivities (Forward),
//     each step's gradient summed over the run; rtrl equals bptt;
//   - "gle": GLE's local updates (−Δθ/lr of the local rule) summed over the
//     run, with real-time errors and γ = 0, not learning — what Align
//     compares with the exact gradient (in units of the target error:
//     β for CE, β·K/2 for MSE times −∂L/∂r).
//
// It also returns the method's objective (J, or ∫ℓ dt for the adjoint;
// the summed loss for gle). n is not changed.
func Gradient(n *gle.Network, method string, batch int, xs [][]float64, ts []gle.Target) (*gle.Grads, float64, error) {
	if n == nil {
		return nil, 0, &gle.FieldError{Field: "network", Why: "is nil", Err: gle.ErrInvalid}
	}
	if len(xs) == 0 || len(ts) != len(xs) {
		return nil, 0, fmt.Errorf("%w: %d input steps and %d targets (want the same, at least one)", gle.ErrShape, len(xs), len(ts))
	}
	if err := CheckMethod(method); err != nil {
		return nil, 0, err
	}
	if err := needTargets(n, ts); err != nil {
		return nil, 0, err
	}
	g := gle.NewFullGrads(n)
	switch {
	case method == "bptt":
		j, err := Full(n, batch, xs, ts, g)
		return g, j, err
	case method == "adjoint":
		j, err := Adjoint(n, batch, xs, ts, g)
		return g, j, err
	case method == "gle":
		j, err := localSum(n, batch, xs, ts, g)
		return g, j, err
	case isMode(method):
		mode, _ := ParseMode(method)
		j, err := forwardSum(n, batch, mode, xs, ts, g)
		return g, j, err
	case strings.HasPrefix(method, "tbptt:"):
		w, _ := strconv.Atoi(strings.TrimPrefix(method, "tbptt:")) // checked above
		j, err := truncatedSum(n, batch, min(w, len(xs)), xs, ts, g)
		return g, j, err
	}
	return nil, 0, &gle.FieldError{Field: "method", Value: method, Why: "want " + strings.Join(Methods, ", "), Err: gle.ErrUnknownName}
}

// truncatedSum adds the window gradients of truncated BPTT into g.
func truncatedSum(n *gle.Network, batch, window int, xs [][]float64, ts []gle.Target, g *gle.Grads) (float64, error) {
	return truncatedSteps(n, batch, window, xs, ts, func(_ int, part *gle.Grads) { g.Add(part) })
}

// truncatedSteps runs truncated BPTT over windows of window steps and
// hands each window's gradient to visit with the step at which it is
// delivered (the window's last); it returns Σ_t L_t.
func truncatedSteps(n *gle.Network, batch, window int, xs [][]float64, ts []gle.Target, visit func(t int, g *gle.Grads)) (float64, error) {
	b, err := New(n, batch, window)
	if err != nil {
		return 0, err
	}
	part := gle.NewFullGrads(n)
	var j float64
	for t, x := range xs {
		l, err := b.Step(nil, x, ts[t])
		if err != nil {
			return 0, fmt.Errorf("step %d: %w", t, err)
		}
		j += l
		if b.Steps() == window || t == len(xs)-1 {
			if err := b.Backward(part); err != nil {
				return 0, err
			}
			visit(t, part)
		}
	}
	return j, nil
}

// forwardSum adds the per-step gradients of a Forward of mode into g.
func forwardSum(n *gle.Network, batch int, mode Mode, xs [][]float64, ts []gle.Target, g *gle.Grads) (float64, error) {
	return forwardSteps(n, batch, mode, xs, ts, func(_ int, step *gle.Grads) { g.Add(step) })
}

// forwardSteps runs a Forward of mode over the sequence from rest, hands
// each step's gradient to visit and returns Σ_t L_t.
func forwardSteps(n *gle.Network, batch int, mode Mode, xs [][]float64, ts []gle.Target, visit func(t int, g *gle.Grads)) (float64, error) {
	step := gle.NewFullGrads(n)
	f, err := NewForward(n, batch, mode, step)
	if err != nil {
		return 0, err
	}
	var j float64
	for t, x := range xs {
		l, err := f.Step(nil, x, ts[t], step)
		if err != nil {
			return 0, fmt.Errorf("step %d: %w", t, err)
		}
		j += l
		visit(t, step)
	}
	return j, nil
}

// localSum adds GLE's local gradients of every step into g and returns
// the summed loss.
func localSum(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, g *gle.Grads) (float64, error) {
	return localSteps(n, batch, xs, ts, func(_ int, step *gle.Grads) { g.Add(step) })
}

// localSteps runs n with its real-time errors and local rule (γ set to 0
// so that the forward pass is the one BPTT differentiates; no learning; n
// is not changed) over the sequence from rest, hands each step's local
// gradients (gle.NewFullGrads layout) to visit, and returns the summed
// loss.
func localSteps(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, visit func(t int, step *gle.Grads)) (float64, error) {
	local := n.Clone()
	for q := range local.Pops {
		local.Pops[q].Gamma = 0
	}
	e, err := gle.NewEngine(local, batch)
	if err != nil {
		return 0, err
	}
	step := gle.NewFullGrads(local)
	if err := e.SetGrads(step); err != nil {
		return 0, err
	}
	out := make([]float64, batch*n.Outputs())
	var j float64
	for t, x := range xs {
		if err := e.Step(out, x, ts[t]); err != nil {
			return 0, fmt.Errorf("GLE step %d: %w", t, err)
		}
		j += n.Loss.Value(out, ts[t], n.Outputs())
		visit(t, step)
	}
	return j, nil
}

// needTargets refuses data without targets, or a network without a
// loss: a gradient of the loss needs both (without them every method
// would return zeros).
func needTargets(n *gle.Network, ts []gle.Target) error {
	if n.Loss == gle.NoLoss {
		return &gle.FieldError{Field: "loss", Value: n.Loss.String(), Why: "a gradient needs a loss (mse or ce) in the spec", Err: gle.ErrInvalid}
	}
	for _, t := range ts {
		if !t.None() {
			return nil
		}
	}
	return &gle.FieldError{Field: "y", Value: "none", Why: "a gradient needs targets (the data has inputs x only)", Err: gle.ErrInvalid}
}
