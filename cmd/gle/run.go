package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/internal/runs"
)

// runners maps "gle run NAME" to its runner.
var runners = map[string]func(ctx context.Context, args []string, stdout io.Writer) error{
	"lagline":            runLagLine,
	"lagnet":             runLagNet,
	"mnist1d":            runMNIST1D(""),
	"mnist1d-e2e":        runMNIST1D("e2e"),
	"mnist1d-e2e-42k":    runMNIST1D("e2e-42k"),
	"mnist1d-lagnet":     runMNIST1D("lagnet"),
	"mnist1d-42k-lr1e-3": runMNIST1D("42k-lr1e-3"),
	"speech":             runSpeech,
	"vle-align":          runVLEAlign,
	"recurrent-memory":   runMemory,
	"online-rules":       runOnlineRules,
}

func runExperiment(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			_, err := parseFlags("run", args, func(*flag.FlagSet) {})
			return err
		}
		return usagef("name an experiment: %s", experimentNames())
	}
	run, ok := runners[args[0]]
	if !ok {
		return usagef("unknown experiment %q (want one of %s)", args[0], experimentNames())
	}
	return run(ctx, args[1:], stdout)
}

func experimentNames() string {
	var names []string
	for n := range runners {
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

func runLagLine(ctx context.Context, args []string, stdout io.Writer) error {
	c := experiments.DefaultLagLine()
	variants, out := "all", ""
	jobs := 2
	var force bool
	if err := parseNoArgs("run lagline", args, func(fs *flag.FlagSet) {
		defineCommon(fs, &force)
		fs.StringVar(&variants, "variant", variants, "comma-separated variants: gle, bp, bptt-twN (N time units), or all = "+strings.Join(experiments.LagLineVariants, ","))
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the student's initial parameters and the input phases")
		fs.Float64Var(&c.TrainTime, "time", c.TrainTime, "training time in time units (after the settling time)")
		fs.Float64Var(&c.LogEvery, "log-every", c.LogEvery, "time units between metric records")
		fs.IntVar(&jobs, "jobs", jobs, "variants run in parallel")
		fs.StringVar(&out, "out", "", "output folder (default runs/lagline-<timestamp>)")
	}); err != nil {
		return err
	}
	names := experiments.LagLineVariants
	if variants != "all" {
		names = strings.Split(variants, ",")
	}
	configs := make([]experiments.LagLineConfig, len(names))
	for i, v := range names {
		configs[i] = c
		configs[i].Variant = strings.TrimSpace(v)
		if err := configs[i].Validate(); err != nil {
			return usagef("%v", err)
		}
	}
	if jobs < 1 {
		return usagef("--jobs = %d must be ≥ 1", jobs)
	}
	dir, err := runs.Dir(out, "lagline", force)
	if err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, configs); err != nil {
		return err
	}
	results := make([]*experiments.LagLineResult, len(configs))
	errs := make([]error, len(configs))
	runs.FanOut(len(configs), jobs, func(i int) error {
		results[i], errs[i] = experiments.RunLagLine(ctx, configs[i], nil)
		return errs[i]
	})
	fmt.Fprintf(stdout, "%-10s %9s %9s %9s %9s %12s %9s %8s\n", "variant", "w1", "w2", "τm1", "τm2", "final loss", "max err", "seconds")
	var done []*experiments.LagLineResult
	for i, res := range results {
		if res == nil || len(res.Records) == 0 {
			continue
		}
		done = append(done, res)
		if err := writeLagLineFiles(dir, res); err != nil {
			errs[i] = errors.Join(errs[i], err)
		}
		f := res.Final()
		fmt.Fprintf(stdout, "%-10s %9.4f %9.4f %9.4f %9.4f %12.3g %9.3g %8.2f\n", res.Config.Variant, f.W[0], f.W[1], f.TauM[0], f.TauM[1],
			f.Loss, res.Config.ParamError(f), res.Elapsed.Seconds())
	}
	fmt.Fprintf(stdout, "%-10s %9.4f %9.4f %9.4f %9.4f\n", "teacher", c.TeacherW[0], c.TeacherW[1], c.TeacherTauM[0], c.TeacherTauM[1])
	if len(done) > 0 {
		if err := experiments.LagLineFigure(filepath.Join(dir, "lagline"), done); err != nil {
			return err
		}
	}
	summary := map[string]any{}
	for _, res := range done {
		f := res.Final()
		summary[res.Config.Variant] = map[string]any{"w": f.W, "tau_m": f.TauM, "loss": f.Loss,
			"max_rel_param_error": res.Config.ParamError(f), "seconds": res.Elapsed.Seconds()}
	}
	errs = append(errs, runs.WriteSummary(dir, summary))
	fmt.Fprintf(stdout, "wrote config.yaml, metrics (JSONL, CSV), lagline.png/.svg and summary.json to %s\n", dir)
	return errors.Join(errs...)
}

func writeLagLineFiles(dir string, res *experiments.LagLineResult) error {
	base := filepath.Join(dir, "lagline-"+res.Config.Variant)
	for ext, write := range map[string]func(io.Writer) error{".jsonl": res.WriteJSONL, ".csv": res.WriteCSV} {
		fh, err := os.Create(base + ext)
		if err != nil {
			return err
		}
		err = write(fh)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
