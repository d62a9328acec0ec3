package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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
	"listen-train":       runListenTrain,
	"listen-eval":        runListenEval,
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
	table, err := experiments.RunLagLineVariants(ctx, configs, jobs, dir)
	fmt.Fprint(stdout, table)
	fmt.Fprintf(stdout, "wrote config.yaml, metrics (JSONL, CSV), lagline.png/.svg and summary.json to %s\n", dir)
	return err
}
