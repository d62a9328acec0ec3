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
// metrics and checkpoint files there), to be merged by gle report. A task
// asks for --cpus-per-task cores and its run steps on all of them
// (GLE_THREADS from SLURM_CPUS_PER_TASK).
func runSlurm(ctx context.Context, args []string, stdout io.Writer) error {
	seeds, out, timeLimit, mem := "1-10", "runs/sweep", "04:00:00", "2G"
	cpus := 1
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
		fs.IntVar(&cpus, "cpus-per-task", cpus, "cores per task (sbatch --cpus-per-task); the run's step is split over all of them")
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
	if cpus < 1 {
		return usagef("--cpus-per-task = %d must be ≥ 1", cpus)
	}
	fmt.Fprintf(stdout, `#!/bin/bash
#SBATCH --job-name=gle-%[1]s
#SBATCH --array=%[2]s
#SBATCH --cpus-per-task=%[7]d
#SBATCH --mem=%[3]s
#SBATCH --time=%[4]s
#SBATCH --output=%[5]s/slurm-%%A_%%a.out
# One seed per array task, its steps split over the task's cores
# (results are identical for any number); --resume continues a task that
# was requeued or hit its time limit from its last checkpoint. Merge the
# results with
#   gle report %[5]s
set -euo pipefail
export GLE_THREADS="${SLURM_CPUS_PER_TASK:-%[7]d}"
mkdir -p %[5]s
gle %[6]s --seed "$SLURM_ARRAY_TASK_ID" --out %[5]s --resume
`, rest[1], seeds, mem, timeLimit, out, strings.Join(rest, " "), cpus)
	return ctx.Err()
}
