package data_test

import (
	"fmt"

	"github.com/gle-go/gle/data"
)

// Batches of samples of unequal length are padded at the end with zero
// frames; a sample's class label stays its target over the padding.
func ExampleBatch_Fill() {
	set := &data.Set{N: 3, Steps: 2, In: 1, X: []float64{1, 2, 3, 4, 5, 6}, Labels: []int{0, 1, 1}, Outputs: 2}
	plan, _ := data.Plan(set, data.InOrder, 2, 0, 1)
	var b data.Batch
	for _, idx := range plan {
		b.Fill(set, idx, nil, 2)
		for t := range b.Steps {
			fmt.Printf("samples %v, step %d: inputs %v, labels %v\n", idx, t, b.Frame(t), b.Targets[t].Classes)
		}
	}
	// Output:
	// samples [0 1], step 0: inputs [1 3], labels [0 1]
	// samples [0 1], step 1: inputs [2 4], labels [0 1]
	// samples [2], step 0: inputs [5], labels [1]
	// samples [2], step 1: inputs [6], labels [1]
}
