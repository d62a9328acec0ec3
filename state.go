package gle

import (
	"fmt"

	"github.com/gle-go/gle/internal/kernel"
)

// State is the dynamic state of a network for a batch of samples, in
// float64 (the state of an Engine).
type State = StateOf[float64]

// LayerState is one layer's float64 state.
type LayerState = LayerStateOf[float64]

// StateOf is the dynamic state of a network for a batch of samples: one
// LayerStateOf per layer, each a set of flat batch-major arrays of T.
type StateOf[T Float] struct {
	Batch  int
	Layers []LayerStateOf[T]
}

// LayerStateOf holds one layer's state. U, V, R and RPrime are Batch×Out,
// EBottom is Batch×In; sample b's neuron o is at index b*Out+o.
type LayerStateOf[T Float] struct {
	U       []T // membrane potential u
	V       []T // error potential v (τr v̇ = e − v); equals e without prospective errors
	R       []T // rate r = φ(ŭ)
	RPrime  []T // φ′(ŭ), gating the error arriving from above
	EBottom []T // error sent to the layer below: ê W
}

// NewState returns the zero float64 state of n for the given batch size.
func NewState(n *Network, batch int) *State { return NewStateOf[float64](n, batch) }

// NewStateOf returns the zero state of n in T for the given batch size.
func NewStateOf[T Float](n *Network, batch int) *StateOf[T] {
	s := &StateOf[T]{Batch: batch, Layers: make([]LayerStateOf[T], len(n.Layers))}
	for i, l := range n.Layers {
		s.Layers[i] = LayerStateOf[T]{
			U: make([]T, batch*l.Out), V: make([]T, batch*l.Out),
			R: make([]T, batch*l.Out), RPrime: make([]T, batch*l.Out),
			EBottom: make([]T, batch*l.In),
		}
	}
	return s
}

// ConvertState returns a copy of src in the element type D (float32 →
// float64 is exact, so a float32 state survives a round trip through a
// float64 checkpoint).
func ConvertState[D, S Float](src *StateOf[S]) *StateOf[D] {
	out := &StateOf[D]{Batch: src.Batch, Layers: make([]LayerStateOf[D], len(src.Layers))}
	for i := range src.Layers {
		var dst [5][]D
		for k, f := range src.Layers[i].fields() {
			dst[k] = make([]D, len(f.x))
			kernel.Convert(dst[k], f.x)
		}
		out.Layers[i] = LayerStateOf[D]{U: dst[0], V: dst[1], R: dst[2], RPrime: dst[3], EBottom: dst[4]}
	}
	return out
}

// namedArray is one state variable with its name.
type namedArray[T Float] struct {
	name string
	x    []T
}

// fields returns the arrays of ls with their names, in a fixed order.
func (ls *LayerStateOf[T]) fields() [5]namedArray[T] {
	return [5]namedArray[T]{{"u", ls.U}, {"v", ls.V}, {"r", ls.R}, {"r_prime", ls.RPrime}, {"e_bottom", ls.EBottom}}
}

// Reset sets every state variable to zero, the state of a network that
// has never run.
func (s *StateOf[T]) Reset() {
	for i := range s.Layers {
		s.ResetLayer(i)
	}
}

// ResetLayer sets layer i's state variables to zero and leaves the other
// layers' as they are (a part of the network that starts every sequence
// from rest, as the static LagNet's fixed chain).
func (s *StateOf[T]) ResetLayer(i int) {
	for _, f := range s.Layers[i].fields() {
		clear(f.x)
	}
}

// CopyFrom copies src into s; both must have the same shapes.
func (s *StateOf[T]) CopyFrom(src *StateOf[T]) {
	for i := range s.Layers {
		d, f := s.Layers[i].fields(), src.Layers[i].fields()
		for k := range d {
			copy(d[k].x, f[k].x)
		}
	}
}

// Resized returns the state for a batch of the given size that continues
// s the way the reference does when the batch size changes without a
// reset: sample b of the new state takes the state of sample b mod
// s.Batch (the old batch tiled, then truncated).
func (s *StateOf[T]) Resized(batch int) *StateOf[T] {
	if batch <= 0 {
		panic(fmt.Sprintf("gle: State.Resized(%d): batch must be positive", batch))
	}
	out := &StateOf[T]{Batch: batch, Layers: make([]LayerStateOf[T], len(s.Layers))}
	for i := range s.Layers {
		src := s.Layers[i].fields()
		var dst [5][]T
		for k, f := range src {
			width := len(f.x) / s.Batch
			dst[k] = make([]T, batch*width)
			for b := range batch {
				copy(dst[k][b*width:(b+1)*width], f.x[(b%s.Batch)*width:])
			}
		}
		out.Layers[i] = LayerStateOf[T]{U: dst[0], V: dst[1], R: dst[2], RPrime: dst[3], EBottom: dst[4]}
	}
	return out
}

// CheckFinite returns an ErrDiverged error naming the first layer, state
// variable, sample and neuron that holds NaN or ±Inf, or nil.
func (s *StateOf[T]) CheckFinite() error {
	for i := range s.Layers {
		for _, f := range s.Layers[i].fields() {
			if j := firstNonFinite(f.x); j >= 0 {
				width := len(f.x) / s.Batch
				return fmt.Errorf("%w: layer %d %s of sample %d, neuron %d is %v",
					ErrDiverged, i, f.name, j/width, j%width, f.x[j])
			}
		}
	}
	return nil
}
