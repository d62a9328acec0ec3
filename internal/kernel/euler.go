package kernel

import "unsafe"

// EulerParams holds the operands of Euler for one population of N neurons
// and a batch: per-neuron values (N each) and batch-major arrays (Batch×N).
type EulerParams struct {
	Dt, Gamma   float64
	Prospective bool
	TauM, TauR  []float64
	InvTauM     []float64 // scratch for 1/τm and 1/τr (N each), filled by Euler
	InvTauR     []float64
	Bias        []float64
	E, RPrime   []float64 // the error arriving (before gating) and the gate r′
	S           []float64 // synaptic input W r (without the bias)
	U, V        []float64 // committed state
	NextU       []float64 // outputs
	NextV       []float64
	EHat, UDot  []float64
	UBreve      []float64
}

// Euler advances every neuron of a population by one Euler step (SPEC §3),
// the per-neuron part of a step shared by the layered and the graph engine,
// element-wise:
//
//	e = e_arriving ⊙ r′
//	prospective: v̇ = (e − v)/τr, v′ = v + dt v̇, ê = v + τm v̇; else v′ = ê = e
//	u̇ = (s + b + γ ê − u)/τm,  u′ = u + dt u̇,  ŭ = u + τr u̇
//
// With AVX2, rows of four or more neurons go four at a time through an
// assembly kernel with the same roundings (no fused operations), so both
// paths agree bit for bit.
func Euler(p *EulerParams) {
	N := len(p.TauM)
	n := len(p.U)
	if n == 0 {
		return
	}
	// Reciprocals of the time constants (τm may have changed since the
	// last step).
	for o := range N {
		p.InvTauM[o], p.InvTauR[o] = 1/p.TauM[o], 1/p.TauR[o]
	}
	// Bounds, once: every array the kernels touch.
	_, _, _, _ = p.TauR[N-1], p.InvTauM[N-1], p.InvTauR[N-1], p.Bias[N-1]
	_, _, _, _, _ = p.E[n-1], p.RPrime[n-1], p.S[n-1], p.V[n-1], p.NextU[n-1]
	_, _, _, _ = p.NextV[n-1], p.EHat[n-1], p.UDot[n-1], p.UBreve[n-1]
	if !useAsm || N < 4 {
		eulerGo(p, 0, n)
		return
	}
	n4 := N &^ 3
	prospective := 0
	if p.Prospective {
		prospective = 1
	}
	a := eulerArgs{
		tauM: &p.TauM[0], tauR: &p.TauR[0], invTauM: &p.InvTauM[0], invTauR: &p.InvTauR[0], bias: &p.Bias[0],
		n: n4, dt: p.Dt, gamma: p.Gamma, prospective: prospective,
	}
	for off := 0; off < n; off += N {
		a.e, a.rp, a.s = &p.E[off], &p.RPrime[off], &p.S[off]
		a.u, a.v, a.nu, a.nv = &p.U[off], &p.V[off], &p.NextU[off], &p.NextV[off]
		a.ehat, a.udot, a.ub = &p.EHat[off], &p.UDot[off], &p.UBreve[off]
		euler4(&a)
		if n4 < N {
			eulerGo(p, off+n4, off+N)
		}
	}
}

// eulerGo steps elements lo…hi−1 (neuron i mod N of row i / N).
func eulerGo(p *EulerParams, lo, hi int) {
	N := len(p.TauM)
	// Local slices of the range, so that the loop has no bounds checks.
	ea, rp, sIn := p.E[lo:hi], p.RPrime[lo:hi], p.S[lo:hi]
	u0, v0, u1, v1 := p.U[lo:hi], p.V[lo:hi], p.NextU[lo:hi], p.NextV[lo:hi]
	ehatOut, udotOut, ub := p.EHat[lo:hi], p.UDot[lo:hi], p.UBreve[lo:hi]
	tauM, tauR, invTauM, invTauR, bias := p.TauM[:N], p.TauR[:N], p.InvTauM[:N], p.InvTauR[:N], p.Bias[:N]
	dt, gamma, prospective := p.Dt, p.Gamma, p.Prospective
	o := lo % N
	for i := range ea {
		// float64(…) rounds each product, as the vector kernel does.
		inst := ea[i] * rp[i]
		v := v0[i]
		ehat := inst
		if prospective {
			vdot := (inst - v) * invTauR[o]
			v1[i] = v + float64(dt*vdot)
			ehat = v + float64(tauM[o]*vdot)
		} else {
			v1[i] = inst
		}
		u := u0[i]
		udot := (sIn[i] + bias[o] + float64(gamma*ehat) - u) * invTauM[o]
		u1[i] = u + float64(dt*udot)
		ub[i] = u + float64(tauR[o]*udot)
		ehatOut[i], udotOut[i] = ehat, udot
		if o++; o == N {
			o = 0
		}
	}
}

// eulerArgs is the argument block of euler4 (field offsets are used by
// the assembly: pointers at 0…112, n at 120, dt 128, gamma 136,
// prospective 144).
type eulerArgs struct {
	e, rp, s, u, v, nu, nv, ehat, udot, ub *float64
	tauM, tauR, invTauM, invTauR, bias     *float64
	n                                      int
	dt, gamma                              float64
	prospective                            int
}

// The assembly relies on this layout.
var _ = [1]struct{}{}[unsafe.Offsetof(eulerArgs{}.prospective)-144]
