package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/internal/runs"
)

// runVLEAlign: `gle run vle-align` — alignment of the local rule with the
// exact gradient on a chain and a recurrent graph, against τm.
func runVLEAlign(ctx context.Context, args []string, stdout io.Writer) error {
	c := experiments.DefaultVLEAlign()
	out, networks := "", strings.Join(c.Networks, ",")
	var force bool
	if err := parseNoArgs("run vle-align", args, func(fs *flag.FlagSet) {
		defineCommon(fs, &force)
		fs.Var(floatsFlag{&c.TauM, func(v float64) bool { return v > 0 }, "a positive number"}, "tau-m", "comma-separated τm values (every population)")
		fs.Float64Var(&c.TauR, "tau-r", c.TauR, "τr of every neuron")
		fs.Float64Var(&c.Dt, "dt", c.Dt, "time step")
		fs.Float64Var(&c.Time, "time", c.Time, "simulated time")
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the weights")
		fs.StringVar(&networks, "networks", networks, "comma-separated networks: chain, recurrent, recurrent-weak (recurrent weights ×0.1), recurrent-instant (instantaneous errors in the loop)")
		fs.StringVar(&out, "out", "", "output folder (default runs/vle-align-<timestamp>)")
	}); err != nil {
		return err
	}
	c.Networks = strings.Split(networks, ",")
	dir, err := runs.Dir(out, "vle-align", force)
	if err != nil {
		return err
	}
	rows, err := experiments.RunVLEAlign(ctx, c)
	if err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, c); err != nil {
		return err
	}
	if err := runs.WriteJSONL(filepath.Join(dir, "vle-align.jsonl"), rows); err != nil {
		return err
	}
	if err := experiments.VLEAlignFigure(filepath.Join(dir, "vle-align"), rows); err != nil {
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

// floatsFlag is a flag holding a comma-separated list of numbers, each
// accepted by ok (want says what ok wants).
// intsFlag reads a comma-separated list of positive integers.
type intsFlag struct{ dst *[]int }

func (f intsFlag) String() string {
	if f.dst == nil {
		return ""
	}
	s := make([]string, len(*f.dst))
	for i, x := range *f.dst {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func (f intsFlag) Set(list string) error {
	var v []int
	for _, part := range strings.Split(list, ",") {
		x, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || x <= 0 {
			return fmt.Errorf("%q is not a positive integer", part)
		}
		v = append(v, x)
	}
	*f.dst = v
	return nil
}

type floatsFlag struct {
	dst  *[]float64
	ok   func(float64) bool
	want string
}

func (f floatsFlag) String() string {
	if f.dst == nil {
		return ""
	}
	s := make([]string, len(*f.dst))
	for i, x := range *f.dst {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

func (f floatsFlag) Set(list string) error {
	var v []float64
	for _, part := range strings.Split(list, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !f.ok(x) {
			return fmt.Errorf("%q is not %s", part, f.want)
		}
		v = append(v, x)
	}
	*f.dst = v
	return nil
}

// runMemory: `gle run recurrent-memory` — delayed recall against the gap,
// for local learning on a recurrent graph, layered GLE and BPTT.
func runMemory(ctx context.Context, args []string, stdout io.Writer) error {
	c := experiments.DefaultMemory()
	out, variants := "", strings.Join(c.Variants, ",")
	var force bool
	if err := parseNoArgs("run recurrent-memory", args, func(fs *flag.FlagSet) {
		defineCommon(fs, &force)
		fs.Var(floatsFlag{&c.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "gaps", "comma-separated gap lengths (time units)")
		fs.StringVar(&variants, "variant", variants, "comma-separated variants: "+strings.Join(experiments.OnlineVariants, ", "))
		fs.Float64Var(&c.TauM, "tau-m", c.TauM, "τm (= τr) of every population")
		fs.IntVar(&c.Hidden, "hidden", c.Hidden, "neurons per hidden population")
		fs.IntVar(&c.Trials, "trials", c.Trials, "training trials (batches)")
		fs.IntVar(&c.Batch, "batch", c.Batch, "trials per batch")
		fs.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate of the local rules (a step per dt step)")
		fs.Float64Var(&c.BPTTLR, "bptt-lr", c.BPTTLR, "Adam learning rate of the BPTT variants (a step per trial or window)")
		fs.Float64Var(&c.OnlineLR, "online-lr", c.OnlineLR, "Adam learning rate of the forward-mode variants rtrl, snap2, snap1, eprop (a step per dt step)")
		fs.StringVar(&c.Task, "task", c.Task, "recall (one cue), sum (the number of A among two cues separated by the gap, less one) or xor (+1 when the two cues differ)")
		fs.Float64Var(&c.MaxLoopGain, "max-loop-gain", c.MaxLoopGain, "keep ρ(W_hh)·τm/τr at most this after every trial (0: off)")
		fs.Float64Var(&c.InitLoopGain, "init-loop-gain", c.InitLoopGain, "start the recurrent weights at this ρ(W_hh)·τm/τr (0: as drawn)")
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for weights and cues")
		fs.StringVar(&out, "out", "", "output folder (default runs/recurrent-memory-<timestamp>)")
	}); err != nil {
		return err
	}
	c.Variants = strings.Split(variants, ",")
	dir, err := runs.Dir(out, "recurrent-memory", force)
	if err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, c); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-12s %5s %9s %12s\n", "variant", "gap", "accuracy", "test loss")
	res, err := experiments.RunMemory(ctx, c, func(r experiments.MemoryResult) {
		fmt.Fprintf(stdout, "%-12s %5g %9.3f %12.4g\n", r.Variant, r.Gap, r.Accuracy, r.Loss)
	})
	if err != nil {
		return err
	}
	if err := runs.WriteJSONL(filepath.Join(dir, "recurrent-memory.jsonl"), res); err != nil {
		return err
	}
	if err := experiments.MemoryFigure(filepath.Join(dir, "recurrent-memory"), res, c.Variants); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote recurrent-memory.jsonl and recurrent-memory.png/.svg to %s\n", dir)
	return nil
}
