package gradient

import (
	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// SnAp-1 and e-prop: eligibility traces per neuron and parameter,
// paired with a learning signal sent back in real time (docs/online.md).

// snap1Gradient pairs every neuron's eligibility traces with its learning
// signal: the output error, plus the signal sent back through the
// feedback matrices of every projection the population sends, one
// projection per step (ls_f = Σ_{p: f→g} (ls_g ⊙ φ′_g) M_p, from the
// previous step, as GLE's errors travel; self projections included, less
// their diagonal under SnAp1, whose traces hold it).
func (f *Forward) snap1Gradient(g *gle.Grads) {
	n, B, t := f.Net, f.batch, &f.traces
	// This step's learning signals.
	for q := range n.Pops {
		clear(f.lsN[q])
	}
	copy(f.lsN[n.Output], f.lossGrad)
	cur := f.Engine.Previous() // the state the step read: φ′ of the step before
	for k := range n.Projs {
		p := &n.Projs[k]
		if p.From == gle.Input {
			continue
		}
		to, from := n.Pops[p.To].N, n.FromSize(p)
		gated := f.tmp[p.To]
		for i, v := range f.ls[p.To] {
			gated[i] = v * cur.Pops[p.To].RPrime[i]
		}
		m := p.W
		if p.FeedbackWeight != nil {
			m = p.FeedbackWeight
		}
		kernel.GemmAcc(B, from, to, gated, to, 1, m, from, f.lsN[p.From], from)
		if p.From == p.To && f.Mode == SnAp1 {
			// SnAp-1's traces hold the self-connection's diagonal: its
			// path is not sent back a second time.
			ls := f.lsN[p.From]
			for b := range B {
				for o := range to {
					ls[b*to+o] -= gated[b*to+o] * m[o*to+o]
				}
			}
		}
	}
	f.ls, f.lsN = f.lsN, f.ls
	// g_θ = Σ_b ls · e_R for every neuron's own parameters.
	for k := range n.Projs {
		p := &n.Projs[k]
		if g.Projs[k].W == nil {
			continue
		}
		to, from := n.Pops[p.To].N, n.FromSize(p)
		for b := range B {
			for o := range to {
				l := f.ls[p.To][b*to+o]
				if l != 0 {
					kernel.Axpy(g.Projs[k].W[o*from:(o+1)*from], l, t.wR[k][(b*to+o)*from:(b*to+o+1)*from])
				}
			}
		}
	}
	// Learned feedback: B_p takes W_p's update, both decay (Kolen–Pollack,
	// as under GLE's local rule).
	for k := range n.Projs {
		p, pg := &n.Projs[k], &g.Projs[k]
		if pg.FeedbackWeight == nil {
			continue
		}
		if pg.W != nil {
			copy(pg.FeedbackWeight, pg.W)
			kernel.Axpy(pg.W, n.FeedbackDecay, p.W)
		}
		kernel.Axpy(pg.FeedbackWeight, n.FeedbackDecay, p.FeedbackWeight)
	}
	for q := range n.Pops {
		pg := &g.Pops[q]
		for _, x := range []struct{ dst, e []float64 }{{pg.Bias, t.bR[q]}, {pg.TauM, t.tmR[q]}, {pg.TauR, t.trR[q]}} {
			if x.dst == nil {
				continue
			}
			N := n.Pops[q].N
			for b := range B {
				for o := range N {
					x.dst[o] += f.ls[q][b*N+o] * x.e[b*N+o]
				}
			}
		}
	}
}

// snap1Update carries the eligibility traces one step: each neuron's own
// dynamics, with the diagonal of its self projections as the only
// recurrence (SnAp1; none for EProp).
func (f *Forward) snap1Update(x []float64) {
	n, B, t := f.Net, f.batch, &f.traces
	prev, next := f.Engine.Previous(), f.Engine.State()
	for q := range n.Pops {
		if t.selfW[q] == nil {
			continue
		}
		clear(t.selfW[q])
		N := n.Pops[q].N
		for _, k := range t.selfProjection[q] {
			for o := range N {
				t.selfW[q][o] += n.Projs[k].W[o*N+o]
			}
		}
	}
	// step updates one trace pair (eU, eR) of neuron (q, o) given ∂s and
	// the direct terms on u̇ and Ŭ.
	step := func(q, r, o int, ds, dud, dub float64, eU, eR *float64) {
		pop := &n.Pops[q]
		if w := t.selfW[q]; w != nil {
			ds += w[o] * *eR
		}
		ud := (ds-*eU)/pop.TauM[o] + dud
		u, rp := *eU, next.Pops[q].RPrime[r]
		*eU = u + n.Dt*ud
		*eR = rp * (u + pop.TauR[o]*ud + dub)
	}
	for k := range n.Projs {
		p := &n.Projs[k]
		src := x
		if p.From != gle.Input {
			src = prev.Pops[p.From].R
		}
		to, from := n.Pops[p.To].N, n.FromSize(p)
		for b := range B {
			for o := range to {
				r := b*to + o
				for i := range from {
					j := r*from + i
					step(p.To, r, o, src[b*from+i], 0, 0, &t.wU[k][j], &t.wR[k][j])
				}
			}
		}
	}
	for q, pop := range n.Pops {
		udot := f.Engine.UDot(q)
		for b := range B {
			for o := range pop.N {
				r := b*pop.N + o
				step(q, r, o, 1, 0, 0, &t.bU[q][r], &t.bR[q][r])
				step(q, r, o, 0, -udot[r]/pop.TauM[o], 0, &t.tmU[q][r], &t.tmR[q][r])
				step(q, r, o, 0, 0, udot[r], &t.trU[q][r], &t.trR[q][r])
			}
		}
	}
}
