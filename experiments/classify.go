package experiments

import (
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

// ClassifierFigure draws the learning curves and the last confusion
// matrix of r (plots.Records) and saves base.png/.svg.
func ClassifierFigure(base, title string, r *ClassifyResult, paper float64, labels []string) error {
	return plots.Records(base, title, r.Records, r.Confusion, r.EvaluatedOn, paper, labels)
}
