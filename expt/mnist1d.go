package expt

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/mnist1d"
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
	// Float32 trains on the float32 engine (ClassifyConfig.Float32).
	Float32 bool
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
		tauM := slices.Concat(tauGroup(fast, tau/2), tauGroup(slow, tau), tauGroup(le, tau))
		tauR := slices.Concat(tauGroup(fast+slow, dt), tauGroup(le, tau))
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
		add(1, 10, "linear", tauM, tauGroup(10, dt), "", false)
		s.Layers[0].Weight = ones
		for range 3 {
			add(10, 10, "linear", tauM, tauGroup(10, dt), "identity", false)
		}
		add(10, 64, "tanh", gle.Taus{tau}, gle.Taus{tau}, "", true)
		add(64, 64, "tanh", gle.Taus{tau}, gle.Taus{tau}, "", true)
		add(64, 10, "linear", gle.Taus{tau}, gle.Taus{tau}, "", true)
	}
	return s
}

// MNIST1DResult is a finished (or interrupted) run.
type MNIST1DResult struct {
	Config MNIST1DConfig
	ClassifyResult
}

// mnist1dSet serves a slice of MNIST-1D samples, one value per step.
type mnist1dSet struct {
	x    []float64
	y    []int
	n, L int
}

func (s *mnist1dSet) Len() int                      { return s.n }
func (s *mnist1dSet) Steps() int                    { return s.L }
func (s *mnist1dSet) Features() int                 { return 1 }
func (s *mnist1dSet) Label(i int) int               { return s.y[i] }
func (s *mnist1dSet) Frame(dst []float64, i, t int) { dst[0] = s.x[i*s.L+t] }

// RunMNIST1D generates MNIST-1D at 72/dt steps, then trains and evaluates
// (TrainClassifier). When ctx is cancelled it returns the epochs finished
// so far with ctx.Err().
func RunMNIST1D(ctx context.Context, c MNIST1DConfig, o ClassifyOptions) (*MNIST1DResult, error) {
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
	train := &mnist1dSet{x: ds.X, y: ds.Y, n: ds.NumTrain, L: ds.Length}
	test := &mnist1dSet{x: ds.XTest, y: ds.YTest, n: ds.NumTest, L: ds.Length}
	if c.TrainSamples > 0 {
		train.n = min(train.n, c.TrainSamples)
	}
	if c.TestSamples > 0 {
		test.n = min(test.n, c.TestSamples)
	}
	cc := ClassifyConfig{Tag: fmt.Sprintf("mnist1d-%s seed %d", c.Variant, c.Seed), Seed: c.Seed, Epochs: c.Epochs, Batch: c.Batch,
		LR: c.LR, PlateauFactor: c.PlateauFactor, PlateauPatience: c.PlateauPatience, Float32: c.Float32}
	r, err := TrainClassifier(ctx, c.Spec(), cc, train, test, o)
	if r == nil {
		return nil, err
	}
	return &MNIST1DResult{Config: c, ClassifyResult: *r}, err
}

// MNIST1DFigure draws the learning curves and the last confusion matrix
// and saves base.png/.svg.
func MNIST1DFigure(base string, r *MNIST1DResult) error {
	return ClassifierFigure(base, fmt.Sprintf("MNIST-1D %s, seed %d", r.Config.Variant, r.Config.Seed), &r.ClassifyResult, PaperAccuracy[r.Config.Variant][0], nil)
}
