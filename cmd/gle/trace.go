package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/plots"
)

// runTrace runs a network on data without learning and records, for one
// sample, the traces of chosen neurons (u, r, GLE's ê and, for networks
// without loops, the adjoint λ) and a heat map of every population's
// rates over time.
func runTrace(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	neurons, sample := "0,1,2", 0
	if err := parseNoArgs("trace", args, func(fs *flag.FlagSet) {
		f.define(fs)
		fs.StringVar(&f.out, "out", "", "output folder (default runs/trace-<timestamp>)")
		fs.StringVar(&neurons, "neurons", neurons, "neurons to trace in every layer")
		fs.IntVar(&sample, "sample", sample, "which sample of the batch")
	}); err != nil {
		return err
	}
	spec, seq, err := f.load()
	if err != nil {
		return err
	}
	if sample < 0 || sample >= seq.Batch {
		return usagef("--sample %d: the data has %d samples", sample, seq.Batch)
	}
	var which []int
	for _, s := range strings.Split(neurons, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 0 {
			return usagef("--neurons: %q is not a neuron index", s)
		}
		which = append(which, v)
	}
	net, err := gle.NewNetwork(spec)
	if err != nil {
		return err
	}
	largest := 0
	for _, p := range net.Pops {
		largest = max(largest, p.N)
	}
	for _, o := range which {
		if o >= largest {
			return usagef("--neurons: neuron %d does not exist (the largest population has %d neurons)", o, largest)
		}
	}
	eng, err := gle.NewEngine(net, seq.Batch)
	if err != nil {
		return err
	}
	dir, err := runs.Dir(f.out, "trace", f.force)
	if err != nil {
		return err
	}
	rec, err := gradient.Record(eng, seq.Frames(0), seq.Targets)
	if err != nil {
		return err
	}
	lambda, lerr := gradient.LambdaTrace(net, rec) // nil on a network with loops
	T := seq.Steps
	time := make([]float64, T)
	for t := range time {
		time[t] = float64(t) * net.Dt
	}
	var panels []plots.Panel
	arrs := []npy.Named{{Name: "time", Array: &npy.Array{Shape: []int{T}, Float: time}}}
	for q, p := range net.Pops {
		pick := func(x []float64, o int) []float64 {
			out := make([]float64, T)
			for t := range out {
				out[t] = x[(t*seq.Batch+sample)*p.N+o]
			}
			return out
		}
		for _, o := range which {
			if o >= p.N {
				continue
			}
			series := []plots.Series{{Name: "u", X: time, Y: pick(rec.U[q], o), Color: 0}, {Name: "r", X: time, Y: pick(rec.R[q], o), Color: 1},
				{Name: "ê (GLE)", X: time, Y: pick(rec.EHat[q], o), Color: 2}}
			if lambda != nil {
				series = append(series, plots.Series{Name: "λ (adjoint)", X: time, Y: pick(lambda[q], o), Color: 3, Dashed: true})
			}
			if q == net.Output && net.Loss == gle.MSE && !seq.Targets[0].None() {
				y := make([]float64, T)
				for t := range y {
					y[t] = seq.Targets[t].Values[sample*p.N+o]
				}
				series = append(series, plots.Series{Name: "target", X: time, Y: y, Color: 6, Dashed: true})
			}
			panels = append(panels, plots.Panel{Title: fmt.Sprintf("%s neuron %d", p.Name, o), XLabel: "time", Series: series})
		}
		// Heat map of the population's rates: neurons × time (≤ 300 columns).
		cols := min(T, 300)
		hm, at := make([][]float64, p.N), make([]float64, cols)
		for c := range cols {
			at[c] = time[c*T/cols]
		}
		for o := range hm {
			hm[o] = make([]float64, cols)
			for c := range cols {
				hm[o][c] = rec.R[q][((c*T/cols)*seq.Batch+sample)*p.N+o]
			}
		}
		panels = append(panels, plots.Panel{Title: fmt.Sprintf("%s rates r (neuron ↓; key: r)", p.Name), XLabel: "time", YLabel: "neuron",
			Matrix: hm, MatrixX: at, HideValues: true})
		named := map[string][]float64{"u": rec.U[q], "r": rec.R[q], "ehat": rec.EHat[q]}
		if lambda != nil {
			named["lambda"] = lambda[q]
		}
		for name, x := range named {
			arrs = append(arrs, npy.Named{Name: net.PopulationPrefix(q) + name, Array: &npy.Array{Shape: []int{T, seq.Batch, p.N}, Float: x}})
		}
	}
	if err := npy.WriteNPZ(filepath.Join(dir, "trace.npz"), arrs...); err != nil {
		return err
	}
	rows := (len(panels) + 1) / 2
	if err := plots.Save(filepath.Join(dir, "trace"), rows, 2, 12, 3*float64(rows), panels...); err != nil {
		return err
	}
	if lerr != nil {
		fmt.Fprintf(stdout, "no λ traces: %v\n", lerr)
	}
	what := "u, r, ê and λ"
	if lambda == nil {
		what = "u, r and ê"
	}
	fmt.Fprintf(stdout, "wrote trace.npz (%s of every population) and trace.png/.svg to %s\n", what, dir)
	return ctx.Err()
}
