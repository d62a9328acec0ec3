package gle

import "fmt"

// Grads holds gradients of a loss with respect to a network's parameters,
// in the layout of the parameters. GLE's local rule (Engine.SetGrads) and
// every exact method (package gradient) fill it, so optimizers and
// diagnostics treat them alike. A slice is nil where the parameter has no
// gradient (it does not learn, or the network has no such parameter).
type Grads = GradsOf[float64]

// ProjectionGrads holds one projection's gradients, shaped like its W.
type ProjectionGrads = ProjectionGradsOf[float64]

// PopulationGrads holds one population's gradients (N values each).
type PopulationGrads = PopulationGradsOf[float64]

// GradsOf is Grads in T: float64 (every rule, the float64 engine) or
// float32 (the local gradients of a float32 engine, on which a float32
// trainer's optimizer steps without converting them).
type GradsOf[T Float] struct {
	Projs []ProjectionGradsOf[T]
	Pops  []PopulationGradsOf[T]
}

// ProjectionGradsOf is ProjectionGrads in T.
type ProjectionGradsOf[T Float] struct {
	W, FeedbackWeight []T
}

// PopulationGradsOf is PopulationGrads in T.
type PopulationGradsOf[T Float] struct {
	Bias, TauM, TauR []T
}

// NewGrads returns zero gradients for the learnable parameters of n
// (learned feedback weights included).
func NewGrads(n *Network) *Grads { return NewGradsOf[float64](n) }

// NewGradsOf is NewGrads in T.
func NewGradsOf[T Float](n *Network) *GradsOf[T] {
	g := &GradsOf[T]{Projs: make([]ProjectionGradsOf[T], len(n.Projs)), Pops: make([]PopulationGradsOf[T], len(n.Pops))}
	for k, p := range n.Projs {
		if p.LearnWeight {
			g.Projs[k].W = make([]T, len(p.W))
		}
		if p.Feedback == Learned {
			g.Projs[k].FeedbackWeight = make([]T, len(p.W))
		}
	}
	for q, p := range n.Pops {
		if p.LearnBias && p.Bias != nil {
			g.Pops[q].Bias = make([]T, p.N)
		}
		if p.LearnTauM {
			g.Pops[q].TauM = make([]T, p.N)
		}
		if p.LearnTauR {
			g.Pops[q].TauR = make([]T, p.N)
		}
	}
	return g
}

// NewFullGrads returns zero gradients for every parameter of n (W, b if
// present, τm and τr), learnable or not: the form gradient checks and
// alignment use. Feedback weights never enter the forward pass; they get
// no slice.
func NewFullGrads(n *Network) *Grads {
	g := &Grads{Projs: make([]ProjectionGrads, len(n.Projs)), Pops: make([]PopulationGrads, len(n.Pops))}
	for k, p := range n.Projs {
		g.Projs[k].W = make([]float64, len(p.W))
	}
	for q, p := range n.Pops {
		g.Pops[q] = PopulationGrads{TauM: make([]float64, p.N), TauR: make([]float64, p.N)}
		if p.Bias != nil {
			g.Pops[q].Bias = make([]float64, p.N)
		}
	}
	return g
}

// each calls f with every slice of g and the matching one of other (nil
// when other is nil), in a fixed order, without allocating.
func (g *GradsOf[T]) each(other *GradsOf[T], f func(a, b []T)) {
	pick := func(x []T, ok bool) []T {
		if ok {
			return x
		}
		return nil
	}
	for k := range g.Projs {
		o := other != nil && k < len(other.Projs)
		var ow, of []T
		if o {
			ow, of = other.Projs[k].W, other.Projs[k].FeedbackWeight
		}
		f(g.Projs[k].W, pick(ow, o))
		f(g.Projs[k].FeedbackWeight, pick(of, o))
	}
	for q := range g.Pops {
		p := &g.Pops[q]
		o := other != nil && q < len(other.Pops)
		var op PopulationGradsOf[T]
		if o {
			op = other.Pops[q]
		}
		f(p.Bias, op.Bias)
		f(p.TauM, op.TauM)
		f(p.TauR, op.TauR)
	}
}

// Zero sets every gradient to zero.
func (g *GradsOf[T]) Zero() { g.each(nil, func(a, _ []T) { clear(a) }) }

// Add adds src, gradients of the same network, to g (slices that are nil
// in either are skipped).
func (g *GradsOf[T]) Add(src *GradsOf[T]) {
	g.each(src, func(a, b []T) {
		if a != nil && b != nil {
			for j, v := range b[:len(a)] {
				a[j] += v
			}
		}
	})
}

// Len returns the number of gradient entries (the parameters g covers).
func (g *GradsOf[T]) Len() int {
	n := 0
	g.each(nil, func(a, _ []T) { n += len(a) })
	return n
}

// Scale multiplies every gradient by c.
func (g *GradsOf[T]) Scale(c float64) {
	g.each(nil, func(a, _ []T) {
		for i := range a {
			a[i] *= T(c)
		}
	})
}

// Fits checks that g holds gradients of n: one entry per projection and
// population, and n's shapes where it has slices.
func (g *GradsOf[T]) Fits(n *Network) error {
	if g == nil {
		return fmt.Errorf("%w: no gradients (nil)", ErrShape)
	}
	if len(g.Projs) != len(n.Projs) || len(g.Pops) != len(n.Pops) {
		return fmt.Errorf("%w: gradients for %d projections and %d populations, the network has %d and %d",
			ErrShape, len(g.Projs), len(g.Pops), len(n.Projs), len(n.Pops))
	}
	for k, p := range n.Projs {
		for _, x := range [2][]T{g.Projs[k].W, g.Projs[k].FeedbackWeight} {
			if x != nil && len(x) != len(p.W) {
				return fmt.Errorf("%w: gradient of projection %d has %d values, want %d", ErrShape, k, len(x), len(p.W))
			}
		}
	}
	for q, p := range n.Pops {
		for _, x := range [3][]T{g.Pops[q].Bias, g.Pops[q].TauM, g.Pops[q].TauR} {
			if x != nil && len(x) != p.N {
				return fmt.Errorf("%w: gradient of population %s has %d values, want %d", ErrShape, p.Name, len(x), p.N)
			}
		}
	}
	return nil
}

// Pairs returns the learnable parameter slices of n and the matching
// gradient slices of g in a fixed order (per projection: W, feedback
// weights; per population: bias, τm, τr), the form an optimizer steps on.
// Only parameters whose gradient slice is non-nil are paired; the slices
// alias n and g.
func Pairs(n *Network, g *Grads) (params, grads [][]float64) { return pairsOf(n, g) }

// pairsOf is Pairs for gradients in T (the parameters stay float64).
func pairsOf[T Float](n *Network, g *GradsOf[T]) (params [][]float64, grads [][]T) {
	add := func(p []float64, gr []T) {
		if gr != nil && p != nil {
			params, grads = append(params, p), append(grads, gr)
		}
	}
	for k := range n.Projs {
		add(n.Projs[k].W, g.Projs[k].W)
		add(n.Projs[k].FeedbackWeight, g.Projs[k].FeedbackWeight)
	}
	for q := range n.Pops {
		p, pg := &n.Pops[q], &g.Pops[q]
		add(p.Bias, pg.Bias)
		add(p.TauM, pg.TauM)
		add(p.TauR, pg.TauR)
	}
	return params, grads
}
