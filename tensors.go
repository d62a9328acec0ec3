package gle

import (
	"fmt"

	"github.com/gle-go/gle/internal/kernel"
)

// Tensor is a named array of a network: a parameter, a gradient or a
// state variable, in the network's own memory.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float64
}

// ProjectionPrefix returns the tensor name prefix of projection k:
// "layers.k." for a layered network (projection k feeds layer k),
// "projections.k." otherwise.
func (n *Network) ProjectionPrefix(k int) string {
	if n.Layered {
		return fmt.Sprintf("layers.%d.", k)
	}
	return fmt.Sprintf("projections.%d.", k)
}

// PopulationPrefix returns the tensor name prefix of population q:
// "layers.q." for a layered network, "populations.NAME." otherwise.
func (n *Network) PopulationPrefix(q int) string {
	if n.Layered {
		return fmt.Sprintf("layers.%d.", q)
	}
	return "populations." + n.Pops[q].Name + "."
}

// Tensors names every parameter of n, as safetensors files, --out files
// and gradient files name them: for a layered network layers.L.weight
// (out × in), layers.L.bias, layers.L.tau_m, layers.L.tau_r; otherwise
// projections.K.weight (to × from), projections.K.feedback_weight,
// populations.NAME.bias, .tau_m, .tau_r. Absent parameters (no bias,
// symmetric feedback) are left out.
func (n *Network) Tensors() []Tensor {
	g := &Grads{Projs: make([]ProjectionGrads, len(n.Projs)), Pops: make([]PopulationGrads, len(n.Pops))}
	for k, p := range n.Projs {
		g.Projs[k] = ProjectionGrads{W: p.W, FeedbackWeight: p.FeedbackWeight}
	}
	for q, p := range n.Pops {
		g.Pops[q] = PopulationGrads{Bias: p.Bias, TauM: p.TauM, TauR: p.TauR}
	}
	return g.Tensors(n)
}

// Tensors names the non-nil slices of g like the parameters they belong
// to (Network.Tensors). Float64 gradients are shared, float32 ones
// copied into float64.
func (g *GradsOf[T]) Tensors(n *Network) []Tensor {
	var out []Tensor
	add := func(name string, shape []int, x []T) {
		if x != nil {
			var d []float64
			if is64[T]() {
				d = as64(x)
			} else {
				d = make([]float64, len(x))
				kernel.Convert(d, x)
			}
			out = append(out, Tensor{Name: name, Shape: shape, Data: d})
		}
	}
	for k := range n.Projs {
		p := &n.Projs[k]
		shape := []int{n.Pops[p.To].N, n.FromSize(p)}
		add(n.ProjectionPrefix(k)+"weight", shape, g.Projs[k].W)
		add(n.ProjectionPrefix(k)+"feedback_weight", shape, g.Projs[k].FeedbackWeight)
	}
	for q := range n.Pops {
		shape := []int{n.Pops[q].N}
		add(n.PopulationPrefix(q)+"bias", shape, g.Pops[q].Bias)
		add(n.PopulationPrefix(q)+"tau_m", shape, g.Pops[q].TauM)
		add(n.PopulationPrefix(q)+"tau_r", shape, g.Pops[q].TauR)
	}
	return out
}

// StateTensors names the arrays of a state of n: per population
// PREFIX.u, .v, .r, .r_prime (batch × N) and per projection
// PREFIX.e_bottom (batch × source size), with the prefixes of Tensors.
func StateTensors(n *Network, s *State) []Tensor {
	var out []Tensor
	for q := range n.Pops {
		shape := []int{s.Batch, n.Pops[q].N}
		for _, f := range s.fields(q) {
			out = append(out, Tensor{Name: n.PopulationPrefix(q) + f.name, Shape: shape, Data: f.x})
		}
	}
	for k := range n.Projs {
		out = append(out, Tensor{Name: n.ProjectionPrefix(k) + "e_bottom", Shape: []int{s.Batch, n.FromSize(&n.Projs[k])}, Data: s.EBottom[k]})
	}
	return out
}
