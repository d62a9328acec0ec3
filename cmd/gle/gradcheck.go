package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/trajectory"
)

// runGradcheck compares the exact BPTT gradient of a network (initial
// parameters, errors off) with finite differences: the network and data
// of a trajectory file, or of --spec and --data.
func runGradcheck(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	tol, steps := 1e-5, 0
	files, err := parseFlags("gradcheck", args, func(fs *flag.FlagSet) {
		f.define(fs)
		fs.Float64Var(&tol, "tol", tol, "largest relative error that passes")
		fs.IntVar(&steps, "steps", 0, "use only the first N steps (0: all)")
	})
	if err != nil {
		return err
	}
	if !(tol > 0) {
		return usagef("--tol = %g must be positive", tol)
	}
	if steps < 0 {
		return usagef("--steps = %d must be ≥ 0 (0: all)", steps)
	}
	var n *gle.Network
	var batch int
	var xs [][]float64
	var ts []gle.Target
	switch {
	case len(files) == 1 && f.spec == "" && f.data == "":
		tf, err := trajectory.Read(files[0])
		if err != nil {
			return err
		}
		if n, err = gle.NewNetwork(&tf.Spec); err != nil {
			return err
		}
		batch, xs, ts = tf.Batch(), tf.FlatInputs(), tf.Targets
	case len(files) == 0:
		spec, seq, err := f.load()
		if err != nil {
			return err
		}
		if n, err = gle.NewNetwork(spec); err != nil {
			return err
		}
		batch, xs, ts = seq.Batch, seq.Frames(0), seq.Targets
	default:
		return usagef("give one trajectory file, or --spec and --data")
	}
	if err := stepsFit(steps, len(xs)); err != nil {
		return err
	}
	if steps > 0 {
		xs, ts = xs[:steps], ts[:steps]
	}
	res, err := gradient.GradCheck(n, batch, xs, ts)
	if err != nil {
		return err
	}
	kinks := 0
	for _, r := range res {
		fmt.Fprintf(stdout, "%-28s %5d components  max rel err %.3g", r.Tensor, r.N, r.MaxRelErr)
		if r.Worst >= 0 {
			fmt.Fprintf(stdout, "  (at %d: exact %.10g, numeric %.10g)", r.Worst, r.Exact, r.Numeric)
		}
		if r.Kinks > 0 {
			fmt.Fprintf(stdout, "  %d at a kink", r.Kinks)
		}
		fmt.Fprintln(stdout)
		kinks += r.Kinks
	}
	m := gradient.MaxRelErr(res)
	fmt.Fprintf(stdout, "max relative error %.3g over %d steps", m, len(xs))
	if kinks > 0 {
		fmt.Fprintf(stdout, "; %d components left out: every perturbation tried moved a relu/hard_tanh/hard_sigmoid neuron across its kink, where the loss has no derivative", kinks)
	}
	fmt.Fprintln(stdout)
	if !(m <= tol) {
		return fmt.Errorf("max relative error %.3g exceeds %g", m, tol)
	}
	return ctx.Err()
}
