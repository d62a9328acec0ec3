package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gle-go/gle/experiments"
)

// runDemo trains the LagLine student chain (paper Fig. 5) for a shortened
// time and prints its weights and time constants against the teacher's.
func runDemo(ctx context.Context, args []string, stdout io.Writer) error {
	c := experiments.DefaultLagLine()
	c.TrainTime = 800
	if err := parseNoArgs("demo", args, func(fs *flag.FlagSet) {
		fs.Float64Var(&c.TrainTime, "time", c.TrainTime, "training time in time units (the paper trains 4000)")
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the student's initial parameters and the input phases")
	}); err != nil {
		return err
	}
	if !(c.TrainTime > 0) || c.TrainTime > 1e6 {
		return usagef("--time = %g: want a positive number of time units (at most 1e6)", c.TrainTime)
	}
	c.LogEvery = c.TrainTime / 10
	fmt.Fprintf(stdout, "GLE demo: a chain of two softplus neurons (1→1→1) learns the weights w and\n"+
		"membrane time constants τm of a teacher chain from the teacher's output alone,\n"+
		"with local, real-time prospective errors (LagLine, GLE paper Fig. 5).\n"+
		"dt = %g, batch %d, %g time units of settling, then %g of learning.\n\n", c.Dt, c.Batch, c.SettleTime, c.TrainTime)
	fmt.Fprintf(stdout, "%8s  %12s  %8s %8s  %8s %8s\n", "time", "loss", "w1", "w2", "τm1", "τm2")
	show := func(r experiments.LagLineRecord) {
		fmt.Fprintf(stdout, "%8.0f  %12.4g  %8.4f %8.4f  %8.4f %8.4f\n", r.Time, r.Loss, r.W[0], r.W[1], r.TauM[0], r.TauM[1])
	}
	res, err := experiments.RunLagLine(ctx, c, show)
	if err != nil {
		return err
	}
	f := res.Final()
	fmt.Fprintf(stdout, "\n%8s  %12s  %8.4f %8.4f  %8.4f %8.4f\n", "teacher", "", c.TeacherW[0], c.TeacherW[1], c.TeacherTauM[0], c.TeacherTauM[1])
	fmt.Fprintf(stdout, "\nlargest relative parameter error: %.2g; %d steps in %.2fs (%.1f µs/step)\n",
		c.ParamError(f), res.Steps, res.Elapsed.Seconds(), res.Elapsed.Seconds()/float64(res.Steps)*1e6)
	return nil
}
