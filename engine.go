package gle

import (
	"fmt"

	"github.com/gle-go/gle/internal/kernel"
)

// Engine advances a network's state one Euler step at a time in float64,
// the conformance path (docs/model.md §3, fixtures to 1e-9).
type Engine = EngineOf[float64]

// Engine32 is the optional float32 engine: the same step with float32
// state and products (see Float for the parameters), for speed. It agrees
// with Engine within float32 rounding (TestEngine32Agrees).
type Engine32 = EngineOf[float32]

// EngineOf advances a network's state one Euler step at a time with the
// synchronous semantics of docs/model.md §3: every population reads only
// previous-step values of its neighbours, and all are committed together.
//
// An engine keeps the state across calls to Step (and so across
// mini-batches, as the reference does); Reset starts from rest, SetBatch
// changes the batch size while keeping the state, SetState installs a
// saved one.
type EngineOf[T Float] struct {
	Net *Network
	// ErrorsOff runs the dynamics without errors (ê = 0, γ ignored, no
	// error sent back, no gradients): the forward pass that exact
	// gradients differentiate (package gradient).
	ErrorsOff bool

	state, next *StateOf[T] // committed state; the one before the last Step
	grads       *Grads      // receives the local gradients, when set
	skipGrads   bool        // the trainer's switch: this step needs none
	// maxBatch is the largest batch the engine has held: SetBatch checks
	// the memory limit only beyond it, so that a run that switches between
	// a training and an evaluation batch does not fail on a moment when
	// other processes hold the machine's memory.
	maxBatch int

	pops   []popWork[T]
	projs  []projWork[T]
	ones   []T       // Batch ones: Σ_b as a product
	x      []T       // the input frame in T (float32 engines)
	r64    []float64 // the output rates and target error in float64
	inst64 []float64 // (float32 engines; the losses are float64)
}

// popWork is one population's scratch space and topology.
type popWork[T Float] struct {
	inst  []T // the error arriving, when summed or from the target (Batch×N)
	ehat  []T // prospective error ê
	s     []T // synaptic input Σ_p W_p r_p (without the bias)
	tmp   []T // one projection's W r, when several add up
	udot  []T // u̇
	ubrev []T // ŭ = u + τr u̇

	invTauM, invTauR []T // 1/τm, 1/τr per neuron (N)
	zeros            []T // N zeros: the bias of a population without one

	// The parameters in T: the Network's own slices for float64, copies
	// refreshed at every step for float32 (with the gradients' scratch).
	tauM, tauR, bias []T
	gB, gTauM        []T

	in, back []int // projections into this population; projections that send errors back to it
}

// projWork is one projection's scratch space.
type projWork[T Float] struct {
	wt          []T // Wᵀ, scratch for W r as r Wᵀ
	w, fb       []T // W and its feedback matrix in T
	wBuf, fbBuf []T // their float32 copies
	gW          []T
}

// NewEngine returns a float64 engine for n with a zero state for the
// given batch size. It checks the network first.
func NewEngine(n *Network, batch int) (*Engine, error) { return NewEngineOf[float64](n, batch) }

// NewEngine32 returns a float32 engine for n (see Engine32).
func NewEngine32(n *Network, batch int) (*Engine32, error) { return NewEngineOf[float32](n, batch) }

// NewEngineOf returns an engine in T for n with a zero state for the given
// batch size. It checks the network and the memory the state needs.
func NewEngineOf[T Float](n *Network, batch int) (*EngineOf[T], error) {
	if n == nil {
		return nil, fieldErr(ErrInvalid, "network", nil, "is nil")
	}
	if err := n.Check(); err != nil {
		return nil, err
	}
	if err := checkBatch(n, batch); err != nil {
		return nil, err
	}
	e := &EngineOf[T]{Net: n, maxBatch: batch}
	e.allocate(NewStateOf[T](n, batch))
	return e, nil
}

// checkBatch refuses batch sizes that are not positive or whose state
// and scratch would not fit in memory (EngineBytes against MemoryLimit).
func checkBatch(n *Network, batch int) error {
	if batch <= 0 || batch > 1<<30 {
		return fieldErr(ErrInvalid, "batch", batch, "must be in 1…2^30")
	}
	return CheckMemory("batch", batch, EngineBytes(n, batch, 8))
}

func (e *EngineOf[T]) allocate(s *StateOf[T]) {
	n := e.Net
	e.state, e.next = s, NewStateOf[T](n, s.Batch)
	B := s.Batch
	e.pops = make([]popWork[T], len(n.Pops))
	e.projs = make([]projWork[T], len(n.Projs))
	e.ones = make([]T, B)
	for b := range e.ones {
		e.ones[b] = 1
	}
	for k := range n.Projs {
		p := &n.Projs[k]
		e.pops[p.To].in = append(e.pops[p.To].in, k)
		if p.From != Input {
			e.pops[p.From].back = append(e.pops[p.From].back, k)
		}
		pw := &e.projs[k]
		pw.wt = make([]T, len(p.W))
		if !is64[T]() {
			pw.wBuf, pw.gW = make([]T, len(p.W)), make([]T, len(p.W))
			if p.FeedbackWeight != nil {
				pw.fbBuf = make([]T, len(p.W))
			}
		}
	}
	for q, p := range n.Pops {
		m := B * p.N
		w := &e.pops[q]
		w.inst, w.ehat, w.s, w.udot, w.ubrev = make([]T, m), make([]T, m), make([]T, m), make([]T, m), make([]T, m)
		if len(w.in) > 1 {
			w.tmp = make([]T, m)
		}
		w.invTauM, w.invTauR, w.zeros = make([]T, p.N), make([]T, p.N), make([]T, p.N)
		if !is64[T]() {
			w.tauM, w.tauR, w.gB, w.gTauM = make([]T, p.N), make([]T, p.N), make([]T, p.N), make([]T, p.N)
			if p.Bias != nil {
				w.bias = make([]T, p.N)
			}
		}
	}
	if !is64[T]() {
		e.x = make([]T, B*n.Inputs)
		e.r64, e.inst64 = make([]float64, B*n.Outputs()), make([]float64, B*n.Outputs())
	}
}

// Batch returns the current batch size.
func (e *EngineOf[T]) Batch() int { return e.state.Batch }

// State returns the committed state (the state "before" the next Step).
// It is the engine's own; SetState replaces it.
func (e *EngineOf[T]) State() *StateOf[T] { return e.state }

// Previous returns the state before the last Step (valid until the next
// Step, Reset, SetBatch or SetState).
func (e *EngineOf[T]) Previous() *StateOf[T] { return e.next }

// SetState replaces the state by a copy of s, which must belong to the
// network (any batch size: the engine takes s's).
func (e *EngineOf[T]) SetState(s *StateOf[T]) error {
	if err := s.fits(e.Net); err != nil {
		return err
	}
	if err := checkBatch(e.Net, s.Batch); err != nil {
		return err
	}
	if s.Batch != e.state.Batch {
		e.allocate(NewStateOf[T](e.Net, s.Batch))
	}
	e.state.CopyFrom(s)
	return nil
}

// Reset sets the state to zero (all u, v, r, r′ and errors), the state of
// a network that has never run.
func (e *EngineOf[T]) Reset() { e.state.Reset() }

// SetBatch changes the batch size, continuing the state the way the
// reference does (State.Resized: tile, then truncate). It allocates.
func (e *EngineOf[T]) SetBatch(batch int) error {
	if batch > e.maxBatch {
		if err := checkBatch(e.Net, batch); err != nil {
			return err
		}
		e.maxBatch = batch
	} else if batch <= 0 {
		return fieldErr(ErrInvalid, "batch", batch, "must be in 1…2^30")
	}
	if batch != e.state.Batch {
		s, err := e.state.Resized(batch)
		if err != nil {
			return err
		}
		e.allocate(s)
	}
	return nil
}

// SetGrads makes every Step write the local gradients of docs/model.md §3
// (batch means) into g: ∂W = −⟨ê r_fromᵀ⟩, ∂b = −⟨ê⟩, ∂τm = ⟨ê ⊙ u̇⟩, and
// for learned feedback ∂B = ∂W + λB (∂W gaining λW). Only g's non-nil
// slices are written; nil stops the gradients.
func (e *EngineOf[T]) SetGrads(g *Grads) error {
	if g != nil {
		if err := g.Fits(e.Net); err != nil {
			return err
		}
	}
	e.grads = g
	return nil
}

// Grads returns the gradients SetGrads installed (nil if none).
func (e *EngineOf[T]) Grads() *Grads { return e.grads }

// EHat returns population q's ê (Batch×N) of the last Step; the slice is
// overwritten by the next Step.
func (e *EngineOf[T]) EHat(q int) []T { return e.pops[q].ehat }

// UDot returns population q's u̇ (Batch×N) of the last Step.
func (e *EngineOf[T]) UDot(q int) []T { return e.pops[q].udot }

// syncParams points the parameters in T at the Network's: the slices
// themselves for float64, rounded copies for float32.
func (e *EngineOf[T]) syncParams() {
	n := e.Net
	for k := range n.Projs {
		p, w := &n.Projs[k], &e.projs[k]
		w.w = view(p.W, w.wBuf)
		if !is64[T]() {
			kernel.Convert(w.w, p.W)
		}
		if p.FeedbackWeight == nil {
			w.fb = w.w
			continue
		}
		w.fb = view(p.FeedbackWeight, w.fbBuf)
		if !is64[T]() {
			kernel.Convert(w.fb, p.FeedbackWeight)
		}
	}
	for q := range n.Pops {
		p, w := &n.Pops[q], &e.pops[q]
		w.tauM, w.tauR = view(p.TauM, w.tauM), view(p.TauR, w.tauR)
		if !is64[T]() {
			kernel.Convert(w.tauM, p.TauM)
			kernel.Convert(w.tauR, p.TauR)
		}
		if p.Bias == nil {
			w.bias = w.zeros
			continue
		}
		w.bias = view(p.Bias, w.bias)
		if !is64[T]() {
			kernel.Convert(w.bias, p.Bias)
		}
	}
}

// Step feeds one input frame x (Batch×Inputs) and target t, writes the
// network output into out (Batch×Outputs; nil skips it) and commits the
// new state.
//
// The output is the output population's rate from before this step's
// commit: the rate computed in the previous step (zero on the first
// step). This one-step lag is the reference's (docs/model.md §3).
//
// Step allocates nothing. It fails only on inputs, buffers and targets
// that do not fit; the state is then unchanged.
func (e *EngineOf[T]) Step(out, x []float64, t Target) error {
	n, cur, next := e.Net, e.state, e.next
	B := cur.Batch
	if len(x) != B*n.Inputs {
		return fmt.Errorf("%w: input has %d values, want batch×inputs = %d×%d", ErrShape, len(x), B, n.Inputs)
	}
	if out != nil && len(out) != B*n.Outputs() {
		return fmt.Errorf("%w: output buffer has %d values, want batch×outputs = %d×%d", ErrShape, len(out), B, n.Outputs())
	}
	if err := t.Check(n.Loss, B, n.Outputs()); err != nil {
		return err
	}
	if out != nil {
		kernel.Convert(out, cur.Pops[n.Output].R)
	}
	e.syncParams()
	xT := view(x, e.x)
	if !is64[T]() {
		kernel.Convert(xT, x)
	}
	learn := e.grads != nil && !e.skipGrads && !e.ErrorsOff

	// Phase 1: every population's next state from the committed one.
	for q := range n.Pops {
		pop, w, ps, nx := &n.Pops[q], &e.pops[q], &cur.Pops[q], &next.Pops[q]
		// The error arriving (previous step), gated by φ′(ŭ) in Euler:
		// Σ over the projections that send errors back here, plus the
		// target error at the output population.
		arriving := w.inst
		switch {
		case e.ErrorsOff:
			clear(w.inst)
		case q == n.Output:
			e.targetError(w.inst, ps.R, t)
			for _, k := range w.back {
				kernel.Axpy(w.inst, 1, cur.EBottom[k])
			}
		case len(w.back) == 1: // a chain: the layer above's e_bottom itself
			arriving = cur.EBottom[w.back[0]]
		case len(w.back) > 1:
			copy(w.inst, cur.EBottom[w.back[0]])
			for _, k := range w.back[1:] {
				kernel.Axpy(w.inst, 1, cur.EBottom[k])
			}
		}
		// s = Σ_p W_p r_p (the bias is added in Euler)
		for i, k := range w.in {
			src := e.source(k, xT, cur)
			pw, from := &e.projs[k], n.FromSize(&n.Projs[k])
			if i == 0 {
				kernel.MulABt(w.s, src, pw.w, B, from, pop.N, pw.wt)
				continue
			}
			kernel.MulABt(w.tmp, src, pw.w, B, from, pop.N, pw.wt)
			kernel.Axpy(w.s, 1, w.tmp)
		}
		prospective, gamma := n.ProspectiveErrors && !pop.InstantErrors, T(pop.Gamma)
		if e.ErrorsOff {
			prospective, gamma = false, 0
		}
		kernel.Euler(&kernel.EulerParams[T]{
			Dt: T(n.Dt), Prospective: prospective, Gamma: gamma, TauM: w.tauM, TauR: w.tauR,
			InvTauM: w.invTauM, InvTauR: w.invTauR, Bias: w.bias,
			E: arriving, RPrime: ps.RPrime, S: w.s, U: ps.U, V: ps.V,
			NextU: nx.U, NextV: nx.V, EHat: w.ehat, UDot: w.udot, UBreve: w.ubrev,
		})
		// r′ = φ(ŭ), r_prime′ = φ′(ŭ)
		applyPhi(pop.Phi, nx.R, nx.RPrime, w.ubrev)
		if e.ErrorsOff {
			continue
		}
		if learn {
			e.populationGrads(q)
		}
		// The errors sent back along the projections into q,
		// e_from′ = ê_q M_p (M_p = W_p, or B_p without weight transport,
		// with this step's parameters), and the weights' gradients, while
		// ê_q is in cache.
		for _, k := range w.in {
			from := n.FromSize(&n.Projs[k])
			kernel.MulAB(next.EBottom[k], w.ehat, e.projs[k].fb, B, pop.N, from)
			if learn {
				e.projectionGrads(k, e.source(k, xT, cur))
			}
		}
	}
	// Phase 2: commit.
	e.state, e.next = next, cur
	return nil
}

// source returns the rates projection k reads: the input or its source
// population's committed rates.
func (e *EngineOf[T]) source(k int, x []T, cur *StateOf[T]) []T {
	if f := e.Net.Projs[k].From; f != Input {
		return cur.Pops[f].R
	}
	return x
}

// targetError writes the output population's target error for rates r
// into inst; the losses compute in float64.
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

// populationGrads writes population q's batch-mean bias and τm gradients
// (docs/model.md §3), in T, converted to the float64 Grads.
func (e *EngineOf[T]) populationGrads(q int) {
	pop, w, g := &e.Net.Pops[q], &e.pops[q], &e.grads.Pops[q]
	B := e.state.Batch
	inv := 1 / T(B)
	if g.Bias != nil {
		gB := view(g.Bias, w.gB)
		kernel.MulAtB(gB, -inv, e.ones, w.ehat, B, 1, pop.N) // −(1/B) Σ_b ê
		kernel.Convert(g.Bias, gB)
	}
	if g.TauM != nil {
		gTauM := view(g.TauM, w.gTauM)
		clear(gTauM)
		for b := range B {
			off := b * pop.N
			for o := range pop.N {
				gTauM[o] += inv * w.ehat[off+o] * w.udot[off+o] // (1/B) Σ_b ê ⊙ u̇
			}
		}
		kernel.Convert(g.TauM, gTauM)
	}
}

// projectionGrads writes projection k's batch-mean weight gradient
// −(1/B) Σ_b ê_to r_fromᵀ and, for learned feedback, the Kolen–Pollack
// pair: ∂B = ∂W + λB, ∂W += λW.
func (e *EngineOf[T]) projectionGrads(k int, src []T) {
	n, p, w, g := e.Net, &e.Net.Projs[k], &e.projs[k], &e.grads.Projs[k]
	B := e.state.Batch
	if g.W == nil && g.FeedbackWeight == nil {
		return
	}
	dst := g.W
	if dst == nil {
		dst = g.FeedbackWeight
	}
	gW := view(dst, w.gW)
	kernel.MulAtB(gW, -1/T(B), e.pops[p.To].ehat, src, B, n.Pops[p.To].N, n.FromSize(p))
	kernel.Convert(dst, gW)
	if p.Feedback != Learned {
		return
	}
	if g.W != nil {
		copy(g.FeedbackWeight, g.W)
		kernel.Axpy(g.W, n.FeedbackDecay, p.W)
	}
	kernel.Axpy(g.FeedbackWeight, n.FeedbackDecay, p.FeedbackWeight)
}
