package gle

import (
	"fmt"

	"github.com/gle-go/gle/internal/kernel"
	"github.com/gle-go/gle/internal/par"
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
	grads       *GradsOf[T] // receives the local gradients, when set
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
	// lossRows holds each sample's cross-entropy of the step's output
	// (valid when lossReady), summed by the trainer in sample order.
	lossRows  []float64
	lossReady bool

	// The phases of a step, each a list of chunks that the pool's
	// workers claim (see parallel.go).
	threads int // the threads the engine may use (SetThreads)
	pool    *par.Pool
	auto    autoThreads // the default setting: one thread or all, by timing
	plan    stepPlan
	cur     stepArgs[T] // this step's operands, for the phases
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
	// refreshed at every step for float32.
	tauM, tauR, bias []T

	in, back []int // projections into this population; projections that send errors back to it
}

// projWork is one projection's scratch space.
type projWork[T Float] struct {
	wt          []T // Wᵀ, scratch for W r as r Wᵀ
	w, fb       []T // W and its feedback matrix in T
	wBuf, fbBuf []T // their float32 copies
	// ehatT is the target's êᵀ (N × Batch) for the weight gradient, when
	// ê's rows lie far apart (kernel.FarApart): each gradient chunk
	// transposes its rows, then reads them along rows.
	ehatT []T
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
	e := &EngineOf[T]{Net: n, maxBatch: batch, threads: par.Threads()}
	e.auto.on = par.Explicit() == 0
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
			pw.wBuf = make([]T, len(p.W))
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
			w.tauM, w.tauR = make([]T, p.N), make([]T, p.N)
			if p.Bias != nil {
				w.bias = make([]T, p.N)
			}
		}
	}
	if !is64[T]() {
		e.x = make([]T, B*n.Inputs)
		e.r64, e.inst64 = make([]float64, B*n.Outputs()), make([]float64, B*n.Outputs())
	}
	e.lossRows = make([]float64, B)
	e.planPhases()
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
func (e *EngineOf[T]) SetGrads(g *GradsOf[T]) error {
	if g != nil {
		if err := g.Fits(e.Net); err != nil {
			return err
		}
	}
	e.grads = g
	e.planPhases()
	return nil
}

// Grads returns the gradients SetGrads installed (nil if none).
func (e *EngineOf[T]) Grads() *GradsOf[T] { return e.grads }

// EHat returns population q's ê (Batch×N) of the last Step; the slice is
// overwritten by the next Step.
func (e *EngineOf[T]) EHat(q int) []T { return e.pops[q].ehat }

// UDot returns population q's u̇ (Batch×N) of the last Step.
func (e *EngineOf[T]) UDot(q int) []T { return e.pops[q].udot }

// SetThreads sets the threads a step of this engine runs on (n ≤ 0: the
// process default, SetThreads of the package). Results do not depend on
// it; a network too small to gain runs on one thread whatever it is.
func (e *EngineOf[T]) SetThreads(n int) {
	e.auto = autoThreads{on: n <= 0 && par.Explicit() == 0}
	if n <= 0 {
		n = par.Threads()
	}
	e.threads = n
	e.planPhases()
}

// Threads returns the threads a step of this engine runs on: the
// setting, or 1 when the network is too small to gain from more. On the
// default setting (no SetThreads, no GLE_THREADS) the engine times its
// steps on one thread and on these every few thousand steps and keeps
// the faster (autoThreads); the results are the same either way.
func (e *EngineOf[T]) Threads() int { return e.plan.workers }

// syncViews points the parameters in T at the Network's: the slices
// themselves for float64; for float32 the engine's copies, which the
// first phase of a step refreshes.
func (e *EngineOf[T]) syncViews() {
	n := e.Net
	for k := range n.Projs {
		p, w := &n.Projs[k], &e.projs[k]
		w.w = view(p.W, w.wBuf)
		if p.FeedbackWeight == nil {
			w.fb = w.w
			continue
		}
		w.fb = view(p.FeedbackWeight, w.fbBuf)
	}
	for q := range n.Pops {
		p, w := &n.Pops[q], &e.pops[q]
		w.tauM, w.tauR = view(p.TauM, w.tauM), view(p.TauR, w.tauR)
		if p.Bias == nil {
			w.bias = w.zeros
			continue
		}
		w.bias = view(p.Bias, w.bias)
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
// that do not fit; the state is then unchanged. Its phases run on the
// engine's threads (SetThreads) with the same results for any number.
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
	e.syncViews()
	xT := view(x, e.x)
	if !is64[T]() {
		kernel.Convert(xT, x)
	}
	learn := e.grads != nil && !e.skipGrads && !e.ErrorsOff
	e.lossReady = n.Loss == CE && t.Classes != nil && B > 0
	e.cur = stepArgs[T]{x: xT, t: t, state: cur, next: next}
	// The parameters in T, Wᵀ and 1/τ; every population's next state and
	// the errors it sends back, by blocks of samples; the gradients, by
	// blocks of parameters. Each phase needs the one before complete.
	pool := e.auto.begin(e.pool)
	if pool == nil { // one thread: the chunks in order, called directly
		for c := range e.plan.params {
			e.paramsChunk(c)
		}
		for c := range len(e.plan.rows) - 1 {
			e.rowsChunk(c)
		}
		for c := range e.plan.grads {
			if learn {
				e.gradsChunk(c)
			}
		}
	} else {
		pool.Run(len(e.plan.params), e.plan.fnP)
		pool.Run(len(e.plan.rows)-1, e.plan.fnA)
		if learn {
			pool.Run(len(e.plan.grads), e.plan.fnC)
		}
	}
	e.auto.end()
	e.cur = stepArgs[T]{}
	// Commit.
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

// stepArgs are the operands of the step being run.
type stepArgs[T Float] struct {
	x           []T
	t           Target
	state, next *StateOf[T]
}

// paramsChunk is a chunk of the first phase: Wᵀ (and for float32 W) of
// rows lo…hi−1 of a projection, the float32 copy of feedback weights, or
// a population's time constants, bias and reciprocals.
func (e *EngineOf[T]) paramsChunk(c int) {
	ch := &e.plan.params[c]
	n := e.Net
	switch ch.kind {
	case chunkProj:
		p, w := &n.Projs[ch.idx], &e.projs[ch.idx]
		var cp []T
		if !is64[T]() {
			cp = w.wBuf
		}
		kernel.TransposeRows(w.wt, cp, p.W, n.Pops[p.To].N, n.FromSize(p), ch.lo, ch.hi)
	case chunkFeedback:
		p, w := &n.Projs[ch.idx], &e.projs[ch.idx]
		from := n.FromSize(p)
		kernel.Convert(w.fbBuf[ch.lo*from:ch.hi*from], p.FeedbackWeight[ch.lo*from:ch.hi*from])
	case chunkPop:
		p, w := &n.Pops[ch.idx], &e.pops[ch.idx]
		if !is64[T]() {
			kernel.Convert(w.tauM, p.TauM)
			kernel.Convert(w.tauR, p.TauR)
			if p.Bias != nil {
				kernel.Convert(w.bias, p.Bias)
			}
		}
		kernel.Reciprocals(w.invTauM, w.invTauR, w.tauM, w.tauR)
	}
}

// rowsChunk is a chunk of the second phase: samples r0…r1−1 of every
// population — the error arriving, the synaptic input, the Euler step,
// φ, and the errors sent back along the projections in, e_from′ = ê_q M_p
// (M_p = W_p, or B_p without weight transport, with this step's
// parameters) — and those samples' losses.
func (e *EngineOf[T]) rowsChunk(c int) {
	r0, r1 := e.plan.rows[c], e.plan.rows[c+1]
	n, a := e.Net, &e.cur
	cur, next := a.state, a.next
	B, K := cur.Batch, n.Outputs()
	// The output rates in float64 (the losses' precision) for these rows.
	rOut := as64Or(cur.Pops[n.Output].R, e.r64)
	if !is64[T]() && (e.lossReady || !e.ErrorsOff) {
		kernel.Convert(e.r64[r0*K:r1*K], cur.Pops[n.Output].R[r0*K:r1*K])
	}
	if e.lossReady {
		for b := r0; b < r1; b++ {
			rb := rOut[b*K : b*K+K]
			e.lossRows[b] = logSumExp(rb) - rb[a.t.Classes[b]]
		}
	}
	for q := range n.Pops {
		pop, w, ps, nx := &n.Pops[q], &e.pops[q], &cur.Pops[q], &next.Pops[q]
		N := pop.N
		lo, hi := r0*N, r1*N
		// The error arriving (previous step), gated by φ′(ŭ) in Euler:
		// Σ over the projections that send errors back here, plus the
		// target error at the output population.
		arriving := w.inst
		switch {
		case e.ErrorsOff:
			clear(w.inst[lo:hi])
		case q == n.Output:
			e.targetError(w.inst, rOut, a.t, r0, r1)
			for _, k := range w.back {
				kernel.Axpy(w.inst[lo:hi], 1, cur.EBottom[k][lo:hi])
			}
		case len(w.back) == 1: // a chain: the layer above's e_bottom itself
			arriving = cur.EBottom[w.back[0]]
		case len(w.back) > 1:
			copy(w.inst[lo:hi], cur.EBottom[w.back[0]][lo:hi])
			for _, k := range w.back[1:] {
				kernel.Axpy(w.inst[lo:hi], 1, cur.EBottom[k][lo:hi])
			}
		}
		// s = Σ_p W_p r_p (the bias is added in Euler)
		for i, k := range w.in {
			src := e.source(k, a.x, cur)
			dst := w.s
			if i > 0 {
				dst = w.tmp
			}
			from := n.FromSize(&n.Projs[k])
			clear(dst[lo:hi])
			kernel.GemmRange(B, N, from, src, from, 1, e.projs[k].wt, N, dst, N, r0, r1, 0, N)
			if i > 0 {
				kernel.Axpy(w.s[lo:hi], 1, w.tmp[lo:hi])
			}
		}
		prospective, gamma := n.ProspectiveErrors && !pop.InstantErrors, T(pop.Gamma)
		if e.ErrorsOff {
			prospective, gamma = false, 0
		}
		kernel.EulerRows(&kernel.EulerParams[T]{
			Dt: T(n.Dt), Prospective: prospective, Gamma: gamma, TauM: w.tauM, TauR: w.tauR,
			InvTauM: w.invTauM, InvTauR: w.invTauR, Bias: w.bias,
			E: arriving, RPrime: ps.RPrime, S: w.s, U: ps.U, V: ps.V,
			NextU: nx.U, NextV: nx.V, EHat: w.ehat, UDot: w.udot, UBreve: w.ubrev,
		}, r0, r1)
		// r′ = φ(ŭ), r_prime′ = φ′(ŭ)
		applyPhi(pop.Phi, nx.R[lo:hi], nx.RPrime[lo:hi], w.ubrev[lo:hi])
		if e.ErrorsOff {
			continue
		}
		for _, k := range w.in {
			from := n.FromSize(&n.Projs[k])
			eb := next.EBottom[k]
			clear(eb[r0*from : r1*from])
			kernel.GemmRange(B, from, N, w.ehat, N, 1, e.projs[k].fb, from, eb, from, r0, r1, 0, from)
		}
	}
}

// as64Or returns x as float64 when T is float64, else the float64 copy.
func as64Or[T Float](x []T, copy64 []float64) []float64 {
	if is64[T]() {
		return as64(x)
	}
	return copy64
}

// targetError writes the output population's target error for samples
// r0…r1−1 of the rates r (float64) into inst; the losses compute in
// float64.
func (e *EngineOf[T]) targetError(inst []T, r []float64, t Target, r0, r1 int) {
	n := e.Net
	K := n.Outputs()
	rows := Target{}
	switch {
	case t.Values != nil:
		rows.Values = t.Values[r0*K : r1*K]
	case t.Classes != nil:
		rows.Classes = t.Classes[r0:r1]
	}
	if is64[T]() {
		n.Loss.TargetError(as64(inst[r0*K:r1*K]), r[r0*K:r1*K], rows, n.Beta, K)
		return
	}
	n.Loss.TargetError(e.inst64[r0*K:r1*K], r[r0*K:r1*K], rows, n.Beta, K)
	kernel.Convert(inst[r0*K:r1*K], e.inst64[r0*K:r1*K])
}

// gradsChunk is a chunk of the third phase: the batch-mean gradients of
// rows lo…hi−1 of a projection's weights or of neurons lo…hi−1 of a
// population; it records whether they are all finite.
func (e *EngineOf[T]) gradsChunk(c int) {
	ch := &e.plan.grads[c]
	if ch.kind == chunkPop {
		e.plan.gradOK[c] = e.populationGrads(ch.idx, ch.lo, ch.hi)
		return
	}
	e.plan.gradOK[c] = e.projectionGrads(ch.idx, ch.lo, ch.hi)
}

// gradsFinite reports whether the last Step's gradients are all finite.
func (e *EngineOf[T]) gradsFinite() bool {
	for _, ok := range e.plan.gradOK {
		if !ok {
			return false
		}
	}
	return true
}

// populationGrads writes population q's batch-mean bias and τm gradients
// (docs/model.md §3) of neurons j0…j1−1 and reports whether they are
// finite.
func (e *EngineOf[T]) populationGrads(q, j0, j1 int) bool {
	pop, w, g := &e.Net.Pops[q], &e.pops[q], &e.grads.Pops[q]
	B, N := e.state.Batch, pop.N
	inv := 1 / T(B)
	ok := true
	if gB := g.Bias; gB != nil { // −(1/B) Σ_b ê, as 1ᵀ ê
		clear(gB[j0:j1])
		kernel.GemmRange(1, N, B, e.ones, 1, 1, w.ehat, N, gB, N, 0, 1, j0, j1)
		ok = kernel.ScaleFinite(gB[j0:j1], -inv)
	}
	if gTauM := g.TauM; gTauM != nil { // (1/B) Σ_b ê ⊙ u̇
		clear(gTauM[j0:j1])
		for b := range B {
			eh, ud := w.ehat[b*N:b*N+N], w.udot[b*N:b*N+N]
			for o := j0; o < j1; o++ {
				gTauM[o] += inv * eh[o] * ud[o]
			}
		}
		ok = ok && kernel.Finite(gTauM[j0:j1])
	}
	return ok
}

// projectionGrads writes rows o0…o1−1 (neurons of the target) of
// projection k's batch-mean weight gradient −(1/B) Σ_b ê_to r_fromᵀ and,
// for learned feedback, of the Kolen–Pollack pair: ∂B = ∂W + λB,
// ∂W += λW. It reports whether they are finite.
func (e *EngineOf[T]) projectionGrads(k, o0, o1 int) bool {
	n, p, w, g := e.Net, &e.Net.Projs[k], &e.projs[k], &e.grads.Projs[k]
	B, N, from := e.state.Batch, n.Pops[p.To].N, n.FromSize(p)
	dst := g.W
	if dst == nil {
		dst = g.FeedbackWeight
	}
	if dst == nil {
		return true
	}
	lo, hi := o0*from, o1*from
	clear(dst[lo:hi])
	a, aRow, aCol := e.pops[p.To].ehat, 1, N // êᵀ through strides
	if w.ehatT != nil {
		kernel.TransposeBlock(w.ehatT, a, B, N, 0, B, o0, o1)
		a, aRow, aCol = w.ehatT, B, 1
	}
	kernel.GemmRange(N, from, B, a, aRow, aCol, e.source(k, e.cur.x, e.cur.state), from, dst, from, o0, o1, 0, from)
	ok := kernel.ScaleFinite(dst[lo:hi], -1/T(B))
	if p.Feedback != Learned {
		return ok
	}
	decay, fb := T(n.FeedbackDecay), g.FeedbackWeight
	if g.W != nil {
		if fb != nil {
			copy(fb[lo:hi], g.W[lo:hi])
		}
		kernel.Axpy(g.W[lo:hi], decay, w.w[lo:hi])
	}
	if fb != nil {
		kernel.Axpy(fb[lo:hi], decay, w.fb[lo:hi])
	}
	return (g.W == nil || kernel.Finite(g.W[lo:hi])) && (fb == nil || kernel.Finite(fb[lo:hi]))
}
