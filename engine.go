package gle

import (
	"fmt"

	"github.com/gle-go/gle/internal/kernel"
)

// Engine advances a network's state one Euler step at a time in float64,
// the conformance path (SPEC §3, fixtures to 1e-9).
type Engine = EngineOf[float64]

// Engine32 is the optional float32 engine: the same step with float32
// state and products (see Float for the parameters), for training speed.
// It agrees with Engine within float32 rounding (TestEngine32Agrees).
type Engine32 = EngineOf[float32]

// EngineOf advances a network's state one Euler step at a time with the
// synchronous semantics of SPEC §3: every layer reads only previous-step
// values of its neighbours, and all layers are committed together.
//
// An engine keeps the state across calls to Step (and so across
// mini-batches, as the reference does); call Reset to start from rest, or
// SetBatch to change the batch size while keeping the state.
type EngineOf[T Float] struct {
	Net   *Network
	State *StateOf[T] // the committed state (the state "before" the next Step)

	// Grads, when non-nil, receives the gradients of SPEC §3 at every
	// Step (batch means): ∂W = −⟨ê r_belowᵀ⟩, ∂b = −⟨ê⟩, ∂τm = ⟨ê ⊙ u̇⟩.
	Grads *Grads

	next   *StateOf[T]
	work   []layerWork[T]
	ones   []T       // Batch ones: Σ_b as a product
	x      []T       // the input frame in T (float32 engines)
	r64    []float64 // the top layer's rates and target error in float64
	inst64 []float64 // (float32 engines; the losses are float64)
}

// layerWork is per-layer scratch space, Batch×Out each.
type layerWork[T Float] struct {
	inst  []T // the target error (top layer)
	ehat  []T // prospective error ê
	s     []T // synaptic input W r + b
	udot  []T // u̇
	ubrev []T // ŭ = u + τr u̇
	wt    []T // Wᵀ (In×Out), scratch for s = r Wᵀ

	invTauM, invTauR []T // 1/τm, 1/τr per neuron (Out)
	zeros            []T // Out zeros: the bias of a layer without one

	// The layer's parameters in T: the Network's own slices for float64,
	// copies refreshed at every step for float32 (with the gradients'
	// scratch space gW, gB, gTauM).
	w, b, tauM, tauR []T
	gW, gB, gTauM    []T
}

// NewEngine returns a float64 engine for n with a zero state for the
// given batch size. It checks the network first.
func NewEngine(n *Network, batch int) (*Engine, error) { return NewEngineOf[float64](n, batch) }

// NewEngine32 returns a float32 engine for n (see Engine32).
func NewEngine32(n *Network, batch int) (*Engine32, error) { return NewEngineOf[float32](n, batch) }

// NewEngineOf returns an engine in T for n with a zero state for the given
// batch size. It checks the network first.
func NewEngineOf[T Float](n *Network, batch int) (*EngineOf[T], error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	if batch <= 0 {
		return nil, fieldErr(ErrInvalid, "batch", batch, "must be positive")
	}
	e := &EngineOf[T]{Net: n}
	e.allocate(NewStateOf[T](n, batch))
	return e, nil
}

func (e *EngineOf[T]) allocate(s *StateOf[T]) {
	e.State = s
	e.next = NewStateOf[T](e.Net, s.Batch)
	e.work = make([]layerWork[T], len(e.Net.Layers))
	e.ones = make([]T, s.Batch)
	for b := range e.ones {
		e.ones[b] = 1
	}
	for i, l := range e.Net.Layers {
		m := s.Batch * l.Out
		e.work[i] = layerWork[T]{
			inst: make([]T, m), ehat: make([]T, m), s: make([]T, m),
			udot: make([]T, m), ubrev: make([]T, m), wt: make([]T, l.In*l.Out),
			invTauM: make([]T, l.Out), invTauR: make([]T, l.Out), zeros: make([]T, l.Out),
		}
		if !is64[T]() {
			w := &e.work[i]
			w.w, w.tauM, w.tauR = make([]T, len(l.W)), make([]T, l.Out), make([]T, l.Out)
			w.gW, w.gB, w.gTauM = make([]T, len(l.W)), make([]T, l.Out), make([]T, l.Out)
			if l.B != nil {
				w.b = make([]T, l.Out)
			}
		}
	}
	if !is64[T]() {
		e.x = make([]T, s.Batch*e.Net.Inputs())
		e.r64, e.inst64 = make([]float64, s.Batch*e.Net.Outputs()), make([]float64, s.Batch*e.Net.Outputs())
	}
}

// Batch returns the current batch size.
func (e *EngineOf[T]) Batch() int { return e.State.Batch }

// Reset sets the state to zero (all u, v, r, r′ and errors), the state of
// a network that has never run.
func (e *EngineOf[T]) Reset() { e.State.Reset() }

// SetBatch changes the batch size, continuing the state the way the
// reference does (State.Resized: tile, then truncate). It allocates.
func (e *EngineOf[T]) SetBatch(batch int) error {
	if batch <= 0 {
		return fieldErr(ErrInvalid, "batch", batch, "must be positive")
	}
	if batch != e.State.Batch {
		e.allocate(e.State.Resized(batch))
	}
	return nil
}

// syncParams points each layer's parameters in T at the Network's: the
// slices themselves for float64, rounded copies for float32.
func (e *EngineOf[T]) syncParams() {
	for i := range e.Net.Layers {
		l, w := &e.Net.Layers[i], &e.work[i]
		w.w, w.tauM, w.tauR = view(l.W, w.w), view(l.TauM, w.tauM), view(l.TauR, w.tauR)
		if l.B == nil {
			w.b = w.zeros
		} else {
			w.b = view(l.B, w.b)
		}
		if !is64[T]() {
			kernel.Convert(w.w, l.W)
			kernel.Convert(w.tauM, l.TauM)
			kernel.Convert(w.tauR, l.TauR)
			if l.B != nil {
				kernel.Convert(w.b, l.B)
			}
		}
	}
}

// Step feeds one input frame x (Batch×In) and target t, writes the network
// output into out (Batch×Outputs) and commits the new state.
//
// The output is the top layer's rate from before this step's commit: the
// rate computed in the previous step (zero on the first step). This
// one-step lag is the reference's (SPEC §3).
//
// Step allocates nothing. It fails only on shapes that do not fit.
func (e *EngineOf[T]) Step(out, x []float64, t Target) error {
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
	if out != nil {
		kernel.Convert(out, cur.Layers[top].R)
	}
	e.syncParams()
	xT := view(x, e.x)
	if !is64[T]() {
		kernel.Convert(xT, x)
	}

	// Phase 1: compute every layer's next state from the committed one.
	for li := range n.Layers {
		l, ls, nx, w := &n.Layers[li], &cur.Layers[li], &next.Layers[li], &e.work[li]
		below := xT
		if li > 0 {
			below = cur.Layers[li-1].R
		}
		// Error arriving from above (previous step), to be gated by φ′(ŭ)
		// of the previous step: inst = e_above ⊙ r′.
		eAbove := w.inst
		if li < top {
			eAbove = cur.Layers[li+1].EBottom
		} else {
			e.targetError(w.inst, ls.R, t)
		}
		// s = W r_below (+ b below)
		kernel.MulABt(w.s, below, w.w, B, l.In, l.Out, w.wt)
		kernel.Euler(&kernel.EulerParams[T]{
			Dt: T(n.Dt), Prospective: n.ProspectiveErrors, Gamma: T(l.Gamma), TauM: w.tauM, TauR: w.tauR,
			InvTauM: w.invTauM, InvTauR: w.invTauR, Bias: w.b,
			E: eAbove, RPrime: ls.RPrime, S: w.s, U: ls.U, V: ls.V,
			NextU: nx.U, NextV: nx.V, EHat: w.ehat, UDot: w.udot, UBreve: w.ubrev,
		})
		// r′ = φ(ŭ), r_prime′ = φ′(ŭ); e_bottom′ = ê W with this step's W.
		applyPhi(l.Phi, nx.R, nx.RPrime, w.ubrev)
		kernel.MulAB(nx.EBottom, w.ehat, w.w, B, l.Out, l.In)
		if e.Grads != nil {
			e.layerGrads(li, below)
		}
	}
	// Phase 2: commit.
	e.State, e.next = next, cur
	return nil
}

// targetError writes the top layer's target error for rates r into inst;
// the losses compute in float64.
func (e *EngineOf[T]) targetError(inst, r []T, t Target) {
	n := e.Net
	if is64[T]() {
		n.Loss.TargetError(as64(inst), as64(r), t, n.Beta, n.Outputs())
		return
	}
	kernel.Convert(e.r64, r)
	n.Loss.TargetError(e.inst64, e.r64, t, n.Beta, n.Outputs())
	kernel.Convert(inst, e.inst64)
}

// layerGrads writes the batch-mean gradients of layer li (SPEC §3), in T,
// converted to the float64 Grads.
func (e *EngineOf[T]) layerGrads(li int, below []T) {
	l, w, g := &e.Net.Layers[li], &e.work[li], &e.Grads.Layers[li]
	B := e.State.Batch
	inv := 1 / T(B)
	if g.W != nil {
		gW := view(g.W, w.gW)
		kernel.MulAtB(gW, -inv, w.ehat, below, B, l.Out, l.In) // −(1/B) Σ_b ê r_belowᵀ
		kernel.Convert(g.W, gW)
	}
	if g.B != nil {
		gB := view(g.B, w.gB)
		kernel.MulAtB(gB, -inv, e.ones, w.ehat, B, 1, l.Out) // −(1/B) Σ_b ê
		kernel.Convert(g.B, gB)
	}
	if g.TauM != nil {
		gTauM := view(g.TauM, w.gTauM)
		clear(gTauM)
		for b := range B {
			off := b * l.Out
			for o := range l.Out {
				gTauM[o] += inv * w.ehat[off+o] * w.udot[off+o] // (1/B) Σ_b ê ⊙ u̇
			}
		}
		kernel.Convert(g.TauM, gTauM)
	}
}

// ProspectiveErrors returns layer li's ê (Batch×Out) of the last Step.
// The slice is overwritten by the next Step.
func (e *EngineOf[T]) ProspectiveErrors(li int) []T { return e.work[li].ehat }
