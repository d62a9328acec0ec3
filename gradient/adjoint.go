package gradient

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// Adjoint returns J = ∫ ℓ dt ≈ dt Σ_t L_t of the errors-off forward pass
// over xs and ts (from the zero state) and writes into g its gradient from
// the continuous adjoint (docs/vle.md §2), integrated backwards in time on
// the recorded trajectory, for any network (recurrent projections
// included):
//
//	α_q   = φ′_q ⊙ (Σ_{p: q→g} W_pᵀ λ_g − ∂ℓ/∂r_q)
//	τm λ̇ = λ − (α − τr α̇),   λ(T) = 0                            (3)
//	∂J/∂W_p = −∫ λ_g r_fᵀ dt,  ∂J/∂b = −∫ λ dt,
//	∂J/∂τm = ∫ λ ⊙ u̇ dt,      ∂J/∂τr = −∫ α ⊙ u̇ dt                (4)
//
// with explicit Euler steps of size dt backwards (α̇ by the forward
// difference, Wᵀλ from the later time). It shares only the forward tape
// with BPTT; as dt → 0 the two agree (dt·∇BPTT → ∇Adjoint, with an O(dt)
// difference: TestAdjointConvergesToBPTT). Only g's non-nil slices are
// written.
func Adjoint(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, g *gle.Grads) (float64, error) {
	if len(xs) == 0 {
		return 0, fmt.Errorf("%w: no steps", gle.ErrShape)
	}
	b, err := New(n, batch, len(xs))
	if err != nil {
		return 0, err
	}
	sumL, err := b.run(xs, ts)
	if err != nil {
		return 0, err
	}
	if err := g.Fits(n); err != nil {
		return 0, err
	}
	g.Zero()
	dt, T, B, K := n.Dt, len(xs), batch, n.Outputs()
	alloc := func() [][]float64 {
		v := make([][]float64, len(n.Pops))
		for q, p := range n.Pops {
			v[q] = make([]float64, B*p.N)
		}
		return v
	}
	lambda, lambdaNext, alpha, alphaNext, back, scaled := alloc(), alloc(), alloc(), alloc(), alloc(), alloc()
	lossGrad := make([]float64, B*K)
	for t := T - 1; t >= 0; t-- {
		// Wᵀλ at the later time, summed over each population's outgoing projections.
		for q := range back {
			clear(back[q])
		}
		for k := range n.Projs {
			p := &n.Projs[k]
			if p.From != gle.Input {
				in, out := n.FromSize(p), n.Pops[p.To].N
				kernel.GemmAcc(B, in, out, lambdaNext[p.To], out, 1, p.W, in, back[p.From], in) // += λ_g W_p
			}
		}
		// ∂ℓ/∂r of the rate this step produces (scored at step t+1).
		clear(lossGrad)
		if t+1 < T {
			n.Loss.Gradient(lossGrad, b.output(t+1), b.targets[t+1], K)
		}
		for q := range n.Pops {
			pop, pg := &n.Pops[q], &g.Pops[q]
			m := B * pop.N
			rp, udot := b.rp[q][t*m:(t+1)*m], b.udot[q][t*m:(t+1)*m]
			for bi := range B {
				for o := range pop.N {
					i := bi*pop.N + o
					a := back[q][i]
					if q == n.Output {
						a -= lossGrad[bi*K+o]
					}
					a *= rp[i]
					alpha[q][i] = a
					d := a // D⁻_τr[α] = α − τr α̇ (α̇ = 0 at the end)
					if t+1 < T {
						d -= pop.TauR[o] * (alphaNext[q][i] - a) / dt
					}
					// τm λ̇ = λ − D, one step back: λ(t) = λ(t+dt) − dt λ̇.
					l := lambdaNext[q][i] + dt/pop.TauM[o]*(d-lambdaNext[q][i])
					lambda[q][i], scaled[q][i] = l, -dt*l
					if pg.TauM != nil {
						pg.TauM[o] += dt * l * udot[i]
					}
					if pg.TauR != nil {
						pg.TauR[o] -= dt * a * udot[i]
					}
					if pg.Bias != nil {
						pg.Bias[o] -= dt * l
					}
				}
			}
		}
		for k := range n.Projs {
			p := &n.Projs[k]
			if g.Projs[k].W == nil {
				continue
			}
			kernel.AddAtB(g.Projs[k].W, scaled[p.To], b.source(p, t), B, n.Pops[p.To].N, n.FromSize(p)) // −dt λ_g r_fᵀ
		}
		lambda, lambdaNext = lambdaNext, lambda
		alpha, alphaNext = alphaNext, alpha
	}
	return dt * sumL, nil
}

// Recording holds what a GLE run did, step by step, for comparing its
// errors with the adjoint. Per population q the arrays are flat
// Steps×Batch×N_q.
type Recording struct {
	Steps, Batch int
	// RPrime is φ′ as the engine used it at each step: the state's r′
	// before the step.
	RPrime [][]float64
	// EHat is GLE's prospective error ê computed at each step.
	EHat [][]float64
	// U and R are the membrane potential and the rate after each step.
	U, R [][]float64
	// TargetError is the target error e at each step (Steps×Batch×Outputs)
	// from the output of the step: β (y − r) or β (onehot(y) − softmax(r)).
	TargetError []float64
}

// fits checks that rec holds what LambdaTrace reads of a run of n: φ′ of
// every population and the target errors.
func (rec *Recording) fits(n *gle.Network) error {
	T, B := rec.Steps, rec.Batch
	if T <= 0 || B <= 0 || len(rec.RPrime) != len(n.Pops) || len(rec.TargetError) != T*B*n.Outputs() {
		return fmt.Errorf("%w: the recording does not belong to this network", gle.ErrShape)
	}
	for q, p := range n.Pops {
		if len(rec.RPrime[q]) != T*B*p.N {
			return fmt.Errorf("%w: the recording of population %s has %d values, want %d", gle.ErrShape, p.Name, len(rec.RPrime[q]), T*B*p.N)
		}
	}
	return nil
}

// Record runs e over the inputs and targets (no learning) and records φ′,
// ê, u, r and the target error of every step.
func Record(e *gle.Engine, xs [][]float64, ts []gle.Target) (*Recording, error) {
	if e == nil {
		return nil, &gle.FieldError{Field: "engine", Why: "is nil", Err: gle.ErrInvalid}
	}
	if len(ts) != len(xs) {
		return nil, fmt.Errorf("%w: %d input steps but %d targets", gle.ErrShape, len(xs), len(ts))
	}
	n, B, T := e.Net, e.Batch(), len(xs)
	K := n.Outputs()
	if limit := gle.MemoryLimit(); limit > 0 && TapeBytes(n, B, T)*4/3 > float64(limit) {
		return nil, &gle.FieldError{Field: "steps", Value: T, Err: gle.ErrTooLarge,
			Why: fmt.Sprintf("a recording needs ≈ %s, above the memory limit", gle.FormatBytes(TapeBytes(n, B, T)*4/3))}
	}
	rec := &Recording{Steps: T, Batch: B, TargetError: make([]float64, T*B*K)}
	for _, p := range n.Pops {
		for _, dst := range []*[][]float64{&rec.RPrime, &rec.EHat, &rec.U, &rec.R} {
			*dst = append(*dst, make([]float64, T*B*p.N))
		}
	}
	out := make([]float64, B*K)
	for t, x := range xs {
		for q, p := range n.Pops {
			m := B * p.N
			copy(rec.RPrime[q][t*m:(t+1)*m], e.State().Pops[q].RPrime)
		}
		if err := e.Step(out, x, ts[t]); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		for q, p := range n.Pops {
			m := B * p.N
			copy(rec.EHat[q][t*m:(t+1)*m], e.EHat(q))
			copy(rec.U[q][t*m:(t+1)*m], e.State().Pops[q].U)
			copy(rec.R[q][t*m:(t+1)*m], e.State().Pops[q].R)
		}
		n.Loss.TargetError(rec.TargetError[t*B*K:(t+1)*B*K], out, ts[t], n.Beta, K)
	}
	return rec, nil
}

// LambdaTrace returns the continuous adjoint λ of every population (flat
// Steps×Batch×N) for a recorded GLE run, integrated backwards in time from
// λ = 0 after the last step in the reference's LagNet discretisation
// (docs/model.md §7):
//
//	λ[t] = (dt/τm) α̃[t] + e^{−dt/τm} λ[t+1]
//	α̃[t] = α[t] − (τr/dt)(α[t] − α[t−1])            (D⁻_τr[α], α[−1] = 0)
//	α_q[t] = φ′_q[t] ⊙ (Σ_{p: q→g} λ_g[t] W_p + e[t]·[q output])
//
// It solves τm λ̇ = λ − D⁻_τr[α] backwards in time; GLE's ê approximates it
// forward in time (same phase, reciprocal gain for a sinusoid). α̃ needs
// α one step earlier, so the populations are integrated one after the
// other, from the output down: the network must have no loops.
func LambdaTrace(n *gle.Network, rec *Recording) ([][]float64, error) {
	if n == nil || rec == nil {
		return nil, &gle.FieldError{Field: "network/recording", Why: "is nil", Err: gle.ErrInvalid}
	}
	if err := rec.fits(n); err != nil {
		return nil, err
	}
	order, err := reverseTopological(n)
	if err != nil {
		return nil, err
	}
	T, B := rec.Steps, rec.Batch
	lambda := make([][]float64, len(n.Pops))
	for _, q := range order {
		pop := &n.Pops[q]
		m := B * pop.N
		alpha := make([]float64, T*m)
		for t := range T {
			a := alpha[t*m : (t+1)*m]
			if q == n.Output {
				copy(a, rec.TargetError[t*m:(t+1)*m])
			}
			first := q != n.Output
			for k := range n.Projs {
				p := &n.Projs[k]
				if p.From != q {
					continue
				}
				above := n.Pops[p.To].N
				la := lambda[p.To][t*B*above : (t+1)*B*above]
				for bi := range B {
					for i := range pop.N {
						var s float64
						for o := range above {
							s += la[bi*above+o] * p.W[o*pop.N+i]
						}
						if first {
							a[bi*pop.N+i] = s
						} else {
							a[bi*pop.N+i] += s
						}
					}
				}
				first = false
			}
			rp := rec.RPrime[q][t*m : (t+1)*m]
			for i := range a {
				a[i] *= rp[i]
			}
		}
		lam := make([]float64, T*m)
		next := make([]float64, m) // λ[t+1]
		for t := T - 1; t >= 0; t-- {
			for bi := range B {
				for o := range pop.N {
					i := bi*pop.N + o
					tm, tr := pop.TauM[o], pop.TauR[o]
					a := alpha[t*m+i]
					var prev float64
					if t > 0 {
						prev = alpha[(t-1)*m+i]
					}
					at := a - tr/n.Dt*(a-prev)
					v := n.Dt/tm*at + math.Exp(-n.Dt/tm)*next[i]
					lam[t*m+i], next[i] = v, v
				}
			}
		}
		lambda[q] = lam
	}
	return lambda, nil
}

// reverseTopological orders the populations so that every population
// comes after all the populations it projects to, or fails on a loop.
func reverseTopological(n *gle.Network) ([]int, error) {
	state := make([]int, len(n.Pops)) // 0 new, 1 on the path, 2 done
	var order []int
	var visit func(q int) error
	visit = func(q int) error {
		switch state[q] {
		case 1:
			return fmt.Errorf("%w: population %s lies on a loop: λ traces are recorded for networks without loops only (the adjoint gradient itself, method adjoint, handles loops)", gle.ErrInvalid, n.Pops[q].Name)
		case 2:
			return nil
		}
		state[q] = 1
		for k := range n.Projs {
			if p := &n.Projs[k]; p.From == q {
				if err := visit(p.To); err != nil {
					return err
				}
			}
		}
		state[q] = 2
		order = append(order, q)
		return nil
	}
	for q := range n.Pops {
		if err := visit(q); err != nil {
			return nil, err
		}
	}
	return order, nil
}
