package gle_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/optim"
)

func ptr[T any](v T) *T { return &v }

// oneLayer is a single layer 1→n with given τ's and activation.
func oneLayer(phi gle.Activation, tauM, tauR float64, n int) *gle.Spec {
	return &gle.Spec{
		Dt: 0.01, Loss: gle.NoLoss, Seed: 3,
		Layers: []gle.LayerSpec{{In: 1, Out: n, Phi: phi, TauM: gle.Taus{tauM}, TauR: gle.Taus{tauR}}},
	}
}

func mustEngine(t testing.TB, s *gle.Spec, batch int) *gle.Engine {
	t.Helper()
	net, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	e, err := gle.NewEngine(net, batch)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestLENeuronIsInstantaneous: with τm = τr and γ = 0, ŭ = u + τm u̇ =
// W x + b, so the committed rate is φ(W x + b) after every step, for any
// input history.
func TestLENeuronIsInstantaneous(t *testing.T) {
	for _, act := range []gle.Activation{gle.Linear, gle.Tanh, gle.Sigmoid, gle.Softplus, gle.ReLU} {
		e := mustEngine(t, oneLayer(act, 0.7, 0.7, 3), 2)
		w, bias := e.Net.Projs[0].W, e.Net.Pops[0].Bias
		out := make([]float64, 2*3)
		for step := range 50 {
			x := []float64{math.Sin(0.3 * float64(step)), math.Cos(1.7 * float64(step))}
			if err := e.Step(out, x, gle.Target{}); err != nil {
				t.Fatal(err)
			}
			for b := range 2 {
				for o := range 3 {
					want, _ := act.Eval(w[o]*x[b] + bias[o])
					got := e.State().Pops[0].R[b*3+o]
					if math.Abs(got-want) > 1e-14 {
						t.Fatalf("%s step %d: r = %.17g, φ(Wx+b) = %.17g", act, step, got, want)
					}
				}
			}
		}
	}
}

// TestOutputLag: the output of step t is the rate committed at step t−1,
// zero at t = 0.
func TestOutputLag(t *testing.T) {
	e := mustEngine(t, oneLayer(gle.Linear, 1, 1, 1), 1)
	out := []float64{42}
	e.Step(out, []float64{1}, gle.Target{})
	if out[0] != 0 {
		t.Fatalf("first output %g, want 0", out[0])
	}
	r := e.State().Pops[0].R[0]
	e.Step(out, []float64{5}, gle.Target{})
	if out[0] != r {
		t.Fatalf("second output %g, want the first step's rate %g", out[0], r)
	}
}

// TestLagNeuronStepResponse: a linear neuron with τr < τm driven by a unit
// step has the discrete solution u_t = 1 − (1 − dt/τm)^t and ŭ_t = 1 −
// (1 − τr/τm)(1 − dt/τm)^t, which tends to the continuous
// 1 − (1 − τr/τm) e^{−t dt/τm}.
func TestLagNeuronStepResponse(t *testing.T) {
	const dt, tauM, tauR = 0.01, 1.0, 0.1
	s := oneLayer(gle.Linear, tauM, tauR, 1)
	s.Dt = dt
	s.Layers[0].Weight = [][]float64{{1}}
	s.Layers[0].Bias = gle.Bias{Disabled: true}
	e := mustEngine(t, s, 1)
	out := []float64{0}
	for step := range 500 {
		e.Step(out, []float64{1}, gle.Target{})
		decay := math.Pow(1-dt/tauM, float64(step))
		want := 1 - (1-tauR/tauM)*decay
		if got := e.State().Pops[0].R[0]; math.Abs(got-want) > 1e-13 {
			t.Fatalf("step %d: r = %.15g, discrete solution %.15g", step, got, want)
		}
		cont := 1 - (1-tauR/tauM)*math.Exp(-float64(step)*dt/tauM)
		if got := e.State().Pops[0].R[0]; math.Abs(got-cont) > dt {
			t.Fatalf("step %d: r = %g, continuous solution %g", step, got, cont)
		}
	}
}

// TestLagNeuronPhaseShift: driven by sin ωt, a linear neuron's rate is
// the input filtered by (1 + iωτr)/(1 + iωτm): phase atan(ωτr) − atan(ωτm),
// gain √((1+ω²τr²)/(1+ω²τm²)). An LE neuron (τr = τm) has no shift.
func TestLagNeuronPhaseShift(t *testing.T) {
	const dt, omega = 0.001, 2.0
	for _, tc := range []struct{ tauM, tauR float64 }{{1, 0.1}, {0.5, 0.5}, {2, 0.01}} {
		s := oneLayer(gle.Linear, tc.tauM, tc.tauR, 1)
		s.Dt = dt
		s.Layers[0].Weight = [][]float64{{1}}
		s.Layers[0].Bias = gle.Bias{Disabled: true}
		e := mustEngine(t, s, 1)
		out := []float64{0}
		settle, period := int(20*tc.tauM/dt), int(math.Round(2*math.Pi/omega/dt))
		var cs, cc float64
		for step := range settle + 10*period {
			tt := float64(step) * dt
			e.Step(out, []float64{math.Sin(omega * tt)}, gle.Target{})
			if step >= settle {
				r := e.State().Pops[0].R[0]
				cs += r * math.Sin(omega*tt)
				cc += r * math.Cos(omega*tt)
			}
		}
		phase := math.Atan2(cc, cs)
		gain := 2 * math.Hypot(cs, cc) / float64(10*period)
		wantPhase := math.Atan(omega*tc.tauR) - math.Atan(omega*tc.tauM)
		wantGain := math.Sqrt((1 + omega*omega*tc.tauR*tc.tauR) / (1 + omega*omega*tc.tauM*tc.tauM))
		if math.Abs(phase-wantPhase) > 5e-3 || math.Abs(gain-wantGain) > 5e-3 {
			t.Errorf("τm=%g τr=%g: phase %.4f gain %.4f, want %.4f %.4f", tc.tauM, tc.tauR, phase, gain, wantPhase, wantGain)
		}
	}
}

// mlpSpec is a small 3-layer network with mixed neurons and CE loss.
func mlpSpec(seed uint64, lr, beta float64) *gle.Spec {
	return &gle.Spec{
		Dt: 0.1, Beta: ptr(beta), Loss: gle.CE, Seed: seed,
		Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: lr},
		TauMMin:   0.2,
		Layers: []gle.LayerSpec{
			{In: 2, Out: 6, Phi: gle.Tanh, TauM: gle.Taus{0.5, 1, 1, 0.5, 1, 1}, TauR: gle.Taus{0.1, 1, 0.1, 0.5, 1, 0.1}, LearnTauM: true},
			{In: 6, Out: 3, Phi: gle.Linear, TauM: gle.Taus{1}, TauR: gle.Taus{1}},
		},
	}
}

// classTask returns inputs and labels of a 3-class task on 2-D points.
func classTask(batch int) (x []float64, y []int) {
	x, y = make([]float64, 2*batch), make([]int, batch)
	for b := range batch {
		c := b % 3
		a := 2*math.Pi*float64(c)/3 + 0.3*math.Sin(float64(7*b))
		x[2*b], x[2*b+1], y[b] = math.Cos(a), math.Sin(a), c
	}
	return x, y
}

func train(t testing.TB, s *gle.Spec, steps int) (*gle.Trainer, []float64) {
	t.Helper()
	x, y := classTask(12)
	tr, err := gle.NewTrainerFromSpec[float64](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 12*3)
	losses := make([]float64, steps)
	for i := range steps {
		if losses[i], err = tr.Step(out, x, gle.Target{Classes: y}); err != nil {
			t.Fatal(err)
		}
	}
	return tr, losses
}

func meanOf(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func TestLearningReducesLoss(t *testing.T) {
	_, losses := train(t, mlpSpec(1, 0.01, 1), 1500)
	first, last := meanOf(losses[50:150]), meanOf(losses[len(losses)-100:])
	if !(last < 0.3*first) {
		t.Errorf("loss went from %.4f to %.4f; want a reduction of at least 70%%", first, last)
	}
}

// TestNothingLearns: with β = 0 or lr = 0 every parameter stays as it was.
func TestNothingLearns(t *testing.T) {
	for name, s := range map[string]*gle.Spec{"beta=0": mlpSpec(1, 0.01, 0), "lr=0": mlpSpec(1, 0, 1)} {
		before, err := gle.NewNetwork(s)
		if err != nil {
			t.Fatal(err)
		}
		tr, _ := train(t, s, 200)
		if !sameParams(before, tr.Engine.Net) {
			t.Errorf("%s: parameters changed", name)
		}
	}
}

func sameParams(a, b *gle.Network) bool {
	ta, tb := a.Tensors(), b.Tensors()
	for i := range ta {
		if ta[i].Name != tb[i].Name || !slices.Equal(ta[i].Data, tb[i].Data) {
			return false
		}
	}
	return len(ta) == len(tb)
}

// TestDeterministic: the same seed gives bit-identical results; another
// seed does not.
func TestDeterministic(t *testing.T) {
	a, la := train(t, mlpSpec(5, 0.01, 1), 300)
	b, lb := train(t, mlpSpec(5, 0.01, 1), 300)
	c, _ := train(t, mlpSpec(6, 0.01, 1), 300)
	if !slices.Equal(la, lb) || !sameParams(a.Engine.Net, b.Engine.Net) ||
		!slices.Equal(a.Engine.State().Pops[0].U, b.Engine.State().Pops[0].U) {
		t.Error("same seed, different results")
	}
	if sameParams(a.Engine.Net, c.Engine.Net) {
		t.Error("different seeds, same parameters")
	}
}

// TestTauMClamp: learned τm never goes below tau_m_min.
func TestTauMClamp(t *testing.T) {
	s := mlpSpec(1, 0.5, 1) // a large rate pushes τm around
	s.TauMMin = 0.45
	tr, _ := train(t, s, 300)
	for _, v := range tr.Engine.Net.Pops[0].TauM {
		if v < 0.45 {
			t.Fatalf("τm = %g below the clamp 0.45", v)
		}
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	for _, loss := range []gle.Loss{gle.CE, gle.MSE, gle.NoLoss} {
		s := mlpSpec(1, 0.01, 1)
		s.Loss = loss
		tr64, err := gle.NewTrainerFromSpec[float64](s, 12)
		if err != nil {
			t.Fatal(err)
		}
		tr32, err := gle.NewTrainerFromSpec[float32](s, 12)
		if err != nil {
			t.Fatal(err)
		}
		x, y := classTask(12)
		tgt := gle.Target{Classes: y}
		switch loss {
		case gle.MSE:
			tgt = gle.Target{Values: make([]float64, 12*3)}
		case gle.NoLoss:
			tgt = gle.Target{}
		}
		out := make([]float64, 12*3)
		for name, step := range map[string]func([]float64, []float64, gle.Target) (float64, error){"float64": tr64.Step, "float32": tr32.Step} {
			step(out, x, tgt) // warm-up: Adam allocates its moments once
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := step(out, x, tgt); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s %s: %v allocations per step, want 0", name, loss, allocs)
			}
		}
	}
}

// TestEngine32Agrees trains the same network on the float64 and the
// float32 engine: the float32 run follows the float64 one within float32
// rounding and its loss falls as much; and from the same parameters and
// state (both exact in float32), one step's outputs, state variables and
// gradients agree to 5e-7 of each one's scale — a few roundings of one
// step, so that a float32 kernel wrong by 1e-6 relative (tanh, Euler, the
// products) fails.
func TestEngine32Agrees(t *testing.T) {
	s := mlpSpec(3, 0.01, 1)
	s.Layers[0].Out, s.Layers[0].TauM, s.Layers[0].TauR = 21, gle.Taus{0.5}, gle.Taus{0.1} // vectors and a tail
	s.Layers[1].In = 21
	x, y := classTask(12)
	tgt := gle.Target{Classes: y}
	o64, o32 := make([]float64, 12*3), make([]float64, 12*3)

	// Gradients of one step, after 20 steps of learning in float64.
	tr64, err := gle.NewTrainerFromSpec[float64](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := tr64.Step(o64, x, tgt); err != nil {
			t.Fatal(err)
		}
	}
	// The same starting point for both: parameters and state rounded to
	// float32.
	net := tr64.Engine.Net.Clone()
	for _, tn := range net.Tensors() {
		for i, v := range tn.Data {
			tn.Data[i] = float64(float32(v))
		}
	}
	st := gle.ConvertState[float64](gle.ConvertState[float32](tr64.Engine.State()))
	e64, err := gle.NewEngine(net, 12)
	if err != nil {
		t.Fatal(err)
	}
	e32, err := gle.NewEngine32(net, 12)
	if err != nil {
		t.Fatal(err)
	}
	if err := e64.SetState(st); err != nil {
		t.Fatal(err)
	}
	if err := e32.SetState(gle.ConvertState[float32](st)); err != nil {
		t.Fatal(err)
	}
	g64, g32 := gle.NewGrads(net), gle.NewGradsOf[float32](net)
	if err := e64.SetGrads(g64); err != nil {
		t.Fatal(err)
	}
	if err := e32.SetGrads(g32); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second step's output is the first step's rate
		if err := e64.Step(o64, x, tgt); err != nil {
			t.Fatal(err)
		}
		if err := e32.Step(o32, x, tgt); err != nil {
			t.Fatal(err)
		}
	}
	pairs := []gle.Tensor{{Name: "output", Data: o64}, {Name: "output", Data: o32}}
	s64, s32 := gle.StateTensors(net, e64.State()), gle.StateTensors(net, gle.ConvertState[float64](e32.State()))
	t64, t32 := g64.Tensors(net), g32.Tensors(net)
	for i := range s64 {
		pairs = append(pairs, s64[i], s32[i])
	}
	for i := range t64 {
		pairs = append(pairs, gle.Tensor{Name: "∂" + t64[i].Name, Data: t64[i].Data}, gle.Tensor{Name: "∂" + t32[i].Name, Data: t32[i].Data})
	}
	var worst float64
	for i := 0; i < len(pairs); i += 2 {
		a, b := pairs[i].Data, pairs[i+1].Data
		var scale, d float64
		for k := range a {
			scale, d = max(scale, math.Abs(a[k])), max(d, math.Abs(a[k]-b[k]))
		}
		worst = max(worst, d/scale)
		if !(d <= 5e-7*scale) || scale == 0 {
			t.Errorf("one step from the same state: %s differs by %.3g (scale %.3g, %.3g of it)", pairs[i].Name, d, scale, d/scale)
		}
	}
	t.Logf("one step from the same state: largest difference %.3g of the variable's scale", worst)

	// Training side by side from the start.
	tr64, err = gle.NewTrainerFromSpec[float64](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	tr32, err := gle.NewTrainerFromSpec[float32](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	var l64, l32 []float64
	var maxDiff float64
	for i := range 1500 {
		a, err := tr64.Step(o64, x, tgt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := tr32.Step(o32, x, tgt)
		if err != nil {
			t.Fatal(err)
		}
		l64, l32 = append(l64, a), append(l32, b)
		if i < 300 {
			for k := range o64 {
				maxDiff = max(maxDiff, math.Abs(o64[k]-o32[k]))
			}
		}
	}
	t.Logf("max |Δoutput| over the first 300 steps %.3g; loss %.4f → %.4f (float64), %.4f → %.4f (float32)",
		maxDiff, meanOf(l64[:100]), meanOf(l64[1400:]), meanOf(l32[:100]), meanOf(l32[1400:]))
	if maxDiff > 1e-4 || maxDiff == 0 {
		t.Errorf("max |Δoutput| over the first 300 steps = %.3g, want in (0, 1e-4]", maxDiff)
	}
	if f64, f32 := meanOf(l64[1400:]), meanOf(l32[1400:]); math.Abs(f64-f32) > 0.05*f64 {
		t.Errorf("final loss %.4f (float32) vs %.4f (float64)", f32, f64)
	}
}

// TestSetBatchTilesState: changing the batch size keeps the state of
// sample b mod old batch, as the reference's tiling and truncation do.
func TestSetBatchTilesState(t *testing.T) {
	e := mustEngine(t, oneLayer(gle.Tanh, 1, 0.1, 2), 3)
	out := make([]float64, 3*2)
	for range 10 {
		e.Step(out, []float64{0.1, -0.5, 0.9}, gle.Target{})
	}
	old := slices.Clone(e.State().Pops[0].U)
	if err := e.SetBatch(7); err != nil {
		t.Fatal(err)
	}
	for b := range 7 {
		for o := range 2 {
			if got, want := e.State().Pops[0].U[b*2+o], old[(b%3)*2+o]; got != want {
				t.Fatalf("sample %d neuron %d: u = %g, want %g", b, o, got, want)
			}
		}
	}
	if err := e.Step(make([]float64, 7*2), make([]float64, 7), gle.Target{}); err != nil {
		t.Fatal(err)
	}
	e.SetBatch(2)
	if e.Batch() != 2 || len(e.State().EBottom[0]) != 2 {
		t.Fatalf("truncation: batch %d, e_bottom %d values", e.Batch(), len(e.State().EBottom[0]))
	}
	e.Reset()
	for _, v := range e.State().Pops[0].U {
		if v != 0 {
			t.Fatal("Reset left a non-zero u")
		}
	}
	if err := e.SetBatch(0); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("SetBatch(0) = %v, want ErrInvalid", err)
	}
}

func TestStepShapeErrors(t *testing.T) {
	s := mlpSpec(1, 0.01, 1)
	tr, err := gle.NewTrainerFromSpec[float64](s, 4)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 4*3)
	for name, c := range map[string]struct {
		out, x []float64
		tgt    gle.Target
		want   error
	}{
		"short input":     {out, make([]float64, 7), gle.Target{}, gle.ErrShape},
		"short output":    {out[:5], make([]float64, 8), gle.Target{}, gle.ErrShape},
		"label count":     {out, make([]float64, 8), gle.Target{Classes: []int{0, 1}}, gle.ErrShape},
		"label range":     {out, make([]float64, 8), gle.Target{Classes: []int{0, 1, 2, 3}}, gle.ErrInvalid},
		"values for CE":   {out, make([]float64, 8), gle.Target{Values: make([]float64, 12)}, gle.ErrInvalid},
		"no output slice": {nil, make([]float64, 8), gle.Target{}, gle.ErrShape},
	} {
		if _, err := tr.Step(c.out, c.x, c.tgt); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// TestDivergenceIsReported: an absurd learning rate blows the network up,
// and Step says where.
func TestDivergenceIsReported(t *testing.T) {
	s := mlpSpec(1, 1e200, 1)
	s.Optimizer.Kind = optim.KindSGD
	s.Layers[0].Phi = gle.Linear
	x, y := classTask(12)
	tr64, err := gle.NewTrainerFromSpec[float64](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	tr32, err := gle.NewTrainerFromSpec[float32](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 12*3)
	for name, step := range map[string]func([]float64, []float64, gle.Target) (float64, error){"float64": tr64.Step, "float32": tr32.Step} {
		for i := range 1000 {
			if _, err = step(out, x, gle.Target{Classes: y}); err != nil {
				break
			}
			if i == 999 {
				t.Fatalf("%s: no divergence reported", name)
			}
		}
		if !errors.Is(err, gle.ErrDiverged) {
			t.Fatalf("%s: got %v, want ErrDiverged", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestNetworkCheck(t *testing.T) {
	net, err := gle.NewNetwork(mlpSpec(1, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	net.Pops[1].TauR[2] = 0.01
	if _, err := gle.NewEngine(net, 1); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("τr < dt: %v", err)
	}
	net.Pops[1].TauR[2] = 1
	net.Projs[0].W[3] = math.NaN()
	if _, err := gle.NewEngine(net, 1); !errors.Is(err, gle.ErrNonFinite) {
		t.Errorf("NaN weight: %v", err)
	}
}
