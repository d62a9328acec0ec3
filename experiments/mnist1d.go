package experiments

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/data/mnist1d"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/optim"
	"github.com/gle-go/gle/safetensors"
)

// MNIST1DConfig sets up MNIST-1D classification with GLE (GLE paper
// Fig. 8, docs/model.md §9): sequences of 360 steps (dt = 0.2, one value per step),
// CE against the label at every step, Adam stepping every dt, state
// carried over between batches and into evaluation, prediction = argmax of
// the outputs summed over the sequence, one evaluation before the first
// epoch (epoch 0) that moves the carried state but does not feed the
// plateau scheduler.
//
// The network is the variant's (MNIST1DVariants), or Net when given.
type MNIST1DConfig struct {
	// Variant names a preset network (see MNIST1DVariants) or, with Net,
	// labels the run.
	Variant string
	// Net, when set, is trained instead of the variant's network (either
	// spec form; its seed is replaced by Seed; it must take 1 input and
	// give 10 outputs).
	Net    *gle.Spec
	Seed   uint64
	Epochs int
	Batch  int
	Dt     float64
	Tau    float64 // τ of the preset networks' neuron groups
	// ChainTauMax is the largest τm of the static LagNet's fixed chain
	// (τm = linspace(dt, ChainTauMax, 10) rounded to 0.01).
	ChainTauMax float64
	// ReadoutTau is τm = τr of the static LagNet's LE MLP (the
	// reference's 2.0; with τm = τr the rates are instantaneous whatever
	// its value, so only rounding depends on it).
	ReadoutTau float64
	LR         float64
	// Plateau: ReduceLROnPlateau on the evaluation loss.
	PlateauFactor   float64
	PlateauPatience int
	// TrainSamples and TestSamples, when positive, use only the first so
	// many samples (for quick runs and tests).
	TrainSamples, TestSamples int
	// Validation, when positive, holds out the last Validation of the
	// (first TrainSamples) training samples, trains on the rest and
	// evaluates on the held-out ones instead of the test set: model
	// selection that never sees the test set.
	Validation int
	// DataSeed seeds the MNIST-1D generator (canonical: 42).
	DataSeed uint32
	// Float32 trains on the float32 engine (ClassifyConfig.Float32).
	Float32 bool
	// SkipEpochZero leaves out the reference's evaluation before training
	// (ClassifyConfig.SkipEpochZero): an ablation.
	SkipEpochZero bool
}

// MNIST1DVariant is one preset network of the MNIST-1D experiment.
type MNIST1DVariant struct {
	Name    string
	Summary string
	LR      float64    // Adam learning rate of the published run
	Paper   [2]float64 // published test accuracy (%), mean and population std over 10 seeds; zero if none
	// Patience is the plateau scheduler's patience (0: the paper's 2).
	Patience int
	// spec builds the network; fresh lists the layers that start every
	// batch and every evaluation from zero state.
	spec  func(c *MNIST1DConfig) *gle.Spec
	fresh []int
}

// MNIST1DVariants are the preset networks, by name: the paper's three
// rows (e2e, e2e-42k, lagnet) and this project's own (42k-lr1e-3).
var MNIST1DVariants = map[string]MNIST1DVariant{
	"e2e": {Name: "e2e", Summary: "the paper's E2E network: 6 hidden layers of 18 lagged τ/2, 18 lagged τ and 17 LE neurons (14,956 parameters)",
		LR: 5e-3 * 72 / 360, Paper: [2]float64{91.72, 0.80}, spec: func(c *MNIST1DConfig) *gle.Spec {
			return c.mixedSpec(6, []NeuronGroup{{N: 18, TauM: 0.5}, {N: 18, TauM: 1}, {N: 17, TauM: 1, LE: true}})
		}},
	"e2e-42k": {Name: "e2e-42k", Summary: "the paper's 42k variant: 6 hidden layers of 30 lagged τ/2, 30 lagged τ and 30 LE neurons (42,040 parameters)",
		LR: 2.5e-3 * 72 / 360, Paper: [2]float64{93.48, 0.94}, spec: func(c *MNIST1DConfig) *gle.Spec {
			return c.mixedSpec(6, []NeuronGroup{{N: 30, TauM: 0.5}, {N: 30, TauM: 1}, {N: 30, TauM: 1, LE: true}})
		}},
	"lagnet": {Name: "lagnet", Summary: "the paper's static LagNet: a fixed 1→10→10→10→10 lag chain (reset every batch) read by a learned LE MLP 10→60→60→10 (4,930 parameters)",
		LR: 5e-3 * 72 / 360, Paper: [2]float64{90.89, 0.63}, spec: (*MNIST1DConfig).lagNetSpec, fresh: []int{0, 1, 2, 3}},
	"42k-lr1e-3": ownVariant("42k-lr1e-3", "this project's: the 42k network at Adam lr 1e-3, chosen by a search on a validation split (docs/mnist1d.md)", 0),
}

// ownSpecs holds the networks of this project's own variants, one spec
// file each: experiments/specs/mnist1d-<name>.yaml.
//
//go:embed specs/mnist1d-*.yaml
var ownSpecs embed.FS

// ownVariant is the variant of the spec file specs/mnist1d-<name>.yaml:
// its network (the run's seed replacing the file's), its optimizer's
// learning rate, and the given plateau patience. The files are part of
// the program; one that does not load is a bug (TestMNIST1DVariants).
func ownVariant(name, summary string, patience int) MNIST1DVariant {
	path := "specs/mnist1d-" + name + ".yaml"
	raw, err := ownSpecs.ReadFile(path)
	if err != nil {
		panic(err)
	}
	spec, err := gle.DecodeSpec(raw)
	if err != nil {
		panic(fmt.Sprintf("experiments/%s: %v", path, err))
	}
	return MNIST1DVariant{Name: name, Summary: summary, LR: spec.Optimizer.LR, Patience: patience,
		spec: func(c *MNIST1DConfig) *gle.Spec {
			s := *spec
			s.Seed = c.Seed
			return &s
		}}
}

// NeuronGroup is a group of neurons of a hidden layer of the E2E family:
// N neurons with τm = TauM·τ, and τr = τm (LE neurons) or τr = dt
// (lagged neurons).
type NeuronGroup struct {
	N    int
	TauM float64 // in units of the config's Tau
	LE   bool
}

// DefaultMNIST1D returns the published set-up of a variant (e2e, e2e-42k,
// lagnet); other names give the E2E settings, which Validate then rejects
// unless Net is set.
func DefaultMNIST1D(variant string) MNIST1DConfig {
	c := MNIST1DConfig{
		Variant: variant, Seed: 1, Epochs: 150, Batch: 100, Dt: 0.2, Tau: 1.2, ChainTauMax: 1.8, ReadoutTau: 2,
		LR: MNIST1DVariants["e2e"].LR, PlateauFactor: 0.5, PlateauPatience: 2, DataSeed: 42,
	}
	if v, ok := MNIST1DVariants[variant]; ok {
		c.LR = v.LR
		if v.Patience > 0 {
			c.PlateauPatience = v.Patience
		}
	}
	return c
}

// Validate checks the configuration.
func (c *MNIST1DConfig) Validate() error {
	bad := func(field string, v any, why string) error {
		return &gle.FieldError{Field: field, Value: v, Why: why, Err: gle.ErrInvalid}
	}
	_, known := MNIST1DVariants[c.Variant]
	switch {
	case !known && c.Net == nil:
		return &gle.FieldError{Field: "variant", Value: c.Variant, Why: "want " + strings.Join(MNIST1DVariantNames(), ", ") + ", or a spec", Err: gle.ErrUnknownName}
	case c.Epochs <= 0:
		return bad("epochs", c.Epochs, "must be positive")
	case c.Batch <= 0:
		return bad("batch", c.Batch, "must be positive")
	case !(c.Dt > 0) || !(c.Tau >= c.Dt):
		return bad("dt/tau", fmt.Sprint(c.Dt, c.Tau), "need 0 < dt ≤ tau")
	case c.Variant == "lagnet" && !(c.ChainTauMax >= c.Dt):
		return bad("chain_tau_max", c.ChainTauMax, "must be ≥ dt")
	case c.Variant == "lagnet" && !(c.ReadoutTau >= c.Dt):
		return bad("readout_tau", c.ReadoutTau, "must be ≥ dt")
	case !(c.LR > 0):
		return bad("lr", c.LR, "must be positive")
	case c.PlateauPatience < 0:
		return bad("plateau_patience", c.PlateauPatience, "must be ≥ 0")
	case !(c.PlateauFactor > 0 && c.PlateauFactor < 1):
		return bad("plateau_factor", c.PlateauFactor, "must be in (0, 1)")
	case c.Validation < 0:
		return bad("validation", c.Validation, "must be ≥ 0")
	}
	if c.Net != nil {
		if err := c.Net.Validate(); err != nil {
			return err
		}
		if in, out := c.Net.NumInputs(), c.Net.NumOutputs(); in != 1 || out != 10 {
			return bad("spec", fmt.Sprintf("%d inputs, %d outputs", in, out), "MNIST-1D needs 1 input and 10 outputs")
		}
	}
	return nil
}

// MNIST1DVariantNames returns the preset names, sorted.
func MNIST1DVariantNames() []string {
	return slices.Sorted(maps.Keys(MNIST1DVariants))
}

// Spec returns the network of the run: Net with the run's seed, or the
// variant's preset.
func (c *MNIST1DConfig) Spec() *gle.Spec {
	if c.Net != nil {
		s := *c.Net
		s.Seed = c.Seed
		return &s
	}
	return MNIST1DVariants[c.Variant].spec(c)
}

// freshLayers returns the layers (populations) that start every batch
// and evaluation from zero state.
func (c *MNIST1DConfig) freshLayers() []int {
	if c.Net != nil {
		return nil
	}
	return MNIST1DVariants[c.Variant].fresh
}

// baseSpec is the experiment's common spec: CE with β = 1, prospective
// errors, Adam.
func (c *MNIST1DConfig) baseSpec() *gle.Spec {
	return &gle.Spec{Dt: c.Dt, Loss: gle.CE, Seed: c.Seed, Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: c.LR}}
}

// mixedSpec builds the E2E family: depth hidden layers of the given
// neuron groups (the first linear, the others tanh), then 10 linear LE
// outputs with τm = τr = τ.
func (c *MNIST1DConfig) mixedSpec(depth int, groups []NeuronGroup) *gle.Spec {
	s := c.baseSpec()
	var tauM, tauR gle.Taus
	for _, g := range groups {
		tm := g.TauM * c.Tau
		tr := c.Dt
		if g.LE {
			tr = tm
		}
		tauM, tauR = append(tauM, tauGroup(g.N, tm)...), append(tauR, tauGroup(g.N, tr)...)
	}
	in := 1
	for i := range depth {
		phi := gle.Tanh
		if i == 0 {
			phi = gle.Linear
		}
		s.Layers = append(s.Layers, gle.LayerSpec{In: in, Out: len(tauM), Phi: phi, TauM: tauM, TauR: tauR})
		in = len(tauM)
	}
	s.Layers = append(s.Layers, gle.LayerSpec{In: in, Out: 10, Phi: gle.Linear, TauM: gle.Taus{c.Tau}, TauR: gle.Taus{c.Tau}})
	return s
}

// lagNetSpec builds the static LagNet: a fixed chain of linear lag layers
// 1→10→10→10→10 (first weights all ones, then identities, no bias, τr =
// dt, τm = linspace(dt, ChainTauMax, 10) rounded to 0.01), nothing
// learned, read by a learned LE MLP 10→60→60→10 (tanh, tanh, linear;
// τm = τr = ReadoutTau) with instantaneous errors ê = e, as the
// reference runs it (the fixed chain learns nothing, so its error mode
// changes no result).
func (c *MNIST1DConfig) lagNetSpec() *gle.Spec {
	s := c.baseSpec()
	dt := c.Dt
	tauM := make(gle.Taus, 10)
	for i := range tauM {
		tauM[i] = math.Round((dt+(c.ChainTauMax-dt)*float64(i)/9)*100) / 100
	}
	fixed := func(in int, init gle.Init) gle.LayerSpec {
		return gle.LayerSpec{In: in, Out: 10, Phi: gle.Linear, TauM: tauM, TauR: tauGroup(10, dt), Init: init,
			Bias: gle.Bias{Disabled: true}}.Fixed()
	}
	first := fixed(1, gle.InitPyTorch)
	first.Weight = make([][]float64, 10)
	for i := range first.Weight {
		first.Weight[i] = []float64{1}
	}
	s.Layers = append(s.Layers, first, fixed(10, gle.InitIdentity), fixed(10, gle.InitIdentity), fixed(10, gle.InitIdentity))
	s.SetProspectiveErrors(false)
	le := func(in, out int, phi gle.Activation) gle.LayerSpec {
		return gle.LayerSpec{In: in, Out: out, Phi: phi, TauM: gle.Taus{c.ReadoutTau}, TauR: gle.Taus{c.ReadoutTau}}
	}
	s.Layers = append(s.Layers, le(10, 60, gle.Tanh), le(60, 60, gle.Tanh), le(60, 10, gle.Linear))
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

func (s *mnist1dSet) Len() int        { return s.n }
func (s *mnist1dSet) Features() int   { return 1 }
func (s *mnist1dSet) Label(i int) int { return s.y[i] }
func (s *mnist1dSet) Classes() int    { return 10 }
func (s *mnist1dSet) Sample(dst *data.Sample, i int, _ *rand.Rand) error {
	dst.Steps, dst.Label = s.L, s.y[i]
	dst.X = append(dst.X[:0], s.x[i*s.L:(i+1)*s.L]...)
	return nil
}

// RunMNIST1D generates MNIST-1D at 72/dt steps, then trains and
// evaluates with the paper's protocol (package fit): shuffled batches,
// the state carried over between batches and into the evaluations (the
// test set as one batch), epoch 0 evaluated but not fed to the plateau
// scheduler, the scheduler on the test loss (or, with Validation, on the
// held-out samples' loss). When ctx is cancelled it returns the epochs
// finished so far with ctx.Err(); the checkpoint then holds every step
// taken.
func RunMNIST1D(ctx context.Context, c MNIST1DConfig, o RunOptions) (*MNIST1DResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	args := mnist1d.DefaultArgs()
	args.FinalSeqLength = stepsIn(72, c.Dt)
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
	src := fit.Sources{Train: train, Test: test}
	on := fit.Test
	if c.Validation > 0 {
		if c.Validation >= train.n {
			return nil, &gle.FieldError{Field: "validation", Value: c.Validation, Why: fmt.Sprintf("must be below the %d training samples", train.n), Err: gle.ErrInvalid}
		}
		// The last Validation training samples, held out.
		off := (train.n - c.Validation) * ds.Length
		src.Test, src.Validation = nil, &mnist1dSet{x: ds.X[off:], y: ds.Y[train.n-c.Validation:], n: c.Validation, L: ds.Length}
		train.n -= c.Validation
		on = fit.Validation
	}
	if train.n < c.Batch {
		return nil, &gle.FieldError{Field: "batch", Value: c.Batch, Why: fmt.Sprintf("must be in 1…%d (the training samples)", train.n), Err: gle.ErrInvalid}
	}
	spec := c.Spec()
	net, err := gle.NewNetwork(spec)
	if err != nil {
		return nil, err
	}
	id, err := runs.Identity(map[string]any{"experiment": c.identity()})
	if err != nil {
		return nil, err
	}
	plateau, err := optim.NewPlateau("min", c.PlateauFactor, c.PlateauPatience)
	if err != nil {
		return nil, err
	}
	var l gle.Learner
	if c.Float32 {
		l, err = classifierLearner[float32](net, spec, c.Batch, c.LR)
	} else {
		l, err = classifierLearner[float64](net, spec, c.Batch, c.LR)
	}
	if err != nil {
		return nil, err
	}
	s := fit.Settings{Epochs: c.Epochs, Batch: c.Batch, Order: data.Shuffled, Seed: c.Seed, FreshPopulations: c.freshLayers(),
		EachEpoch: []fit.Split{on}, Schedule: plateau, ScheduleOn: on,
		Checkpoint: o.Checkpoint, Resume: o.Resume, Identity: id}
	if !c.SkipEpochZero {
		s.EpochZero = []fit.Split{on}
	}
	res, err := fit.Run(ctx, l, src, s, o.Recorder)
	r := classifyResult(res, on, net.NumParams())
	if r == nil {
		return nil, err
	}
	return &MNIST1DResult{Config: c, ClassifyResult: *r}, err
}

// identity is what defines a run, for its checkpoint: the configuration
// but the epochs (a run may be continued for more).
func (c MNIST1DConfig) identity() MNIST1DConfig {
	c.Epochs = 0
	return c
}

// classifierLearner is a trainer in T of net with Adam at rate lr, the
// spec's τm bounds and first learning step.
func classifierLearner[T gle.Float](net *gle.Network, spec *gle.Spec, batch int, lr float64) (gle.Learner, error) {
	tr, err := gle.NewTrainerOf[T](net, batch, optim.NewAdam(lr))
	if err != nil {
		return nil, err
	}
	tr.TauMMin, tr.TauMMax, tr.LearnFromStep = spec.TauMMinOrDefault(), spec.TauMMax, spec.LearnFromStep
	return tr, nil
}

// MNIST1DFigure draws the learning curves and the last confusion matrix
// and saves base.png/.svg.
func MNIST1DFigure(base string, r *MNIST1DResult) error {
	return ClassifierFigure(base, fmt.Sprintf("MNIST-1D %s, seed %d", r.Config.Variant, r.Config.Seed), &r.ClassifyResult, MNIST1DVariants[r.Config.Variant].Paper[0], nil)
}

func init() {
	register(mnist1dCommand(""))
	for _, v := range MNIST1DVariantNames() {
		register(mnist1dCommand(v))
	}
}

// mnist1dCommand is `gle run mnist1d-VARIANT`, or with variant ""
// `gle run mnist1d --spec FILE` (any network of 1 input and 10 outputs).
func mnist1dCommand(variant string) Command {
	name, summary := "mnist1d-"+variant, "paper Fig. 8: MNIST-1D, "+MNIST1DVariants[variant].Summary
	if variant == "" {
		name, summary = "mnist1d", "MNIST-1D with the paper's protocol for any network of 1 input and 10 outputs (--spec)"
	}
	return Command{Name: name, Summary: summary, Resumable: true, Define: func(fs *flag.FlagSet, env *Env) func(context.Context) error {
		c := DefaultMNIST1D(variant)
		seeds, specPath, jobs := "", "", 1
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initial weights and the batch order")
		fs.StringVar(&seeds, "seeds", "", "run several seeds, e.g. 1-10 or 1,4,7 (overrides --seed) and write a table")
		fs.IntVar(&jobs, "jobs", jobs, "seeds run in parallel")
		fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
		if variant == "" {
			fs.StringVar(&specPath, "spec", "", "the network to train: a spec file or .safetensors network (1 input, 10 outputs); its optimizer.lr is the rate unless --lr is given")
			fs.StringVar(&c.Variant, "name", "custom", "the run's name in tables and checkpoints")
			fs.Float64Var(&c.LR, "lr", 0, "Adam learning rate (default: the spec's optimizer.lr)")
		} else {
			fs.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate")
		}
		fs.IntVar(&c.PlateauPatience, "patience", c.PlateauPatience, "ReduceLROnPlateau: epochs without improvement before the rate drops")
		fs.Float64Var(&c.PlateauFactor, "factor", c.PlateauFactor, "ReduceLROnPlateau: the factor the rate drops by")
		fs.IntVar(&c.TrainSamples, "train-samples", 0, "use only the first N training samples (0: all 4000)")
		fs.IntVar(&c.TestSamples, "test-samples", 0, "use only the first N test samples (0: all 1000)")
		fs.IntVar(&c.Validation, "validation", 0, "hold out the last N training samples and evaluate on them instead of the test set (model selection)")
		fs.BoolVar(&c.Float32, "float32", false, "train on the float32 engine (about 2× faster; float32 rounding)")
		fs.BoolVar(&c.SkipEpochZero, "no-epoch-zero", false, "ablation: leave out the reference's test evaluation before training (it moves the carried state; it feeds no scheduler)")
		return func(ctx context.Context) error {
			if variant == "" {
				if specPath == "" {
					return Usagef("--spec is required: the network to train")
				}
				spec, err := safetensors.LoadSpec(specPath)
				if err != nil {
					return err
				}
				c.Net = spec
				if c.LR == 0 {
					c.LR = spec.Optimizer.LR
				}
				name = "mnist1d-" + c.Variant
			}
			list := []uint64{c.Seed}
			if seeds != "" {
				var err error
				if list, err = runs.ParseSeeds(seeds); err != nil {
					return Usagef("--seeds: %v", err)
				}
			}
			switch err := c.Validate(); {
			case err != nil:
				return usage(err)
			case jobs < 1:
				return Usagef("--jobs = %d must be ≥ 1", jobs)
			case c.TrainSamples < 0:
				return Usagef("--train-samples = %d must be ≥ 0", c.TrainSamples)
			case c.TestSamples < 0:
				return Usagef("--test-samples = %d must be ≥ 0", c.TestSamples)
			}
			dir, err := env.Folder(name, map[string]any{"experiment": c, "seeds": list})
			if err != nil {
				return err
			}
			_, table, err := RunMNIST1DSeeds(ctx, c, list, SeedOptions{Dir: dir, Jobs: jobs, Resume: env.Resume,
				Recorder: func(seed uint64) fit.Recorder {
					return env.Console(filepath.Join(dir, fmt.Sprintf("seed%d.jsonl", seed)), fmt.Sprintf("seed %d ", seed), c.Epochs, len(list) == 1)
				}})
			fmt.Fprint(env.Stdout, table)
			fmt.Fprintf(env.Stdout, "wrote metrics, checkpoints, figures and the table to %s\n", dir)
			return err
		}
	}}
}
