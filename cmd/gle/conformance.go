package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gle-go/gle/trajectory"
)

// runConformance replays each trajectory file through the public API and
// prints one line per file with the largest relative errors.
func runConformance(ctx context.Context, args []string, stdout io.Writer) error {
	tol := 1e-9
	f32 := false
	files, err := parseFlags("conformance", args, func(fs *flag.FlagSet) {
		fs.Float64Var(&tol, "tol", tol, "largest relative error max|a−b|/max(1,|b|) that passes (with --float32 the tolerances are 1e-5 for outputs and parameters, 1e-3 for the state)")
		fs.BoolVar(&f32, "float32", false, "replay on the float32 engine")
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("no trajectory files given")
	}
	failed := 0
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep, err := checkTrajectory(path, f32)
		if err != nil {
			fmt.Fprintf(stdout, "FAIL %s: %v\n", path, err)
			failed++
			continue
		}
		status := "ok  "
		if ok := rep.Max() <= tol; f32 {
			ok = rep.Output <= 1e-5 && rep.Params <= 1e-5 && rep.State <= 1e-3
			if !ok {
				status = "FAIL"
				failed++
			}
		} else if !ok {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(stdout, "%s %s: output %.3g, params %.3g, state %.3g (worst: %s)\n",
			status, path, rep.Output, rep.Params, rep.State, worstAt(rep))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed (tolerance %g)", failed, len(files), tol)
	}
	return nil
}

func checkTrajectory(path string, f32 bool) (trajectory.Report, error) {
	f, err := trajectory.Read(path)
	if err != nil {
		return trajectory.Report{}, err
	}
	if f.Expected == nil {
		return trajectory.Report{}, fmt.Errorf("no \"expected\" field: nothing to check")
	}
	replay := f.Replay
	if f32 {
		replay = f.ReplayFloat32
	}
	res, err := replay()
	if err != nil {
		return trajectory.Report{}, err
	}
	return f.Compare(res)
}

func worstAt(r trajectory.Report) string {
	switch r.Max() {
	case r.Output:
		return r.OutputAt
	case r.Params:
		return r.ParamsAt
	}
	return r.StateAt
}
