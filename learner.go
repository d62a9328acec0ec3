package gle

import (
	"context"

	"github.com/gle-go/gle/optim"
)

// Learner is a trainer of either precision behind one non-generic
// interface: what a run driver (package fit), the C ABI and the command
// line need, so that none of them forks on float32 against float64.
// *TrainerOf[float64] and *TrainerOf[float32] implement it.
type Learner interface {
	// Step runs one dt step with learning (TrainerOf.Step).
	Step(out, x []float64, t Target) (float64, error)
	// Infer runs one dt step without learning and without a target (an
	// evaluation on the learner's own state: errors already on their
	// way keep decaying, as in the reference's evaluation).
	Infer(out, x []float64) error
	// EndSequence marks the end of a sequence (TrainerOf.EndSequence).
	EndSequence() error
	// Run feeds one sequence with learning (TrainerOf.Run).
	Run(ctx context.Context, xs [][]float64, ts []Target, outs [][]float64, each func(t int, loss float64)) (float64, error)
	// Reset returns the state to rest and makes the rule forget.
	Reset()
	// ResetPopulation returns population q's state to rest.
	ResetPopulation(q int)
	// Batch returns the batch size; SetBatch changes it, continuing the
	// state as the reference does (tile, then truncate).
	Batch() int
	SetBatch(batch int) error
	// Network returns the network being trained (its parameters live
	// there, in float64).
	Network() *Network
	// Optimizer returns the optimizer (nil: no learning); SetOptimizer
	// replaces it.
	Optimizer() optim.Optimizer
	SetOptimizer(o optim.Optimizer)
	// StepCount returns the dt steps taken with learning.
	StepCount() int
	// Precision names the engine's arithmetic: "float64" or "float32".
	Precision() string
	// RuleName names the learning rule ("gle", "tbptt:100", …);
	// SetRule sets it (nil: GLE's local rule; exact rules need float64).
	RuleName() string
	SetRule(r Rule) error
	// Snapshot returns a copy of the state (float64, exact for either
	// precision); Restore installs one.
	Snapshot() *State
	Restore(s *State) error
	// Evaluator returns a learner of the same precision on the same
	// network, at rest, without optimizer: for evaluations that start
	// from rest and must not touch this learner's state.
	Evaluator(batch int) (Learner, error)
	// SetThreads sets the threads a step runs on (n ≤ 0: the package's
	// setting, SetThreads); results do not depend on it. Threads returns
	// the threads a step runs on (1 for a network too small to gain).
	SetThreads(n int)
	Threads() int
	// Save writes a checkpoint (TrainerOf.Save); Load reads one into a
	// learner of this one's precision and rule (LoadTrainer).
	Save(path string, identity map[string]string, meta any) error
	Load(path string, identity map[string]string, meta any) (Learner, error)
}

var (
	_ Learner = (*TrainerOf[float64])(nil)
	_ Learner = (*TrainerOf[float32])(nil)
)

// NewLearner returns the trainer of spec (NewTrainerFromSpec) in float32
// when f32 is set, in float64 otherwise.
func NewLearner(s *Spec, batch int, f32 bool) (Learner, error) {
	n, err := NewNetwork(s)
	if err != nil {
		return nil, err
	}
	return NewLearnerFor(n, s, batch, f32)
}

// NewLearnerFor returns the trainer spec s declares (optimizer, τm
// bounds, first learning step) for the network n, which was built from s
// and may have changed since (its parameters are used as they are).
func NewLearnerFor(n *Network, s *Spec, batch int, f32 bool) (Learner, error) {
	if f32 {
		return learner(newTrainerFor[float32](n, s, batch))
	}
	return learner(newTrainerFor[float64](n, s, batch))
}

// learner returns tr as a Learner, or a nil Learner (not a nil pointer
// in an interface) with err.
func learner[T Float](tr *TrainerOf[T], err error) (Learner, error) {
	if err != nil {
		return nil, err
	}
	return tr, nil
}

// LoadLearner reads a checkpoint (LoadTrainer) in float32 when f32 is
// set, in float64 otherwise.
func LoadLearner(path string, f32 bool, identity map[string]string, rule Rule, meta any) (Learner, error) {
	if f32 {
		return learner(LoadTrainer[float32](path, identity, rule, meta))
	}
	return learner(LoadTrainer[float64](path, identity, rule, meta))
}

// Infer implements Learner: Engine.Step without a target and without
// gradients.
func (tr *TrainerOf[T]) Infer(out, x []float64) error {
	tr.Engine.skipGrads = true
	err := tr.Engine.Step(out, x, Target{})
	tr.Engine.skipGrads = false
	return err
}

// ResetPopulation implements Learner.
func (tr *TrainerOf[T]) ResetPopulation(q int) { tr.Engine.state.ResetPopulation(tr.Engine.Net, q) }

// Batch implements Learner.
func (tr *TrainerOf[T]) Batch() int { return tr.Engine.Batch() }

// SetBatch implements Learner: the engine's SetBatch; a rule rebuilds its
// tape for the new batch when it next steps.
func (tr *TrainerOf[T]) SetBatch(batch int) error { return tr.Engine.SetBatch(batch) }

// Network implements Learner.
func (tr *TrainerOf[T]) Network() *Network { return tr.Engine.Net }

// Optimizer implements Learner.
func (tr *TrainerOf[T]) Optimizer() optim.Optimizer { return tr.Opt }

// SetOptimizer implements Learner.
func (tr *TrainerOf[T]) SetOptimizer(o optim.Optimizer) { tr.Opt = o }

// StepCount implements Learner.
func (tr *TrainerOf[T]) StepCount() int { return tr.Steps }

// Precision implements Learner.
func (tr *TrainerOf[T]) Precision() string { return precisionName[T]() }

// RuleName implements Learner.
func (tr *TrainerOf[T]) RuleName() string {
	if tr.Rule == nil {
		return "gle"
	}
	return tr.Rule.Name()
}

// SetRule implements Learner.
func (tr *TrainerOf[T]) SetRule(r Rule) error {
	if r != nil && !is64[T]() {
		return fieldErr(ErrInvalid, "rule", r.Name(), "exact-gradient rules run on the float64 engine only")
	}
	tr.Rule = r
	return nil
}

// Snapshot implements Learner.
func (tr *TrainerOf[T]) Snapshot() *State { return ConvertState[float64](tr.Engine.state) }

// Restore implements Learner.
func (tr *TrainerOf[T]) Restore(s *State) error { return tr.Engine.SetState(ConvertState[T](s)) }

// Load implements Learner: the learner read runs on this one's threads.
func (tr *TrainerOf[T]) Load(path string, identity map[string]string, meta any) (Learner, error) {
	back, err := LoadTrainer[T](path, identity, tr.Rule, meta)
	if err != nil {
		return nil, err
	}
	back.Engine.threadsOf(tr.Engine)
	return back, nil
}

// Evaluator implements Learner: the evaluator runs on this learner's
// threads.
func (tr *TrainerOf[T]) Evaluator(batch int) (Learner, error) {
	ev, err := NewTrainerOf[T](tr.Engine.Net, batch, nil)
	if err != nil {
		return nil, err
	}
	ev.Engine.threadsOf(tr.Engine)
	return ev, nil
}
