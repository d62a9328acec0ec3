package gle

// Grads holds gradients of a loss with respect to a network's learnable
// parameters, in the layout of the parameters. GLE's local rule and exact
// BPTT both fill it, so optimizers and diagnostics treat them alike.
// A slice is nil where the parameter does not learn.
type Grads struct {
	Layers []LayerGrads
}

// LayerGrads holds one layer's gradients: W is Out×In like Layer.W.
// GLE's local rule has no τr update; exact gradients (package bptt) fill
// TauR when it is non-nil.
type LayerGrads struct {
	W, B, TauM, TauR []float64
}

// NewGrads returns zero gradients for the learnable parameters of n.
func NewGrads(n *Network) *Grads {
	g := &Grads{Layers: make([]LayerGrads, len(n.Layers))}
	for i, l := range n.Layers {
		if l.LearnW {
			g.Layers[i].W = make([]float64, len(l.W))
		}
		if l.LearnB && l.B != nil {
			g.Layers[i].B = make([]float64, len(l.B))
		}
		if l.LearnTauM {
			g.Layers[i].TauM = make([]float64, len(l.TauM))
		}
		if l.LearnTauR {
			g.Layers[i].TauR = make([]float64, len(l.TauR))
		}
	}
	return g
}

// NewFullGrads returns zero gradients for every parameter of n (W, b if
// present, τm and τr), learnable or not: the form gradient checks use.
func NewFullGrads(n *Network) *Grads {
	g := &Grads{Layers: make([]LayerGrads, len(n.Layers))}
	for i, l := range n.Layers {
		g.Layers[i] = LayerGrads{W: make([]float64, len(l.W)), TauM: make([]float64, l.Out), TauR: make([]float64, l.Out)}
		if l.B != nil {
			g.Layers[i].B = make([]float64, l.Out)
		}
	}
	return g
}

// Zero sets every gradient to zero.
func (g *Grads) Zero() {
	for i := range g.Layers {
		clear(g.Layers[i].W)
		clear(g.Layers[i].B)
		clear(g.Layers[i].TauM)
		clear(g.Layers[i].TauR)
	}
}

// Pairs returns the learnable parameter slices of n and the matching
// gradient slices of g in a fixed order (per layer: W, B, τm, τr), the form
// an Optimizer steps on. The slices alias n and g.
func Pairs(n *Network, g *Grads) (params, grads [][]float64) {
	for i := range n.Layers {
		l, lg := &n.Layers[i], &g.Layers[i]
		for _, p := range [4][2][]float64{{l.W, lg.W}, {l.B, lg.B}, {l.TauM, lg.TauM}, {l.TauR, lg.TauR}} {
			if p[1] != nil {
				params = append(params, p[0])
				grads = append(grads, p[1])
			}
		}
	}
	return params, grads
}
