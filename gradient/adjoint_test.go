package gradient_test

import (
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// TestAdjointConvergesToBPTT: on a random recurrent graph (self, lateral,
// top-down and skip projections) driven by smooth signals over a fixed
// time, the continuous adjoint's gradient and dt times the exact discrete
// (BPTT) gradient approach each other as dt halves, at first order (the
// difference shrinks at least by 0.7 per halving, to below 0.5 % at
// dt = 0.005). The adjoint's J is dt times BPTT's.
func TestAdjointConvergesToBPTT(t *testing.T) {
	const horizon = 8.0
	var prev float64
	for i, dt := range []float64{0.04, 0.02, 0.01, 0.005} {
		n := randomGraph(t, 3, gle.Tanh, gle.MSE, 0.4)
		n.Dt = dt
		steps := int(math.Round(horizon / dt))
		xs, ts := make([][]float64, steps), make([]gle.Target, steps)
		for s := range steps {
			tt := float64(s) * dt
			xs[s] = []float64{math.Sin(0.8 * tt), math.Cos(0.5*tt + 1)}
			ts[s] = gle.Target{Values: []float64{0.4 * math.Sin(0.6*tt-0.5), 0.3 * math.Cos(tt)}}
		}
		bptt, adj := gle.NewFullGrads(n), gle.NewFullGrads(n)
		jb, err := gradient.Full(n, 1, xs, ts, bptt)
		if err != nil {
			t.Fatal(err)
		}
		ja, err := gradient.Adjoint(n, 1, xs, ts, adj)
		if err != nil {
			t.Fatal(err)
		}
		if ja != dt*jb {
			t.Errorf("dt %g: adjoint J %.17g, dt·Σ L_t %.17g", dt, ja, dt*jb)
		}
		var diff, norm float64
		tb, ta := bptt.Tensors(n), adj.Tensors(n)
		for k := range tb {
			var d2, n2 float64
			for j, v := range tb[k].Data {
				d := dt*v - ta[k].Data[j]
				d2 += d * d
				n2 += ta[k].Data[j] * ta[k].Data[j]
			}
			diff, norm = diff+d2, norm+n2
			if n2 == 0 {
				t.Errorf("dt %g: the adjoint gradient of %s is zero", dt, ta[k].Name)
			}
		}
		rel := math.Sqrt(diff / norm)
		t.Logf("dt %-6g J: dt·ΣL %.6g, ∫ℓ %.6g; |dt·∇BPTT − ∇adjoint| / |∇adjoint| = %.3g", dt, dt*jb, ja, rel)
		if i > 0 && !(rel < 0.7*prev) {
			t.Errorf("dt %g: relative difference %.3g did not shrink (was %.3g)", dt, rel, prev)
		}
		if i > 0 && !(rel > 0.3*prev) {
			t.Errorf("dt %g: relative difference %.3g fell faster than first order (was %.3g)", dt, rel, prev)
		}
		prev = rel
	}
	if prev > 0.005 {
		t.Errorf("at dt = 0.005 the adjoint and BPTT still differ by %.3g", prev)
	}
}

// TestLambdaTraceConstantError: a single linear neuron with a constant
// α = 1 has λ[t] = (dt/τm) (1 − e^{−(T−t)dt/τm}) / (1 − e^{−dt/τm}) for
// t ≥ 1 (for t = 0, α[−1] = 0 adds the D⁻_τr jump).
func TestLambdaTraceConstantError(t *testing.T) {
	const T, dt, tm, tr = 500, 0.01, 0.5, 0.1
	n, err := gle.NewNetwork(&gle.Spec{Dt: dt, Loss: gle.MSE, Layers: []gle.LayerSpec{
		{In: 1, Out: 1, TauM: gle.Taus{tm}, TauR: gle.Taus{tr}, Weight: [][]float64{{1}}}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &gradient.Recording{Steps: T, Batch: 1, RPrime: [][]float64{make([]float64, T)}, TargetError: make([]float64, T)}
	for i := range T {
		rec.RPrime[0][i], rec.TargetError[i] = 1, 1
	}
	lambda, err := gradient.LambdaTrace(n, rec)
	if err != nil {
		t.Fatal(err)
	}
	lam := lambda[0]
	if len(lam) != T {
		t.Fatalf("λ has %d values, want %d", len(lam), T)
	}
	q := math.Exp(-dt / tm)
	for i := 1; i < T; i++ {
		want := dt / tm * (1 - math.Pow(q, float64(T-i))) / (1 - q)
		if math.Abs(lam[i]-want) > 1e-12 {
			t.Fatalf("λ[%d] = %.15g, want %.15g", i, lam[i], want)
		}
	}
	// At t = 0, α̃ = α − (τr/dt)(α − 0) = 1 − τr/dt.
	if want := dt/tm*(1-tr/dt) + q*lam[1]; math.Abs(lam[0]-want) > 1e-12 {
		t.Errorf("λ[0] = %.15g, want %.15g", lam[0], want)
	}
}

// TestRecordMatchesEngine: on a chain, Record holds what the engine did
// step by step (φ′ before the step; ê, u, r after it; the target error
// of the output it gave), and LambdaTrace on the recording gives λ of the
// recording's shape, not zero.
func TestRecordMatchesEngine(t *testing.T) {
	for _, loss := range []gle.Loss{gle.MSE, gle.CE} {
		n := randomChain(t, 12, gle.Tanh, loss, false)
		n.Pops[0].Gamma = 0.2
		const T, B = 300, 2
		xs, ts := sequence(12, T, B, 2, 2, loss)
		e, err := gle.NewEngine(n, B)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := gradient.Record(e, xs, ts)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Steps != T || rec.Batch != B || len(rec.EHat) != len(n.Pops) || len(rec.TargetError) != T*B*2 {
			t.Fatalf("recording of %d steps × %d, %d populations, %d target errors", rec.Steps, rec.Batch, len(rec.EHat), len(rec.TargetError))
		}
		// The recording against a second engine run step by step.
		e2, _ := gle.NewEngine(n, B)
		out, te := make([]float64, B*2), make([]float64, B*2)
		for step, x := range xs {
			for q, p := range n.Pops {
				m := B * p.N
				if !equalF(rec.RPrime[q][step*m:(step+1)*m], e2.State().Pops[q].RPrime) {
					t.Fatalf("%v step %d population %d: recorded φ′ is not the state's before the step", loss, step, q)
				}
			}
			if err := e2.Step(out, x, ts[step]); err != nil {
				t.Fatal(err)
			}
			for q, p := range n.Pops {
				m := B * p.N
				if !equalF(rec.EHat[q][step*m:(step+1)*m], e2.EHat(q)) || !equalF(rec.U[q][step*m:(step+1)*m], e2.State().Pops[q].U) ||
					!equalF(rec.R[q][step*m:(step+1)*m], e2.State().Pops[q].R) {
					t.Fatalf("%v step %d population %d: recorded ê, u or r differ from the engine's", loss, step, q)
				}
			}
			n.Loss.TargetError(te, out, ts[step], n.Beta, 2)
			if !equalF(rec.TargetError[step*B*2:(step+1)*B*2], te) {
				t.Fatalf("%v step %d: recorded target error %v, want %v", loss, step, rec.TargetError[step*B*2:(step+1)*B*2], te)
			}
		}
		got, err := gradient.LambdaTrace(n, rec)
		if err != nil {
			t.Fatal(err)
		}
		var norm float64
		for q, p := range n.Pops {
			if len(got[q]) != T*B*p.N {
				t.Errorf("%v population %d: λ has %d values, want %d", loss, q, len(got[q]), T*B*p.N)
			}
			for _, v := range got[q] {
				norm = math.Max(norm, math.Abs(v))
			}
		}
		if norm == 0 {
			t.Errorf("%v: λ is zero everywhere", loss)
		}
	}
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLambdaTraceMatchesGLE: on a LagNet-like chain 1 → 2 → 2 → 1 (τm = 1,
// τr = 0.1, dt = 0.01, sine input, cosine target; GLE paper Fig. 6), GLE's
// ê and the adjoint λ are in phase at the driving frequency (within 0.03
// rad) and their gain ratio is the predicted Π (1+ω²τm²)/(1+ω²τr²) over
// the layer and those above it (within 3 %): ê runs forward in time what
// λ runs backwards. With linear hidden layers this holds in every layer;
// with tanh (the paper's weights) in the layers above the first, as long
// as the modulation by tanh′ is mild.
func TestLambdaTraceMatchesGLE(t *testing.T) {
	const dt, tm, tr, horizon, settle = 0.01, 1.0, 0.1, 100.0, 20.0
	omegas := []float64{0.5, 1, 2}
	if testing.Short() {
		omegas = omegas[1:2]
	}
	for _, c := range []struct {
		phi       gle.Activation
		fromLayer int // the first layer asserted
	}{{gle.Linear, 0}, {gle.Tanh, 1}} {
		for _, omega := range omegas {
			s := &gle.Spec{Dt: dt, Loss: gle.MSE, Seed: 1}
			sizes := []int{1, 2, 2, 1}
			for i := range 3 {
				phi := c.phi
				if i == 2 {
					phi = gle.Linear
				}
				s.Layers = append(s.Layers, gle.LayerSpec{In: sizes[i], Out: sizes[i+1], Phi: phi, TauM: gle.Taus{tm}, TauR: gle.Taus{tr}})
			}
			net, err := gle.NewNetwork(s)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 0x6c65)) // experiments.RunLagNet's weights
			for k := range net.Projs {
				for i := range net.Projs[k].W {
					net.Projs[k].W[i] = rng.NormFloat64()
				}
			}
			eng, err := gle.NewEngine(net, 1)
			if err != nil {
				t.Fatal(err)
			}
			steps := int(math.Round(horizon / dt))
			xs, ts := make([][]float64, steps), make([]gle.Target, steps)
			for k := range steps {
				tt := float64(k) * dt
				xs[k] = []float64{math.Sin(omega * tt)}
				ts[k] = gle.Target{Values: []float64{0.5 * math.Cos(omega*tt)}}
			}
			rec, err := gradient.Record(eng, xs, ts)
			if err != nil {
				t.Fatal(err)
			}
			lambda, err := gradient.LambdaTrace(net, rec)
			if err != nil {
				t.Fatal(err)
			}
			period := 2 * math.Pi / omega
			from := int(math.Round(settle / dt))
			count := int(math.Floor((horizon-2*settle)/period)) * int(math.Round(period/dt))
			h := (1 + omega*omega*tm*tm) / (1 + omega*omega*tr*tr)
			fourier := func(x []float64, width, o int) complex128 {
				var s complex128
				for k := from; k < from+count; k++ {
					s += complex(x[k*width+o], 0) * cmplx.Exp(complex(0, -omega*dt*float64(k)))
				}
				return s
			}
			for li, l := range net.Pops {
				for o := range l.N {
					r := fourier(rec.EHat[li], l.N, o) / fourier(lambda[li], l.N, o)
					phase, gain, predicted := cmplx.Phase(r), cmplx.Abs(r), math.Pow(h, float64(len(net.Pops)-li))
					t.Logf("%v ω=%g layer %d neuron %d: phase %+.4f gain %.4g (theory %.4g)", c.phi, omega, li, o, phase, gain, predicted)
					if li < c.fromLayer {
						continue
					}
					if math.Abs(phase) > 0.03 {
						t.Errorf("%v ω=%g layer %d neuron %d: phase %.4f rad, want ≈ 0", c.phi, omega, li, o, phase)
					}
					if math.Abs(gain/predicted-1) > 0.03 {
						t.Errorf("%v ω=%g layer %d neuron %d: gain %.4g, theory %.4g", c.phi, omega, li, o, gain, predicted)
					}
				}
			}
		}
	}
}

// TestLambdaTraceGraph: on a network without loops but with a skip
// projection and a population feeding two others, LambdaTrace sums the
// adjoint over every outgoing projection (lambdaSteadyState checks it
// against the closed form); on a network with a loop it returns an
// error, never panics.
func TestLambdaTraceGraph(t *testing.T) {
	in := gle.InputName
	s := &gle.Spec{Dt: 0.05, Loss: gle.MSE, Inputs: 2, Output: "out", Seed: 5,
		Populations: []gle.PopulationSpec{
			{Name: "a", Size: 3, Phi: gle.Tanh, TauM: gle.Taus{0.5, 0.7, 0.3}, TauR: gle.Taus{0.1, 0.2, 0.05}},
			{Name: "b", Size: 2, Phi: gle.Sigmoid, TauM: gle.Taus{0.4}, TauR: gle.Taus{0.1}},
			{Name: "out", Size: 2, Phi: gle.Linear, TauM: gle.Taus{0.6}, TauR: gle.Taus{0.2}},
		},
		Projections: []gle.ProjectionSpec{{From: in, To: "a"}, {From: "a", To: "b"}, {From: "b", To: "out"}, {From: "a", To: "out"}}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	lambdaSteadyState(t, n)

	// A loop: a → b → a.
	const T, B = 200, 2
	xs, ts := sequence(8, T, B, 2, 2, gle.MSE)
	s.Projections = append(s.Projections, gle.ProjectionSpec{From: "b", To: "a"})
	loop, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := gle.NewEngine(loop, B)
	rec, err := gradient.Record(e, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]float64
	err = noPanic(t, "LambdaTrace on a loop", func() error {
		var err error
		got, err = gradient.LambdaTrace(loop, rec)
		return err
	})
	if err == nil || errors.Is(err, errPanicked) || !errors.Is(err, gle.ErrInvalid) || got != nil {
		t.Errorf("LambdaTrace on a loop: %v (λ %v), want an ErrInvalid error", err, got != nil)
	}
	// A self projection is a loop too.
	s.Projections[len(s.Projections)-1] = gle.ProjectionSpec{From: "out", To: "out"}
	self, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	e, _ = gle.NewEngine(self, B)
	if rec, err = gradient.Record(e, xs, ts); err != nil {
		t.Fatal(err)
	}
	if err := noPanic(t, "LambdaTrace on a self loop", func() error { _, err := gradient.LambdaTrace(self, rec); return err }); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("LambdaTrace on a self loop: %v, want an ErrInvalid error", err)
	}
}

// TestLambdaTraceSteadyState: on a layered chain (tanh) and a chain with
// a single linear neuron per layer, λ agrees with the closed form of
// lambdaSteadyState.
func TestLambdaTraceSteadyState(t *testing.T) {
	lambdaSteadyState(t, randomChain(t, 12, gle.Tanh, gle.MSE, false))
	n, err := gle.NewNetwork(&gle.Spec{Dt: 0.02, Loss: gle.MSE, Layers: []gle.LayerSpec{
		{In: 1, Out: 1, TauM: gle.Taus{1}, TauR: gle.Taus{0.1}, Weight: [][]float64{{1}}},
		{In: 1, Out: 1, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}, Weight: [][]float64{{-2}}}}})
	if err != nil {
		t.Fatal(err)
	}
	lambdaSteadyState(t, n)
}

// lambdaSteadyState checks LambdaTrace on n (without loops) against the
// closed-form steady state of its recurrence (docs/model.md §7) for
// sinusoidal target errors and constant φ′, a recording built by hand.
// For α[t] = Re(A zᵗ), z = e^{iωdt}, α̃ = α − (τr/dt)(α − α[t−1]) has the
// amplitude A (1 − τr/dt + (τr/dt) z⁻¹), and λ[t] = (dt/τm) α̃[t] +
// e^{−dt/τm} λ[t+1] is solved by λ[t] = Re(Λ zᵗ) with
//
//	Λ = H A,   H = (dt/τm)(1 − τr/dt + (τr/dt) z⁻¹) / (1 − e^{−dt/τm} z)
//
// per neuron, where A = φ′ ⊙ (Σ_{p: q→g} W_pᵀ Λ_g + E·[q output]) — a
// product of transfer functions over the paths to the output, computed
// with complex numbers, never in time. It holds from step P on, P the
// number of populations (α[−1] = 0 moves the output's λ[0], and each
// projection carries that one step further down), until the terminal
// condition λ = 0 after the last step reaches back; the check covers
// t = P … T/2, where that transient is below e^{−50}.
func lambdaSteadyState(t *testing.T, n *gle.Network) {
	t.Helper()
	const B = 2
	dt := n.Dt
	var tauMax float64
	for _, p := range n.Pops {
		for o := range p.N {
			tauMax = math.Max(tauMax, p.TauM[o])
		}
	}
	T := 2 * int(math.Ceil(50*tauMax/dt*1.5))
	const omega = 1.3
	z := cmplx.Exp(complex(0, omega*dt))
	K := n.Outputs()
	// Target error amplitudes E[b][k] and φ′ per population and neuron
	// (constant in time, different per sample).
	E := make([]complex128, B*K)
	for i := range E {
		E[i] = cmplx.Rect(0.5+0.25*float64(i), 0.7*float64(i))
	}
	rp := make([][]float64, len(n.Pops))
	rec := &gradient.Recording{Steps: T, Batch: B, RPrime: make([][]float64, len(n.Pops)), TargetError: make([]float64, T*B*K)}
	for q, p := range n.Pops {
		rp[q] = make([]float64, B*p.N)
		for i := range rp[q] {
			rp[q][i] = 0.4 + 0.6*math.Abs(math.Sin(float64(3*q+i+1)))
		}
		rec.RPrime[q] = make([]float64, T*B*p.N)
		for k := range T {
			copy(rec.RPrime[q][k*B*p.N:], rp[q])
		}
	}
	for k := range T {
		for i, a := range E {
			rec.TargetError[k*B*K+i] = real(a * cmplx.Pow(z, complex(float64(k), 0)))
		}
	}
	lambda, err := gradient.LambdaTrace(n, rec)
	if err != nil {
		t.Fatal(err)
	}
	// Amplitudes from the output down: a population's Λ needs those of
	// the populations it projects to.
	amp := make([][]complex128, len(n.Pops))
	var solve func(q int) []complex128
	solve = func(q int) []complex128 {
		if amp[q] != nil {
			return amp[q]
		}
		p := &n.Pops[q]
		a := make([]complex128, B*p.N)
		if q == n.Output {
			copy(a, E)
		}
		for k := range n.Projs {
			pr := &n.Projs[k]
			if pr.From != q {
				continue
			}
			above := solve(pr.To)
			na := n.Pops[pr.To].N
			for b := range B {
				for i := range p.N {
					for o := range na {
						a[b*p.N+i] += above[b*na+o] * complex(pr.W[o*p.N+i], 0)
					}
				}
			}
		}
		for i := range a {
			tm, tr := p.TauM[i%p.N], p.TauR[i%p.N]
			h := complex(dt/tm, 0) * (complex(1-tr/dt, 0) + complex(tr/dt, 0)/z) / (1 - complex(math.Exp(-dt/tm), 0)*z)
			a[i] *= complex(rp[q][i], 0) * h
		}
		amp[q] = a
		return a
	}
	for q, p := range n.Pops {
		want := solve(q)
		m := B * p.N
		var worst, scale float64
		for i := range want {
			scale = math.Max(scale, cmplx.Abs(want[i]))
		}
		for k := len(n.Pops); k <= T/2; k++ {
			zk := cmplx.Pow(z, complex(float64(k), 0))
			for i := range want {
				worst = math.Max(worst, math.Abs(lambda[q][k*m+i]-real(want[i]*zk)))
			}
		}
		t.Logf("population %s: |Λ| up to %.3g, max |λ − Re(Λ zᵗ)| %.3g over %d steps", p.Name, scale, worst, T/2)
		if scale == 0 || !(worst <= 1e-12*scale) {
			t.Errorf("population %s: λ differs from the closed-form steady state by %.3g (amplitude %.3g)", p.Name, worst, scale)
		}
	}
}
