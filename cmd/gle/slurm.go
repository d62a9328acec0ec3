package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gle-go/gle/internal/runs"
)

// runSlurm prints an sbatch script that runs one seed of an experiment per
// Slurm array task, all writing into one folder (each seed has its own
// metrics and checkpoint files there), to be merged by gle report.
func runSlurm(ctx context.Context, args []string, stdout io.Writer) error {
	seeds, out, timeLimit, mem := "1-10", "runs/sweep", "04:00:00", "2G"
	// Everything from "run" on is the experiment's command line.
	var rest []string
	for i, a := range args {
		if a == "run" {
			args, rest = args[:i], args[i:]
			break
		}
	}
	extra, err := parseFlags("slurm", args, func(fs *flag.FlagSet) {
		fs.StringVar(&seeds, "seeds", seeds, "seeds as a Slurm array range, e.g. 1-10 or 1,3,5")
		fs.StringVar(&out, "out", out, "results folder shared by the array tasks")
		fs.StringVar(&timeLimit, "time", timeLimit, "time limit per task (sbatch --time)")
		fs.StringVar(&mem, "mem", mem, "memory per task (sbatch --mem)")
	})
	if err != nil {
		return err
	}
	if len(extra) > 0 || len(rest) < 2 {
		return usagef("give the experiment after the flags: gle slurm --seeds 1-10 run mnist1d-e2e [flags]")
	}
	if _, err := runs.ParseSeeds(seeds); err != nil {
		return usagef("--seeds: %v", err)
	}
	fmt.Fprintf(stdout, `#!/bin/bash
#SBATCH --job-name=gle-%[1]s
#SBATCH --array=%[2]s
#SBATCH --cpus-per-task=1
#SBATCH --mem=%[3]s
#SBATCH --time=%[4]s
#SBATCH --output=%[5]s/slurm-%%A_%%a.out
# One seed per array task; --resume continues a task that was requeued or
# hit its time limit from its last checkpoint. Merge the results with
#   gle report %[5]s
set -euo pipefail
mkdir -p %[5]s
gle %[6]s --seed "$SLURM_ARRAY_TASK_ID" --out %[5]s --resume
`, rest[1], seeds, mem, timeLimit, out, strings.Join(rest, " "))
	return ctx.Err()
}
