package optim

import (
	"math"

	"github.com/gle-go/gle/internal/errs"
	"github.com/gle-go/gle/internal/kernel"
)

// Optimizer updates parameters from gradients, in place: params[k] and
// grads[k] are aligned slices (gle.Pairs gives them for a network). It
// does not know which rule filled the gradients.
type Optimizer interface {
	Step(params, grads [][]float64)
	LR() float64
	SetLR(lr float64)
}

// Kind names an optimizer in a spec file.
type Kind int

const (
	KindSGD  Kind = iota // "sgd"
	KindAdam             // "adam"
)

var kindNames = [...]string{KindSGD: "sgd", KindAdam: "adam"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "Kind(?)"
	}
	return kindNames[k]
}

// MarshalText writes the spec name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a spec name ("" is sgd).
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "sgd":
		*k = KindSGD
	case "adam":
		*k = KindAdam
	default:
		return errs.Field(errs.ErrUnknownName, "optimizer.kind", string(b), "want sgd or adam")
	}
	return nil
}

// SGD is plain gradient descent: p ← p − lr g.
type SGD struct {
	Rate float64
}

// Step implements Optimizer.
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

// Step implements Optimizer. The moments are allocated on the first
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
