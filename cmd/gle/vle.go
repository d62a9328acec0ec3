package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gle-go/gle/expt"
)

// runVLEAlign: `gle run vle-align` — alignment of the local rule with the
// exact gradient on a chain and a recurrent graph, against τm.
func runVLEAlign(ctx context.Context, args []string, stdout io.Writer) error {
	c := expt.DefaultVLEAlign()
	out, taus, networks := "", joinFloats(c.TauM), strings.Join(c.Networks, ",")
	if _, err := parseFlags("run vle-align", args, func(fs *flag.FlagSet) {
		fs.StringVar(&taus, "tau-m", taus, "comma-separated τm values (every population)")
		fs.Float64Var(&c.TauR, "tau-r", c.TauR, "τr of every neuron")
		fs.Float64Var(&c.Dt, "dt", c.Dt, "time step")
		fs.Float64Var(&c.Time, "time", c.Time, "simulated time")
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the weights")
		fs.StringVar(&networks, "networks", networks, "comma-separated networks: chain, recurrent, recurrent-weak (recurrent weights ×0.1)")
		fs.StringVar(&out, "out", "", "output folder (default runs/vle-align-<timestamp>)")
	}); err != nil {
		return err
	}
	c.TauM = c.TauM[:0]
	for _, f := range strings.Split(taus, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0) {
			return usagef("--tau-m: %q is not a positive number", f)
		}
		c.TauM = append(c.TauM, v)
	}
	c.Networks = strings.Split(networks, ",")
	rows, err := expt.RunVLEAlign(ctx, c)
	if err != nil {
		return err
	}
	dir, err := runDir(out, "vle-align")
	if err != nil {
		return err
	}
	if err := writeRunConfig(dir, c); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "vle-align.jsonl"), rows); err != nil {
		return err
	}
	if err := expt.VLEAlignFigure(filepath.Join(dir, "vle-align"), rows); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "local rule vs exact gradient (τr = %g, dt = %g, T = %g):\n", c.TauR, c.Dt, c.Time)
	fmt.Fprintf(stdout, "%-15s %5s %9s %-18s %9s %10s\n", "network", "τm", "loop gain", "parameter", "cosine", "norm ratio")
	for _, r := range rows {
		if r.Diverged {
			fmt.Fprintf(stdout, "%-15s %5g %9.3g %-18s %9s %10s\n", r.Network, r.TauM, r.LoopGain, "(all)", "diverged", "—")
			continue
		}
		fmt.Fprintf(stdout, "%-15s %5g %9.3g %-18s %9.4f %10.3g\n", r.Network, r.TauM, r.LoopGain, r.Alignment.Param, r.Alignment.Cosine, r.Alignment.NormRatio)
	}
	fmt.Fprintf(stdout, "wrote vle-align.jsonl and vle-align.png/.svg to %s\n", dir)
	return nil
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}
