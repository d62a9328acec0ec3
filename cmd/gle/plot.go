package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/plots"
)

// runPlot regenerates a run folder's figures from its metrics: the loss
// and output figures of a gle train run (metrics.jsonl, out.npz),
// learning curves of classifier runs (SEED.jsonl) and the LagLine figure
// (lagline-VARIANT.jsonl).
func runPlot(ctx context.Context, args []string, stdout io.Writer) error {
	dirs, err := parseFlags("plot", args, func(fs *flag.FlagSet) {})
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usagef("name at least one run folder")
	}
	for _, dir := range dirs {
		n, err := plotDir(dir)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%s: nothing to plot (a gle train run with a finished epoch, SEED.jsonl of a classifier run, or lagline-*.jsonl)", dir)
		}
		fmt.Fprintf(stdout, "%s: drew %d figure(s)\n", dir, n)
	}
	return ctx.Err()
}

func plotDir(dir string) (int, error) {
	drawn := 0
	if ok, err := plotTrainOutputs(dir); err != nil { // a gle train run's outputs
		return drawn, err
	} else if ok {
		drawn++
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(files)
	var lag []*experiments.LagLineResult
	for _, f := range files {
		base := strings.TrimSuffix(f, ".jsonl")
		if strings.HasPrefix(filepath.Base(base), "lagline-") {
			r, err := readLagLine(f)
			if err != nil {
				return drawn, err
			}
			lag = append(lag, r)
			continue
		}
		eps, err := experiments.ReadEpochs(f)
		if err != nil {
			return drawn, err
		}
		if len(eps) == 0 {
			continue
		}
		title := filepath.Base(base)
		if title == "metrics" { // gle train's
			base, title = filepath.Join(dir, "curves"), "training"
		}
		if err := plots.Records(base, title, eps, nil, experiments.EvaluationOf(eps), 0, nil); err != nil {
			return drawn, err
		}
		drawn++
	}
	if len(lag) > 0 {
		if err := experiments.LagLineFigure(filepath.Join(dir, "lagline"), lag); err != nil {
			return drawn, err
		}
		drawn++
	}
	return drawn, nil
}

// readLagLine reads the records a LagLine run wrote as JSON lines.
func readLagLine(path string) (*experiments.LagLineResult, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r := &experiments.LagLineResult{Config: experiments.DefaultLagLine()}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var rec struct {
			Variant string `json:"variant"`
			experiments.LagLineRecord
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r.Config.Variant = rec.Variant
		r.Records = append(r.Records, rec.LagLineRecord)
	}
	if len(r.Records) == 0 {
		return nil, fmt.Errorf("%s: no records", path)
	}
	return r, sc.Err()
}
