package gle

import (
	"fmt"

	"github.com/gle-go/gle/internal/kernel"
)

// State is the dynamic state of a network for a batch of samples, in
// float64 (the state of an Engine).
type State = StateOf[float64]

// StateOf is the dynamic state of a network for a batch of samples, as
// flat batch-major arrays of T: per population U, V, R and RPrime
// (Batch×N; sample b's neuron o at b*N+o), per projection EBottom.
type StateOf[T Float] struct {
	Batch int
	Pops  []PopulationStateOf[T]
	// EBottom[k] is the error projection k sends back to its source,
	// ê_to M_k (Batch × source size); for a chain, layer l's e_bottom.
	EBottom [][]T
}

// PopulationStateOf holds one population's state.
type PopulationStateOf[T Float] struct {
	U      []T // membrane potential u
	V      []T // error potential v (τr v̇ = e − v); equals e without prospective errors
	R      []T // rate r = φ(ŭ)
	RPrime []T // φ′(ŭ), gating the error arriving
}

// NewState returns the zero float64 state of n for the given batch size.
func NewState(n *Network, batch int) *State { return NewStateOf[float64](n, batch) }

// NewStateOf returns the zero state of n in T for the given batch size
// (which must be positive; NewEngineOf checks it).
func NewStateOf[T Float](n *Network, batch int) *StateOf[T] {
	s := &StateOf[T]{Batch: batch, Pops: make([]PopulationStateOf[T], len(n.Pops)), EBottom: make([][]T, len(n.Projs))}
	for q, p := range n.Pops {
		m := batch * p.N
		s.Pops[q] = PopulationStateOf[T]{U: make([]T, m), V: make([]T, m), R: make([]T, m), RPrime: make([]T, m)}
	}
	for k := range n.Projs {
		s.EBottom[k] = make([]T, batch*n.FromSize(&n.Projs[k]))
	}
	return s
}

// namedArray is one state variable with its name.
type namedArray[T Float] struct {
	name string
	x    []T
}

// fields returns population q's arrays with their names, in a fixed order.
func (s *StateOf[T]) fields(q int) [4]namedArray[T] {
	p := &s.Pops[q]
	return [4]namedArray[T]{{"u", p.U}, {"v", p.V}, {"r", p.R}, {"r_prime", p.RPrime}}
}

// arrays returns every array of s (populations, then projections).
func (s *StateOf[T]) arrays() [][]T {
	var out [][]T
	for q := range s.Pops {
		for _, f := range s.fields(q) {
			out = append(out, f.x)
		}
	}
	return append(out, s.EBottom...)
}

// ConvertState returns a copy of src in the element type D (float32 →
// float64 is exact, so a float32 state survives a round trip through a
// float64 checkpoint).
func ConvertState[D, S Float](src *StateOf[S]) *StateOf[D] {
	conv := func(x []S) []D {
		d := make([]D, len(x))
		kernel.Convert(d, x)
		return d
	}
	out := &StateOf[D]{Batch: src.Batch, Pops: make([]PopulationStateOf[D], len(src.Pops)), EBottom: make([][]D, len(src.EBottom))}
	for q, p := range src.Pops {
		out.Pops[q] = PopulationStateOf[D]{U: conv(p.U), V: conv(p.V), R: conv(p.R), RPrime: conv(p.RPrime)}
	}
	for k, e := range src.EBottom {
		out.EBottom[k] = conv(e)
	}
	return out
}

// Reset sets every state variable to zero, the state of a network that
// has never run.
func (s *StateOf[T]) Reset() {
	for _, a := range s.arrays() {
		clear(a)
	}
}

// ResetPopulation sets population q's state to zero, and the errors it
// sends back (its projections' EBottom), leaving the rest as it is: a
// part of the network that starts every sequence from rest, as the static
// LagNet's fixed chain.
func (s *StateOf[T]) ResetPopulation(n *Network, q int) {
	for _, f := range s.fields(q) {
		clear(f.x)
	}
	for k := range n.Projs {
		if n.Projs[k].To == q {
			clear(s.EBottom[k])
		}
	}
}

// CopyFrom copies src into s; both must have the same shapes.
func (s *StateOf[T]) CopyFrom(src *StateOf[T]) {
	d, f := s.arrays(), src.arrays()
	for k := range d {
		copy(d[k], f[k])
	}
}

// fits reports whether s has the shapes of n's state for its batch.
func (s *StateOf[T]) fits(n *Network) error {
	if s == nil || s.Batch <= 0 || len(s.Pops) != len(n.Pops) || len(s.EBottom) != len(n.Projs) {
		return fmt.Errorf("%w: the state does not belong to this network", ErrShape)
	}
	want := NewStateOf[T](n, 1).arrays()
	for k, a := range s.arrays() {
		if len(a) != s.Batch*len(want[k]) {
			return fmt.Errorf("%w: state array %d has %d values, want batch %d × %d", ErrShape, k, len(a), s.Batch, len(want[k]))
		}
	}
	return nil
}

// Resized returns the state for a batch of the given size that continues
// s the way the reference does when the batch size changes without a
// reset: sample b of the new state takes the state of sample b mod
// s.Batch (the old batch tiled, then truncated).
func (s *StateOf[T]) Resized(batch int) (*StateOf[T], error) {
	if batch <= 0 {
		return nil, fieldErr(ErrInvalid, "batch", batch, "must be positive")
	}
	tile := func(x []T) []T {
		width := len(x) / s.Batch
		out := make([]T, batch*width)
		for b := range batch {
			copy(out[b*width:(b+1)*width], x[(b%s.Batch)*width:])
		}
		return out
	}
	out := &StateOf[T]{Batch: batch, Pops: make([]PopulationStateOf[T], len(s.Pops)), EBottom: make([][]T, len(s.EBottom))}
	for q, p := range s.Pops {
		out.Pops[q] = PopulationStateOf[T]{U: tile(p.U), V: tile(p.V), R: tile(p.R), RPrime: tile(p.RPrime)}
	}
	for k, e := range s.EBottom {
		out.EBottom[k] = tile(e)
	}
	return out, nil
}

// CheckFinite returns an ErrDiverged error naming the first population,
// state variable, sample and neuron that holds NaN or ±Inf, or nil.
func (s *StateOf[T]) CheckFinite(n *Network) error {
	for q := range s.Pops {
		for _, f := range s.fields(q) {
			if j := firstNonFinite(f.x); j >= 0 {
				return fmt.Errorf("%w: population %s, %s of sample %d, neuron %d is %v",
					ErrDiverged, n.Pops[q].Name, f.name, j/n.Pops[q].N, j%n.Pops[q].N, f.x[j])
			}
		}
	}
	for k, e := range s.EBottom {
		if j := firstNonFinite(e); j >= 0 {
			w := n.FromSize(&n.Projs[k])
			return fmt.Errorf("%w: the error projection %s sends back, sample %d, neuron %d is %v",
				ErrDiverged, n.ProjectionName(k), j/w, j%w, e[j])
		}
	}
	return nil
}
