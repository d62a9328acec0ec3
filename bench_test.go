package gle_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/optim"
)

// BenchmarkTrainerStep times one learning dt step (GLE gradients + Adam)
// of a network with `depth` hidden tanh layers of `width` mixed neurons.
func BenchmarkTrainerStep(b *testing.B) {
	for _, c := range []struct{ in, width, depth, out, batch int }{
		{1, 8, 2, 1, 1},
		{1, 53, 6, 10, 100}, // the MNIST-1D E2E network (docs/model.md §9)
		{32, 256, 2, 12, 32},
	} {
		b.Run(fmt.Sprintf("in%d_%dx%d_out%d_batch%d", c.in, c.depth, c.width, c.out, c.batch), func(b *testing.B) {
			s := &gle.Spec{Dt: 0.2, Loss: gle.CE, Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: 1e-3}, Seed: 1}
			in := c.in
			for range c.depth {
				s.Layers = append(s.Layers, gle.LayerSpec{In: in, Out: c.width, Phi: gle.Tanh,
					TauM: gle.Taus{0.6, 1.2, 1.2}, TauR: gle.Taus{0.2, 0.2, 1.2}})
				s.Layers[len(s.Layers)-1].TauM = repeatTo(s.Layers[len(s.Layers)-1].TauM, c.width)
				s.Layers[len(s.Layers)-1].TauR = repeatTo(s.Layers[len(s.Layers)-1].TauR, c.width)
				in = c.width
			}
			s.Layers = append(s.Layers, gle.LayerSpec{In: in, Out: c.out, TauM: gle.Taus{1.2}, TauR: gle.Taus{1.2}})
			tr, err := gle.NewTrainerFromSpec[float64](s, c.batch)
			if err != nil {
				b.Fatal(err)
			}
			x := make([]float64, c.batch*c.in)
			y := make([]int, c.batch)
			for i := range x {
				x[i] = math.Sin(float64(i))
			}
			for i := range y {
				y[i] = i % c.out
			}
			out := make([]float64, c.batch*c.out)
			tr.Step(out, x, gle.Target{Classes: y})
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := tr.Step(out, x, gle.Target{Classes: y}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func repeatTo(t gle.Taus, n int) gle.Taus {
	out := make(gle.Taus, n)
	for i := range out {
		out[i] = t[i%len(t)]
	}
	return out
}
