package optim_test

import (
	"fmt"

	"github.com/gle-go/gle/optim"
)

// ReduceLROnPlateau halves the rate once the loss has not improved for
// more than Patience epochs, as PyTorch's does.
func ExamplePlateau() {
	adam := optim.NewAdam(1e-3)
	p, _ := optim.NewPlateau("min", 0.5, 1)
	for epoch, loss := range []float64{1.0, 0.9, 0.95, 0.93, 0.8, 0.85, 0.86} {
		p.EndEpoch(epoch+1, loss, adam)
		fmt.Printf("epoch %d: loss %.2f → lr %g\n", epoch+1, loss, adam.LR())
	}
	// Output:
	// epoch 1: loss 1.00 → lr 0.001
	// epoch 2: loss 0.90 → lr 0.001
	// epoch 3: loss 0.95 → lr 0.001
	// epoch 4: loss 0.93 → lr 0.0005
	// epoch 5: loss 0.80 → lr 0.0005
	// epoch 6: loss 0.85 → lr 0.0005
	// epoch 7: loss 0.86 → lr 0.00025
}

// A cosine schedule over 4 epochs from the optimizer's rate to 0.
func ExampleCosine() {
	sgd := &optim.SGD{Rate: 0.1}
	c, _ := optim.NewCosine(4, 0)
	for epoch := 1; epoch <= 4; epoch++ {
		c.EndEpoch(epoch, 0, sgd)
		fmt.Printf("after epoch %d: lr %.4f\n", epoch, sgd.LR())
	}
	// Output:
	// after epoch 1: lr 0.0854
	// after epoch 2: lr 0.0500
	// after epoch 3: lr 0.0146
	// after epoch 4: lr 0.0000
}
