package expt

import (
	"fmt"
	"math"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/plots"
)

// RunOptions are what a front door hands an experiment that trains by
// epochs: where its checkpoint goes, whether to resume from it, and the
// recorder that sees its records (package fit).
type RunOptions struct {
	Checkpoint string
	Resume     bool
	Recorder   fit.Recorder
}

// ClassifyResult is a finished or stopped classifier run.
type ClassifyResult struct {
	Records   []fit.Record
	Confusion [][]int // the last evaluation on EvaluatedOn: [true][predicted]
	// EvaluatedOn is the split evaluated after every epoch: test, or
	// validation.
	EvaluatedOn fit.Split
	Params      int
}

// Epochs returns the epoch records (not the running-loss ones).
func (r *ClassifyResult) Epochs() []fit.Record {
	var out []fit.Record
	for _, e := range r.Records {
		if e.Step == 0 {
			out = append(out, e)
		}
	}
	return out
}

// classifyResult gathers what a fit run returned.
func classifyResult(res *fit.Result, on fit.Split, params int) *ClassifyResult {
	if res == nil {
		return nil
	}
	return &ClassifyResult{Records: res.Records, Confusion: res.Confusion[on], EvaluatedOn: on, Params: params}
}

// predict runs sample i of src from the engine's current state (batch
// 1) and returns the class with the largest summed output and the sums.
func predict[T gle.Float](e *gle.EngineOf[T], src data.Source, i int) (int, []float64, error) {
	if err := e.SetBatch(1); err != nil {
		return 0, nil, err
	}
	var s data.Sample
	s.Label = -1
	if err := src.Sample(&s, i, nil); err != nil {
		return 0, nil, err
	}
	k, F := e.Net.Outputs(), src.Features()
	out := make([]float64, k)
	sum := make([]float64, k)
	for t := range s.Steps {
		if err := e.Step(out, s.X[t*F:(t+1)*F], gle.Target{}); err != nil {
			return 0, nil, err
		}
		for j, v := range out {
			sum[j] += v
		}
	}
	best := 0
	for j, v := range sum {
		if v > sum[best] {
			best = j
		}
	}
	return best, sum, nil
}

// ClassifierFigure draws the learning curves (loss and, where measured,
// accuracy of every split; epoch 0, the evaluation before training, has
// no training point) and the last confusion matrix (rows and columns
// named by labels, if given) and saves base.png/.svg; paper, when
// positive, marks the published accuracy (%).
func ClassifierFigure(base, title string, r *ClassifyResult, paper float64, labels []string) error {
	var accSeries, lossSeries []plots.Series
	for i, sp := range []fit.Split{fit.Train, fit.Validation, fit.Test} {
		var ep, acc, loss, epA []float64
		for _, e := range r.Epochs() {
			m, ok := e.Of(sp)
			if !ok {
				continue
			}
			ep, loss = append(ep, float64(e.Epoch)), append(loss, m.Loss)
			if m.Acc != nil {
				epA, acc = append(epA, float64(e.Epoch)), append(acc, 100**m.Acc)
			}
		}
		if len(ep) > 0 {
			lossSeries = append(lossSeries, plots.Series{Name: string(sp), X: ep, Y: loss, Color: i})
		}
		if len(epA) > 0 {
			accSeries = append(accSeries, plots.Series{Name: string(sp), X: epA, Y: acc, Color: i})
		}
	}
	n := len(r.Epochs())
	loss := plots.Panel{Title: "loss (cross-entropy per step)", XLabel: "epoch", XIntegers: true, YLabel: "loss", Series: lossSeries}
	panels := []plots.Panel{loss}
	if len(accSeries) > 0 {
		acc := plots.Panel{Title: title + ": accuracy", XLabel: "epoch", XIntegers: true, YLabel: "accuracy (%)", Legend: "bottom right", Series: accSeries}
		if paper > 0 {
			acc.Series = append(acc.Series, plots.Series{Name: "paper", X: []float64{1, math.Max(2, float64(n))}, Y: []float64{paper, paper}, Dashed: true, Color: 6})
		}
		panels = []plots.Panel{acc, loss}
	} else {
		panels[0].Title = title + ": " + panels[0].Title
	}
	if len(r.Confusion) > 0 {
		conf := make([][]float64, len(r.Confusion))
		for i, row := range r.Confusion {
			conf[i] = make([]float64, len(row))
			for j, v := range row {
				conf[i][j] = float64(v)
			}
		}
		cm := plots.Panel{Title: fmt.Sprintf("confusion (last %s): true ↓, predicted →", r.EvaluatedOn), Matrix: conf}
		if labels != nil {
			cm.MatrixLabels = make([]string, len(labels))
			for i, l := range labels {
				cm.MatrixLabels[i] = strings.Trim(l, "_") // _silence_ → silence
			}
		}
		panels = append(panels, cm)
	}
	return plots.Save(base, 1, len(panels), 5*float64(len(panels)), 4.5, panels...)
}
