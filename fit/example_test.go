package fit_test

import (
	"context"
	"fmt"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/optim"
)

// printer is a fit.Recorder that prints every epoch.
type printer struct{}

func (printer) Start([]fit.Record) error { return nil }
func (printer) Record(r fit.Record) error {
	fmt.Printf("epoch %d: train accuracy %.2f, test accuracy %.2f\n", r.Epoch, *r.TrainAcc, *r.TestAcc)
	return nil
}

// A GLE network learns to tell positive from negative inputs, trained
// by the run driver: shuffled batches, the state carried over, the test set
// evaluated after every epoch and feeding a plateau schedule.
func ExampleRun() {
	spec, _ := gle.DecodeSpec([]byte(`{"dt": 0.1, "loss": "ce", "seed": 3, "optimizer": {"kind": "adam", "lr": 0.01},
		"layers": [{"in": 1, "out": 8, "phi": "tanh", "tau_m": 0.5, "tau_r": 0.1}, {"in": 8, "out": 2, "tau_m": 0.3, "tau_r": 0.3}]}`))
	set := func(n int) *data.Set { // sample i is positive (class 1) or negative (class 0) for 20 steps
		s := &data.Set{N: n, Steps: 20, In: 1, X: make([]float64, n*20), Labels: make([]int, n), Outputs: 2}
		for i := range n {
			s.Labels[i] = i % 2
			for t := range 20 {
				s.X[i*20+t] = float64(2*(i%2)-1) * (0.2 + 0.1*float64(i%5)) * (1 + 0.05*float64(t%3))
			}
		}
		return s
	}
	l, _ := gle.NewLearner(spec, 8, false)
	plateau, _ := optim.NewPlateau("min", 0.5, 2)
	_, err := fit.Run(context.Background(), l, fit.Sources{Train: set(32), Test: set(10)},
		fit.Settings{Epochs: 4, Batch: 8, Seed: 1, EachEpoch: []fit.Split{fit.Test}, Schedule: plateau, ScheduleOn: fit.Test}, printer{})
	fmt.Println(err)
	// Output:
	// epoch 1: train accuracy 0.91, test accuracy 1.00
	// epoch 2: train accuracy 0.94, test accuracy 1.00
	// epoch 3: train accuracy 0.97, test accuracy 1.00
	// epoch 4: train accuracy 0.97, test accuracy 1.00
	// <nil>
}
