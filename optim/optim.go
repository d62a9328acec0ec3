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

// Elementwise is an Optimizer whose step updates each parameter from its
// own gradient and state only (SGD, Adam), so that a step can be split
// over cores by ranges of elements: Begin once, then Update on disjoint
// ranges covering every parameter, in any order and from any goroutines,
// has Step's results bit for bit. It still does not know which rule
// filled the gradients.
type Elementwise interface {
	Optimizer
	// Begin starts a step on params (allocating the state on the first
	// call).
	Begin(params [][]float64)
	// Update steps p[lo:hi] on g[lo:hi], where p = params[k] and g is
	// its gradient.
	Update(k, lo, hi int, p, g []float64)
}

// Float32 is an optimizer that also steps in float32 arithmetic, with
// float32 gradients and state, on parameters that are float32 values
// held in float64 (the network of a float32 trainer): each is read as
// float32(p), updated in float32 and written back exactly. Begin32 and
// Update32 split the step as Elementwise's Begin and Update do; Step32
// is the whole step.
type Float32 interface {
	Optimizer
	Begin32(params [][]float64)
	Update32(k, lo, hi int, p []float64, g []float32)
	Step32(params [][]float64, grads [][]float32)
}

var (
	_ Elementwise = (*SGD)(nil)
	_ Elementwise = (*Adam)(nil)
	_ Float32     = (*SGD)(nil)
	_ Float32     = (*Adam)(nil)
)

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
		o.Update(k, 0, len(p), p, grads[k])
	}
}

// Begin implements Elementwise.
func (o *SGD) Begin([][]float64) {}

// Update implements Elementwise.
func (o *SGD) Update(_, lo, hi int, p, g []float64) {
	p, g = p[lo:hi], g[lo:hi]
	for i := range p {
		p[i] -= o.Rate * g[i]
	}
}

// Step32 implements Float32: p ← p − lr g in float32.
func (o *SGD) Step32(params [][]float64, grads [][]float32) {
	for k, p := range params {
		o.Update32(k, 0, len(p), p, grads[k])
	}
}

// Begin32 implements Float32.
func (o *SGD) Begin32([][]float64) {}

// Update32 implements Float32.
func (o *SGD) Update32(_, lo, hi int, p []float64, g []float32) {
	p, g = p[lo:hi], g[lo:hi]
	lr := float32(o.Rate)
	for i := range p {
		p[i] = float64(float32(p[i]) - float32(lr*g[i]))
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
	// M32 and V32 are the moments of a float32 run (Step32), in float32.
	M32, V32 [][]float32

	c   kernel.AdamParams   // this step's scalars (Begin)
	c32 kernel.Adam32Params // and in float32 (Begin32)
}

// NewAdam returns Adam with PyTorch's defaults β = (0.9, 0.999), ε = 1e-8.
func NewAdam(lr float64) *Adam {
	return &Adam{Rate: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// Step implements Optimizer. The moments are allocated on the first
// call; later calls allocate nothing.
func (o *Adam) Step(params, grads [][]float64) {
	o.Begin(params)
	for k, p := range params {
		o.Update(k, 0, len(p), p, grads[k])
	}
}

// Begin implements Elementwise: it counts the step and computes its
// scalars.
func (o *Adam) Begin(params [][]float64) {
	if o.M == nil {
		o.M, o.V = make([][]float64, len(params)), make([][]float64, len(params))
		for k, p := range params {
			o.M[k], o.V[k] = make([]float64, len(p)), make([]float64, len(p))
		}
	}
	o.next()
}

// next counts a step and computes its scalars.
func (o *Adam) next() {
	o.T++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.T))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.T))
	o.c = kernel.AdamParams{Beta1: o.Beta1, Beta2: o.Beta2, StepSize: o.Rate / bc1, SqrtBC2: math.Sqrt(bc2), Eps: o.Eps}
}

// Update implements Elementwise.
func (o *Adam) Update(k, lo, hi int, p, g []float64) {
	kernel.Adam(p[lo:hi], g[lo:hi], o.M[k][lo:hi], o.V[k][lo:hi], o.c)
}

// Step32 implements Float32: Adam in float32 arithmetic (moments M32,
// V32), the scalars rounded to float32 as PyTorch rounds them for a
// float32 tensor.
func (o *Adam) Step32(params [][]float64, grads [][]float32) {
	o.Begin32(params)
	for k, p := range params {
		o.Update32(k, 0, len(p), p, grads[k])
	}
}

// Begin32 implements Float32. Float64 moments (of a checkpoint written
// before float32 runs kept theirs in float32) are rounded once.
func (o *Adam) Begin32(params [][]float64) {
	if o.M32 == nil {
		o.M32, o.V32 = make([][]float32, len(params)), make([][]float32, len(params))
		for k, p := range params {
			o.M32[k], o.V32[k] = make([]float32, len(p)), make([]float32, len(p))
			if k < len(o.M) && len(o.M[k]) == len(p) && len(o.V[k]) == len(p) {
				kernel.Convert(o.M32[k], o.M[k])
				kernel.Convert(o.V32[k], o.V[k])
			}
		}
		o.M, o.V = nil, nil
	}
	o.next()
	o.c32 = o.c.Float32()
}

// Update32 implements Float32.
func (o *Adam) Update32(k, lo, hi int, p []float64, g []float32) {
	kernel.Adam32(p[lo:hi], g[lo:hi], o.M32[k][lo:hi], o.V32[k][lo:hi], o.c32)
}

// LR returns the learning rate.
func (o *Adam) LR() float64 { return o.Rate }

// SetLR sets the learning rate.
func (o *Adam) SetLR(lr float64) { o.Rate = lr }
