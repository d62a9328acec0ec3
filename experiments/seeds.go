package experiments

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/runs"
)

// SeedOptions say where the runs of several seeds go: the folder Dir
// (created), Jobs seeds at a time, resumed from their checkpoints
// (SEED.ckpt) when Resume is set, each with the recorder Recorder
// returns for it (nil: none).
type SeedOptions struct {
	Dir      string
	Jobs     int
	Resume   bool
	Recorder func(seed uint64) fit.Recorder
}

// RunMNIST1DSeeds runs c for each seed (RunMNIST1D), draws each seed's
// learning curves (seedN.png) and writes the table of the final accuracy
// and loss (table.md, table.csv, summary.json: mean ± population std,
// sample std, range, the paper's number); it returns the results and the
// table's Markdown.
func RunMNIST1DSeeds(ctx context.Context, c MNIST1DConfig, seeds []uint64, o SeedOptions) ([]*MNIST1DResult, string, error) {
	results := make([]*MNIST1DResult, len(seeds))
	err := runs.FanOut(len(seeds), o.Jobs, func(i int) error {
		cs := c
		cs.Seed = seeds[i]
		name := fmt.Sprintf("seed%d", cs.Seed)
		var rec fit.Recorder
		if o.Recorder != nil {
			rec = o.Recorder(cs.Seed)
			if cl, ok := rec.(interface{ Close() error }); ok {
				defer cl.Close()
			}
		}
		r, err := RunMNIST1D(ctx, cs, RunOptions{Checkpoint: filepath.Join(o.Dir, name+".ckpt"), Resume: o.Resume, Recorder: rec})
		results[i] = r
		if r != nil && len(r.Epochs()) > 1 {
			err = errors.Join(err, MNIST1DFigure(filepath.Join(o.Dir, name), r))
		}
		return err
	})
	split := fit.Test
	if c.Validation > 0 {
		split = fit.Validation
	}
	table, terr := writeMNIST1DTable(o.Dir, c.Variant, split, results)
	return results, table, errors.Join(err, terr)
}

// writeMNIST1DTable writes table.md and table.csv: final accuracy and loss
// on the split evaluated (test or validation) per seed, mean ± population
// std (the paper's ±), the sample std, min–max, and the paper's number.
// The CSV columns and summary keys keep their names (test_acc, …) for
// either split; summary.json's "evaluated_on" says which it was.
func writeMNIST1DTable(dir, variant string, split fit.Split, results []*MNIST1DResult) (string, error) {
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
		return "", nil
	}
	a, l := Summarize(accs), Summarize(losses)
	paper := MNIST1DVariants[variant].Paper
	if err := runs.WriteSummary(dir, map[string]any{"variant": variant, "seeds": len(accs), "evaluated_on": split,
		"test_acc_mean": a.Mean, "test_acc_std": a.Std, "test_acc_sample_std": a.SampleStd, "test_acc_min": a.Min, "test_acc_max": a.Max,
		"test_loss_mean": l.Mean, "test_loss_std": l.Std, "test_loss_min": l.Min, "test_loss_max": l.Max,
		"paper_mean": paper[0], "paper_std": paper[1]}); err != nil {
		return "", err
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
	if err := atomicfile.Write(filepath.Join(dir, "table.md"), []byte(md.String())); err != nil {
		return "", err
	}
	return md.String(), atomicfile.Write(filepath.Join(dir, "table.csv"), []byte(csv.String()))
}
