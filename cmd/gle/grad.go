package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
)

// runGrad writes the gradient of the summed loss of a network on a data
// sequence (from rest, the initial parameters) by one method, per
// parameter tensor under the tensor's name.
func runGrad(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	method, steps := "bptt", 0
	if err := parseNoArgs("grad", args, func(fs *flag.FlagSet) {
		f.define(fs)
		fs.StringVar(&method, "method", method, "how: "+strings.Join(gradient.Methods, ", ")+" (gle: the local rule's updates summed over the run)")
		fs.IntVar(&steps, "steps", 0, "use only the first N steps (0: all)")
		fs.StringVar(&f.out, "out", "", "the gradients, one array per parameter tensor (.npz); required")
	}); err != nil {
		return err
	}
	if f.out == "" {
		return usagef("--out is required")
	}
	if steps < 0 {
		return usagef("--steps = %d must be ≥ 0 (0: all)", steps)
	}
	if err := gradient.CheckMethod(method); err != nil {
		return usagef("--method %q: want %s", method, strings.Join(gradient.Methods, ", "))
	}
	if err := runs.CheckOutputs(f.force, []string{f.spec, f.data}, f.out); err != nil {
		return err
	}
	spec, seq, err := f.load()
	if err != nil {
		return err
	}
	n, err := gle.NewNetwork(spec)
	if err != nil {
		return err
	}
	if err := stepsFit(steps, seq.Steps); err != nil {
		return err
	}
	xs := seq.Frames(steps)
	g, j, err := gradient.Gradient(n, method, seq.Batch, xs, seq.Targets[:len(xs)])
	if err != nil {
		return err
	}
	var arrs []npy.Named
	for _, t := range g.Tensors(n) {
		arrs = append(arrs, npy.Named{Name: t.Name, Array: &npy.Array{Shape: t.Shape, Float: t.Data}})
	}
	if err := npy.WriteNPZ(f.out, arrs...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s over %d steps × %d samples: objective %.6g; wrote %d tensors to %s\n", method, len(xs), seq.Batch, j, len(arrs), f.out)
	return ctx.Err()
}
