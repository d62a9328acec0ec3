package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/bptt"
	"github.com/gle-go/gle/trajectory"
)

// runGradcheck compares the exact BPTT gradient of a trajectory file's
// network (initial parameters, errors off) with finite differences.
func runGradcheck(ctx context.Context, args []string, stdout io.Writer) error {
	tol, steps := 1e-5, 0
	files, err := parseFlags("gradcheck", args, func(fs *flag.FlagSet) {
		fs.Float64Var(&tol, "tol", tol, "largest relative error that passes")
		fs.IntVar(&steps, "steps", 0, "use only the first N steps of the file (0: all)")
	})
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usagef("want exactly one trajectory file, have %d", len(files))
	}
	f, err := trajectory.Read(files[0])
	if err != nil {
		return err
	}
	n, err := gle.NewNetwork(&f.Spec)
	if err != nil {
		return err
	}
	xs, ts := f.FlatInputs(), f.Targets
	if steps > 0 && steps < len(xs) {
		xs, ts = xs[:steps], ts[:steps]
	}
	res, err := bptt.GradCheck(n, f.Batch(), xs, ts)
	if err != nil {
		return err
	}
	for _, r := range res {
		fmt.Fprintf(stdout, "%-18s %5d components  max rel err %.3g  (at %d: exact %.10g, numeric %.10g)\n",
			r.Group, r.N, r.MaxRelErr, r.Worst, r.Exact, r.Numeric)
	}
	m := bptt.MaxRelErr(res)
	fmt.Fprintf(stdout, "max relative error %.3g over %d steps\n", m, len(xs))
	if !(m <= tol) {
		return fmt.Errorf("max relative error %.3g exceeds %g", m, tol)
	}
	return ctx.Err()
}
