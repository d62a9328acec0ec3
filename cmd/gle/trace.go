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
	"github.com/gle-go/gle/bptt"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/plots"
)

// runTrace runs a network on data without learning and records, for one
// sample, the traces of chosen neurons (u, r, GLE's ê and the adjoint λ)
// and a heat map of every layer's rates over time.
func runTrace(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	neurons, sample := "0,1,2", 0
	if _, err := parseFlags("trace", args, func(fs *flag.FlagSet) {
		f.define(fs)
		fs.StringVar(&neurons, "neurons", neurons, "neurons to trace in every layer")
		fs.IntVar(&sample, "sample", sample, "which sample of the batch")
	}); err != nil {
		return err
	}
	spec, seq, err := f.loadLayered("trace")
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
	eng, err := gle.NewEngine(net, seq.Batch)
	if err != nil {
		return err
	}
	xs := seq.Frames(0)
	rec, err := bptt.Record(eng, xs, seq.Targets)
	if err != nil {
		return err
	}
	lambda := bptt.Adjoint(net, rec)
	dir, err := runDir(f.out, "trace")
	if err != nil {
		return err
	}
	T := seq.Steps
	time := make([]float64, T)
	for t := range time {
		time[t] = float64(t) * net.Dt
	}
	var panels []plots.Panel
	arrs := []npy.Named{{Name: "time", Array: &npy.Array{Shape: []int{T}, Float: time}}}
	for li, l := range net.Layers {
		pick := func(x []float64, o int) []float64 {
			out := make([]float64, T)
			for t := range out {
				out[t] = x[(t*seq.Batch+sample)*l.Out+o]
			}
			return out
		}
		for _, o := range which {
			if o >= l.Out {
				continue
			}
			panels = append(panels, plots.Panel{Title: fmt.Sprintf("layer %d neuron %d", li, o), XLabel: "time",
				Series: []plots.Series{{Name: "u", X: time, Y: pick(rec.U[li], o), Color: 0}, {Name: "r", X: time, Y: pick(rec.R[li], o), Color: 1},
					{Name: "ê (GLE)", X: time, Y: pick(rec.EHat[li], o), Color: 2}, {Name: "λ (adjoint)", X: time, Y: pick(lambda[li], o), Color: 3, Dashed: true}}})
		}
		// Heat map of the layer's rates: neurons × time (≤ 300 columns).
		cols := min(T, 300)
		hm := make([][]float64, l.Out)
		for o := range hm {
			hm[o] = make([]float64, cols)
			for c := range cols {
				hm[o][c] = rec.R[li][((c*T/cols)*seq.Batch+sample)*l.Out+o]
			}
		}
		panels = append(panels, plots.Panel{Title: fmt.Sprintf("layer %d rates (neuron ↓, time →)", li), Matrix: hm, HideValues: true})
		for name, x := range map[string][]float64{"u": rec.U[li], "r": rec.R[li], "ehat": rec.EHat[li], "lambda": lambda[li]} {
			arrs = append(arrs, npy.Named{Name: fmt.Sprintf("layers.%d.%s", li, name), Array: &npy.Array{Shape: []int{T, seq.Batch, l.Out}, Float: x}})
		}
	}
	if err := npy.WriteNPZ(filepath.Join(dir, "trace.npz"), arrs...); err != nil {
		return err
	}
	rows := (len(panels) + 1) / 2
	if err := plots.Save(filepath.Join(dir, "trace"), rows, 2, 12, 3*float64(rows), panels...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote trace.npz (u, r, ê, λ of every layer) and trace.png/.svg to %s\n", dir)
	return ctx.Err()
}
