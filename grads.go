package gle

// Grads holds gradients of a loss with respect to a network's learnable
// parameters, in the layout of the parameters. GLE's local rule and exact
// BPTT both fill it, so optimizers and diagnostics treat them alike.
// A slice is nil where the parameter does not learn.
type Grads struct {
	Layers []LayerGrads
}

// LayerGrads holds one layer's gradients: W is Out×In like Layer.W.
type LayerGrads struct {
	W, B, TauM []float64
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
	}
	return g
}

// Zero sets every gradient to zero.
func (g *Grads) Zero() {
	for i := range g.Layers {
		clear(g.Layers[i].W)
		clear(g.Layers[i].B)
		clear(g.Layers[i].TauM)
	}
}

// Pairs returns the learnable parameter slices of n and the matching
// gradient slices of g in a fixed order (per layer: W, B, τm), the form
// an Optimizer steps on. The slices alias n and g.
func Pairs(n *Network, g *Grads) (params, grads [][]float64) {
	for i := range n.Layers {
		l, lg := &n.Layers[i], &g.Layers[i]
		for _, p := range [3][2][]float64{{l.W, lg.W}, {l.B, lg.B}, {l.TauM, lg.TauM}} {
			if p[1] != nil {
				params = append(params, p[0])
				grads = append(grads, p[1])
			}
		}
	}
	return params, grads
}
