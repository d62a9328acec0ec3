package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/bptt"
	"github.com/gle-go/gle/expt"
	"github.com/gle-go/gle/graph"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/plots"
)

// runAlign compares GLE's local updates with the exact BPTT gradient on a
// spec and a data file, window by window (graph specs: whole sequence).
func runAlign(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	window, steps := 100, 0
	if _, err := parseFlags("align", args, func(fs *flag.FlagSet) {
		f.define(fs)
		fs.IntVar(&window, "window", window, "steps per comparison window")
		fs.IntVar(&steps, "steps", 0, "use only the first N steps (0: all; memory grows with steps)")
	}); err != nil {
		return err
	}
	l, err := f.load()
	if err != nil {
		return err
	}
	if l.graphNet != nil {
		return alignGraph(ctx, &f, l, steps, stdout)
	}
	spec, seq := l.spec, l.seq
	net, err := gle.NewNetwork(spec)
	if err != nil {
		return err
	}
	xs := seq.Frames(steps)
	T := len(xs)
	rows, err := bptt.Align(net, seq.Batch, xs, seq.Targets[:T], window)
	if err != nil {
		return err
	}
	dir, err := runDir(f.out, "align")
	if err != nil {
		return err
	}
	if err := writeRunConfig(dir, map[string]any{"spec": spec, "data": f.data, "window": window, "steps": T}); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "alignment.jsonl"), rows); err != nil {
		return err
	}
	var panels []plots.Panel
	cos := plots.Panel{Title: "cosine(GLE, BPTT) per window, all parameters", XLabel: "window end (step)", YLabel: "cosine"}
	ratio := plots.Panel{Title: "norm ratio |GLE| / (c |BPTT|)", XLabel: "window end (step)", YLabel: "ratio", LogY: true}
	for li := range net.Layers {
		var x, yc, yr []float64
		for _, r := range rows {
			if r.Layer == li && r.Param == "all" && r.Window >= 0 {
				x, yc, yr = append(x, float64(r.End)), append(yc, r.Cosine), append(yr, r.NormRatio)
			}
		}
		name := fmt.Sprintf("layer %d", li)
		cos.Series = append(cos.Series, plots.Series{Name: name, X: x, Y: yc, Color: li})
		ratio.Series = append(ratio.Series, plots.Series{Name: name, X: x, Y: yr, Color: li})
	}
	panels = append(panels, cos, ratio)
	if err := plots.Save(filepath.Join(dir, "alignment"), 2, 1, 8, 7, panels...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%5s %-7s %10s %10s   (whole sequence, %d steps, windows of %d)\n", "layer", "param", "cosine", "ratio", T, window)
	for _, r := range rows {
		if r.Window == -1 {
			fmt.Fprintf(stdout, "%5d %-7s %10.4f %10.4g\n", r.Layer, r.Param, r.Cosine, r.NormRatio)
		}
	}
	fmt.Fprintf(stdout, "wrote alignment.jsonl and alignment.png/.svg to %s\n", dir)
	return ctx.Err()
}

// alignGraph is gle align for a graph spec: the local rule's updates summed
// over the whole sequence against the exact gradient, per projection and
// population (graph.Align; no windows).
func alignGraph(ctx context.Context, f *sessionFlags, l *loaded, steps int, stdout io.Writer) error {
	seq := l.seq
	xs := seq.Frames(steps)
	T := len(xs)
	rows, err := graph.Align(l.graphNet, seq.Batch, xs, seq.Targets[:T])
	if err != nil {
		return err
	}
	dir, err := runDir(f.out, "align")
	if err != nil {
		return err
	}
	if err := writeRunConfig(dir, map[string]any{"spec": l.graphSpec, "data": f.data, "steps": T}); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "alignment.jsonl"), rows); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-24s %10s %10s   (whole sequence, %d steps)\n", "parameter", "cosine", "ratio", T)
	exploding := false
	for _, r := range rows {
		fmt.Fprintf(stdout, "%-24s %10.4f %10.4g\n", r.Param, r.Cosine, r.NormRatio)
		exploding = exploding || r.NormRatio > 1e6
	}
	if exploding {
		fmt.Fprintln(stdout, "note: the real-time errors grow without bound on a loop of this network: its loop gain ρ(W)·τm/τr exceeds 1 (docs/vle.md §4; instant_errors: true on the loop's population bounds them)")
	}
	fmt.Fprintf(stdout, "wrote alignment.jsonl to %s\n", dir)
	return ctx.Err()
}

// writeJSONLine appends one JSON value and a newline to w.
func writeJSONLine(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	w.Write(append(b, '\n'))
}

// writeJSONL writes one JSON value per line.
func writeJSONL[T any](path string, rows []T) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(fh)
	enc := json.NewEncoder(bw)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			fh.Close()
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

func runLagNet(ctx context.Context, args []string, stdout io.Writer) error {
	c := expt.DefaultLagNet()
	out := ""
	if _, err := parseFlags("run lagnet", args, func(fs *flag.FlagSet) {
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the weights")
		fs.Float64Var(&c.Omega, "omega", c.Omega, "angular frequency of the input sine and target cosine")
		fs.Float64Var(&c.Time, "time", c.Time, "simulated time")
		fs.Float64Var(&c.TauM, "tau-m", c.TauM, "τm of every layer")
		fs.Float64Var(&c.TauR, "tau-r", c.TauR, "τr of every layer")
		fs.StringVar(&out, "out", "", "output folder (default runs/lagnet-<timestamp>)")
	}); err != nil {
		return err
	}
	res, err := expt.RunLagNet(ctx, c)
	if err != nil {
		return err
	}
	dir, err := runDir(out, "lagnet")
	if err != nil {
		return err
	}
	if err := writeRunConfig(dir, c); err != nil {
		return err
	}
	if err := writeSummary(dir, res.Neurons); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "lagnet.jsonl"), res.Neurons); err != nil {
		return err
	}
	if err := expt.LagNetFigure(filepath.Join(dir, "lagnet"), res); err != nil {
		return err
	}
	// The traces as arrays: time [T], ehat.L and lambda.L [T][neurons].
	arrs := []npy.Named{{Name: "time", Array: &npy.Array{Shape: []int{len(res.Time)}, Float: res.Time}}}
	for li := range res.EHat {
		width := len(res.EHat[li]) / len(res.Time)
		arrs = append(arrs,
			npy.Named{Name: fmt.Sprintf("ehat.%d", li), Array: &npy.Array{Shape: []int{len(res.Time), width}, Float: res.EHat[li]}},
			npy.Named{Name: fmt.Sprintf("lambda.%d", li), Array: &npy.Array{Shape: []int{len(res.Time), width}, Float: res.Lambda[li]}})
	}
	if err := npy.WriteNPZ(filepath.Join(dir, "lagnet.npz"), arrs...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "GLE errors ê against the adjoint λ at ω = %g (τm = %g, τr = %g):\n", c.Omega, c.TauM, c.TauR)
	fmt.Fprintf(stdout, "%5s %6s %14s %10s %14s\n", "layer", "neuron", "phase (rad)", "gain", "theory gain")
	for _, n := range res.Neurons {
		fmt.Fprintf(stdout, "%5d %6d %+14.4f %10.4g %14.4g\n", n.Layer, n.Neuron, n.Phase, n.Gain, n.PredictedGain)
	}
	fmt.Fprintf(stdout, "wrote lagnet.jsonl, lagnet.npz (traces of ê and λ) and lagnet.png/.svg to %s\n", dir)
	return nil
}
