package graph

import (
	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// Adjoint returns J = ∫ ℓ dt ≈ dt Σ_t L_t of the errors-off forward pass
// over xs and ts and writes into g its gradient from the continuous adjoint
// (docs/vle.md §2), integrated backwards in time on the recorded
// trajectory, for any graph (recurrent projections included):
//
//	α_q   = φ′_q ⊙ (Σ_{p: q→g} W_pᵀ λ_g − ∂ℓ/∂r_q)
//	τm λ̇ = λ − (α − τr α̇),   λ(T) = 0                            (3)
//	∂J/∂W_p = −∫ λ_g r_fᵀ dt,  ∂J/∂b = −∫ λ dt,
//	∂J/∂τm = ∫ λ ⊙ u̇ dt,      ∂J/∂τr = −∫ α ⊙ u̇ dt                (4)
//
// with explicit Euler steps of size dt backwards (α̇ by the forward
// difference, Wᵀλ from the later time). It is independent of the discrete
// reverse sweep of Loss; as dt → 0 the two agree (dt·∇Loss → ∇Adjoint,
// with an O(dt) difference: TestAdjointConvergesToBPTT).
func Adjoint(n *Network, batch int, xs [][]float64, ts []gle.Target, g *Grads) (float64, error) {
	tp, sumL, err := forward(n, batch, nil, xs, ts)
	if err != nil {
		return 0, err
	}
	dt, T, B, k := n.Dt, len(xs), batch, n.Outputs()
	for _, x := range [][][]float64{g.W, g.Feedback, g.B, g.TauM, g.TauR} {
		for _, v := range x {
			clear(v)
		}
	}
	alloc := func() [][]float64 {
		v := make([][]float64, len(n.Pops))
		for q, p := range n.Pops {
			v[q] = make([]float64, B*p.N)
		}
		return v
	}
	lambda, lambdaNext, alpha, alphaNext, back, scaled := alloc(), alloc(), alloc(), alloc(), alloc(), alloc()
	lossGrad := make([]float64, B*k)
	for t := T - 1; t >= 0; t-- {
		// Wᵀλ at the later time, summed over each population's outgoing projections.
		for q := range back {
			clear(back[q])
		}
		for pi := range n.Projs {
			p := &n.Projs[pi]
			if p.From >= 0 {
				in, out := n.fromSize(p), n.Pops[p.To].N
				kernel.GemmAcc(B, in, out, lambdaNext[p.To], out, 1, p.W, in, back[p.From], in) // += λ_g W_p
			}
		}
		// ∂ℓ/∂r of the rate this step produces (R[t+1], scored at step t+1).
		clear(lossGrad)
		if t+1 < T {
			n.Loss.Gradient(lossGrad, tp.R[t+1][n.Output], ts[t+1], k)
		}
		for q, pop := range n.Pops {
			for b := range B {
				for o := range pop.N {
					i := b*pop.N + o
					a := back[q][i]
					if q == n.Output {
						a -= lossGrad[b*k+o]
					}
					a *= tp.RP[t][q][i]
					alpha[q][i] = a
					d := a // D⁻_τr[α] = α − τr α̇ (α̇ = 0 at the end)
					if t+1 < T {
						d -= pop.TauR[o] * (alphaNext[q][i] - a) / dt
					}
					// τm λ̇ = λ − D, one step back: λ(t) = λ(t+dt) − dt λ̇.
					l := lambdaNext[q][i] + dt/pop.TauM[o]*(d-lambdaNext[q][i])
					lambda[q][i], scaled[q][i] = l, -dt*l
					ud := tp.UD[t][q][i]
					g.TauM[q][o] += dt * l * ud
					g.TauR[q][o] -= dt * a * ud
					if g.B[q] != nil {
						g.B[q][o] -= dt * l
					}
				}
			}
		}
		for pi := range n.Projs {
			p := &n.Projs[pi]
			src := xs[t]
			if p.From >= 0 {
				src = tp.R[t][p.From]
			}
			kernel.AddAtB(g.W[pi], scaled[p.To], src, B, n.Pops[p.To].N, n.fromSize(p)) // −dt λ_g r_fᵀ
		}
		lambda, lambdaNext = lambdaNext, lambda
		alpha, alphaNext = alphaNext, alpha
	}
	return dt * sumL, nil
}
