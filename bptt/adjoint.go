package bptt

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
)

// Recording holds what a GLE run did, step by step, for comparing its
// errors with the adjoint. Per layer l the arrays are flat Steps×Batch×Out_l.
type Recording struct {
	Steps, Batch int
	// RPrime is φ′ as the engine used it at each step: the state r′ before
	// the step.
	RPrime [][]float64
	// EHat is GLE's prospective error ê computed at each step.
	EHat [][]float64
	// U and R are the membrane potential and the rate after each step.
	U, R [][]float64
	// TopError is the target error e at each step (Steps×Batch×Outputs),
	// from the output r of the step: β (y − r) or β (onehot(y) − softmax(r)).
	TopError []float64
}

// Record runs e over the inputs and targets (no learning) and records φ′,
// ê, u, r and the target error of every step.
func Record(e *gle.Engine, xs [][]float64, ts []gle.Target) (*Recording, error) {
	if len(ts) != len(xs) {
		return nil, fmt.Errorf("%w: %d input steps but %d targets", gle.ErrShape, len(xs), len(ts))
	}
	n, B, T := e.Net, e.Batch(), len(xs)
	k := n.Outputs()
	rec := &Recording{Steps: T, Batch: B, TopError: make([]float64, T*B*k)}
	for _, l := range n.Layers {
		for _, dst := range []*[][]float64{&rec.RPrime, &rec.EHat, &rec.U, &rec.R} {
			*dst = append(*dst, make([]float64, T*B*l.Out))
		}
	}
	out := make([]float64, B*k)
	for t, x := range xs {
		for li, l := range n.Layers {
			m := B * l.Out
			copy(rec.RPrime[li][t*m:(t+1)*m], e.State.Layers[li].RPrime)
		}
		if err := e.Step(out, x, ts[t]); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		for li, l := range n.Layers {
			m := B * l.Out
			copy(rec.EHat[li][t*m:(t+1)*m], e.ProspectiveErrors(li))
			copy(rec.U[li][t*m:(t+1)*m], e.State.Layers[li].U)
			copy(rec.R[li][t*m:(t+1)*m], e.State.Layers[li].R)
		}
		n.Loss.TargetError(rec.TopError[t*B*k:(t+1)*B*k], out, ts[t], n.Beta, k)
	}
	return rec, nil
}

// Adjoint returns the continuous adjoint λ of every layer (flat
// Steps×Batch×Out_l) for a recorded run, integrated backwards in time from
// λ = 0 after the last step (SPEC §7, discretised as the reference's
// LagNet):
//
//	λ[t] = (dt/τm) α̃[t] + e^{−dt/τm} λ[t+1]
//	α̃[t] = α[t] − (τr/dt)(α[t] − α[t−1])       (D⁻_τr[α], α[−1] = 0)
//	α[t] = φ′[t] ⊙ (λ_above[t] W_above)          (hidden layers)
//	α[t] = φ′[t] ⊙ e[t]                           (top layer, target error)
//
// It solves τm λ̇ = λ − D⁻_τr[α] backwards in time; GLE's ê approximates it
// forward in time (same phase, reciprocal gain for a sinusoid).
func Adjoint(n *gle.Network, rec *Recording) [][]float64 {
	T, B := rec.Steps, rec.Batch
	top := len(n.Layers) - 1
	lambda := make([][]float64, len(n.Layers))
	for li := top; li >= 0; li-- {
		l := &n.Layers[li]
		m := B * l.Out
		// α of this layer at every step.
		alpha := make([]float64, T*m)
		for t := range T {
			a := alpha[t*m : (t+1)*m]
			if li == top {
				copy(a, rec.TopError[t*m:(t+1)*m])
			} else {
				above := &n.Layers[li+1]
				la := lambda[li+1][t*B*above.Out : (t+1)*B*above.Out]
				for b := range B {
					for i := range l.Out {
						var s float64
						for o := range above.Out {
							s += la[b*above.Out+o] * above.W[o*above.In+i]
						}
						a[b*l.Out+i] = s
					}
				}
			}
			rp := rec.RPrime[li][t*m : (t+1)*m]
			for i := range a {
				a[i] *= rp[i]
			}
		}
		lam := make([]float64, T*m)
		next := make([]float64, m) // λ[t+1]
		for t := T - 1; t >= 0; t-- {
			for b := range B {
				for o := range l.Out {
					i := b*l.Out + o
					tm, tr := l.TauM[o], l.TauR[o]
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
		lambda[li] = lam
	}
	return lambda
}
