package optim

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// SGD is plain gradient descent: p ← p − lr g.
type SGD struct {
	Rate float64
}

// Step implements gle.Optimizer.
func (o *SGD) Step(params, grads [][]float64) {
	for k, p := range params {
		g := grads[k][:len(p)]
		for i := range p {
			p[i] -= o.Rate * g[i]
		}
	}
}

// LR returns the learning rate.
func (o *SGD) LR() float64 { return o.Rate }

// SetLR sets the learning rate.
func (o *SGD) SetLR(lr float64) { o.Rate = lr }

// Adam is torch.optim.Adam without weight decay or amsgrad:
//
//	m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
//	p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
//
// which is lr m̂ / (√v̂ + ε), evaluated in PyTorch's order of operations.
type Adam struct {
	Rate, Beta1, Beta2, Eps float64

	T    int         // steps taken
	M, V [][]float64 // first and second moments, aligned with the params
}

// NewAdam returns Adam with PyTorch's defaults β = (0.9, 0.999), ε = 1e-8.
func NewAdam(lr float64) *Adam {
	return &Adam{Rate: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Step implements gle.Optimizer. The moments are allocated on the first
// call; later calls allocate nothing.
func (o *Adam) Step(params, grads [][]float64) {
	if o.M == nil {
		o.M, o.V = make([][]float64, len(params)), make([][]float64, len(params))
		for k, p := range params {
			o.M[k], o.V[k] = make([]float64, len(p)), make([]float64, len(p))
		}
	}
	o.T++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.T))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.T))
	c := kernel.AdamParams{Beta1: o.Beta1, Beta2: o.Beta2, StepSize: o.Rate / bc1, SqrtBC2: math.Sqrt(bc2), Eps: o.Eps}
	for k, p := range params {
		kernel.Adam(p, grads[k], o.M[k], o.V[k], c)
	}
}

// LR returns the learning rate.
func (o *Adam) LR() float64 { return o.Rate }

// SetLR sets the learning rate.
func (o *Adam) SetLR(lr float64) { o.Rate = lr }

// New returns the optimizer a spec asks for.
func New(s gle.OptimizerSpec) (gle.Optimizer, error) {
	switch s.Kind {
	case "", "sgd":
		return &SGD{Rate: s.LR}, nil
	case "adam":
		a := NewAdam(s.LR)
		if s.Betas != nil {
			if len(s.Betas) != 2 {
				return nil, fmt.Errorf("%w: optimizer.betas has %d values, want 2", gle.ErrShape, len(s.Betas))
			}
			a.Beta1, a.Beta2 = s.Betas[0], s.Betas[1]
		}
		if s.Eps != nil {
			a.Eps = *s.Eps
		}
		return a, nil
	}
	return nil, fmt.Errorf("%w: optimizer.kind %q (want sgd or adam)", gle.ErrUnknownName, s.Kind)
}

// NewTrainer builds the network, optimizer and trainer that a spec
// declares (optimizer, τm clamp, first learning step) for the given batch
// size.
func NewTrainer(s *gle.Spec, batch int) (*gle.Trainer, error) { return NewTrainerOf[float64](s, batch) }

// NewTrainerOf is NewTrainer for an engine in T (gle.Trainer32 for
// float32).
func NewTrainerOf[T gle.Float](s *gle.Spec, batch int) (*gle.TrainerOf[T], error) {
	net, err := gle.NewNetwork(s)
	if err != nil {
		return nil, err
	}
	opt, err := New(s.Optimizer)
	if err != nil {
		return nil, err
	}
	tr, err := gle.NewTrainerOf[T](net, batch, opt)
	if err != nil {
		return nil, err
	}
	tr.TauMMin, tr.LearnFromStep = s.TauMMin, s.LearnFromStep
	return tr, nil
}
