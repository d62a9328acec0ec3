package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/internal/runs"
)

// onlineParts are the parts of `gle run online-rules`.
var onlineParts = []string{"cost", "recall", "sum"}

// runOnlineRules runs the comparison of docs/online.md: the cost sweep
// and the learning tables (every rule, every seed), resumable result by
// result.
func runOnlineRules(ctx context.Context, args []string, stdout io.Writer) error {
	c := experiments.DefaultOnlineRules()
	out, parts, seeds := "", strings.Join(onlineParts, ","), "1-5"
	variants := strings.Join(c.Recall.Variants, ",")
	var force, resume bool
	jobs, trials := 1, c.Recall.Trials
	if err := parseNoArgs("run online-rules", args, func(fs *flag.FlagSet) {
		defineCommon(fs, &force)
		fs.StringVar(&parts, "part", parts, "comma-separated parts: "+strings.Join(onlineParts, ", "))
		fs.StringVar(&seeds, "seeds", seeds, "seeds of the learning tables, e.g. 1-5")
		fs.StringVar(&variants, "variant", variants, "comma-separated variants: "+strings.Join(experiments.OnlineVariants, ", "))
		fs.Var(floatsFlag{&c.Recall.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "recall-gaps", "gaps of the recall task (time units)")
		fs.Var(floatsFlag{&c.Sum.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "sum-gaps", "gaps of the sum task (time units)")
		fs.IntVar(&trials, "trials", trials, "training trials (batches of 16) per run")
		fs.IntVar(&c.Recall.AlignEvery, "align-every", c.Recall.AlignEvery, "measure the gradient alignment every N trials (0: off)")
		fs.Var(intsFlag{&c.Cost.Sizes}, "sizes", "recurrent population sizes of the cost sweep")
		fs.Var(intsFlag{&c.Cost.Batches}, "batches", "batch sizes of the cost sweep")
		fs.DurationVar(&c.Cost.MinTime, "min-time", c.Cost.MinTime, "least time per cost measurement")
		fs.IntVar(&jobs, "jobs", jobs, "learning runs in parallel (the cost sweep always runs alone)")
		fs.StringVar(&out, "out", "", "output folder (default runs/online-rules-<timestamp>)")
		fs.BoolVar(&resume, "resume", false, "continue the run in --out: results already there are kept, the rest computed")
	}); err != nil {
		return err
	}
	var err error
	if c.Seeds, err = runs.ParseSeeds(seeds); err != nil {
		return usagef("--seeds %q: %v", seeds, err)
	}
	want := strings.Split(parts, ",")
	for _, p := range want {
		if !slices.Contains(onlineParts, p) {
			return usagef("--part %q: want %s", p, strings.Join(onlineParts, ", "))
		}
	}
	vs := strings.Split(variants, ",")
	for _, v := range vs {
		if !slices.Contains(experiments.OnlineVariants, v) {
			return usagef("--variant %q: want %s", v, strings.Join(experiments.OnlineVariants, ", "))
		}
	}
	if trials <= 0 || jobs <= 0 || c.Recall.AlignEvery < 0 {
		return usagef("--trials = %d and --jobs = %d must be positive, --align-every = %d ≥ 0", trials, jobs, c.Recall.AlignEvery)
	}
	c.Recall.Variants, c.Sum.Variants = vs, vs
	c.Recall.Trials, c.Sum.Trials = trials, trials
	c.Sum.AlignEvery = c.Recall.AlignEvery
	if resume && out == "" {
		return usagef("--resume needs --out, the folder of the run to continue")
	}
	dir, err := runs.Dir(out, "online-rules", force || resume)
	if err != nil {
		return err
	}
	id, err := runs.Identity(c)
	if err != nil {
		return err
	}
	if err := runs.KeepIdentity(dir, id, resume); err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, c); err != nil {
		return err
	}
	if err := experiments.RunOnlineRulesIn(ctx, c, want, jobs, dir, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the tables (online-rules.md), results (*.jsonl) and figures to %s\n", dir)
	return ctx.Err()
}
