package fit

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/optim"
)

// Split names a data source of a run.
type Split string

// The three splits.
const (
	Train      Split = "train"
	Validation Split = "validation"
	Test       Split = "test"
)

// Sources are a run's data: Train is required, Validation and Test are
// evaluated when the settings ask for them.
type Sources struct {
	Train, Validation, Test data.Source
}

func (s *Sources) of(split Split) data.Source {
	switch split {
	case Train:
		return s.Train
	case Validation:
		return s.Validation
	case Test:
		return s.Test
	}
	return nil
}

// Settings say how a run goes. The zero value of each field is the
// reference's choice where it has one.
type Settings struct {
	Epochs int
	// Batch is the training batch size; ≤ 0 takes the whole training
	// source as one batch.
	Batch int
	// Order draws the training batches (data.Shuffled, Balanced, InOrder).
	Order data.Order
	// Seed drives the batch order and the per-draw transforms.
	Seed uint64
	// ResetEachEpoch starts every epoch from rest; by default the state
	// carries over from batch to batch and epoch to epoch (the reference).
	ResetEachEpoch bool
	// FreshPopulations start every batch and every evaluation from rest
	// (the static LagNet's fixed chain); the others carry their state.
	FreshPopulations []int

	// EvalBatch is the batch size of evaluations; ≤ 0 takes each source
	// as one batch.
	EvalBatch int
	// EvalFromRest runs evaluations on a learner of their own, each batch
	// from rest; by default they run on the learner's own state, carried
	// in and out, the batch size tiled and truncated (the reference).
	EvalFromRest bool
	// EpochZero lists the evaluations before training, recorded as epoch
	// 0 (Train: a pass over the training draws of epoch 0 without
	// learning). They move the carried state; they feed no schedule.
	EpochZero []Split
	// EachEpoch lists the evaluations after every epoch (Validation,
	// Test; the training metrics come from the epoch itself).
	EachEpoch []Split
	// AtEnd lists the evaluations after the last epoch only, recorded in
	// its record.
	AtEnd []Split

	// Schedule changes the learning rate after every epoch (nil: it stays),
	// fed the loss of ScheduleOn (Train: the epoch's training loss).
	Schedule   optim.Schedule
	ScheduleOn Split

	// LogEvery, when positive, adds a record of the mean training loss
	// every LogEvery steps (counted within the epoch).
	LogEvery int
	// KeepOutputs keeps the outputs of the last epoch (Result.Outputs):
	// for runs whose epoch is one batch.
	KeepOutputs bool

	// Checkpoint, when set, is written atomically after every epoch and
	// when the run is stopped; with Resume the run continues from it when
	// it exists. Identity is what defines the run: a checkpoint whose
	// identity differs is refused, naming each difference once.
	Checkpoint string
	Resume     bool
	Identity   map[string]string
	// Spec, when set, is kept in the checkpoint: the spec the network came
	// from, so that the checkpoint describes itself (LoadCheckpoint).
	Spec *gle.Spec
}

// Validate checks the settings against the sources.
func (s *Settings) Validate(src Sources) error {
	bad := func(field string, v any, why string) error {
		return &gle.FieldError{Field: field, Value: v, Why: why, Err: gle.ErrInvalid}
	}
	switch {
	case src.Train == nil:
		return bad("train", nil, "a run needs training data")
	case s.Epochs <= 0:
		return bad("epochs", s.Epochs, "must be positive")
	case s.Batch > src.Train.Len():
		return bad("batch", s.Batch, fmt.Sprintf("must be at most the %d training samples", src.Train.Len()))
	case s.LogEvery < 0:
		return bad("log_every", s.LogEvery, "must be ≥ 0")
	case s.Resume && s.Checkpoint == "":
		return bad("resume", true, "needs a checkpoint")
	case s.Schedule != nil && s.ScheduleOn == "":
		return bad("schedule_on", "", "a schedule needs the split whose loss feeds it (train, validation or test)")
	}
	for _, list := range []struct {
		name   string
		splits []Split
	}{{"epoch_zero", s.EpochZero}, {"each_epoch", s.EachEpoch}, {"at_end", s.AtEnd}, {"schedule_on", []Split{s.ScheduleOn}}} {
		for _, sp := range list.splits {
			switch {
			case sp == "" && list.name == "schedule_on":
			case sp != Train && sp != Validation && sp != Test:
				return &gle.FieldError{Field: list.name, Value: string(sp), Why: "want train, validation or test", Err: gle.ErrUnknownName}
			case src.of(sp) == nil:
				return bad(list.name, string(sp), "no "+string(sp)+" data given")
			case sp == Train && list.name != "epoch_zero" && list.name != "schedule_on":
				return bad(list.name, string(sp), "the training metrics come from the epoch itself")
			}
		}
	}
	if s.ScheduleOn != "" && s.ScheduleOn != Train && !slices.Contains(s.EachEpoch, s.ScheduleOn) {
		return bad("schedule_on", string(s.ScheduleOn), "is not evaluated after every epoch")
	}
	if s.KeepOutputs {
		if n := src.Train.Len(); s.Batch > 0 && s.Batch < n || s.Order == data.Balanced {
			return bad("keep_outputs", true, "needs an epoch of one batch: the whole training source, shuffled or in order")
		}
	}
	return nil
}

// Metrics are one split's numbers in a record.
type Metrics struct {
	Loss float64
	Acc  *float64 // with one class label per sample
}

// Record is one line of a run's metrics: an epoch (Epoch 0: the
// evaluations before training), or with Step a running mean of the
// training loss over LogEvery steps. Splits that were not measured are
// left out (nil).
type Record struct {
	Epoch     int                   `json:"epoch"`
	Step      int                   `json:"step,omitempty"`
	TrainLoss *float64              `json:"train_loss,omitempty"`
	TrainAcc  *float64              `json:"train_acc,omitempty"`
	ValLoss   *float64              `json:"val_loss,omitempty"`
	ValAcc    *float64              `json:"val_acc,omitempty"`
	TestLoss  *float64              `json:"test_loss,omitempty"`
	TestAcc   *float64              `json:"test_acc,omitempty"`
	LR        float64               `json:"lr,omitempty"`
	Seconds   float64               `json:"seconds,omitempty"`
	TauM      map[string][3]float64 `json:"tau_m,omitempty"` // min, median, max of every learned τm
}

// Of returns the record's metrics of a split (ok false when the split
// was not measured).
func (r *Record) Of(split Split) (m Metrics, ok bool) {
	var loss *float64
	switch split {
	case Train:
		loss, m.Acc = r.TrainLoss, r.TrainAcc
	case Validation:
		loss, m.Acc = r.ValLoss, r.ValAcc
	case Test:
		loss, m.Acc = r.TestLoss, r.TestAcc
	}
	if loss == nil {
		return Metrics{}, false
	}
	m.Loss = *loss
	return m, true
}

func (r *Record) set(split Split, m Metrics) {
	loss := m.Loss
	switch split {
	case Train:
		r.TrainLoss, r.TrainAcc = &loss, m.Acc
	case Validation:
		r.ValLoss, r.ValAcc = &loss, m.Acc
	case Test:
		r.TestLoss, r.TestAcc = &loss, m.Acc
	}
}

// Recorder sees a run's records.
type Recorder interface {
	// Start is called once before the run goes on, with the records a
	// resumed run's checkpoint holds (none for a new run), so that a
	// metrics file can be rewritten to exactly those.
	Start(done []Record) error
	// Record receives every new record, after the checkpoint that holds
	// it was written.
	Record(r Record) error
}

// Progresser is a Recorder that also follows the steps within an epoch.
type Progresser interface {
	Progress(p Progress)
}

// Finisher is a Recorder that writes what a finished run leaves (output
// files, figures) after the last epoch, before the checkpoint that says
// the run finished: a run stopped in between resumes from the epoch
// before and finishes again.
type Finisher interface {
	Finish(res *Result) error
}

// Warner is a Recorder that receives warnings about a run (a learned
// time constant running away).
type Warner interface {
	Warn(msg string)
}

// BatchStarter is a Recorder that sees the learner at the start of every
// batch — of training and of evaluations, after the fresh populations
// were reset (the learner is an evaluator's for evaluations from rest).
type BatchStarter interface {
	BatchStart(l gle.Learner, split Split, epoch, batch int)
}

// Progress is where a run is within an epoch.
type Progress struct {
	Epoch          int
	Split          Split // train, or the split being evaluated
	Batch, Batches int   // batches finished and planned
	// InBatch of BatchSteps steps of the next batch are taken.
	InBatch, BatchSteps int
	Steps               int // steps taken in this epoch (this evaluation) since it started or resumed
	Elapsed             time.Duration
}

// Fraction returns the part of the epoch (evaluation) done.
func (p Progress) Fraction() float64 {
	f := float64(p.Batch)
	if p.BatchSteps > 0 {
		f += float64(p.InBatch) / float64(p.BatchSteps)
	}
	return f / float64(max(p.Batches, 1))
}

// Result is a finished or stopped run.
type Result struct {
	// Learner is the learner trained: the one handed to Run, or for a
	// resumed run the one read from the checkpoint.
	Learner gle.Learner
	Records []Record
	// Confusion holds the last evaluation's confusion matrix of each
	// split ([true][predicted]; splits with one label per sample).
	Confusion map[Split][][]int
	// Outputs are the last epoch's outputs, Steps × Batch × outputs
	// (KeepOutputs), as far as the epoch went.
	Outputs []float64
	// Finished reports whether every epoch is done; AlreadyFinished that
	// a resumed run had nothing left to do.
	Finished, AlreadyFinished bool
	// StopNote says what a stopped run's checkpoint holds.
	StopNote string
}

// LastEpoch returns the last epoch record (not a LogEvery one), or nil.
func (r *Result) LastEpoch() *Record {
	for i := len(r.Records) - 1; i >= 0; i-- {
		if r.Records[i].Step == 0 {
			return &r.Records[i]
		}
	}
	return nil
}

// ErrNoTargets marks data without targets where they are needed; it
// wraps gle.ErrInvalid.
var ErrNoTargets = fmt.Errorf("%w: no targets", gle.ErrInvalid)

// progress is what Run keeps in the checkpoint besides the learner.
type progress struct {
	Spec      *gle.Spec
	Records   []Record
	Schedule  optim.Schedule
	Confusion map[Split][][]int
	// TauMStart is the largest initial τm of every population that
	// learns it; Warned the populations warned about.
	TauMStart map[string]float64
	Warned    map[string]bool

	// A run stopped within an epoch: the epoch, the batches finished,
	// the steps of the next batch taken (or Trained: all of them, the
	// evaluations pending), and the sums so far.
	Epoch, Batch, Step int
	Trained            bool
	LossSum            float64
	Steps              int
	Correct, Seen      int
	LogSum             float64
	LogEvery           int
	OutSum             []float64 // the batch's outputs summed over its steps
	Outputs            []float64 // KeepOutputs
	Seconds            float64
}

func init() {
	gob.Register(&optim.Plateau{})
	gob.Register(&optim.StepDecay{})
	gob.Register(&optim.Cosine{})
}

// mid reports whether the progress is of a run stopped within an epoch.
func (p *progress) mid() bool { return p.Epoch > 0 }

// epochsDone returns the last finished epoch (−1: none, not even 0).
func (p *progress) epochsDone() int {
	for i := len(p.Records) - 1; i >= 0; i-- {
		if p.Records[i].Step == 0 {
			return p.Records[i].Epoch
		}
	}
	return -1
}

// run is the state of one Run.
type run struct {
	ctx  context.Context
	l    gle.Learner
	src  Sources
	s    Settings
	rec  Recorder
	meta progress
	res  *Result
	k    int // outputs

	batch      data.Batch
	out, sum   []float64
	done       <-chan struct{}
	trainBatch int
}

// Run trains l on src.Train for s.Epochs epochs (see Settings), handing
// every record to rec (which may be nil). With s.Resume and a checkpoint
// on disk, the run continues from it on a learner read from it
// (Result.Learner). Cancelling ctx stops the run before the next dt
// step; the checkpoint then holds every step taken (Result.StopNote
// says what it holds) and Run returns the records so far with
// ctx.Err().
func Run(ctx context.Context, l gle.Learner, src Sources, s Settings, rec Recorder) (*Result, error) {
	if l == nil {
		return nil, &gle.FieldError{Field: "learner", Why: "is nil", Err: gle.ErrInvalid}
	}
	if err := s.Validate(src); err != nil {
		return nil, err
	}
	for _, q := range s.FreshPopulations {
		if q < 0 || q >= len(l.Network().Pops) {
			return nil, &gle.FieldError{Field: "fresh_populations", Value: q, Why: fmt.Sprintf("want a population in 0…%d", len(l.Network().Pops)-1), Err: gle.ErrInvalid}
		}
	}
	for _, sp := range []Split{Train, Validation, Test} {
		if d := src.of(sp); d != nil && d.Features() != l.Network().Inputs {
			return nil, fmt.Errorf("%w: the %s data has %d features per step, the network takes %d", gle.ErrShape, sp, d.Features(), l.Network().Inputs)
		}
	}
	r := &run{ctx: ctx, l: l, src: src, s: s, rec: rec, res: &Result{Learner: l}, done: ctx.Done()}
	if err := r.start(); err != nil {
		return nil, err
	}
	err := r.loop()
	if r.res.Outputs == nil {
		r.res.Outputs = r.meta.Outputs
	}
	r.res.Records = r.meta.Records
	r.res.Confusion = r.meta.Confusion
	return r.res, err
}

// start loads the checkpoint of a resumed run (or starts a new one) and
// tells the recorder.
func (r *run) start() error {
	s := &r.s
	loaded := false
	if s.Resume {
		// A run killed while writing its checkpoint left a temporary file.
		if err := atomicfile.RemoveStale(s.Checkpoint); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		l, err := r.l.Load(s.Checkpoint, s.Identity, &r.meta)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return err
		default:
			r.l, r.res.Learner, loaded = l, l, true
		}
	}
	if loaded {
		m := &r.meta
		switch {
		case m.mid() && s.Epochs < m.Epoch:
			return &gle.FieldError{Field: "epochs", Value: s.Epochs, Why: fmt.Sprintf("the run of %s stopped within epoch %d: fewer epochs would end it before that epoch (resume with %d or more)", s.Checkpoint, m.Epoch, m.Epoch), Err: gle.ErrInvalid}
		case m.mid() && m.LogEvery != s.LogEvery && !m.Trained:
			return &gle.FieldError{Field: "log_every", Value: s.LogEvery, Why: fmt.Sprintf("the run of %s stopped within epoch %d logging every %d steps: resume it with the same interval", s.Checkpoint, m.Epoch, m.LogEvery), Err: gle.ErrInvalid}
		}
		if m.Schedule != nil {
			s.Schedule = m.Schedule // its state, e.g. the plateau's best loss
		}
	} else {
		r.meta = progress{Spec: s.Spec, Schedule: s.Schedule, TauMStart: map[string]float64{}, Warned: map[string]bool{}}
		for _, p := range r.l.Network().Pops {
			if p.LearnTauM {
				r.meta.TauMStart[p.Name] = slices.Max(p.TauM)
			}
		}
	}
	if r.meta.Confusion == nil {
		r.meta.Confusion = map[Split][][]int{}
	}
	r.k = r.l.Network().Outputs()
	r.trainBatch = s.Batch
	if r.trainBatch <= 0 {
		r.trainBatch = r.src.Train.Len()
	}
	if r.rec != nil {
		if err := r.rec.Start(slices.Clone(r.meta.Records)); err != nil {
			return err
		}
	}
	return nil
}

// loop runs epoch 0 and the epochs.
func (r *run) loop() error {
	m, s := &r.meta, &r.s
	done := m.epochsDone()
	if !m.mid() && done >= s.Epochs {
		r.res.Finished, r.res.AlreadyFinished = true, true
		return nil
	}
	if done < 0 && !m.mid() && len(s.EpochZero) > 0 {
		if err := r.epochZero(); err != nil {
			return err
		}
	}
	first := max(done, 0) + 1
	if m.mid() {
		first = m.Epoch
	}
	for epoch := first; epoch <= s.Epochs; epoch++ {
		if err := r.epoch(epoch); err != nil {
			return err
		}
	}
	r.res.Finished = true
	return nil
}

// epochZero runs the evaluations before training.
func (r *run) epochZero() error {
	start := time.Now()
	rec := Record{Epoch: 0, LR: r.lr()}
	for _, sp := range r.s.EpochZero {
		mt, err := r.evaluate(0, sp)
		if err != nil {
			return err
		}
		rec.set(sp, mt)
	}
	if err := r.restoreBatch(); err != nil {
		return err
	}
	rec.Seconds = time.Since(start).Seconds()
	return r.commit(rec, false)
}

// lr returns the optimizer's learning rate (0 without one).
func (r *run) lr() float64 {
	if o := r.l.Optimizer(); o != nil {
		return o.LR()
	}
	return 0
}

// epoch trains one epoch (or its rest, for a resumed run), evaluates,
// steps the schedule, records and checkpoints.
func (r *run) epoch(epoch int) error {
	m, s := &r.meta, &r.s
	start := time.Now()
	if !m.mid() || !m.Trained {
		if err := r.train(epoch, start); err != nil {
			return err
		}
	}
	rec := Record{Epoch: epoch, LR: r.lr()}
	if m.Steps > 0 {
		loss := m.LossSum / float64(m.Steps)
		rec.TrainLoss = &loss
		if m.Seen > 0 {
			acc := float64(m.Correct) / float64(m.Seen)
			rec.TrainAcc = &acc
		}
	}
	evals := slices.Clone(s.EachEpoch)
	if epoch == s.Epochs {
		evals = append(evals, s.AtEnd...)
	}
	if len(evals) > 0 {
		var snap *gle.State
		if !s.EvalFromRest {
			snap = r.l.Snapshot()
		}
		for _, sp := range evals {
			mt, err := r.evaluate(epoch, sp)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				// A stop within the evaluations keeps the epoch's training:
				// the resume evaluates again from the state after training.
				if snap != nil {
					if rerr := r.l.Restore(snap); rerr != nil {
						return errors.Join(err, rerr)
					}
				}
				m.Epoch, m.Trained = epoch, true
				m.Seconds += time.Since(start).Seconds()
				return errors.Join(err, r.saveStopped(fmt.Sprintf("the %s evaluation after epoch %d (the epoch's training is kept; a resume evaluates again)", sp, epoch)))
			}
			if err != nil {
				return fmt.Errorf("%s evaluation after epoch %d: %w", sp, epoch, err)
			}
			rec.set(sp, mt)
		}
		if err := r.restoreBatch(); err != nil {
			return err
		}
	}
	rec.TauM = tauMStats(r.l.Network())
	r.warnTauM()
	if s.Schedule != nil {
		mt, ok := rec.Of(s.ScheduleOn)
		if !ok {
			return fmt.Errorf("epoch %d: no %s loss to feed the schedule", epoch, s.ScheduleOn)
		}
		if opt := r.l.Optimizer(); opt != nil {
			if err := s.Schedule.EndEpoch(epoch, mt.Loss, opt); err != nil {
				return fmt.Errorf("epoch %d: schedule: %w", epoch, err)
			}
		}
	}
	rec.Seconds = m.Seconds + time.Since(start).Seconds()
	if s.KeepOutputs {
		r.res.Outputs = m.Outputs
	}
	return r.commit(rec, epoch == s.Epochs)
}

// commit records a finished epoch: the progress of the epoch is cleared,
// the finisher runs after the last, the checkpoint is written, then the
// recorder sees the record (a run stopped in between rewrites the record
// from the checkpoint on resume).
func (r *run) commit(rec Record, last bool) error {
	m := &r.meta
	m.Records = append(m.Records, rec)
	m.Epoch, m.Batch, m.Step, m.Trained = 0, 0, 0, false
	m.LossSum, m.Steps, m.Correct, m.Seen, m.LogSum, m.Seconds = 0, 0, 0, 0, 0, 0
	m.OutSum, m.Outputs = nil, nil
	if last {
		r.res.Records, r.res.Confusion, r.res.Finished = m.Records, m.Confusion, true
		if f, ok := r.rec.(Finisher); ok {
			if err := f.Finish(r.res); err != nil {
				return err
			}
		}
	}
	if r.s.Checkpoint != "" {
		if err := r.l.Save(r.s.Checkpoint, r.s.Identity, m); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	if r.rec != nil {
		return r.rec.Record(rec)
	}
	return nil
}

// restoreBatch sets the learner back to the training batch size after a
// carried evaluation (the reference truncates the state back).
func (r *run) restoreBatch() error {
	if r.s.EvalFromRest || r.l.Batch() == r.trainBatch {
		return nil
	}
	return r.l.SetBatch(r.trainBatch)
}

// batchRNG is the stream of random transforms of one batch: it depends
// only on (seed, epoch, batch), so a resumed run draws the same.
func (r *run) batchRNG(epoch, batch int) *rand.Rand {
	return rand.New(rand.NewPCG(r.s.Seed^0x9e3779b97f4a7c15, uint64(epoch)<<32|uint64(batch)))
}

// stopped reports whether the run was asked to stop.
func (r *run) stopped() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// train runs the training batches of an epoch from where the progress
// says.
func (r *run) train(epoch int, start time.Time) error {
	m, s := &r.meta, &r.s
	plan, err := data.Plan(r.src.Train, s.Order, s.Batch, s.Seed, epoch)
	if err != nil {
		return err
	}
	if !m.mid() && s.ResetEachEpoch {
		r.l.Reset()
	}
	if s.KeepOutputs && m.Outputs == nil {
		m.Outputs = []float64{}
	}
	progress, _ := r.rec.(Progresser)
	stepsBefore := m.Steps
	for bi := m.Batch; bi < len(plan); bi++ {
		idx := plan[bi]
		if err := r.batch.Fill(r.src.Train, idx, r.batchRNG(epoch, bi), r.k); err != nil {
			return fmt.Errorf("training data: %w", err)
		}
		b := &r.batch
		if b.Targets[0].None() {
			return fmt.Errorf("training data: %w: nothing to train on", ErrNoTargets)
		}
		if r.l.Batch() != b.Size {
			if err := r.l.SetBatch(b.Size); err != nil {
				return err
			}
		}
		from := m.Step
		r.out = resizeF(r.out, b.Size*r.k)
		r.sum = resizeF(r.sum, b.Size*r.k)
		clear(r.sum)
		if from > 0 {
			copy(r.sum, m.OutSum)
		} else {
			r.fresh0(r.l)
			if bs, ok := r.rec.(BatchStarter); ok {
				bs.BatchStart(r.l, Train, epoch, bi)
			}
		}
		for t := from; t < b.Steps; t++ {
			if r.stopped() {
				m.Epoch, m.Batch, m.Step, m.LogEvery = epoch, bi, t, s.LogEvery
				m.OutSum = slices.Clone(r.sum)
				m.Seconds += time.Since(start).Seconds()
				where := fmt.Sprintf("step %d of %d of epoch %d", t, b.Steps, epoch)
				if len(plan) > 1 {
					where = fmt.Sprintf("step %d of %d of batch %d of %d of epoch %d", t, b.Steps, bi+1, len(plan), epoch)
				}
				return errors.Join(r.ctx.Err(), r.saveStopped(where))
			}
			loss, err := r.l.Step(r.out, b.Frame(t), b.Targets[t])
			if err != nil {
				return fmt.Errorf("epoch %d, batch %d: %w", epoch, bi+1, err)
			}
			m.LossSum += loss
			m.Steps++
			for i, v := range r.out {
				r.sum[i] += v
			}
			if s.KeepOutputs {
				m.Outputs = append(m.Outputs, r.out...)
			}
			if s.LogEvery > 0 {
				m.LogSum += loss
				if m.Steps%s.LogEvery == 0 {
					lr := r.lr()
					if err := r.logRecord(Record{Epoch: epoch, Step: m.Steps, TrainLoss: ptr(m.LogSum / float64(s.LogEvery)), LR: lr}); err != nil {
						return err
					}
					m.LogSum = 0
				}
			}
			if progress != nil && (t+1)%256 == 0 {
				progress.Progress(Progress{Epoch: epoch, Split: Train, Batch: bi, Batches: len(plan), InBatch: t + 1, BatchSteps: b.Steps,
					Steps: m.Steps - stepsBefore, Elapsed: time.Since(start)})
			}
		}
		if err := r.l.EndSequence(); err != nil {
			return fmt.Errorf("epoch %d, batch %d: %w", epoch, bi+1, err)
		}
		if b.Labels != nil {
			m.Correct += countCorrect(r.sum, b.Labels, r.k)
			m.Seen += b.Size
		}
		m.Batch, m.Step = bi+1, 0
		if progress != nil {
			progress.Progress(Progress{Epoch: epoch, Split: Train, Batch: bi + 1, Batches: len(plan), Steps: m.Steps - stepsBefore, Elapsed: time.Since(start)})
		}
	}
	m.Trained = true
	return nil
}

// logRecord records a LogEvery line (it goes into the checkpoint with
// the epoch's).
func (r *run) logRecord(rec Record) error {
	r.meta.Records = append(r.meta.Records, rec)
	if r.rec != nil {
		return r.rec.Record(rec)
	}
	return nil
}

// saveStopped writes the checkpoint of a run stopped within an epoch.
func (r *run) saveStopped(where string) error {
	if r.s.Checkpoint == "" {
		r.res.StopNote = "stopped at " + where + " (no checkpoint)"
		return nil
	}
	if err := r.l.Save(r.s.Checkpoint, r.s.Identity, &r.meta); err != nil {
		// A rule holding recorded steps (BPTT's) cannot be saved there: the
		// previous checkpoint stands.
		r.res.StopNote = fmt.Sprintf("stopped at %s, not saved there (%v): a resume starts from the last checkpoint", where, err)
		return nil
	}
	r.res.StopNote = fmt.Sprintf("stopped at %s: saved in %s (a resume continues there)", where, r.s.Checkpoint)
	return nil
}

// evaluate runs split without learning and returns its loss (the mean
// over steps of the batch-mean loss) and, with one label per sample, its
// accuracy (argmax of the outputs summed over the steps); the confusion
// matrix goes into the progress.
func (r *run) evaluate(epoch int, split Split) (Metrics, error) {
	src := r.src.of(split)
	order, size, rng := data.InOrder, r.s.EvalBatch, false
	if split == Train { // epoch 0: the training draws, augmented, without learning
		order, size, rng = r.s.Order, r.s.Batch, true
	}
	plan, err := data.Plan(src, order, size, r.s.Seed, epoch)
	if err != nil {
		return Metrics{}, err
	}
	l := r.l
	if r.s.EvalFromRest {
		n := 0
		for _, idx := range plan {
			n = max(n, len(idx))
		}
		if l, err = r.l.Evaluator(n); err != nil {
			return Metrics{}, err
		}
	}
	progress, _ := r.rec.(Progresser)
	start := time.Now()
	var lossSum float64
	var steps, correct, seen int
	var conf [][]int
	for bi, idx := range plan {
		var g *rand.Rand
		if rng {
			g = r.batchRNG(epoch, bi)
		}
		if err := r.batch.Fill(src, idx, g, r.k); err != nil {
			return Metrics{}, fmt.Errorf("%s data: %w", split, err)
		}
		b := &r.batch
		if b.Targets[0].None() {
			return Metrics{}, fmt.Errorf("%s data: %w to evaluate against", split, ErrNoTargets)
		}
		if l.Batch() != b.Size {
			if err := l.SetBatch(b.Size); err != nil {
				return Metrics{}, err
			}
		}
		if r.s.EvalFromRest {
			l.Reset()
		}
		r.fresh0(l)
		if bs, ok := r.rec.(BatchStarter); ok {
			bs.BatchStart(l, split, epoch, bi)
		}
		r.out = resizeF(r.out, b.Size*r.k)
		r.sum = resizeF(r.sum, b.Size*r.k)
		clear(r.sum)
		loss := l.Network().Loss
		for t := range b.Steps {
			if r.stopped() {
				return Metrics{}, r.ctx.Err()
			}
			if err := l.Infer(r.out, b.Frame(t)); err != nil {
				return Metrics{}, err
			}
			v := loss.Value(r.out, b.Targets[t], r.k)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Metrics{}, fmt.Errorf("%w: step %d of %s batch %d: the loss is %v", gle.ErrDiverged, t, split, bi+1, v)
			}
			lossSum += v
			steps++
			for i, v := range r.out {
				r.sum[i] += v
			}
		}
		if b.Labels != nil {
			if conf == nil {
				conf = make([][]int, r.k)
				for i := range conf {
					conf[i] = make([]int, r.k)
				}
			}
			for j, y := range b.Labels {
				conf[y][argmax(r.sum[j*r.k:(j+1)*r.k])]++
			}
			correct += countCorrect(r.sum, b.Labels, r.k)
			seen += b.Size
		}
		if progress != nil {
			progress.Progress(Progress{Epoch: epoch, Split: split, Batch: bi + 1, Batches: len(plan), Steps: steps, Elapsed: time.Since(start)})
		}
	}
	mt := Metrics{Loss: lossSum / float64(steps)}
	if seen > 0 {
		mt.Acc = ptr(float64(correct) / float64(seen))
		r.meta.Confusion[split] = conf
	}
	return mt, nil
}

// fresh0 resets the populations of l (the learner or an evaluator) that
// start every sequence from rest.
func (r *run) fresh0(l gle.Learner) {
	for _, q := range r.s.FreshPopulations {
		l.ResetPopulation(q)
	}
}

// warnTauM warns once per population whose learned τm grew beyond ten
// times its largest initial value: a time constant running away, which
// tau_m_max bounds.
func (r *run) warnTauM() {
	w, ok := r.rec.(Warner)
	if !ok {
		return
	}
	for _, p := range r.l.Network().Pops {
		start, learns := r.meta.TauMStart[p.Name]
		if !learns || r.meta.Warned[p.Name] {
			continue
		}
		if top := slices.Max(p.TauM); top > 10*start {
			if r.meta.Warned == nil {
				r.meta.Warned = map[string]bool{}
			}
			r.meta.Warned[p.Name] = true
			w.Warn(fmt.Sprintf("the learned τm of population %s reached %.3g, %.0f× its largest initial value %.3g: a time constant running away (bound it with the spec's tau_m_max)", p.Name, top, top/start, start))
		}
	}
}

// tauMStats returns min, median and max τm of every population whose τm
// learns.
func tauMStats(n *gle.Network) map[string][3]float64 {
	var out map[string][3]float64
	for _, p := range n.Pops {
		if !p.LearnTauM {
			continue
		}
		if out == nil {
			out = map[string][3]float64{}
		}
		s := slices.Sorted(slices.Values(p.TauM))
		out[p.Name] = [3]float64{s[0], s[len(s)/2], s[len(s)-1]}
	}
	return out
}

func argmax(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// countCorrect counts the samples whose summed outputs' argmax is their
// label.
func countCorrect(sum []float64, labels []int, k int) int {
	var c int
	for s, y := range labels {
		if argmax(sum[s*k:(s+1)*k]) == y {
			c++
		}
	}
	return c
}

func ptr(v float64) *float64 { return &v }

func resizeF(x []float64, n int) []float64 {
	if cap(x) < n {
		return make([]float64, n)
	}
	return x[:n]
}

// Checkpoint is what a checkpoint holds besides its learner.
type Checkpoint struct {
	Spec    *gle.Spec // nil when the run did not give one
	Records []Record
	// Stopped reports a run stopped within an epoch.
	Stopped bool
}

// SaveCheckpoint writes l with records (the epochs done) in Run's format,
// atomically: a run can continue from it.
func SaveCheckpoint(path string, l gle.Learner, identity map[string]string, spec *gle.Spec, records []Record) error {
	return l.Save(path, identity, &progress{Spec: spec, Records: records, Confusion: map[Split][][]int{}})
}

// LoadCheckpoint reads a checkpoint written by Run or SaveCheckpoint
// into a learner in float32 (f32) or float64 with the given rule (nil:
// GLE's local rule); identity as for Settings.
func LoadCheckpoint(path string, f32 bool, rule gle.Rule, identity map[string]string) (gle.Learner, *Checkpoint, error) {
	var m progress
	l, err := gle.LoadLearner(path, f32, identity, rule, &m)
	if err != nil {
		return nil, nil, err
	}
	return l, &Checkpoint{Spec: m.Spec, Records: m.Records, Stopped: m.mid()}, nil
}

// Multi returns a recorder that hands everything to each of recs in
// order (nil ones left out), with the optional interfaces of each.
func Multi(recs ...Recorder) Recorder {
	var m multi
	for _, r := range recs {
		if r != nil {
			m = append(m, r)
		}
	}
	return m
}

type multi []Recorder

func (m multi) Start(done []Record) error {
	var errs []error
	for _, r := range m {
		errs = append(errs, r.Start(done))
	}
	return errors.Join(errs...)
}

func (m multi) Record(rec Record) error {
	var errs []error
	for _, r := range m {
		errs = append(errs, r.Record(rec))
	}
	return errors.Join(errs...)
}

func (m multi) Progress(p Progress) {
	for _, r := range m {
		if pr, ok := r.(Progresser); ok {
			pr.Progress(p)
		}
	}
}

func (m multi) Finish(res *Result) error {
	for _, r := range m {
		if f, ok := r.(Finisher); ok {
			if err := f.Finish(res); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m multi) Warn(msg string) {
	for _, r := range m {
		if w, ok := r.(Warner); ok {
			w.Warn(msg)
		}
	}
}

func (m multi) BatchStart(l gle.Learner, split Split, epoch, batch int) {
	for _, r := range m {
		if b, ok := r.(BatchStarter); ok {
			b.BatchStart(l, split, epoch, batch)
		}
	}
}

// ReadRecords reads a metrics file written one Record per line (JSON
// lines: gle train's metrics.jsonl, gle run's SEED.jsonl). A file whose
// lines are not records (no "epoch" key) gives ErrNotRecords.
func ReadRecords(path string) ([]Record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Record
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(line, &keys); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if _, ok := keys["epoch"]; !ok {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, ErrNotRecords)
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// ErrNotRecords marks a JSON-lines file of something else than records.
var ErrNotRecords = errors.New("not a file of run records")
