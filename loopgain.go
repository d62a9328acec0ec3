package gle

import (
	"fmt"
	"math/cmplx"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// LoopGain is the gain of one loop of a network: a set of populations
// that reach each other through projections (a strongly connected
// component with at least one projection inside it).
type LoopGain struct {
	Populations []string
	// Gain is ρ(W_loop)·max τm/min τr over the loop's populations (max
	// τm/τr = 1 where errors are instantaneous): the spectral radius of
	// the loop's weights times the largest gain of the prospective error
	// operator. The real-time errors stay bounded only below 1
	// (docs/vle.md §4, φ′ ≤ 1).
	Gain float64
	// pops and projs index the loop, for LimitLoopGain.
	pops, projs []int
}

// LoopGains returns the gain of every loop of n (none for a chain). It
// fails on weights that are not finite.
func LoopGains(n *Network) ([]LoopGain, error) {
	if err := checkParamsFinite(n); err != nil {
		return nil, err
	}
	var out []LoopGain
	for _, comp := range loops(n) {
		g := LoopGain{pops: comp}
		offset := map[int]int{}
		size := 0
		for _, q := range comp {
			offset[q] = size
			size += n.Pops[q].N
			g.Populations = append(g.Populations, n.Pops[q].Name)
		}
		w := mat.NewDense(size, size, nil)
		for k, p := range n.Projs {
			fo, okF := offset[p.From]
			to, okT := offset[p.To]
			if !okF || !okT || p.From == Input {
				continue
			}
			g.projs = append(g.projs, k)
			in := n.FromSize(&p)
			for r := range n.Pops[p.To].N {
				for c := range in {
					w.Set(to+r, fo+c, w.At(to+r, fo+c)+p.W[r*in+c])
				}
			}
		}
		var eig mat.Eigen
		if !eig.Factorize(w, mat.EigenNone) {
			return nil, fmt.Errorf("gle: the eigenvalues of loop %v did not converge", g.Populations)
		}
		var rho float64
		for _, v := range eig.Values(nil) {
			rho = max(rho, cmplx.Abs(v))
		}
		ratio := 1.0
		for _, q := range comp {
			p := &n.Pops[q]
			if n.ProspectiveErrors && !p.InstantErrors {
				ratio = max(ratio, slices.Max(p.TauM)/slices.Min(p.TauR))
			}
		}
		g.Gain = rho * ratio
		out = append(out, g)
	}
	return out, nil
}

// LimitLoopGain scales the weights of every loop of n whose gain exceeds
// max down to gain max (loops below it are left alone).
func LimitLoopGain(n *Network, max float64) error {
	return scaleLoops(n, func(gain float64) float64 { return min(1, max/gain) })
}

// SetLoopGain scales the weights of every loop of n to the given gain
// (for example a slowly fading memory, gain just below 1, from the start).
func SetLoopGain(n *Network, gain float64) error {
	return scaleLoops(n, func(g float64) float64 { return gain / g })
}

// scaleLoops multiplies the weights inside every loop by factor(its gain).
func scaleLoops(n *Network, factor func(gain float64) float64) error {
	gains, err := LoopGains(n)
	if err != nil {
		return err
	}
	for _, g := range gains {
		if g.Gain == 0 {
			continue
		}
		f := factor(g.Gain)
		for _, k := range g.projs {
			for i := range n.Projs[k].W {
				n.Projs[k].W[i] *= f
			}
		}
	}
	return nil
}

// loops returns the strongly connected components of n's populations that
// contain a projection (Tarjan's algorithm), each sorted.
func loops(n *Network) [][]int {
	P := len(n.Pops)
	adj := make([][]int, P)
	self := make([]bool, P)
	for _, p := range n.Projs {
		if p.From == Input {
			continue
		}
		adj[p.From] = append(adj[p.From], p.To)
		if p.From == p.To {
			self[p.From] = true
		}
	}
	index, low := make([]int, P), make([]int, P)
	onStack := make([]bool, P)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var out [][]int
	next := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range adj[v] {
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] != index[v] {
			return
		}
		var comp []int
		for {
			w := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			onStack[w] = false
			comp = append(comp, w)
			if w == v {
				break
			}
		}
		if len(comp) > 1 || self[v] {
			slices.Sort(comp)
			out = append(out, comp)
		}
	}
	for v := range P {
		if index[v] < 0 {
			visit(v)
		}
	}
	return out
}
