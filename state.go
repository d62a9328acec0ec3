package gle

import "fmt"

// State is the dynamic state of a network for a batch of samples: one
// LayerState per layer, each a set of flat batch-major arrays.
type State struct {
	Batch  int
	Layers []LayerState
}

// LayerState holds one layer's state. U, V, R and RPrime are Batch×Out,
// EBottom is Batch×In; sample b's neuron o is at index b*Out+o.
type LayerState struct {
	U       []float64 // membrane potential u
	V       []float64 // error potential v (τr v̇ = e − v); equals e without prospective errors
	R       []float64 // rate r = φ(ŭ)
	RPrime  []float64 // φ′(ŭ), gating the error arriving from above
	EBottom []float64 // error sent to the layer below: ê W
}

// NewState returns the zero state of n for the given batch size.
func NewState(n *Network, batch int) *State {
	s := &State{Batch: batch, Layers: make([]LayerState, len(n.Layers))}
	for i, l := range n.Layers {
		s.Layers[i] = LayerState{
			U: make([]float64, batch*l.Out), V: make([]float64, batch*l.Out),
			R: make([]float64, batch*l.Out), RPrime: make([]float64, batch*l.Out),
			EBottom: make([]float64, batch*l.In),
		}
	}
	return s
}

// fields returns the arrays of ls with their names, in a fixed order.
func (ls *LayerState) fields() [5]struct {
	name string
	x    []float64
} {
	return [5]struct {
		name string
		x    []float64
	}{{"u", ls.U}, {"v", ls.V}, {"r", ls.R}, {"r_prime", ls.RPrime}, {"e_bottom", ls.EBottom}}
}

// Reset sets every state variable to zero, the state of a network that
// has never run.
func (s *State) Reset() {
	for i := range s.Layers {
		for _, f := range s.Layers[i].fields() {
			clear(f.x)
		}
	}
}

// CopyFrom copies src into s; both must have the same shapes.
func (s *State) CopyFrom(src *State) {
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
func (s *State) Resized(batch int) *State {
	if batch <= 0 {
		panic(fmt.Sprintf("gle: State.Resized(%d): batch must be positive", batch))
	}
	out := &State{Batch: batch, Layers: make([]LayerState, len(s.Layers))}
	for i := range s.Layers {
		src := s.Layers[i].fields()
		var dst [5][]float64
		for k, f := range src {
			width := len(f.x) / s.Batch
			dst[k] = make([]float64, batch*width)
			for b := range batch {
				copy(dst[k][b*width:(b+1)*width], f.x[(b%s.Batch)*width:])
			}
		}
		out.Layers[i] = LayerState{U: dst[0], V: dst[1], R: dst[2], RPrime: dst[3], EBottom: dst[4]}
	}
	return out
}

// CheckFinite returns an ErrDiverged error naming the first layer, state
// variable, sample and neuron that holds NaN or ±Inf, or nil.
func (s *State) CheckFinite() error {
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
