package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"path/filepath"
	"sync"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/runs"
)

// runMNIST1D runs one or several seeds of an MNIST-1D variant; variant ""
// is "gle run mnist1d --spec FILE", any layered network of 1 input and 10
// outputs.
func runMNIST1D(variant string) func(ctx context.Context, args []string, stdout io.Writer) error {
	return func(ctx context.Context, args []string, stdout io.Writer) error {
		c := experiments.DefaultMNIST1D(variant)
		name := "mnist1d-" + variant
		seeds, out, specPath := "", "", ""
		jobs := 1
		resume := false
		force := false
		if err := parseNoArgs("run "+name, args, func(fs *flag.FlagSet) {
			defineCommon(fs, &force)
			fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initial weights and the batch order")
			fs.StringVar(&seeds, "seeds", "", "run several seeds, e.g. 1-10 or 1,4,7 (overrides --seed) and write a table")
			fs.IntVar(&jobs, "jobs", jobs, "seeds run in parallel")
			fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
			if variant == "" {
				fs.StringVar(&specPath, "spec", "", "the network to train: a layered spec file (1 input, 10 outputs); its optimizer.lr is the rate unless --lr is given")
				fs.StringVar(&c.Variant, "name", "custom", "the run's name in tables and checkpoints")
			}
			if variant == "" {
				fs.Float64Var(&c.LR, "lr", 0, "Adam learning rate (default: the spec's optimizer.lr)")
			} else {
				fs.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate")
			}
			fs.IntVar(&c.PlateauPatience, "patience", c.PlateauPatience, "ReduceLROnPlateau: epochs without improvement before the rate drops")
			fs.Float64Var(&c.PlateauFactor, "factor", c.PlateauFactor, "ReduceLROnPlateau: the factor the rate drops by")
			fs.IntVar(&c.TrainSamples, "train-samples", 0, "use only the first N training samples (0: all 4000)")
			fs.IntVar(&c.TestSamples, "test-samples", 0, "use only the first N test samples (0: all 1000)")
			fs.IntVar(&c.Validation, "validation", 0, "hold out the last N training samples and evaluate on them instead of the test set (model selection)")
			defaultOut := "runs/" + name + "-<timestamp>"
			if variant == "" {
				defaultOut = "runs/mnist1d-NAME-<timestamp>"
			}
			fs.StringVar(&out, "out", "", "output folder (default "+defaultOut+")")
			fs.BoolVar(&resume, "resume", false, "continue each seed from its checkpoint in --out")
			fs.BoolVar(&c.Float32, "float32", false, "train on the float32 engine (about 2× faster; float32 rounding)")
			fs.BoolVar(&c.SkipEpochZero, "no-epoch-zero", false, "ablation: leave out the reference's test evaluation before training (it moves the carried state; it feeds no scheduler)")
		}); err != nil {
			return err
		}
		if variant == "" {
			if specPath == "" {
				return usagef("--spec is required: the network to train")
			}
			spec, err := loadSpec(specPath)
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
				return usagef("--seeds: %v", err)
			}
		}
		if err := c.Validate(); err != nil {
			return usagef("%v", err)
		}
		if jobs < 1 {
			return usagef("--jobs = %d must be ≥ 1", jobs)
		}
		if c.TrainSamples < 0 {
			return usagef("--train-samples = %d must be ≥ 0", c.TrainSamples)
		}
		if c.TestSamples < 0 {
			return usagef("--test-samples = %d must be ≥ 0", c.TestSamples)
		}
		if resume && out == "" {
			return usagef("--resume needs --out, the folder of the run to continue")
		}
		dir, err := runs.Dir(out, name, resume || force)
		if err != nil {
			return err
		}
		if err := runs.WriteConfig(dir, map[string]any{"experiment": c, "seeds": list}); err != nil {
			return err
		}
		var mu sync.Mutex
		_, table, err := experiments.RunMNIST1DSeeds(ctx, c, list, experiments.SeedOptions{Dir: dir, Jobs: jobs, Resume: resume,
			Recorder: func(seed uint64) fit.Recorder {
				return newConsole(filepath.Join(dir, fmt.Sprintf("seed%d.jsonl", seed)), stdout, &mu, fmt.Sprintf("seed %d ", seed), c.Epochs, len(list) == 1)
			}})
		fmt.Fprint(stdout, table)
		fmt.Fprintf(stdout, "wrote metrics, checkpoints, figures and the table to %s\n", dir)
		return err
	}
}
