package experiments

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/plots"
	"gopkg.in/yaml.v3"
)

// Report aggregates the runs of classifier folders (gle train, gle run
// mnist1d*, speech: JSON lines of fit records per seed) into a Markdown
// table — per folder the split evaluated, seeds, epochs, the final
// accuracy as mean ± population std (the paper's ±), sample std, range,
// the best epoch's, the final loss, the median seconds per epoch — and a
// panel of the curves (mean ± one std over seeds).
func Report(dirs []string) (string, plots.Panel, error) {
	var md strings.Builder
	md.WriteString("| run | evaluated on | seeds | epochs | final accuracy (%), mean ± population std | sample std | min–max | best (%) | final loss | s / epoch (median) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	panel := plots.Panel{Title: "accuracy, mean ± population std over seeds (dashed)", XLabel: "epoch", XIntegers: true, YLabel: "accuracy (%)", Legend: "bottom right"}
	for ri, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		sort.Strings(files)
		var finals, bests, losses, seconds []float64
		var curves [][]fit.Record
		epochs := math.MaxInt
		split := fit.Split("")
		for _, f := range files {
			eps, err := ReadEpochs(f)
			if err != nil {
				return "", plots.Panel{}, err
			}
			if len(eps) == 0 {
				continue
			}
			if split == "" {
				split = EvaluationOf(eps)
			}
			last, ok := eps[len(eps)-1].Of(split)
			if !ok {
				return "", plots.Panel{}, fmt.Errorf("%s: no %s metrics in its last epoch, as the folder's other runs have", f, split)
			}
			curves = append(curves, eps)
			finals = append(finals, 100*orNaN(last.Acc))
			losses = append(losses, last.Loss)
			best := math.NaN()
			for _, e := range eps {
				if m, ok := e.Of(split); ok && m.Acc != nil {
					best = max(orZero(best), 100**m.Acc)
				}
				if e.Epoch > 0 {
					seconds = append(seconds, e.Seconds)
				}
			}
			bests = append(bests, best)
			epochs = min(epochs, eps[len(eps)-1].Epoch)
		}
		if len(curves) == 0 {
			return "", plots.Panel{}, fmt.Errorf("%s: no per-epoch metrics (*.jsonl of gle train or gle run)", dir)
		}
		f, b, l := Summarize(finals), Summarize(bests), Summarize(losses)
		acc, sstd, rng, best := "—", "—", "—", "—"
		if !math.IsNaN(f.Mean) {
			acc, sstd, rng, best = fmt.Sprintf("%.2f ± %.2f", f.Mean, f.Std), fmt.Sprintf("%.2f", f.SampleStd), fmt.Sprintf("%.2f–%.2f", f.Min, f.Max), fmt.Sprintf("%.2f ± %.2f", b.Mean, b.Std)
		}
		fmt.Fprintf(&md, "| %s | %s | %d | %d | %s | %s | %s | %s | %.4g (%.4g–%.4g) | %.1f |\n",
			filepath.Base(dir), evaluatedOn(dir, split), len(curves), epochs, acc, sstd, rng, best, l.Mean, l.Min, l.Max, median(seconds))
		// The curves by epoch number (accuracy where measured, else loss).
		var x, y, lo, hi []float64
		for e := 0; e <= epochs; e++ {
			var vals []float64
			for _, c := range curves {
				if i := slices.IndexFunc(c, func(r fit.Record) bool { return r.Epoch == e }); i >= 0 {
					if m, ok := c[i].Of(split); ok {
						vals = append(vals, metricOf(m))
					}
				}
			}
			if len(vals) < len(curves) {
				continue
			}
			s := Summarize(vals)
			x, y, lo, hi = append(x, float64(e)), append(y, s.Mean), append(lo, s.Mean-s.Std), append(hi, s.Mean+s.Std)
		}
		if math.IsNaN(f.Mean) {
			panel.YLabel, panel.Title = "loss", "loss, mean ± population std over seeds (dashed)"
		}
		panel.Series = append(panel.Series, plots.Series{Name: filepath.Base(dir), X: x, Y: y, Color: ri})
		if len(curves) > 1 { // ± one standard deviation across seeds
			panel.Series = append(panel.Series, plots.Series{X: x, Y: lo, Color: ri, Dashed: true}, plots.Series{X: x, Y: hi, Color: ri, Dashed: true})
		}
	}
	return md.String(), panel, nil
}

// ReadEpochs reads the epoch records of one run's metrics (fit.Record
// lines: gle train, gle run mnist1d*, speech), leaving out the
// running-loss lines; other JSON-lines files (a LagLine run's) give nil.
func ReadEpochs(path string) ([]fit.Record, error) {
	rs, err := fit.ReadRecords(path)
	if errors.Is(err, fit.ErrNotRecords) {
		return nil, nil
	}
	var eps []fit.Record
	for _, r := range rs {
		if r.Step == 0 {
			eps = append(eps, r)
		}
	}
	return eps, err
}

// EvaluationOf returns the split a run's records were evaluated on: test
// when the last epoch has a test loss, else validation, else train.
func EvaluationOf(eps []fit.Record) fit.Split {
	last := eps[len(eps)-1]
	for _, sp := range []fit.Split{fit.Test, fit.Validation} {
		if _, ok := last.Of(sp); ok {
			return sp
		}
	}
	return fit.Train
}

// evaluatedOn tells what a run folder's runs were evaluated on: split,
// and for MNIST-1D runs with --validation (config.yaml) how many
// training samples were held out.
func evaluatedOn(dir string, split fit.Split) string {
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
	return string(split)
}

// runReport aggregates classifier runs (MNIST-1D, speech) into a Markdown
// table of final accuracy (on the test set, or the validation split the
// runs held out), mean ± std over the seeds of each run folder, and a
// figure of the accuracy over epochs.

// metricOf is what report draws of a split's metrics: the accuracy (%)
// where measured, else the loss.
func metricOf(m fit.Metrics) float64 {
	if m.Acc != nil {
		return 100 * *m.Acc
	}
	return m.Loss
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func orZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
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
