package kernel

import "unsafe"

// EulerParams holds the operands of Euler for one population of N neurons
// and a batch: per-neuron values (N each) and batch-major arrays (Batch×N).
type EulerParams[T Float] struct {
	Dt, Gamma   T
	Prospective bool
	TauM, TauR  []T
	InvTauM     []T // scratch for 1/τm and 1/τr (N each), filled by Euler
	InvTauR     []T
	Bias        []T
	E, RPrime   []T // the error arriving (before gating) and the gate r′
	S           []T // synaptic input W r (without the bias)
	U, V        []T // committed state
	NextU       []T // outputs
	NextV       []T
	EHat, UDot  []T
	UBreve      []T
}

// Euler advances every neuron of a population by one Euler step (docs/model.md §3),
// the per-neuron part of the engine's step,
// element-wise:
//
//	e = e_arriving ⊙ r′
//	prospective: v̇ = (e − v)/τr, v′ = v + dt v̇, ê = v + τm v̇; else v′ = ê = e
//	u̇ = (s + b + γ ê − u)/τm,  u′ = u + dt u̇,  ŭ = u + τr u̇
//
// With AVX2, rows of at least one vector of neurons (4 float64, 8 float32)
// go a vector at a time through an assembly kernel with the same roundings
// (no fused operations), so both paths agree bit for bit; the outputs must
// not share memory with the inputs.
func Euler[T Float](p *EulerParams[T]) {
	EulerPrepare(p)
	EulerRows(p, 0, len(p.U)/max(1, len(p.TauM)))
}

// EulerPrepare fills the reciprocals 1/τm and 1/τr (τm may have changed
// since the last step); EulerRows then steps any rows, in any order and
// on any goroutines, with Euler's results.
func EulerPrepare[T Float](p *EulerParams[T]) { Reciprocals(p.InvTauM, p.InvTauR, p.TauM, p.TauR) }

// Reciprocals sets invM[o] = 1/tauM[o] and invR[o] = 1/tauR[o]: the
// scratch EulerPrepare fills.
func Reciprocals[T Float](invM, invR, tauM, tauR []T) {
	N := len(tauM)
	invM, invR, tauR = invM[:N], invR[:N], tauR[:N]
	for o, t := range tauM {
		invM[o], invR[o] = 1/t, 1/tauR[o]
	}
}

// EulerRows is Euler on the samples (rows) r0…r1−1 of the batch, after
// EulerPrepare.
func EulerRows[T Float](p *EulerParams[T], r0, r1 int) {
	N := len(p.TauM)
	n := len(p.U)
	if n == 0 || r0 >= r1 {
		return
	}
	// Bounds, once: every array the kernels touch, to the rows' end
	// (other goroutines may be stepping the rows after them).
	m := r1 * N
	_, _, _, _ = p.TauR[N-1], p.InvTauM[N-1], p.InvTauR[N-1], p.Bias[N-1]
	_, _, _, _, _ = p.E[m-1], p.RPrime[m-1], p.S[m-1], p.V[m-1], p.NextU[m-1]
	_, _, _, _, _ = p.NextV[m-1], p.EHat[m-1], p.UDot[m-1], p.UBreve[m-1], p.U[m-1]
	L := lanes[T]()
	if !useAsm || N < L {
		eulerGo(p, r0*N, r1*N)
		return
	}
	nv := N &^ (L - 1)
	prospective := 0
	if p.Prospective {
		prospective = 1
	}
	a := eulerArgs[T]{dt: p.Dt, gamma: p.Gamma, prospective: prospective}
	// Each row's first nv neurons; then, when N is not a multiple of L,
	// the last vector of each row once more: every element depends only on
	// the inputs, which no output overwrites, so the neurons computed twice
	// get the same values.
	eulerRows(&a, p, r0, r1, 0, nv)
	if nv < N {
		eulerRows(&a, p, r0, r1, N-L, L)
	}
}

// eulerRows runs the vector kernel on neurons first…first+count−1 of
// rows r0…r1−1.
func eulerRows[T Float](a *eulerArgs[T], p *EulerParams[T], r0, r1, first, count int) {
	N := len(p.TauM)
	a.tauM, a.tauR, a.invTauM, a.invTauR, a.bias = &p.TauM[first], &p.TauR[first], &p.InvTauM[first], &p.InvTauR[first], &p.Bias[first]
	a.n = count
	for off := r0*N + first; off < r1*N; off += N {
		a.e, a.rp, a.s = &p.E[off], &p.RPrime[off], &p.S[off]
		a.u, a.v, a.nu, a.nv = &p.U[off], &p.V[off], &p.NextU[off], &p.NextV[off]
		a.ehat, a.udot, a.ub = &p.EHat[off], &p.UDot[off], &p.UBreve[off]
		eulerVec(a)
	}
}

// eulerGo steps elements lo…hi−1 (neuron i mod N of row i / N).
func eulerGo[T Float](p *EulerParams[T], lo, hi int) {
	N := len(p.TauM)
	// Local slices of the range, so that the loop has no bounds checks.
	ea, rp, sIn := p.E[lo:hi], p.RPrime[lo:hi], p.S[lo:hi]
	u0, v0, u1, v1 := p.U[lo:hi], p.V[lo:hi], p.NextU[lo:hi], p.NextV[lo:hi]
	ehatOut, udotOut, ub := p.EHat[lo:hi], p.UDot[lo:hi], p.UBreve[lo:hi]
	tauM, tauR, invTauM, invTauR, bias := p.TauM[:N], p.TauR[:N], p.InvTauM[:N], p.InvTauR[:N], p.Bias[:N]
	dt, gamma, prospective := p.Dt, p.Gamma, p.Prospective
	o := lo % N
	for i := range ea {
		// T(…) rounds each product, as the vector kernel does.
		inst := ea[i] * rp[i]
		v := v0[i]
		ehat := inst
		if prospective {
			vdot := (inst - v) * invTauR[o]
			v1[i] = v + T(dt*vdot)
			ehat = v + T(tauM[o]*vdot)
		} else {
			v1[i] = inst
		}
		u := u0[i]
		udot := (sIn[i] + bias[o] + T(gamma*ehat) - u) * invTauM[o]
		u1[i] = u + T(dt*udot)
		ub[i] = u + T(tauR[o]*udot)
		ehatOut[i], udotOut[i] = ehat, udot
		if o++; o == N {
			o = 0
		}
	}
}

// eulerArgs is the argument block of euler4 and euler8f32 (field offsets
// are used by the assembly: pointers at 0…112, n at 120, dt 128; gamma
// and prospective at 136 and 144 for float64, 132 and 136 for float32).
type eulerArgs[T Float] struct {
	e, rp, s, u, v, nu, nv, ehat, udot, ub *T
	tauM, tauR, invTauM, invTauR, bias     *T
	n                                      int
	dt, gamma                              T
	prospective                            int
}

// The assembly relies on this layout.
var (
	_ = [1]struct{}{}[unsafe.Offsetof(eulerArgs[float64]{}.prospective)-144]
	_ = [1]struct{}{}[unsafe.Offsetof(eulerArgs[float32]{}.gamma)-132]
	_ = [1]struct{}{}[unsafe.Offsetof(eulerArgs[float32]{}.prospective)-136]
)

// eulerVec runs the assembly kernel of T's width on one row.
func eulerVec[T Float](a *eulerArgs[T]) {
	switch a := any(a).(type) {
	case *eulerArgs[float64]:
		euler4(a)
	case *eulerArgs[float32]:
		euler8f32(a)
	}
}
