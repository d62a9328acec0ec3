package expt

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/mnist1d"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/optim"
	"github.com/gle-go/gle/plots"
)

// MNIST1DConfig sets up MNIST-1D classification with an end-to-end GLE
// network (GLE paper Fig. 8, SPEC §9): sequences of 360 steps (dt = 0.2,
// one value per step), 6 hidden layers of mixed fast, slow and LE neurons,
// CE against the label at every step, Adam stepping every dt, state
// carried over between batches and into evaluation, prediction = argmax of
// the outputs summed over the sequence.
type MNIST1DConfig struct {
	Variant string // "e2e" (the paper's 14,956-parameter net), "e2e-42k", or "lagnet"
	Seed    uint64
	Epochs  int
	Batch   int
	Dt      float64
	Tau     float64
	LR      float64
	// Plateau: ReduceLROnPlateau on the test loss.
	PlateauFactor   float64
	PlateauPatience int
	// TrainSamples and TestSamples, when positive, use only the first so
	// many samples (for quick runs and tests).
	TrainSamples, TestSamples int
	// DataSeed seeds the MNIST-1D generator (canonical: 42).
	DataSeed uint32
}

// DefaultMNIST1D returns the paper's E2E set-up.
func DefaultMNIST1D() MNIST1DConfig {
	return MNIST1DConfig{
		Variant: "e2e", Seed: 1, Epochs: 150, Batch: 100, Dt: 0.2, Tau: 1.2,
		LR: 5e-3 * 72 / 360, PlateauFactor: 0.5, PlateauPatience: 2, DataSeed: 42,
	}
}

// PaperAccuracy is the published mean ± std test accuracy (%) per variant.
var PaperAccuracy = map[string][2]float64{"e2e": {91.72, 0.80}, "e2e-42k": {93.48, 0.94}, "lagnet": {90.89, 0.63}}

// Validate checks the configuration.
func (c *MNIST1DConfig) Validate() error {
	bad := func(field string, v any, why string) error {
		return &gle.FieldError{Field: field, Value: v, Why: why, Err: gle.ErrInvalid}
	}
	switch {
	case c.Variant != "e2e" && c.Variant != "e2e-42k" && c.Variant != "lagnet":
		return &gle.FieldError{Field: "variant", Value: c.Variant, Why: "want e2e, e2e-42k or lagnet", Err: gle.ErrUnknownName}
	case c.Epochs <= 0:
		return bad("epochs", c.Epochs, "must be positive")
	case c.Batch <= 0:
		return bad("batch", c.Batch, "must be positive")
	case !(c.Dt > 0) || !(c.Tau >= c.Dt):
		return bad("dt/tau", fmt.Sprint(c.Dt, c.Tau), "need 0 < dt ≤ tau")
	case !(c.LR > 0):
		return bad("lr", c.LR, "must be positive")
	}
	return nil
}

// Spec returns the network of the variant.
func (c *MNIST1DConfig) Spec() *gle.Spec {
	prosp, beta := true, 1.0
	s := &gle.Spec{Dt: c.Dt, Beta: &beta, Loss: "ce", ProspectiveErrors: &prosp, Seed: c.Seed,
		Optimizer: gle.OptimizerSpec{Kind: "adam", LR: c.LR}}
	group := func(n int, v float64) gle.Taus { return slices.Repeat(gle.Taus{v}, n) }
	tau, dt := c.Tau, c.Dt
	add := func(in, out int, phi string, tauM, tauR gle.Taus, init string, learn bool) {
		l := gle.LayerSpec{In: in, Out: out, Phi: phi, TauM: tauM, TauR: tauR, Init: init}
		if !learn {
			f := false
			l.LearnWeight, l.LearnBias, l.Bias = &f, &f, gle.Bias{Disabled: true}
		}
		s.Layers = append(s.Layers, l)
	}
	switch c.Variant {
	case "e2e", "e2e-42k":
		fast, slow, le := 18, 18, 17
		if c.Variant == "e2e-42k" {
			fast, slow, le = 30, 60, 0
		}
		width := fast + slow + le
		tauM := slices.Concat(group(fast, tau/2), group(slow, tau), group(le, tau))
		tauR := slices.Concat(group(fast+slow, dt), group(le, tau))
		in := 1
		for i := range 6 {
			phi := "tanh"
			if i == 0 {
				phi = "linear"
			}
			add(in, width, phi, tauM, tauR, "", true)
			in = width
		}
		add(in, 10, "linear", gle.Taus{tau}, gle.Taus{tau}, "", true)
	case "lagnet":
		// A fixed chain of linear lag layers (τm = linspace(dt, τ, 10)
		// rounded to 0.01, τr = dt, identity weights) feeding a learned
		// LE MLP.
		tauM := make(gle.Taus, 10)
		for i := range tauM {
			tauM[i] = math.Round((dt+(tau-dt)*float64(i)/9)*100) / 100
		}
		ones := make([][]float64, 10)
		for i := range ones {
			ones[i] = []float64{1}
		}
		add(1, 10, "linear", tauM, group(10, dt), "", false)
		s.Layers[0].Weight = ones
		for range 3 {
			add(10, 10, "linear", tauM, group(10, dt), "identity", false)
		}
		add(10, 64, "tanh", gle.Taus{tau}, gle.Taus{tau}, "", true)
		add(64, 64, "tanh", gle.Taus{tau}, gle.Taus{tau}, "", true)
		add(64, 10, "linear", gle.Taus{tau}, gle.Taus{tau}, "", true)
	}
	return s
}

// MNIST1DEpoch is one epoch's metrics.
type MNIST1DEpoch struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	TestLoss  float64 `json:"test_loss"`
	TestAcc   float64 `json:"test_acc"`
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"`
}

// MNIST1DResult is a finished (or interrupted) run.
type MNIST1DResult struct {
	Config    MNIST1DConfig
	Epochs    []MNIST1DEpoch
	Confusion [10][10]int // last evaluation: [true][predicted]
	Params    int
}

// mnist1dCheckpoint is everything a run needs to continue bit-identically.
type mnist1dCheckpoint struct {
	Result  MNIST1DResult
	Net     *gle.Network
	State   *gle.State
	Adam    *optim.Adam
	Plateau *optim.Plateau
	Steps   int
}

// MNIST1DOptions are the side channels of a run.
type MNIST1DOptions struct {
	// Checkpoint, when set, is written atomically after every epoch; with
	// Resume, a run continues from it when it exists.
	Checkpoint string
	Resume     bool
	// Epoch, when set, receives every epoch's metrics.
	Epoch func(MNIST1DEpoch)
	// Progress, when set, is called every few batches with the fraction
	// of the epoch done.
	Progress func(epoch int, frac float64)
}

// RunMNIST1D trains and evaluates. When ctx is cancelled it returns the
// epochs finished so far with ctx.Err(); the checkpoint holds the last
// finished epoch.
func RunMNIST1D(ctx context.Context, c MNIST1DConfig, o MNIST1DOptions) (*MNIST1DResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	args := mnist1d.DefaultArgs()
	args.FinalSeqLength = int(math.Round(72 / c.Dt))
	args.Seed = c.DataSeed
	ds, err := mnist1d.Generate(args)
	if err != nil {
		return nil, err
	}
	L := ds.Length
	nTrain, nTest := ds.NumTrain, ds.NumTest
	if c.TrainSamples > 0 {
		nTrain = min(nTrain, c.TrainSamples)
	}
	if c.TestSamples > 0 {
		nTest = min(nTest, c.TestSamples)
	}
	if nTrain < c.Batch {
		return nil, &gle.FieldError{Field: "batch", Value: c.Batch, Why: fmt.Sprintf("larger than the %d training samples", nTrain), Err: gle.ErrInvalid}
	}

	spec := c.Spec()
	var ck mnist1dCheckpoint
	if o.Resume && o.Checkpoint != "" {
		if err := loadGob(o.Checkpoint, &ck); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("resume: %w", err)
		}
	}
	if ck.Net == nil {
		net, err := gle.NewNetwork(spec)
		if err != nil {
			return nil, err
		}
		plateau, err := optim.NewPlateau("min", c.PlateauFactor, c.PlateauPatience)
		if err != nil {
			return nil, err
		}
		ck = mnist1dCheckpoint{Net: net, Adam: optim.NewAdam(c.LR), Plateau: plateau,
			Result: MNIST1DResult{Config: c, Params: net.NumParams()}}
	} else if ck.Result.Config.Variant != c.Variant || ck.Result.Config.Seed != c.Seed {
		return nil, fmt.Errorf("resume: checkpoint %s is of variant %s seed %d, not %s seed %d",
			o.Checkpoint, ck.Result.Config.Variant, ck.Result.Config.Seed, c.Variant, c.Seed)
	}
	ck.Result.Config.Epochs = c.Epochs
	tr, err := gle.NewTrainer(ck.Net, c.Batch, ck.Adam)
	if err != nil {
		return nil, err
	}
	if ck.State != nil {
		tr.Engine.State = ck.State
		if err := tr.Engine.SetBatch(c.Batch); err != nil {
			return nil, err
		}
	}
	tr.Steps = ck.Steps
	res := &ck.Result

	x := make([]float64, c.Batch)
	labels := make([]int, c.Batch)
	out := make([]float64, c.Batch*10)
	sum := make([]float64, c.Batch*10)
	for epoch := len(res.Epochs) + 1; epoch <= c.Epochs; epoch++ {
		start := time.Now()
		// The order of an epoch depends only on (seed, epoch), so a resumed
		// run sees the same batches.
		order := rand.New(rand.NewPCG(c.Seed, uint64(epoch))).Perm(nTrain)
		var lossSum float64
		var correct, seen, steps int
		batches := nTrain / c.Batch
		for bi := range batches {
			idx := order[bi*c.Batch : (bi+1)*c.Batch]
			for k, s := range idx {
				labels[k] = ds.Y[s]
			}
			clear(sum)
			for t := range L {
				for k, s := range idx {
					x[k] = ds.X[s*L+t]
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
			correct += countCorrect(sum, labels)
			seen += c.Batch
			if o.Progress != nil && bi%4 == 3 {
				o.Progress(epoch, float64(bi+1)/float64(batches))
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		testLoss, testAcc, conf, err := evaluateMNIST1D(tr.Engine, ds, nTest)
		if err != nil {
			return res, err
		}
		if err := tr.Engine.SetBatch(c.Batch); err != nil { // truncate back, as the reference
			return res, err
		}
		ep := MNIST1DEpoch{Epoch: epoch, TrainLoss: lossSum / float64(steps), TrainAcc: float64(correct) / float64(seen),
			TestLoss: testLoss, TestAcc: testAcc, LR: ck.Adam.LR(), Seconds: time.Since(start).Seconds()}
		if _, err := ck.Plateau.Step(testLoss, ck.Adam); err != nil {
			return res, err
		}
		res.Epochs = append(res.Epochs, ep)
		res.Confusion = conf
		if o.Epoch != nil {
			o.Epoch(ep)
		}
		if o.Checkpoint != "" {
			ck.State, ck.Steps = tr.Engine.State, tr.Steps
			if err := saveGob(o.Checkpoint, &ck); err != nil {
				return res, fmt.Errorf("checkpoint: %w", err)
			}
		}
	}
	return res, nil
}

// evaluateMNIST1D runs the first n test samples as one batch without
// targets, carrying the state over (tiled to the batch, as the reference),
// and returns the mean per-step CE of the outputs, the accuracy of the
// argmax of the outputs summed over the sequence, and the confusion matrix.
func evaluateMNIST1D(e *gle.Engine, ds *mnist1d.Dataset, n int) (loss, acc float64, conf [10][10]int, err error) {
	if err = e.SetBatch(n); err != nil {
		return
	}
	L := ds.Length
	x := make([]float64, n)
	out := make([]float64, n*10)
	sum := make([]float64, n*10)
	labels := ds.YTest[:n]
	tgt := gle.Target{Classes: labels}
	for t := range L {
		for s := range n {
			x[s] = ds.XTest[s*L+t]
		}
		if err = e.Step(out, x, gle.Target{}); err != nil {
			return
		}
		loss += e.Net.Loss.Value(out, tgt, 10)
		for i, v := range out {
			sum[i] += v
		}
	}
	for s, y := range labels {
		conf[y][argmax(sum[s*10:(s+1)*10])]++
	}
	return loss / float64(L), float64(countCorrect(sum, labels)) / float64(n), conf, nil
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

func countCorrect(sum []float64, labels []int) int {
	var c int
	for s, y := range labels {
		if argmax(sum[s*10:(s+1)*10]) == y {
			c++
		}
	}
	return c
}

func saveGob(path string, v any) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}

func loadGob(path string, v any) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if err := gob.NewDecoder(fh).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// MNIST1DFigure draws the learning curves and the last confusion matrix
// and saves base.png/.svg.
func MNIST1DFigure(base string, r *MNIST1DResult) error {
	n := len(r.Epochs)
	ep, trA, teA, trL, teL := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, e := range r.Epochs {
		ep[i], trA[i], teA[i], trL[i], teL[i] = float64(e.Epoch), 100*e.TrainAcc, 100*e.TestAcc, e.TrainLoss, e.TestLoss
	}
	paper := PaperAccuracy[r.Config.Variant][0]
	acc := plots.Panel{Title: fmt.Sprintf("MNIST-1D %s, seed %d: accuracy", r.Config.Variant, r.Config.Seed), XLabel: "epoch", YLabel: "accuracy (%)",
		Legend: "bottom right", Series: []plots.Series{{Name: "train", X: ep, Y: trA, Color: 0}, {Name: "test", X: ep, Y: teA, Color: 1},
			{Name: "paper", X: []float64{1, math.Max(2, float64(n))}, Y: []float64{paper, paper}, Dashed: true, Color: 6}}}
	loss := plots.Panel{Title: "loss (cross-entropy per step)", XLabel: "epoch", YLabel: "loss",
		Series: []plots.Series{{Name: "train", X: ep, Y: trL, Color: 0}, {Name: "test", X: ep, Y: teL, Color: 1}}}
	conf := make([][]float64, 10)
	for i := range conf {
		conf[i] = make([]float64, 10)
		for j := range conf[i] {
			conf[i][j] = float64(r.Confusion[i][j])
		}
	}
	cm := plots.Panel{Title: "confusion (last test): true ↓, predicted →", Matrix: conf}
	return plots.Save(base, 1, 3, 15, 4.5, acc, loss, cm)
}
