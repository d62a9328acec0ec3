package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/plots"
)

// trainFigures draws a gle train run's figures into dir: loss.png/.svg,
// the mean loss per epoch (and the validation loss), and, when the run
// has targets of values, output.png/.svg, the outputs of the last pass
// against the targets over time for sample 0 (at most three outputs).
// outputs holds the steps of the last pass (steps × batch × outputs).
func trainFigures(dir string, records []trainRecord, outputs []float64, seq *data.Sequence, dt float64) error {
	if _, err := lossFigure(filepath.Join(dir, "loss"), records); err != nil {
		return err
	}
	if len(outputs) == 0 || seq.Targets[0].Values == nil {
		return nil
	}
	k := len(seq.Targets[0].Values) / seq.Batch
	steps := len(outputs) / (seq.Batch * k)
	targets := make([]float64, 0, len(outputs))
	for t := range steps {
		targets = append(targets, seq.Targets[t].Values...)
	}
	return outputFigure(filepath.Join(dir, "output"), outputs, targets, seq.Batch, k, dt)
}

// lossFigure draws the loss per epoch of records, if there is an epoch,
// and reports whether it drew.
func lossFigure(base string, records []trainRecord) (bool, error) {
	var ep, loss, vep, vloss []float64
	for _, r := range records {
		if r.Step != 0 {
			continue // the --log-every lines
		}
		ep, loss = append(ep, float64(r.Epoch)), append(loss, r.Loss)
		if r.ValLoss != nil {
			vep, vloss = append(vep, float64(r.Epoch)), append(vloss, *r.ValLoss)
		}
	}
	if len(ep) == 0 {
		return false, nil
	}
	p := plots.Panel{Title: "mean loss per step", XLabel: "epoch", XIntegers: true, YLabel: "loss", LogY: true,
		Series: []plots.Series{{Name: "training", X: ep, Y: loss, Color: 0}}}
	if vep != nil {
		p.Series = append(p.Series, plots.Series{Name: "validation", X: vep, Y: vloss, Color: 1})
	}
	return true, plots.Save(base, 1, 1, 7, 4, p)
}

func outputFigure(base string, outputs, targets []float64, batch, k int, dt float64) error {
	steps := len(outputs) / (batch * k)
	var panels []plots.Panel
	for o := range min(k, 3) {
		x, y, tg := make([]float64, steps), make([]float64, steps), make([]float64, steps)
		for t := range steps {
			x[t], y[t], tg[t] = float64(t)*dt, outputs[t*batch*k+o], targets[t*batch*k+o]
		}
		panels = append(panels, plots.Panel{Title: fmt.Sprintf("output %d, sample 0 (last pass)", o), XLabel: "time", YLabel: "value",
			Series: []plots.Series{{Name: "output", X: x, Y: y, Color: 0}, {Name: "target", X: x, Y: tg, Color: 6, Dashed: true}}})
	}
	return plots.Save(base, len(panels), 1, 9, 2.8*float64(len(panels)), panels...)
}

// plotTrainRun redraws the figures of a gle train run folder from its
// metrics.jsonl and out.npz (which holds the outputs and, for values
// targets, the targets); it reports how many it drew.
func plotTrainRun(dir string) (int, error) {
	fh, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return 0, nil
	}
	defer fh.Close()
	var records []trainRecord
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r trainRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return 0, fmt.Errorf("%s/metrics.jsonl: %w", dir, err)
		}
		records = append(records, r)
	}
	drawn := 0
	if ok, err := lossFigure(filepath.Join(dir, "loss"), records); err != nil {
		return 0, err
	} else if ok {
		drawn++
	}
	arrs, err := npy.ReadNPZ(filepath.Join(dir, "out.npz"), gle.MemoryLimit())
	if err != nil {
		return drawn, nil
	}
	out, tg := arrs["output"], arrs["target"]
	if out == nil || tg == nil || len(out.Shape) != 3 || out.Shape[0] == 0 || len(tg.Float) < len(out.Float) {
		return drawn, nil
	}
	dt := 1.0
	if d := arrs["dt"]; d != nil && len(d.Float) == 1 {
		dt = d.Float[0]
	}
	return drawn + 1, outputFigure(filepath.Join(dir, "output"), out.Float, tg.Float, out.Shape[1], out.Shape[2], dt)
}
