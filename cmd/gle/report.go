package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gle-go/gle/expt"
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

// runReport aggregates classifier runs (MNIST-1D, speech) into a Markdown
// table of final test accuracy, mean ± std over the seeds of each run
// folder, and a figure of the test accuracy over epochs.
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
	md.WriteString("| run | seeds | epochs | final test accuracy (%) | best (%) |\n|---|---|---|---|---|\n")
	panel := plots.Panel{Title: "test accuracy, mean ± std over seeds (dashed)", XLabel: "epoch", YLabel: "accuracy (%)", Legend: "bottom right"}
	for ri, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		sort.Strings(files)
		var finals, bests []float64
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
			best := 0.0
			for _, e := range eps {
				best = math.Max(best, 100*e.TestAcc)
			}
			bests = append(bests, best)
			epochs = min(epochs, len(eps))
		}
		if len(curves) == 0 {
			return fmt.Errorf("%s: no per-epoch metrics (*.jsonl with test_acc)", dir)
		}
		m, s := meanStd(finals)
		bm, bs := meanStd(bests)
		fmt.Fprintf(&md, "| %s | %d | %d | %.2f ± %.2f | %.2f ± %.2f |\n", filepath.Base(dir), len(curves), epochs, m, s, bm, bs)
		x, y, lo, hi := make([]float64, epochs), make([]float64, epochs), make([]float64, epochs), make([]float64, epochs)
		for e := range epochs {
			x[e] = float64(e + 1)
			accs := make([]float64, len(curves))
			for i, c := range curves {
				accs[i] = 100 * c[e].TestAcc
			}
			m, s := meanStd(accs)
			y[e], lo[e], hi[e] = m, m-s, m+s
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
		if err := os.WriteFile(filepath.Join(out, "report.md"), []byte(md.String()), 0o644); err != nil {
			return err
		}
		if err := plots.Save(filepath.Join(out, "report"), 1, 1, 7, 4.5, panel); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote report.md and report.png/.svg to %s\n", out)
	}
	return ctx.Err()
}
