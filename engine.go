package gle

import (
	"fmt"

	"github.com/gle-go/gle/internal/kernel"
)

// Engine advances a network's state one Euler step at a time with the
// synchronous semantics of SPEC §3: every layer reads only previous-step
// values of its neighbours, and all layers are committed together.
//
// Engine keeps the state across calls to Step (and so across mini-batches,
// as the reference does); call Reset to start from rest, or SetBatch to
// change the batch size while keeping the state.
type Engine struct {
	Net   *Network
	State *State // the committed state (the state "before" the next Step)

	// Grads, when non-nil, receives the gradients of SPEC §3 at every
	// Step (batch means): ∂W = −⟨ê r_belowᵀ⟩, ∂b = −⟨ê⟩, ∂τm = ⟨ê ⊙ u̇⟩.
	Grads *Grads

	next *State
	work []layerWork
}

// layerWork is per-layer scratch space, Batch×Out each.
type layerWork struct {
	inst  []float64 // the target error (top layer)
	ehat  []float64 // prospective error ê
	s     []float64 // synaptic input W r + b
	udot  []float64 // u̇
	ubrev []float64 // ŭ = u + τr u̇
	wt    []float64 // Wᵀ (In×Out), scratch for s = r Wᵀ

	invTauM, invTauR []float64 // 1/τm, 1/τr per neuron (Out)
	zeros            []float64 // Out zeros: the bias of a layer without one
}

// NewEngine returns an engine for n with a zero state for the given batch
// size. It checks the network first.
func NewEngine(n *Network, batch int) (*Engine, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	if batch <= 0 {
		return nil, fieldErr(ErrInvalid, "batch", batch, "must be positive")
	}
	e := &Engine{Net: n}
	e.allocate(NewState(n, batch))
	return e, nil
}

func (e *Engine) allocate(s *State) {
	e.State = s
	e.next = NewState(e.Net, s.Batch)
	e.work = make([]layerWork, len(e.Net.Layers))
	for i, l := range e.Net.Layers {
		m := s.Batch * l.Out
		e.work[i] = layerWork{
			inst: make([]float64, m), ehat: make([]float64, m), s: make([]float64, m),
			udot: make([]float64, m), ubrev: make([]float64, m), wt: make([]float64, l.In*l.Out),
			invTauM: make([]float64, l.Out), invTauR: make([]float64, l.Out), zeros: make([]float64, l.Out),
		}
	}
}

// Batch returns the current batch size.
func (e *Engine) Batch() int { return e.State.Batch }

// Reset sets the state to zero (all u, v, r, r′ and errors), the state of
// a network that has never run.
func (e *Engine) Reset() { e.State.Reset() }

// SetBatch changes the batch size, continuing the state the way the
// reference does (State.Resized: tile, then truncate). It allocates.
func (e *Engine) SetBatch(batch int) error {
	if batch <= 0 {
		return fieldErr(ErrInvalid, "batch", batch, "must be positive")
	}
	if batch != e.State.Batch {
		e.allocate(e.State.Resized(batch))
	}
	return nil
}

// Step feeds one input frame x (Batch×In) and target t, writes the network
// output into out (Batch×Outputs) and commits the new state.
//
// The output is the top layer's rate from before this step's commit: the
// rate computed in the previous step (zero on the first step). This
// one-step lag is the reference's (SPEC §3).
//
// Step allocates nothing. It fails only on shapes that do not fit.
func (e *Engine) Step(out, x []float64, t Target) error {
	n, cur, next := e.Net, e.State, e.next
	B, top := cur.Batch, len(n.Layers)-1
	if len(x) != B*n.Inputs() {
		return fmt.Errorf("%w: input has %d values, want batch×inputs = %d×%d", ErrShape, len(x), B, n.Inputs())
	}
	if out != nil && len(out) != B*n.Outputs() {
		return fmt.Errorf("%w: output buffer has %d values, want batch×outputs = %d×%d", ErrShape, len(out), B, n.Outputs())
	}
	if err := t.Check(n.Loss, B, n.Outputs()); err != nil {
		return err
	}
	copy(out, cur.Layers[top].R)

	// Phase 1: compute every layer's next state from the committed one.
	for li := range n.Layers {
		l, ls, nx, w := &n.Layers[li], &cur.Layers[li], &next.Layers[li], &e.work[li]
		below := x
		if li > 0 {
			below = cur.Layers[li-1].R
		}
		// Error arriving from above (previous step), to be gated by φ′(ŭ)
		// of the previous step: inst = e_above ⊙ r′.
		eAbove := w.inst
		if li < top {
			eAbove = cur.Layers[li+1].EBottom
		} else {
			n.Loss.TargetError(w.inst, ls.R, t, n.Beta, l.Out)
		}
		// s = W r_below (+ b below)
		kernel.MulABt(w.s, below, l.W, B, l.In, l.Out, w.wt)
		bias := l.B
		if bias == nil {
			bias = w.zeros
		}
		kernel.Euler(&kernel.EulerParams{
			Dt: n.Dt, Prospective: n.ProspectiveErrors, Gamma: l.Gamma, TauM: l.TauM, TauR: l.TauR,
			InvTauM: w.invTauM, InvTauR: w.invTauR, Bias: bias,
			E: eAbove, RPrime: ls.RPrime, S: w.s, U: ls.U, V: ls.V,
			NextU: nx.U, NextV: nx.V, EHat: w.ehat, UDot: w.udot, UBreve: w.ubrev,
		})
		// r′ = φ(ŭ), r_prime′ = φ′(ŭ); e_bottom′ = ê W with this step's W.
		l.Phi.Apply(nx.R, nx.RPrime, w.ubrev)
		kernel.MulAB(nx.EBottom, w.ehat, l.W, B, l.Out, l.In)
		if e.Grads != nil {
			e.layerGrads(li, below)
		}
	}
	// Phase 2: commit.
	e.State, e.next = next, cur
	return nil
}

// layerGrads writes the batch-mean gradients of layer li (SPEC §3).
func (e *Engine) layerGrads(li int, below []float64) {
	l, w, g := &e.Net.Layers[li], &e.work[li], &e.Grads.Layers[li]
	B := e.State.Batch
	inv := 1 / float64(B)
	if g.W != nil {
		kernel.MulAtB(g.W, -inv, w.ehat, below, B, l.Out, l.In) // −(1/B) Σ_b ê r_belowᵀ
	}
	if g.B != nil {
		clear(g.B)
		for b := range B {
			kernel.Axpy(g.B, -inv, w.ehat[b*l.Out:(b+1)*l.Out]) // −(1/B) Σ_b ê
		}
	}
	if g.TauM != nil {
		clear(g.TauM)
		for b := range B {
			off := b * l.Out
			for o := range l.Out {
				g.TauM[o] += inv * w.ehat[off+o] * w.udot[off+o] // (1/B) Σ_b ê ⊙ u̇
			}
		}
	}
}

// ProspectiveErrors returns layer li's ê (Batch×Out) of the last Step.
// The slice is overwritten by the next Step.
func (e *Engine) ProspectiveErrors(li int) []float64 { return e.work[li].ehat }
