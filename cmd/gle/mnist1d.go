package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"path/filepath"
	"strings"
	"sync"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/atomicfile"
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
		results := make([]*experiments.MNIST1DResult, len(list))
		var mu sync.Mutex
		err = runs.FanOut(len(list), jobs, func(i int) error {
			cs := c
			cs.Seed = list[i]
			name := fmt.Sprintf("seed%d", cs.Seed)
			rec := newConsole(filepath.Join(dir, name+".jsonl"), stdout, &mu, fmt.Sprintf("seed %d ", cs.Seed), cs.Epochs, len(list) == 1)
			defer rec.Close()
			r, err := experiments.RunMNIST1D(ctx, cs, experiments.RunOptions{Checkpoint: filepath.Join(dir, name+".ckpt"), Resume: resume, Recorder: rec})
			results[i] = r
			if r != nil && len(r.Epochs()) > 1 {
				err = errors.Join(err, experiments.MNIST1DFigure(filepath.Join(dir, name), r))
			}
			return err
		})
		if terr := writeMNIST1DTable(dir, c.Variant, evalSplit(c), results, stdout); terr != nil {
			err = errors.Join(err, terr)
		}
		fmt.Fprintf(stdout, "wrote metrics, checkpoints, figures and the table to %s\n", dir)
		return err
	}
}

// evalSplit names what a run evaluates on: the test set, or with
// --validation the samples held out of the training set.
func evalSplit(c experiments.MNIST1DConfig) fit.Split {
	if c.Validation > 0 {
		return fit.Validation
	}
	return fit.Test
}

// writeMNIST1DTable writes table.md and table.csv: final accuracy and loss
// on the split evaluated (test or validation) per seed, mean ± population
// std (the paper's ±), the sample std, min–max, and the paper's number.
// The CSV columns and summary keys keep their names (test_acc, …) for
// either split; summary.json's "evaluated_on" says which it was.
func writeMNIST1DTable(dir, variant string, split fit.Split, results []*experiments.MNIST1DResult, stdout io.Writer) error {
	var accs, losses []float64
	var md, csv strings.Builder
	fmt.Fprintf(&md, "| seed | epochs | %s accuracy (%%) | %s loss |\n|---|---|---|---|\n", split, split)
	csv.WriteString("seed,epochs,test_acc,test_loss\n")
	for _, r := range results {
		if r == nil {
			continue
		}
		eps := r.Epochs()
		if len(eps) == 0 {
			continue
		}
		last := eps[len(eps)-1]
		m, ok := last.Of(split)
		if !ok || m.Acc == nil {
			continue
		}
		accs, losses = append(accs, 100**m.Acc), append(losses, m.Loss)
		fmt.Fprintf(&md, "| %d | %d | %.2f | %.4f |\n", r.Config.Seed, last.Epoch, 100**m.Acc, m.Loss)
		fmt.Fprintf(&csv, "%d,%d,%.4f,%.6f\n", r.Config.Seed, last.Epoch, 100**m.Acc, m.Loss)
	}
	if len(accs) == 0 {
		return nil
	}
	a, l := experiments.Summarize(accs), experiments.Summarize(losses)
	paper := experiments.MNIST1DVariants[variant].Paper
	if err := runs.WriteSummary(dir, map[string]any{"variant": variant, "seeds": len(accs), "evaluated_on": split,
		"test_acc_mean": a.Mean, "test_acc_std": a.Std, "test_acc_sample_std": a.SampleStd, "test_acc_min": a.Min, "test_acc_max": a.Max,
		"test_loss_mean": l.Mean, "test_loss_std": l.Std, "test_loss_min": l.Min, "test_loss_max": l.Max,
		"paper_mean": paper[0], "paper_std": paper[1]}); err != nil {
		return err
	}
	if len(accs) == 1 {
		fmt.Fprintf(&md, "\n**mnist1d-%s: %.2f %% %s accuracy (one seed)**; final %s loss %.4f", variant, a.Mean, split, split, l.Mean)
	} else {
		fmt.Fprintf(&md, "\n**mnist1d-%s: %.2f ± %.2f %% %s accuracy (mean ± population std) over %d seeds**, sample std %.2f, min–max %.2f–%.2f; final %s loss %.4f (%.4f–%.4f)",
			variant, a.Mean, a.Std, split, len(accs), a.SampleStd, a.Min, a.Max, split, l.Mean, l.Min, l.Max)
	}
	if paper[0] > 0 && split == fit.Test {
		fmt.Fprintf(&md, " (paper: %.2f ± %.2f %%)", paper[0], paper[1])
	}
	md.WriteString("\n")
	fmt.Fprint(stdout, md.String())
	if err := atomicfile.Write(filepath.Join(dir, "table.md"), []byte(md.String())); err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "table.csv"), []byte(csv.String()))
}
