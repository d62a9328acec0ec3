package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/plots"
)

// runAlign compares two methods' gradients (by default GLE's local
// updates with the exact BPTT gradient) on a spec (either form) and a data
// file, window by window.
func runAlign(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	window, steps := 100, 0
	method, against := "gle", "bptt"
	methods := strings.Join(gradient.Methods, ", ")
	if err := parseNoArgs("align", args, func(fs *flag.FlagSet) {
		f.define(fs)
		fs.StringVar(&f.out, "out", "", "output folder (default runs/align-<timestamp>)")
		fs.IntVar(&window, "window", window, "steps per comparison window")
		fs.IntVar(&steps, "steps", 0, "use only the first N steps (0: all; memory grows with steps)")
		fs.StringVar(&method, "method", method, "the method compared: "+methods)
		fs.StringVar(&against, "against", against, "the method it is compared with: "+methods)
	}); err != nil {
		return err
	}
	for _, m := range [...]struct{ flag, v string }{{"--method", method}, {"--against", against}} {
		if err := gradient.CheckMethod(m.v); err != nil {
			return usagef("%s %q: want %s", m.flag, m.v, methods)
		}
	}
	if window <= 0 {
		return usagef("--window = %d must be positive", window)
	}
	if steps < 0 {
		return usagef("--steps = %d must be ≥ 0 (0: all)", steps)
	}
	spec, seq, err := f.load()
	if err != nil {
		return err
	}
	net, err := gle.NewNetwork(spec)
	if err != nil {
		return err
	}
	dir, err := runs.Dir(f.out, "align", f.force)
	if err != nil {
		return err
	}
	if err := stepsFit(steps, seq.Steps); err != nil {
		return err
	}
	xs := seq.Frames(steps)
	T := len(xs)
	rows, err := gradient.Compare(net, seq.Batch, xs, seq.Targets[:T], window, method, against)
	if err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, map[string]any{"spec": spec, "data": f.data, "window": window, "steps": T, "method": method, "against": against}); err != nil {
		return err
	}
	if err := runs.WriteJSONL(filepath.Join(dir, "alignment.jsonl"), rows); err != nil {
		return err
	}
	cos := plots.Panel{Title: fmt.Sprintf("cosine(%s, %s) per window", method, against), XLabel: fmt.Sprintf("window end (time, dt = %g)", net.Dt), YLabel: "cosine"}
	ratio := plots.Panel{Title: fmt.Sprintf("norm ratio |%s| / |%s| (exact units)", method, against), XLabel: fmt.Sprintf("window end (time, dt = %g)", net.Dt), YLabel: "ratio", LogY: true}
	var params []string
	for _, r := range rows {
		if r.Window == 0 && (r.Param == "all" || strings.HasSuffix(r.Param, "weight")) {
			params = append(params, r.Param)
		}
	}
	for i, p := range params {
		var x, yc, yr []float64
		for _, r := range rows {
			if r.Param == p && r.Window >= 0 {
				x, yc, yr = append(x, float64(r.End)*net.Dt), append(yc, r.Cosine), append(yr, r.NormRatio)
			}
		}
		cos.Series = append(cos.Series, plots.Series{Name: p, X: x, Y: yc, Color: i})
		ratio.Series = append(ratio.Series, plots.Series{Name: p, X: x, Y: yr, Color: i})
	}
	if err := plots.Save(filepath.Join(dir, "alignment"), 2, 1, 9, 7, cos, ratio); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s against %s\n%-28s %10s %10s   (whole sequence, %d steps, windows of %d)\n", method, against, "tensor", "cosine", "ratio", T, window)
	exploding := false
	for _, r := range rows {
		if r.Window == -1 {
			fmt.Fprintf(stdout, "%-28s %10.4f %10.4g\n", r.Param, r.Cosine, r.NormRatio)
			exploding = exploding || r.NormRatio > 1e6
		}
	}
	if exploding {
		fmt.Fprintln(stdout, "note: the real-time errors grow without bound on a loop of this network: its loop gain ρ(W)·τm/τr exceeds 1 (docs/vle.md §4; instant_errors: true on the loop's population bounds them)")
	}
	fmt.Fprintf(stdout, "wrote alignment.jsonl and alignment.png/.svg to %s\n", dir)
	return ctx.Err()
}
