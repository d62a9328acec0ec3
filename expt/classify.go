package expt

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/optim"
	"github.com/gle-go/gle/plots"
)

// SeqSet is a labelled set of equally long input sequences.
type SeqSet interface {
	Len() int
	Steps() int    // dt steps per sequence
	Features() int // inputs per step
	Label(i int) int
	// Frame writes sample i's input at step t into dst (Features values).
	Frame(dst []float64, i, t int)
}

// ClassifyConfig sets up online sequence classification with GLE (the
// paper's MNIST-1D and speech protocol): CE against the label at every
// step, the optimizer stepping every dt, shuffled batches, state carried
// over between batches and into evaluation, prediction = argmax of the
// outputs summed over the sequence, ReduceLROnPlateau on the test loss.
type ClassifyConfig struct {
	Tag             string // names the run in its checkpoint (variant, seed)
	Seed            uint64 // batch order
	Epochs, Batch   int
	LR              float64
	PlateauFactor   float64
	PlateauPatience int
	// Float32 runs the float32 engine (gle.Engine32): about twice as fast,
	// within float32 rounding of the float64 run (see docs/performance.md).
	// The checkpoint's tag records it, so a run resumes in its precision.
	Float32 bool
	// FreshLayers start every batch and every evaluation from zero state
	// (the static LagNet's fixed chain); the other layers carry theirs.
	FreshLayers []int
	// SkipEpochZero leaves out the evaluation before training, which the
	// reference does and which moves the carried state (it never feeds
	// the plateau scheduler): an ablation (docs/mnist1d.md measures its
	// effect).
	SkipEpochZero bool
}

// ClassifyEpoch is one epoch's metrics. Losses are the mean per-step
// cross-entropy; the test loss is that of the outputs without targets.
// Epoch 0 is the evaluation before any training (as the reference's): it
// has no training metrics (zero, left out of the JSON).
type ClassifyEpoch struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss,omitempty"`
	TrainAcc  float64 `json:"train_acc,omitempty"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

// ClassifyResult is a finished or interrupted run.
type ClassifyResult struct {
	Epochs    []ClassifyEpoch
	Confusion [][]int // last evaluation: [true][predicted]
	Params    int
}

// ClassifyOptions are a run's side channels.
type ClassifyOptions struct {
	// Checkpoint, when set, is written atomically after every epoch; with
	// Resume, the run continues from it when it exists.
	Checkpoint string
	Resume     bool
	// Start, when set, is called once before the run goes on with the
	// epochs its checkpoint already holds (none for a new run), so that a
	// metrics file can be rewritten to exactly those before new ones are
	// appended.
	Start func(done []ClassifyEpoch)
	Epoch func(ClassifyEpoch) // receives every epoch's metrics
	// Progress is called every few batches with the fraction of the epoch
	// done and the dt steps taken in it so far.
	Progress func(epoch int, frac float64, steps int)

	network func(*gle.Network) // receives the network being trained
	// sequenceStart sees the float64 engine's state at the start of every
	// batch (and of every evaluation, with batch −1), for tests.
	sequenceStart func(s *gle.StateOf[float64], epoch, batch int)
}

// classifyMeta is what a classifier run keeps in its trainer's checkpoint
// besides the trainer: the epochs done and the scheduler.
type classifyMeta struct {
	Result  ClassifyResult
	Plateau *optim.Plateau
}

// TrainClassifier trains the network of spec on train and evaluates on
// test before the first epoch (epoch 0, unless c.SkipEpochZero) and after
// every epoch; the evaluations after epochs 1, 2, … feed the plateau
// scheduler, epoch 0 does not (as the reference: SPEC §9). The spec's
// tau_m_min and learn_from_step apply. Cancelling ctx returns the epochs
// finished so far with ctx.Err(); the checkpoint holds the last finished
// epoch. A resumed run refuses a checkpoint of a run with another spec,
// batch, learning rate, schedule, data or precision, naming what differs.
func TrainClassifier(ctx context.Context, spec *gle.Spec, c ClassifyConfig, train, test SeqSet, o ClassifyOptions) (*ClassifyResult, error) {
	if c.Float32 {
		return trainClassifier[float32](ctx, spec, c, train, test, o)
	}
	return trainClassifier[float64](ctx, spec, c, train, test, o)
}

// identity is what defines a classifier run, for its checkpoint: resuming
// with any of it changed is refused. The epoch count may change.
func (c *ClassifyConfig) identity(spec *gle.Spec, train, test SeqSet) map[string]string {
	js, _ := json.Marshal(spec)
	sum := sha256.Sum256(js)
	return map[string]string{
		"run": c.Tag, "spec": hex.EncodeToString(sum[:8]), "batch": fmt.Sprint(c.Batch), "lr": fmt.Sprint(c.LR),
		"plateau": fmt.Sprintf("factor %g, patience %d", c.PlateauFactor, c.PlateauPatience),
		"data":    fmt.Sprintf("%d training and %d test sequences of %d steps", train.Len(), test.Len(), train.Steps()),
		"fresh":   fmt.Sprint(c.FreshLayers),
	}
}

func trainClassifier[T gle.Float](ctx context.Context, spec *gle.Spec, c ClassifyConfig, train, test SeqSet, o ClassifyOptions) (*ClassifyResult, error) {
	if train.Len() < c.Batch || c.Batch <= 0 {
		return nil, &gle.FieldError{Field: "batch", Value: c.Batch, Why: fmt.Sprintf("must be in 1…%d (the training samples)", train.Len()), Err: gle.ErrInvalid}
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if train.Features() != spec.NumInputs() || test.Features() != train.Features() {
		return nil, fmt.Errorf("%w: %d/%d features per step, the network takes %d", gle.ErrShape, train.Features(), test.Features(), spec.NumInputs())
	}
	k := spec.NumOutputs()
	id := c.identity(spec, train, test)
	var meta classifyMeta
	var tr *gle.TrainerOf[T]
	if o.Resume && o.Checkpoint != "" {
		// A run killed while writing its checkpoint left a temporary file.
		if err := atomicfile.RemoveStale(o.Checkpoint); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		var err error
		tr, err = gle.LoadTrainer[T](o.Checkpoint, id, nil, &meta)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("resume: %w", err)
		}
		if err == nil {
			if err := tr.Engine.SetBatch(c.Batch); err != nil {
				return nil, err
			}
		}
	}
	if tr == nil {
		net, err := gle.NewNetwork(spec)
		if err != nil {
			return nil, err
		}
		if meta.Plateau, err = optim.NewPlateau("min", c.PlateauFactor, c.PlateauPatience); err != nil {
			return nil, err
		}
		if tr, err = gle.NewTrainerOf[T](net, c.Batch, optim.NewAdam(c.LR)); err != nil {
			return nil, err
		}
		tr.TauMMin, tr.LearnFromStep = spec.TauMMinOrDefault(), spec.LearnFromStep
		meta.Result = ClassifyResult{Params: net.NumParams()}
	}
	for _, li := range c.FreshLayers {
		if li < 0 || li >= len(tr.Engine.Net.Pops) {
			return nil, &gle.FieldError{Field: "fresh_layers", Value: li, Why: fmt.Sprintf("want a population in 0…%d", len(tr.Engine.Net.Pops)-1), Err: gle.ErrInvalid}
		}
	}
	if o.network != nil {
		o.network(tr.Engine.Net)
	}
	res := &meta.Result
	// fresh resets the layers that start every sequence from rest.
	fresh := func(epoch, batch int) {
		for _, li := range c.FreshLayers {
			tr.Engine.State().ResetPopulation(tr.Engine.Net, li)
		}
		if o.sequenceStart != nil {
			if st, ok := any(tr.Engine.State()).(*gle.State); ok {
				o.sequenceStart(st, epoch, batch)
			}
		}
	}
	// evaluate runs the test set, records the epoch, steps the scheduler
	// (from epoch 1 on) and writes the checkpoint.
	evaluate := func(ep ClassifyEpoch, start time.Time) error {
		testLoss, testAcc, conf, err := evaluateFresh(tr.Engine, test, func() { fresh(ep.Epoch, -1) })
		if err != nil {
			return err
		}
		if err := tr.Engine.SetBatch(c.Batch); err != nil { // truncate back, as the reference
			return err
		}
		ep.TestLoss, ep.TestAcc, ep.LR = testLoss, testAcc, tr.Opt.LR()
		if ep.Epoch > 0 {
			if _, err := meta.Plateau.Step(testLoss, tr.Opt); err != nil {
				return err
			}
		}
		ep.Seconds = time.Since(start).Seconds()
		res.Epochs = append(res.Epochs, ep)
		res.Confusion = conf
		if o.Epoch != nil {
			o.Epoch(ep)
		}
		slog.Info("epoch", "run", c.Tag, "epoch", ep.Epoch, "train_acc", ep.TrainAcc, "test_acc", ep.TestAcc, "lr", ep.LR, "seconds", ep.Seconds)
		if o.Checkpoint != "" {
			if err := tr.Save(o.Checkpoint, id, &meta); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
			slog.Debug("checkpoint written", "path", o.Checkpoint, "epoch", ep.Epoch)
		}
		return nil
	}
	if o.Start != nil {
		o.Start(res.Epochs)
	}
	if len(res.Epochs) == 0 && !c.SkipEpochZero { // epoch 0: the evaluation before training
		if err := evaluate(ClassifyEpoch{Epoch: 0}, time.Now()); err != nil {
			return res, err
		}
	}
	first := 1
	if n := len(res.Epochs); n > 0 {
		first = res.Epochs[n-1].Epoch + 1
	}

	F, L := train.Features(), train.Steps()
	x := make([]float64, c.Batch*F)
	labels := make([]int, c.Batch)
	out := make([]float64, c.Batch*k)
	sum := make([]float64, c.Batch*k)
	for epoch := first; epoch <= c.Epochs; epoch++ {
		start := time.Now()
		// The order of an epoch depends only on (seed, epoch), so a resumed
		// run sees the same batches.
		order := rand.New(rand.NewPCG(c.Seed, uint64(epoch))).Perm(train.Len())
		var lossSum float64
		var correct, seen, steps int
		batches := train.Len() / c.Batch
		for bi := range batches {
			idx := order[bi*c.Batch : (bi+1)*c.Batch]
			for j, s := range idx {
				labels[j] = train.Label(s)
			}
			clear(sum)
			fresh(epoch, bi)
			for t := range L {
				for j, s := range idx {
					train.Frame(x[j*F:(j+1)*F], s, t)
				}
				loss, err := tr.Step(out, x, gle.Target{Classes: labels})
				if err != nil {
					return res, fmt.Errorf("epoch %d batch %d: %w", epoch, bi, err)
				}
				lossSum += loss
				steps++
				for i, v := range out {
					sum[i] += v
				}
			}
			correct += countCorrect(sum, labels, k)
			seen += c.Batch
			if o.Progress != nil && bi%4 == 3 {
				o.Progress(epoch, float64(bi+1)/float64(batches), steps)
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		if err := evaluate(ClassifyEpoch{Epoch: epoch, TrainLoss: lossSum / float64(steps), TrainAcc: float64(correct) / float64(seen)}, start); err != nil {
			return res, err
		}
	}
	return res, nil
}

// Evaluate runs the whole set as one batch without targets, carrying the
// engine's state over (tiled to the batch, as the reference), and returns
// the mean per-step CE of the outputs, the accuracy of the argmax of the
// outputs summed over the sequence, and the confusion matrix.
func Evaluate[T gle.Float](e *gle.EngineOf[T], set SeqSet) (loss, acc float64, conf [][]int, err error) {
	return evaluateFresh(e, set, func() {})
}

// evaluateFresh is Evaluate that calls fresh after resizing the state to
// the set (to reset the layers that start every sequence from rest).
func evaluateFresh[T gle.Float](e *gle.EngineOf[T], set SeqSet, fresh func()) (loss, acc float64, conf [][]int, err error) {
	n, F, L, k := set.Len(), set.Features(), set.Steps(), e.Net.Outputs()
	if F != e.Net.Inputs {
		return 0, 0, nil, fmt.Errorf("%w: %d features per step, the network takes %d", gle.ErrShape, F, e.Net.Inputs)
	}
	if err = e.SetBatch(n); err != nil {
		return
	}
	fresh()
	x := make([]float64, n*F)
	out := make([]float64, n*k)
	sum := make([]float64, n*k)
	labels := make([]int, n)
	for s := range labels {
		labels[s] = set.Label(s)
	}
	tgt := gle.Target{Classes: labels}
	for t := range L {
		for s := range n {
			set.Frame(x[s*F:(s+1)*F], s, t)
		}
		if err = e.Step(out, x, gle.Target{}); err != nil {
			return
		}
		loss += e.Net.Loss.Value(out, tgt, k)
		for i, v := range out {
			sum[i] += v
		}
	}
	conf = make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	for s, y := range labels {
		conf[y][argmax(sum[s*k:(s+1)*k])]++
	}
	return loss / float64(L), float64(countCorrect(sum, labels, k)) / float64(n), conf, nil
}

// Predict runs one sequence from the engine's current state (batch 1)
// and returns the class with the largest summed output and the sums.
func Predict[T gle.Float](e *gle.EngineOf[T], set SeqSet, i int) (int, []float64, error) {
	if err := e.SetBatch(1); err != nil {
		return 0, nil, err
	}
	k := e.Net.Outputs()
	x := make([]float64, set.Features())
	out := make([]float64, k)
	sum := make([]float64, k)
	for t := range set.Steps() {
		set.Frame(x, i, t)
		if err := e.Step(out, x, gle.Target{}); err != nil {
			return 0, nil, err
		}
		for j, v := range out {
			sum[j] += v
		}
	}
	return argmax(sum), sum, nil
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

func countCorrect(sum []float64, labels []int, k int) int {
	var c int
	for s, y := range labels {
		if argmax(sum[s*k:(s+1)*k]) == y {
			c++
		}
	}
	return c
}

// ClassifierFigure draws the learning curves and the last confusion
// matrix (rows and columns named by labels, if given) and saves
// base.png/.svg; paper, when positive, marks the published accuracy (%).
func ClassifierFigure(base, title string, r *ClassifyResult, paper float64, labels []string) error {
	n := len(r.Epochs)
	ep, trA, teA, trL, teL := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, e := range r.Epochs {
		ep[i], trA[i], teA[i], trL[i], teL[i] = float64(e.Epoch), 100*e.TrainAcc, 100*e.TestAcc, e.TrainLoss, e.TestLoss
	}
	acc := plots.Panel{Title: title + ": accuracy", XLabel: "epoch", XIntegers: true, YLabel: "accuracy (%)", Legend: "bottom right",
		Series: []plots.Series{{Name: "train", X: ep, Y: trA, Color: 0}, {Name: "test", X: ep, Y: teA, Color: 1}}}
	if paper > 0 {
		acc.Series = append(acc.Series, plots.Series{Name: "paper", X: []float64{1, math.Max(2, float64(n))}, Y: []float64{paper, paper}, Dashed: true, Color: 6})
	}
	loss := plots.Panel{Title: "loss (cross-entropy per step)", XLabel: "epoch", XIntegers: true, YLabel: "loss",
		Series: []plots.Series{{Name: "train", X: ep, Y: trL, Color: 0}, {Name: "test", X: ep, Y: teL, Color: 1}}}
	conf := make([][]float64, len(r.Confusion))
	for i, row := range r.Confusion {
		conf[i] = make([]float64, len(row))
		for j, v := range row {
			conf[i][j] = float64(v)
		}
	}
	if len(conf) == 0 {
		return plots.Save(base, 1, 2, 10, 4.5, acc, loss)
	}
	cm := plots.Panel{Title: "confusion (last test): true ↓, predicted →", Matrix: conf, MatrixLabels: labels}
	if labels != nil {
		cm.MatrixLabels = make([]string, len(labels))
		for i, l := range labels {
			cm.MatrixLabels[i] = strings.Trim(l, "_") // _silence_ → silence
		}
	}
	return plots.Save(base, 1, 3, 15, 4.5, acc, loss, cm)
}
