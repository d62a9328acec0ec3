package gle

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/gle-go/gle/internal/kernel"
	"github.com/gle-go/gle/optim"
)

// Trainer trains a network online on the float64 Engine.
type Trainer = TrainerOf[float64]

// Trainer32 trains on the float32 Engine32: gradients, the optimizer's
// state and its arithmetic are float32 too (see Float).
type Trainer32 = TrainerOf[float32]

// Rule is a learning rule other than GLE's local one, chosen per trainer:
// truncated or full BPTT (package gradient). It runs the trainer's engine
// and says when the gradient it accumulated is ready for the optimizer.
type Rule interface {
	// Name identifies the rule in checkpoints ("tbptt:100", "bptt").
	Name() string
	// Step runs one step of e (out receives the output, as Engine.Step)
	// and reports whether g now holds a gradient to apply.
	Step(e *Engine, out, x []float64, t Target, g *Grads) (ready bool, err error)
	// EndSequence reports whether g holds a gradient for the steps since
	// the last one (the end of a sequence or trial).
	EndSequence(e *Engine, g *Grads) (ready bool, err error)
	// Pending returns the number of recorded steps not yet turned into a
	// gradient.
	Pending() int
	// Reset forgets the recorded steps (the engine's state changed).
	Reset()
}

// StatefulRule is a Rule that carries state from step to step besides
// the engine's (RTRL's and SnAp's sensitivities, e-prop's traces):
// Trainer.Save stores it and LoadTrainer gives it back, so that a resumed
// run continues bit for bit.
type StatefulRule interface {
	Rule
	// RuleState returns copies of the carried arrays (nil before the
	// first step).
	RuleState() [][]float64
	// SetRuleState restores arrays RuleState returned; the rule checks
	// their sizes when it next steps.
	SetRuleState([][]float64)
}

// TrainerOf runs an engine with learning. With the default rule (Rule
// nil) it is GLE's local rule: at every dt step the engine computes the
// local gradients (docs/model.md §3), the optimizer steps on them, then τm
// is clamped from below. With a Rule (truncated or full BPTT) the
// optimizer steps whenever the rule has a gradient ready.
type TrainerOf[T Float] struct {
	Engine *EngineOf[T]
	// Opt steps on the gradients; nil runs the network without learning.
	Opt optim.Optimizer
	// Rule, when set, replaces GLE's local rule (float64 trainers only).
	Rule Rule
	// TauMMin clamps every τm to at least this value after each optimizer
	// step (NewTrainer sets dt; 0 switches the clamp off).
	TauMMin float64
	// TauMMax, when positive, clamps every learned τm to at most this
	// value after each optimizer step (a bound on time constants that
	// run away; the spec's tau_m_max).
	TauMMax float64
	// LearnFromStep is the first step (counting from 0) at which Opt steps.
	LearnFromStep int
	// MaxLoopGain, when positive, scales the weights of every loop down
	// after each EndSequence so that its loop gain is at most MaxLoopGain
	// (LoopGains; the stability condition of the real-time errors,
	// docs/vle.md §4).
	MaxLoopGain float64
	// Steps counts the calls of Step so far.
	Steps int

	grads      *GradsOf[T]
	params     [][]float64 // the learned parameters (the network's)
	gsl        [][]T       // and their gradients, aligned
	g64        [][]float64 // float32 gradients in float64, for an optimizer without a float32 step
	learnsTauR bool        // a population learns τr (the local rule cannot)

	// The optimizer's phase: blocks of parameters (optChunks) updated on
	// the engine's threads, planned for optWorkers threads.
	optChunks  []chunk
	optOK      []bool
	optWorkers int
	ew         optim.Elementwise
	f32        optim.Float32
	fnUpdate   func(int)
	fnCheck    func(int)
}

// NewTrainer returns a float64 trainer for n with a zero state for the
// given batch size; opt may be nil. τm is clamped to dt.
func NewTrainer(n *Network, batch int, opt optim.Optimizer) (*Trainer, error) {
	return NewTrainerOf[float64](n, batch, opt)
}

// NewTrainerOf returns a trainer in T for n with a zero state for the
// given batch size; opt may be nil. τm is clamped to dt.
func NewTrainerOf[T Float](n *Network, batch int, opt optim.Optimizer) (*TrainerOf[T], error) {
	e, err := NewEngineOf[T](n, batch)
	if err != nil {
		return nil, err
	}
	if err := CheckMemory("batch", batch, TrainerBytes(n, batch, 8)); err != nil {
		return nil, err
	}
	g := NewGradsOf[T](n)
	tr := &TrainerOf[T]{Engine: e, Opt: opt, TauMMin: n.Dt, grads: g}
	for _, p := range n.Pops {
		tr.learnsTauR = tr.learnsTauR || p.LearnTauR
	}
	tr.params, tr.gsl = pairsOf(n, g)
	tr.fnUpdate, tr.fnCheck = tr.updateChunk, tr.checkChunk
	if err := e.SetGrads(g); err != nil {
		return nil, err
	}
	return tr, nil
}

// NewTrainerFromSpec builds the network, the optimizer and the trainer a
// spec declares (optimizer, τm bounds, first learning step) for the
// given batch size, on the engine in T.
func NewTrainerFromSpec[T Float](s *Spec, batch int) (*TrainerOf[T], error) {
	n, err := NewNetwork(s)
	if err != nil {
		return nil, err
	}
	return newTrainerFor[T](n, s, batch)
}

// newTrainerFor is the trainer spec s declares for the network n (built
// from s, perhaps changed since).
func newTrainerFor[T Float](n *Network, s *Spec, batch int) (*TrainerOf[T], error) {
	opt, err := s.Optimizer.New()
	if err != nil {
		return nil, err
	}
	tr, err := NewTrainerOf[T](n, batch, opt)
	if err != nil {
		return nil, err
	}
	tr.TauMMin, tr.TauMMax, tr.LearnFromStep = s.TauMMinOrDefault(), s.TauMMax, s.LearnFromStep
	return tr, nil
}

// Grads returns the gradients the trainer steps on (the rule's or the
// engine's local ones).
func (tr *TrainerOf[T]) Grads() *GradsOf[T] { return tr.grads }

// SetThreads sets the threads the trainer's steps run on (n ≤ 0: the
// package's setting); see the package's SetThreads.
func (tr *TrainerOf[T]) SetThreads(n int) { tr.Engine.SetThreads(n) }

// Threads returns the threads the trainer's steps run on.
func (tr *TrainerOf[T]) Threads() int { return tr.Engine.Threads() }

// check refuses settings that cannot work: τr learned by the local rule,
// a rule on a float32 engine.
func (tr *TrainerOf[T]) check() error {
	if tr.Rule != nil {
		if !is64[T]() {
			return fieldErr(ErrInvalid, "rule", tr.Rule.Name(), "exact-gradient rules run on the float64 engine only")
		}
		return nil
	}
	if tr.Opt == nil || !tr.learnsTauR {
		return nil
	}
	for q, p := range tr.Engine.Net.Pops {
		if p.LearnTauR {
			return fieldErr(ErrInvalid, fmt.Sprintf("population %s (%d).learn_tau_r", p.Name, q), true,
				"GLE's local rule has no τr update; train τr with an exact rule (tbptt, bptt)")
		}
	}
	return nil
}

// Step runs one dt step (see Engine.Step for the output lag) and, from
// LearnFromStep on, lets the optimizer step when the rule has a gradient
// (every step for GLE's local rule). out must hold Batch×Outputs values.
// It returns the loss of the output against t (0 without a target) and
// fails with ErrDiverged, naming the step, population, variable, sample
// and neuron — and the loop gains of the network's loops — when the state
// becomes NaN or ±Inf.
func (tr *TrainerOf[T]) Step(out, x []float64, t Target) (float64, error) {
	if out == nil {
		return 0, fmt.Errorf("%w: Trainer.Step needs an output buffer", ErrShape)
	}
	if err := tr.check(); err != nil {
		return 0, err
	}
	learn := tr.Opt != nil && tr.Steps >= tr.LearnFromStep
	ready := learn
	e := tr.Engine
	var gradsOK bool
	if tr.Rule != nil {
		e64, _ := any(e).(*Engine)
		g64, _ := any(tr.grads).(*Grads)
		var err error
		if ready, err = tr.Rule.Step(e64, out, x, t, g64); err != nil {
			return 0, err
		}
		ready = ready && learn
		gradsOK = !ready || tr.checkGrads()
	} else {
		e.skipGrads = !learn // no gradients nobody uses
		err := e.Step(out, x, t)
		e.skipGrads = false
		if err != nil {
			return 0, err
		}
		gradsOK = !ready || e.gradsFinite()
	}
	tr.Steps++
	var loss float64
	if tr.Rule == nil && e.lossReady {
		// The cross-entropy of each sample, computed with the step:
		// summed in sample order, as Loss.Value sums.
		for _, l := range e.lossRows {
			loss += l
		}
		loss /= float64(len(e.lossRows))
	} else {
		loss = e.Net.Loss.Value(out, t, e.Net.Outputs())
	}
	// Divergence is caught before anything is applied: the parameters
	// (and the optimizer's moments) keep their last finite values, so
	// that Reset and a smaller learning rate can continue from them.
	if math.IsNaN(loss) || math.IsInf(loss, 0) || firstNonFinite(out) >= 0 || !gradsOK {
		return loss, tr.diverged(loss)
	}
	if ready {
		tr.apply()
	}
	return loss, nil
}

// Reset returns the network to rest (Engine.Reset) and makes the rule
// forget the steps it recorded and the sensitivities it carries: the
// start of an independent trial.
func (tr *TrainerOf[T]) Reset() {
	tr.Engine.Reset()
	if tr.Rule != nil {
		tr.Rule.Reset()
	}
}

// EndSequence marks the end of a sequence (a trial, a batch of
// sequences): a full-BPTT rule turns its recorded steps into a gradient
// and the optimizer steps on it; then loops are held to MaxLoopGain. With
// GLE's local rule only the loop-gain limit applies.
func (tr *TrainerOf[T]) EndSequence() error {
	if tr.Rule != nil {
		e, _ := any(tr.Engine).(*Engine)
		g, _ := any(tr.grads).(*Grads)
		ready, err := tr.Rule.EndSequence(e, g)
		if err != nil {
			return err
		}
		if ready && tr.Opt != nil && tr.Steps > tr.LearnFromStep {
			tr.apply()
		}
	}
	if tr.MaxLoopGain > 0 {
		return LimitLoopGain(tr.Engine.Net, tr.MaxLoopGain)
	}
	return nil
}

// Run feeds one sequence: the frames xs[t] (Batch×Inputs) with targets
// ts[t] (nil: no targets), writes each step's output into outs[t] when
// outs is non-nil (Batch×Outputs each), calls each(t, loss) when given,
// then EndSequence, and returns the mean loss per step. Cancelling ctx
// stops it between steps with ctx.Err(); the steps run so far stand.
func (tr *TrainerOf[T]) Run(ctx context.Context, xs [][]float64, ts []Target, outs [][]float64, each func(t int, loss float64)) (float64, error) {
	if ts != nil && len(ts) != len(xs) {
		return 0, fmt.Errorf("%w: %d input steps but %d targets", ErrShape, len(xs), len(ts))
	}
	if outs != nil && len(outs) != len(xs) {
		return 0, fmt.Errorf("%w: %d input steps but %d output buffers", ErrShape, len(xs), len(outs))
	}
	out := make([]float64, tr.Engine.Batch()*tr.Engine.Net.Outputs())
	var sum float64
	done := ctx.Done()
	for t, x := range xs {
		select { // before every step: a stop request waits one step at most
		case <-done:
			return sum / float64(max(t, 1)), ctx.Err()
		default:
		}
		var tgt Target
		if ts != nil {
			tgt = ts[t]
		}
		o := out
		if outs != nil {
			o = outs[t]
		}
		loss, err := tr.Step(o, x, tgt)
		if err != nil {
			return sum / float64(max(t, 1)), err
		}
		sum += loss
		if each != nil {
			each(t, loss)
		}
	}
	return sum / float64(max(len(xs), 1)), tr.EndSequence()
}

// apply lets the optimizer step and clamps τm to [TauMMin, TauMMax] and
// learned τr to dt (the Euler step needs τ ≥ dt). An element-wise
// optimizer (SGD, Adam) steps by blocks of parameters on the engine's
// threads, in float32 for a float32 trainer; any other steps on the
// calling goroutine (a float32 trainer's on its gradients converted).
func (tr *TrainerOf[T]) apply() {
	pool := tr.Engine.stepPool()
	if is64[T]() {
		if ew, ok := tr.Opt.(optim.Elementwise); ok && pool != nil {
			tr.planOpt()
			ew.Begin(tr.params)
			tr.ew = ew
			pool.Run(len(tr.optChunks), tr.fnUpdate)
			tr.ew = nil
		} else { // one thread: the optimizer's own step (the same bits)
			tr.Opt.Step(tr.params, as64s(tr.gsl))
		}
	} else if f32, ok := tr.Opt.(optim.Float32); ok {
		if pool == nil {
			f32.Step32(tr.params, as32s(tr.gsl))
		} else {
			tr.planOpt()
			f32.Begin32(tr.params)
			tr.f32 = f32
			pool.Run(len(tr.optChunks), tr.fnUpdate)
			tr.f32 = nil
		}
	} else {
		if tr.g64 == nil {
			tr.g64 = make([][]float64, len(tr.gsl))
			for k, g := range tr.gsl {
				tr.g64[k] = make([]float64, len(g))
			}
		}
		for k, g := range tr.gsl {
			kernel.Convert(tr.g64[k], g)
		}
		tr.Opt.Step(tr.params, tr.g64)
	}
	n := tr.Engine.Net
	for q := range n.Pops {
		if tr.TauMMin > 0 {
			ClampTaus(n.Pops[q].TauM, tr.TauMMin)
		}
		if tr.TauMMax > 0 && n.Pops[q].LearnTauM {
			clampTausAbove(n.Pops[q].TauM, tr.TauMMax)
		}
		if n.Pops[q].LearnTauR {
			ClampTaus(n.Pops[q].TauR, n.Dt)
		}
	}
}

// planOpt splits the learned parameters into blocks for the engine's
// threads: about 1/(2·threads) of them per block, at least 16k.
func (tr *TrainerOf[T]) planOpt() {
	workers := tr.Engine.plan.workers
	if tr.optChunks != nil && tr.optWorkers == workers {
		return
	}
	tr.optWorkers = workers
	tr.optChunks = tr.optChunks[:0]
	var total float64
	for _, p := range tr.params {
		total += float64(len(p))
	}
	share := total
	if workers > 1 {
		share = max(total/float64(2*workers), 1<<14)
	}
	for k, p := range tr.params {
		tr.optChunks = appendRows(tr.optChunks, chunkProj, k, len(p), 1, 64, share)
	}
	sortByCost(tr.optChunks)
	tr.optOK = make([]bool, len(tr.optChunks))
}

// updateChunk steps one block of parameters.
func (tr *TrainerOf[T]) updateChunk(c int) {
	ch := &tr.optChunks[c]
	if tr.f32 != nil {
		tr.f32.Update32(ch.idx, ch.lo, ch.hi, tr.params[ch.idx], as32(tr.gsl[ch.idx]))
		return
	}
	tr.ew.Update(ch.idx, ch.lo, ch.hi, tr.params[ch.idx], as64(tr.gsl[ch.idx]))
}

// checkChunk records whether one block of gradients is finite.
func (tr *TrainerOf[T]) checkChunk(c int) {
	ch := &tr.optChunks[c]
	tr.optOK[c] = kernel.Finite(tr.gsl[ch.idx][ch.lo:ch.hi])
}

// checkGrads reports whether the gradients (a rule's) are all finite,
// checked by blocks on the engine's threads.
func (tr *TrainerOf[T]) checkGrads() bool {
	tr.planOpt()
	tr.Engine.stepPool().Run(len(tr.optChunks), tr.fnCheck)
	for _, ok := range tr.optOK {
		if !ok {
			return false
		}
	}
	return true
}

// as32s returns xs as [][]float32 (the same slices); T must be float32.
func as32s[T Float](xs [][]T) [][]float32 {
	return *(*[][]float32)(unsafe.Pointer(&xs))
}

// as64s returns xs as [][]float64 (the same slices); T must be float64.
func as64s[T Float](xs [][]T) [][]float64 {
	return *(*[][]float64)(unsafe.Pointer(&xs))
}

// diverged builds the divergence error: which step, population, variable
// and neuron (of the state, or of a gradient when the state is finite),
// and the gain of every loop against its limit 1. The parameters are
// finite (nothing was applied), so the gains can be computed.
func (tr *TrainerOf[T]) diverged(loss float64) error {
	n := tr.Engine.Net
	err := tr.Engine.state.CheckFinite(n)
	if err == nil {
		err = tr.gradsFinite()
	}
	if err == nil {
		err = checkParamsFinite(n)
	}
	if err == nil {
		err = fmt.Errorf("%w: the output or the loss is %v", ErrDiverged, loss)
	}
	err = fmt.Errorf("step %d: %w", tr.Steps-1, err)
	if gains, gerr := LoopGains(n); gerr == nil && len(gains) > 0 {
		msg := ""
		for _, g := range gains {
			msg += fmt.Sprintf("; loop %s has gain ρ(W)·τm/τr = %.3g (limit 1)", strings.Join(g.Populations, "→"), g.Gain)
		}
		err = fmt.Errorf("%w%s: real-time errors on a loop stay bounded only below gain 1 (docs/vle.md §4); lower the loop's weights or τm/τr, or set max_loop_gain", err, msg)
	}
	return err
}

// gradsFinite names the first gradient value that is NaN or ±Inf.
func (tr *TrainerOf[T]) gradsFinite() error {
	for _, pt := range tr.Engine.Net.Tensors() {
		for k, p := range tr.params {
			if len(p) > 0 && len(pt.Data) > 0 && &p[0] == &pt.Data[0] {
				if j := firstNonFinite(tr.gsl[k]); j >= 0 {
					return fmt.Errorf("%w: the gradient of %s, element %d, is %v", ErrDiverged, pt.Name, j, tr.gsl[k][j])
				}
			}
		}
	}
	return nil
}

// checkParamsFinite names the first parameter that is NaN or ±Inf.
func checkParamsFinite(n *Network) error {
	for k, p := range n.Projs {
		if j := firstNonFinite(p.W); j >= 0 {
			return fmt.Errorf("%w: weight %d of projection %s is %v", ErrDiverged, j, n.ProjectionName(k), p.W[j])
		}
	}
	for _, p := range n.Pops {
		for _, a := range []struct {
			name string
			x    []float64
		}{{"bias", p.Bias}, {"tau_m", p.TauM}, {"tau_r", p.TauR}} {
			if j := firstNonFinite(a.x); j >= 0 {
				return fmt.Errorf("%w: %s of population %s, neuron %d is %v", ErrDiverged, a.name, p.Name, j, a.x[j])
			}
		}
	}
	return nil
}

// clampTausAbove sets every τ in taus to at most max.
func clampTausAbove(taus []float64, max float64) {
	for j, v := range taus {
		if v > max {
			taus[j] = max
		}
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
