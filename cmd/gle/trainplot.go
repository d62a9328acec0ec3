package main

import (
	"path/filepath"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/plots"
)

// plotTrainOutputs redraws output.png of a gle train run folder from its
// out.npz (which holds the outputs and, for targets of values, the
// targets); it reports whether it drew.
func plotTrainOutputs(dir string) (bool, error) {
	arrs, err := npy.ReadNPZ(filepath.Join(dir, "out.npz"), gle.MemoryLimit())
	if err != nil {
		return false, nil
	}
	out, tg := arrs["output"], arrs["target"]
	if out == nil || tg == nil || len(out.Shape) != 3 || out.Shape[0] == 0 || len(tg.Float) < len(out.Float) {
		return false, nil
	}
	dt := 1.0
	if d := arrs["dt"]; d != nil && len(d.Float) == 1 {
		dt = d.Float[0]
	}
	return true, plots.Outputs(filepath.Join(dir, "output"), out.Float, tg.Float, out.Shape[1], out.Shape[2], dt)
}
