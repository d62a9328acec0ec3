package plots

import (
	"fmt"
	"math"
	"strings"

	"github.com/gle-go/gle/fit"
)

// Records draws a run's learning curves — the loss of every split and,
// where measured, the accuracy (epoch 0, the evaluation before training,
// has no training point) — and the last confusion matrix of the split
// evaluatedOn (rows and columns named by labels, if given), and saves
// base.png/.svg. paper, when positive, marks a published accuracy (%).
func Records(base, title string, records []fit.Record, confusion [][]int, evaluatedOn fit.Split, paper float64, labels []string) error {
	var accSeries, lossSeries []Series
	epochs := 0
	for i, sp := range []fit.Split{fit.Train, fit.Validation, fit.Test} {
		var ep, acc, loss, epA []float64
		for _, e := range records {
			m, ok := e.Of(sp)
			if !ok || e.Step != 0 {
				continue
			}
			epochs = max(epochs, e.Epoch)
			ep, loss = append(ep, float64(e.Epoch)), append(loss, m.Loss)
			if m.Acc != nil {
				epA, acc = append(epA, float64(e.Epoch)), append(acc, 100**m.Acc)
			}
		}
		if len(ep) > 0 {
			lossSeries = append(lossSeries, Series{Name: string(sp), X: ep, Y: loss, Color: i})
		}
		if len(epA) > 0 {
			accSeries = append(accSeries, Series{Name: string(sp), X: epA, Y: acc, Color: i})
		}
	}
	if len(lossSeries) == 0 {
		return fmt.Errorf("%s: no epoch to draw", base)
	}
	loss := Panel{Title: "loss (mean per step)", XLabel: "epoch", XIntegers: true, YLabel: "loss", Series: lossSeries}
	panels := []Panel{loss}
	if len(accSeries) > 0 {
		acc := Panel{Title: title + ": accuracy", XLabel: "epoch", XIntegers: true, YLabel: "accuracy (%)", Legend: "bottom right", Series: accSeries}
		if paper > 0 {
			acc.Series = append(acc.Series, Series{Name: "paper", X: []float64{1, math.Max(2, float64(epochs))}, Y: []float64{paper, paper}, Dashed: true, Color: 6})
		}
		panels = []Panel{acc, loss}
	} else {
		panels[0].Title = title + ": " + panels[0].Title
	}
	if len(confusion) > 0 {
		conf := make([][]float64, len(confusion))
		for i, row := range confusion {
			conf[i] = make([]float64, len(row))
			for j, v := range row {
				conf[i][j] = float64(v)
			}
		}
		cm := Panel{Title: fmt.Sprintf("confusion (last %s): true ↓, predicted →", evaluatedOn), Matrix: conf}
		if labels != nil {
			cm.MatrixLabels = make([]string, len(labels))
			for i, l := range labels {
				cm.MatrixLabels[i] = strings.Trim(l, "_") // _silence_ → silence
			}
		}
		panels = append(panels, cm)
	}
	return Save(base, 1, len(panels), 5*float64(len(panels)), 4.5, panels...)
}

// Outputs draws the outputs of a run against their targets over time
// for sample 0 (at most three outputs): outputs and targets are steps ×
// batch × k, dt the time step; saved as base.png/.svg.
func Outputs(base string, outputs, targets []float64, batch, k int, dt float64) error {
	steps := len(outputs) / (batch * k)
	var panels []Panel
	for o := range min(k, 3) {
		x, y, tg := make([]float64, steps), make([]float64, steps), make([]float64, steps)
		for t := range steps {
			x[t], y[t], tg[t] = float64(t)*dt, outputs[t*batch*k+o], targets[t*batch*k+o]
		}
		panels = append(panels, Panel{Title: fmt.Sprintf("output %d, sample 0 (last pass)", o), XLabel: "time", YLabel: "value",
			Series: []Series{{Name: "output", X: x, Y: y, Color: 0}, {Name: "target", X: x, Y: tg, Color: 6, Dashed: true}}})
	}
	return Save(base, len(panels), 1, 9, 2.8*float64(len(panels)), panels...)
}
