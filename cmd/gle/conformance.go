package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gle-go/gle/trajectory"
)

// runConformance replays each trajectory file through the public API and
// checks every recorded variable against its own scale: per file a status
// line, then one line per variable (its scale, its error, its tolerance).
func runConformance(ctx context.Context, args []string, stdout io.Writer) error {
	tol := trajectory.Float64Tolerance
	f32 := false
	var flags *flag.FlagSet
	files, err := parseFlags("conformance", args, func(fs *flag.FlagSet) {
		flags = fs
		f32tol := trajectory.Float32Tolerance
		fs.Float64Var(&tol, "tol", tol, fmt.Sprintf("largest error of a variable, max|a−b| over its values divided by its scale, the largest |b| in the file "+
			"(every variable: the outputs, each layer's weight, bias, tau_m, u, v, r, r_prime, e_bottom); "+
			"with --float32 the default is per kind: %g outputs, u, r, r_prime; %g weight, bias; %g tau_m; %g v, e_bottom",
			f32tol("output"), f32tol("weight"), f32tol("tau_m"), f32tol("v")))
		fs.BoolVar(&f32, "float32", false, "replay on the float32 engine")
		defineThreads(fs)
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no trajectory files given")
	}
	limit := func(string) float64 { return tol }
	tolName := fmt.Sprintf("%g", tol)
	if f32 && !flagSet(flags, "tol") {
		limit, tolName = trajectory.Float32Tolerance, "the float32 tolerances"
	}
	failed := 0
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep, err := trajectory.Check(path, f32)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", path, err)
			failed++
			continue
		}
		bad := rep.Failures(limit)
		status := "ok  "
		if len(bad) > 0 {
			status = "FAIL"
			failed++
		}
		w := rep.Worst(limit)
		fmt.Fprintf(stdout, "%s %s: %d variables, %d above tolerance; worst %s: %.3g of its scale %.3g (tolerance %g)\n",
			status, path, len(rep.Vars), len(bad), w.Name, w.Err, w.Scale, limit(w.Kind))
		for _, v := range rep.Vars {
			mark := ""
			if !(v.Err <= limit(v.Kind)) {
				mark = "  FAIL"
			}
			fmt.Fprintf(stdout, "    %-20s scale %-9.3g error %-9.3g tolerance %g%s\n", v.Name, v.Scale, v.Err, limit(v.Kind), mark)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed (tolerance %s)", failed, len(files), tolName)
	}
	return nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}
