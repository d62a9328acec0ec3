package main

import (
	"gopkg.in/yaml.v3"

	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gle-go/gle/expt"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/plots"
)

// readEpochs reads the per-epoch metrics of one seed (a JSONL file of
// classifier epochs); other JSONL files give nil.
func readEpochs(path string) ([]expt.ClassifyEpoch, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var eps []expt.ClassifyEpoch
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var raw map[string]any
		if json.Unmarshal(sc.Bytes(), &raw) != nil {
			return nil, fmt.Errorf("%s: not JSON lines", path)
		}
		if _, ok := raw["test_acc"]; !ok {
			return nil, nil
		}
		var e expt.ClassifyEpoch
		json.Unmarshal(sc.Bytes(), &e)
		eps = append(eps, e)
	}
	return eps, sc.Err()
}

// evaluatedOn tells what a run folder's runs were evaluated on, from its
// config.yaml: "validation (N held-out training samples)" for runs with
// --validation, else "test".
func evaluatedOn(dir string) string {
	var cfg struct {
		Config struct {
			Experiment struct {
				Validation int `yaml:"Validation"`
			} `yaml:"experiment"`
		} `yaml:"config"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil && yaml.Unmarshal(b, &cfg) == nil && cfg.Config.Experiment.Validation > 0 {
		return fmt.Sprintf("validation (%d held-out training samples)", cfg.Config.Experiment.Validation)
	}
	return "test"
}

// runReport aggregates classifier runs (MNIST-1D, speech) into a Markdown
// table of final accuracy (on the test set, or the validation split the
// runs held out), mean ± std over the seeds of each run folder, and a
// figure of the accuracy over epochs.
func runReport(ctx context.Context, args []string, stdout io.Writer) error {
	out := ""
	dirs, err := parseFlags("report", args, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "also write report.md and report.png/.svg here")
	})
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usagef("name at least one run folder")
	}
	var md strings.Builder
	md.WriteString("| run | evaluated on | seeds | epochs | final accuracy (%), mean ± population std | sample std | min–max | best (%) | final loss | s / epoch (median) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	panel := plots.Panel{Title: "accuracy, mean ± population std over seeds (dashed)", XLabel: "epoch", XIntegers: true, YLabel: "accuracy (%)", Legend: "bottom right"}
	for ri, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		sort.Strings(files)
		var finals, bests, losses, seconds []float64
		var curves [][]expt.ClassifyEpoch
		epochs := math.MaxInt
		for _, f := range files {
			eps, err := readEpochs(f)
			if err != nil {
				return err
			}
			if len(eps) == 0 {
				continue
			}
			curves = append(curves, eps)
			finals = append(finals, 100*eps[len(eps)-1].TestAcc)
			losses = append(losses, eps[len(eps)-1].TestLoss)
			best := 0.0
			for _, e := range eps {
				best = math.Max(best, 100*e.TestAcc)
				if e.Epoch > 0 {
					seconds = append(seconds, e.Seconds)
				}
			}
			bests = append(bests, best)
			epochs = min(epochs, eps[len(eps)-1].Epoch)
		}
		if len(curves) == 0 {
			return fmt.Errorf("%s: no per-epoch metrics (*.jsonl with test_acc)", dir)
		}
		f, b, l := expt.Summarize(finals), expt.Summarize(bests), expt.Summarize(losses)
		fmt.Fprintf(&md, "| %s | %s | %d | %d | %.2f ± %.2f | %.2f | %.2f–%.2f | %.2f ± %.2f | %.4f (%.4f–%.4f) | %.1f |\n",
			filepath.Base(dir), evaluatedOn(dir), len(curves), epochs, f.Mean, f.Std, f.SampleStd, f.Min, f.Max, b.Mean, b.Std, l.Mean, l.Min, l.Max, median(seconds))
		// The curves by epoch number (runs before epoch-0 evaluations start
		// at epoch 1).
		var x, y, lo, hi []float64
		for e := 0; e <= epochs; e++ {
			var accs []float64
			for _, c := range curves {
				if i := slices.IndexFunc(c, func(r expt.ClassifyEpoch) bool { return r.Epoch == e }); i >= 0 {
					accs = append(accs, 100*c[i].TestAcc)
				}
			}
			if len(accs) < len(curves) {
				continue
			}
			s := expt.Summarize(accs)
			x, y, lo, hi = append(x, float64(e)), append(y, s.Mean), append(lo, s.Mean-s.Std), append(hi, s.Mean+s.Std)
		}
		panel.Series = append(panel.Series, plots.Series{Name: filepath.Base(dir), X: x, Y: y, Color: ri})
		if len(curves) > 1 { // ± one standard deviation across seeds
			panel.Series = append(panel.Series, plots.Series{X: x, Y: lo, Color: ri, Dashed: true}, plots.Series{X: x, Y: hi, Color: ri, Dashed: true})
		}
	}
	fmt.Fprint(stdout, md.String())
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(out, "report.md"), []byte(md.String())); err != nil {
			return err
		}
		if err := plots.Save(filepath.Join(out, "report"), 1, 1, 7, 4.5, panel); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote report.md and report.png/.svg to %s\n", out)
	}
	return ctx.Err()
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count); NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}
