package graph

import (
	"fmt"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// Grads holds gradients of a graph network: per projection dW (and dB
// for learned feedback, nil otherwise), per population db, dτm, dτr.
// Engine fills it with GLE's local rule, Loss with the exact gradient.
type Grads struct {
	W, Feedback   [][]float64
	B, TauM, TauR [][]float64
}

// NewGrads returns zero gradients shaped like n's parameters.
func NewGrads(n *Network) *Grads {
	g := &Grads{}
	for _, p := range n.Projs {
		g.W = append(g.W, make([]float64, len(p.W)))
		var fb []float64
		if p.Feedback == Learned {
			fb = make([]float64, len(p.B))
		}
		g.Feedback = append(g.Feedback, fb)
	}
	for _, p := range n.Pops {
		var b []float64
		if p.B != nil {
			b = make([]float64, p.N)
		}
		g.B = append(g.B, b)
		g.TauM = append(g.TauM, make([]float64, p.N))
		g.TauR = append(g.TauR, make([]float64, p.N))
	}
	return g
}

// tape is the errors-off forward trajectory of a graph network: R[t][q] is
// population q's rate before step t (t = 0…T), U, UD and RP its u, u̇ and
// φ′(ŭ) at step t.
type tape struct {
	R, U, UD, RP [][][]float64
}

// forward runs the errors-off Euler map over xs from the state s (its U
// and R; the zero state when s is nil) and returns its tape and Σ_t L_t.
// A non-nil s receives the final U and R.
func forward(n *Network, batch int, s *State, xs [][]float64, ts []gle.Target) (*tape, float64, error) {
	T := len(xs)
	if len(ts) != T {
		return nil, 0, fmt.Errorf("%w: %d inputs, %d targets", gle.ErrShape, T, len(ts))
	}
	P := len(n.Pops)
	B := batch
	// Tape: R[t][g] is the rate before step t; U, u̇, φ′ per step.
	R := make([][][]float64, T+1)
	U, UD, RP := make([][][]float64, T), make([][][]float64, T), make([][][]float64, T)
	R[0] = make([][]float64, P)
	u := make([][]float64, P)
	for k, p := range n.Pops {
		R[0][k] = make([]float64, B*p.N)
		u[k] = make([]float64, B*p.N)
		if s != nil {
			if s.Batch != B || len(s.U[k]) != B*p.N {
				return nil, 0, fmt.Errorf("%w: state for batch %d, want %d", gle.ErrShape, s.Batch, B)
			}
			copy(R[0][k], s.R[k])
			copy(u[k], s.U[k])
		}
	}
	k := n.Outputs()
	var J float64
	for t := range T {
		if len(xs[t]) != B*n.Inputs {
			return nil, 0, fmt.Errorf("%w: input %d has %d values, want %d", gle.ErrShape, t, len(xs[t]), B*n.Inputs)
		}
		if err := ts[t].Check(n.Loss, B, k); err != nil {
			return nil, 0, fmt.Errorf("step %d: %w", t, err)
		}
		J += n.Loss.Value(R[t][n.Output], ts[t], k)
		s := make([][]float64, P)
		for q, p := range n.Pops {
			s[q] = make([]float64, B*p.N)
		}
		for pi := range n.Projs {
			p := &n.Projs[pi]
			src := xs[t]
			if p.From >= 0 {
				src = R[t][p.From]
			}
			in := n.fromSize(p)
			tmp := make([]float64, B*n.Pops[p.To].N)
			kernel.MulABt(tmp, src, p.W, B, in, n.Pops[p.To].N, make([]float64, len(p.W)))
			kernel.Axpy(s[p.To], 1, tmp)
		}
		R[t+1], U[t], UD[t], RP[t] = make([][]float64, P), make([][]float64, P), make([][]float64, P), make([][]float64, P)
		for q, pop := range n.Pops {
			m := B * pop.N
			U[t][q], UD[t][q], RP[t][q], R[t+1][q] = append([]float64(nil), u[q]...), make([]float64, m), make([]float64, m), make([]float64, m)
			ub := make([]float64, m)
			for b := range B {
				for o := range pop.N {
					i := b*pop.N + o
					sb := s[q][i]
					if pop.B != nil {
						sb += pop.B[o]
					}
					ud := (sb - u[q][i]) * (1 / pop.TauM[o])
					UD[t][q][i] = ud
					ub[i] = u[q][i] + pop.TauR[o]*ud
					u[q][i] += n.Dt * ud
				}
			}
			pop.Phi.Apply(R[t+1][q], RP[t][q], ub)
		}
	}
	if s != nil {
		for q := range n.Pops {
			copy(s.R[q], R[T][q])
			copy(s.U[q], u[q])
		}
	}
	return &tape{R: R, U: U, UD: UD, RP: RP}, J, nil
}

// Loss returns Σ_t L_t of the errors-off forward pass over xs and ts from
// the zero state, and, when g is non-nil, writes its exact gradient into
// g by a reverse sweep over the stored trajectory (discrete BPTT through
// every projection, recurrent ones included).
func Loss(n *Network, batch int, xs [][]float64, ts []gle.Target, g *Grads) (float64, error) {
	return loss(n, batch, nil, xs, ts, g)
}

// LossFrom is Loss starting from the state s (its U and R) instead of the
// zero state, leaving the final U and R of the forward pass in s: run over
// consecutive windows of a sequence it is truncated BPTT (the gradient of
// each window's loss, the graph cut at the window's start).
func LossFrom(n *Network, s *State, xs [][]float64, ts []gle.Target, g *Grads) (float64, error) {
	return loss(n, s.Batch, s, xs, ts, g)
}

func loss(n *Network, batch int, s *State, xs [][]float64, ts []gle.Target, g *Grads) (float64, error) {
	tp, J, err := forward(n, batch, s, xs, ts)
	if err != nil || g == nil {
		return J, err
	}
	T, P, B, k := len(xs), len(n.Pops), batch, n.Outputs()
	R, UD, RP := tp.R, tp.UD, tp.RP
	// Reverse sweep. gR[q] = ∂J/∂R_q[t+1], gU[q] = ∂J/∂U_q[t+1]. Learned
	// feedback weights do not enter the forward pass: their gradient is 0.
	for _, x := range [][][]float64{g.W, g.Feedback, g.B, g.TauM, g.TauR} {
		for _, v := range x {
			clear(v)
		}
	}
	gR, gU, gRnext := make([][]float64, P), make([][]float64, P), make([][]float64, P)
	for q, p := range n.Pops {
		gR[q], gU[q], gRnext[q] = make([]float64, B*p.N), make([]float64, B*p.N), make([]float64, B*p.N)
	}
	gs := make([][]float64, P)
	for q, p := range n.Pops {
		gs[q] = make([]float64, B*p.N)
	}
	for t := T - 1; t >= 0; t-- {
		for q, pop := range n.Pops {
			for b := range B {
				for o := range pop.N {
					i := b*pop.N + o
					gUb := gR[q][i] * RP[t][q][i]
					gud := n.Dt*gU[q][i] + pop.TauR[o]*gUb
					gs[q][i] = gud / pop.TauM[o]
					gU[q][i] += gUb - gs[q][i]
					g.TauM[q][o] -= gs[q][i] * UD[t][q][i]
					g.TauR[q][o] += gUb * UD[t][q][i]
					if g.B[q] != nil {
						g.B[q][o] += gs[q][i]
					}
				}
			}
			clear(gRnext[q])
		}
		// Parameter and input adjoints of every projection.
		for pi := range n.Projs {
			p := &n.Projs[pi]
			src := xs[t]
			if p.From >= 0 {
				src = R[t][p.From]
			}
			in, out := n.fromSize(p), n.Pops[p.To].N
			kernel.AddAtB(g.W[pi], gs[p.To], src, B, out, in) // ∂W_p += g_s r_fromᵀ
			if p.From >= 0 {
				tmp := make([]float64, B*in)
				kernel.MulAB(tmp, gs[p.To], p.W, B, out, in) // g_R,from[t] += g_s W_p
				kernel.Axpy(gRnext[p.From], 1, tmp)
			}
		}
		lossGrad := make([]float64, B*k)
		n.Loss.Gradient(lossGrad, R[t][n.Output], ts[t], k)
		kernel.Axpy(gRnext[n.Output], 1, lossGrad)
		gR, gRnext = gRnext, gR
	}
	return J, nil
}
