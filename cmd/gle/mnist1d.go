package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/gle-go/gle/expt"
)

// runMNIST1D runs one or several seeds of an MNIST-1D variant.
func runMNIST1D(variant string) func(ctx context.Context, args []string, stdout io.Writer) error {
	return func(ctx context.Context, args []string, stdout io.Writer) error {
		c := expt.DefaultMNIST1D()
		c.Variant = variant
		seeds, out := "", ""
		jobs := 1
		resume := false
		if _, err := parseFlags("run mnist1d-"+variant, args, func(fs *flag.FlagSet) {
			fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the initial weights and the batch order")
			fs.StringVar(&seeds, "seeds", "", "run several seeds, e.g. 1-10 or 1,4,7 (overrides --seed) and write a table")
			fs.IntVar(&jobs, "jobs", jobs, "seeds run in parallel")
			fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs")
			fs.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate")
			fs.IntVar(&c.TrainSamples, "train-samples", 0, "use only the first N training samples (0: all 4000)")
			fs.IntVar(&c.TestSamples, "test-samples", 0, "use only the first N test samples (0: all 1000)")
			fs.StringVar(&out, "out", "", "output folder (default runs/mnist1d-"+variant+"-<timestamp>)")
			fs.BoolVar(&resume, "resume", false, "continue each seed from its checkpoint in --out")
			fs.BoolVar(&c.Float32, "float32", false, "train on the float32 engine (about 2× faster; float32 rounding)")
		}); err != nil {
			return err
		}
		if variant == "e2e-42k" && !flagGiven(args, "lr") {
			c.LR = 2.5e-3 * 72 / 360 // the paper's rate, scaled to 360 steps like the E2E one
		}
		list := []uint64{c.Seed}
		if seeds != "" {
			var err error
			if list, err = parseSeeds(seeds); err != nil {
				return usagef("--seeds: %v", err)
			}
		}
		if err := c.Validate(); err != nil {
			return usagef("%v", err)
		}
		if jobs < 1 {
			return usagef("--jobs = %d must be ≥ 1", jobs)
		}
		if resume && out == "" {
			return usagef("--resume needs --out, the folder of the run to continue")
		}
		dir, err := runDir(out, "mnist1d-"+variant)
		if err != nil {
			return err
		}
		if err := writeRunConfig(dir, map[string]any{"experiment": c, "seeds": list}); err != nil {
			return err
		}
		results := make([]*expt.MNIST1DResult, len(list))
		errs := make([]error, len(list))
		var mu sync.Mutex
		sem := make(chan struct{}, jobs)
		var wg sync.WaitGroup
		for i, seed := range list {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				cs := c
				cs.Seed = seed
				name := fmt.Sprintf("seed%d", seed)
				metrics, err := os.OpenFile(filepath.Join(dir, name+".jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					errs[i] = err
					return
				}
				defer metrics.Close()
				var bar *progress
				if len(list) == 1 {
					bar = newProgress(name)
				}
				opts := expt.ClassifyOptions{
					Checkpoint: filepath.Join(dir, name+".ckpt"), Resume: resume,
					Progress: func(epoch int, frac float64, steps int) { bar.update(fmt.Sprintf("epoch %d", epoch), frac, steps) },
					Epoch: func(e expt.ClassifyEpoch) {
						bar.restart()
						mu.Lock()
						defer mu.Unlock()
						writeJSONLine(metrics, e)
						fmt.Fprintf(stdout, "seed %d epoch %3d: train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  lr %.3g  %.1fs\n",
							seed, e.Epoch, e.TrainLoss, 100*e.TrainAcc, e.TestLoss, 100*e.TestAcc, e.LR, e.Seconds)
					},
				}
				results[i], errs[i] = expt.RunMNIST1D(ctx, cs, opts)
				if results[i] != nil && len(results[i].Epochs) > 0 {
					errs[i] = errors.Join(errs[i], expt.MNIST1DFigure(filepath.Join(dir, name), results[i]))
				}
			}()
		}
		wg.Wait()
		if err := writeMNIST1DTable(dir, variant, results, stdout); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(stdout, "wrote metrics, checkpoints, figures and the table to %s\n", dir)
		return errors.Join(errs...)
	}
}

func flagGiven(args []string, name string) bool {
	for _, a := range args {
		if a == "-"+name || a == "--"+name || strings.HasPrefix(a, "-"+name+"=") || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

// parseSeeds reads "1-10" or "1,4,7".
func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seed", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a seed range", part)
			}
		}
		for v := a; v <= b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

// writeMNIST1DTable writes table.md and table.csv: final test accuracy per
// seed, mean ± std, and the paper's number.
func writeMNIST1DTable(dir, variant string, results []*expt.MNIST1DResult, stdout io.Writer) error {
	var accs []float64
	var md, csv strings.Builder
	fmt.Fprintf(&md, "| seed | epochs | test accuracy (%%) |\n|---|---|---|\n")
	csv.WriteString("seed,epochs,test_acc\n")
	for _, r := range results {
		if r == nil || len(r.Epochs) == 0 {
			continue
		}
		last := r.Epochs[len(r.Epochs)-1]
		accs = append(accs, 100*last.TestAcc)
		fmt.Fprintf(&md, "| %d | %d | %.2f |\n", r.Config.Seed, last.Epoch, 100*last.TestAcc)
		fmt.Fprintf(&csv, "%d,%d,%.4f\n", r.Config.Seed, last.Epoch, 100*last.TestAcc)
	}
	if len(accs) == 0 {
		return nil
	}
	mean, std := meanStd(accs)
	if err := writeSummary(dir, map[string]any{"variant": variant, "test_acc_mean": mean, "test_acc_std": std, "seeds": len(accs),
		"paper_mean": expt.PaperAccuracy[variant][0], "paper_std": expt.PaperAccuracy[variant][1]}); err != nil {
		return err
	}
	paper := expt.PaperAccuracy[variant]
	fmt.Fprintf(&md, "\n**mnist1d-%s: %.2f ± %.2f %% over %d seeds** (paper: %.2f ± %.2f %%)\n", variant, mean, std, len(accs), paper[0], paper[1])
	fmt.Fprint(stdout, md.String())
	if err := os.WriteFile(filepath.Join(dir, "table.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "table.csv"), []byte(csv.String()), 0o644)
}

func meanStd(x []float64) (float64, float64) {
	var m float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	var s float64
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	if len(x) > 1 {
		s /= float64(len(x) - 1)
	}
	return m, math.Sqrt(s)
}
