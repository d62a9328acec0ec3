package bptt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/trajectory"
)

// randomNet is a 3-layer network with random weights and time constants.
func randomNet(t testing.TB, seed uint64, phi string, loss string, learnTau bool) *gle.Network {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 9))
	taus := func(n int, lo, hi float64) gle.Taus {
		v := make(gle.Taus, n)
		for i := range v {
			v[i] = lo + (hi-lo)*rng.Float64()
		}
		return v
	}
	dt := 0.05
	s := &gle.Spec{Dt: dt, Loss: loss, Seed: seed, Layers: []gle.LayerSpec{
		{In: 2, Out: 4, Phi: phi, TauM: taus(4, 0.2, 1), TauR: taus(4, dt, 0.3), LearnTauM: learnTau},
		{In: 4, Out: 3, Phi: phi, TauM: taus(3, 0.2, 1), TauR: taus(3, dt, 1), LearnTauM: learnTau, Bias: gle.Bias{Disabled: true}},
		{In: 3, Out: 2, Phi: "linear", TauM: taus(2, 0.3, 1), TauR: taus(2, 0.3, 1)},
	}}
	for i := range s.Layers {
		s.Layers[i].TauR = minTaus(s.Layers[i].TauR, s.Layers[i].TauM)
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n.Layers {
		for k := range n.Layers[i].W {
			n.Layers[i].W[k] = 1.5 * rng.NormFloat64()
		}
	}
	return n
}

func minTaus(a, b gle.Taus) gle.Taus {
	out := slices.Clone(a)
	for i := range out {
		out[i] = math.Min(a[i], 0.9*b[i])
	}
	return out
}

func randomSequence(seed uint64, steps, batch, in, out int, loss string) ([][]float64, []gle.Target) {
	rng := rand.New(rand.NewPCG(seed, 11))
	xs := make([][]float64, steps)
	ts := make([]gle.Target, steps)
	for t := range steps {
		xs[t] = make([]float64, batch*in)
		for i := range xs[t] {
			xs[t][i] = math.Sin(0.2*float64(t)+float64(i)) + 0.3*rng.NormFloat64()
		}
		switch loss {
		case "mse":
			v := make([]float64, batch*out)
			for i := range v {
				v[i] = math.Cos(0.15*float64(t) + float64(i))
			}
			ts[t] = gle.Target{Values: v}
		case "ce":
			c := make([]int, batch)
			for i := range c {
				c[i] = (t/20 + i) % out
			}
			ts[t] = gle.Target{Classes: c}
		}
	}
	return xs, ts
}

// TestGradCheckEveryActivation: the BPTT gradient of every parameter
// (W, b, τm, τr) agrees with central finite differences to 1e-6 on random
// networks of every activation, with MSE and CE losses.
func TestGradCheckEveryActivation(t *testing.T) {
	for a := gle.Linear; a <= gle.HardSigmoid; a++ {
		for i, loss := range []string{"mse", "ce"} {
			name := fmt.Sprintf("%v/%s", a, loss)
			t.Run(name, func(t *testing.T) {
				n := randomNet(t, uint64(10*int(a)+i), a.String(), loss, i == 0)
				xs, ts := randomSequence(uint64(a), 60, 3, 2, 2, loss)
				res, err := GradCheck(n, 3, xs, ts)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range res {
					if r.MaxRelErr > 1e-6 {
						t.Errorf("%s: rel err %.3g at %d (exact %.10g, numeric %.10g)", r.Group, r.MaxRelErr, r.Worst, r.Exact, r.Numeric)
					}
				}
				t.Logf("max rel err %.3g", MaxRelErr(res))
			})
		}
	}
}

// TestForwardMatchesEngine: with no target the GLE engine's dynamics are
// the errors-off forward pass BPTT differentiates.
func TestForwardMatchesEngine(t *testing.T) {
	n := randomNet(t, 3, "tanh", "mse", true)
	xs, _ := randomSequence(3, 80, 3, 2, 2, "none")
	b, err := New(n, 3, 80)
	if err != nil {
		t.Fatal(err)
	}
	e, err := gle.NewEngine(n, 3)
	if err != nil {
		t.Fatal(err)
	}
	o1, o2 := make([]float64, 6), make([]float64, 6)
	for step, x := range xs {
		b.Step(o1, x, gle.Target{})
		e.Step(o2, x, gle.Target{})
		if !slices.Equal(o1, o2) {
			t.Fatalf("step %d: BPTT output %v, engine %v", step, o1, o2)
		}
	}
}

// TestTruncatedWindows: gradients of consecutive windows are those of
// the same windows run fresh from the carried state, and a window as long
// as the sequence is full BPTT.
func TestTruncatedWindows(t *testing.T) {
	n := randomNet(t, 4, "sigmoid", "ce", true)
	xs, ts := randomSequence(4, 40, 2, 2, 2, "ce")
	full := gle.NewFullGrads(n)
	if _, err := Full(n, 2, xs, ts, full); err != nil {
		t.Fatal(err)
	}
	b, _ := New(n, 2, 40)
	g := gle.NewFullGrads(n)
	for i, x := range xs {
		b.Step(nil, x, ts[i])
	}
	b.Backward(g)
	if !slices.Equal(g.Layers[0].W, full.Layers[0].W) {
		t.Error("window = sequence differs from Full")
	}
	// Windows of 10: the sum of window gradients differs from the full one
	// (the graph is cut), but each equals a fresh run from the carried state.
	w, _ := New(n, 2, 10)
	sum := gle.NewFullGrads(n)
	for i, x := range xs {
		w.Step(nil, x, ts[i])
		if w.Steps() == 10 {
			w.Backward(g)
			for k, v := range g.Layers[0].W {
				sum.Layers[0].W[k] += v
			}
		}
	}
	if slices.Equal(sum.Layers[0].W, full.Layers[0].W) {
		t.Error("truncated gradient equals the full one: the graph was not cut")
	}
	if _, err := w.Step(nil, xs[0], ts[0]); err != nil {
		t.Fatal(err)
	}
	for range 9 {
		w.Step(nil, xs[0], ts[0])
	}
	if _, err := w.Step(nil, xs[0], ts[0]); err == nil {
		t.Error("a full tape accepted another step")
	}
}

// TestGradCheckFixtures runs the gradient check on the shared fixture
// networks (their inputs and targets, initial parameters).
func TestGradCheckFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testutil.ReferenceDir(t), "trajectories", "*.json"))
	for _, path := range files {
		f, err := trajectory.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := gle.NewNetwork(&f.Spec)
		if err != nil {
			t.Fatal(err)
		}
		xs := f.FlatInputs()
		steps := min(len(xs), 300)
		res, err := GradCheck(n, f.Batch(), xs[:steps], f.Targets[:steps])
		if err != nil {
			t.Fatal(err)
		}
		if m := MaxRelErr(res); m > 1e-6 {
			t.Errorf("%s: max rel err %.3g", filepath.Base(path), m)
		} else {
			t.Logf("%s: max rel err %.3g", filepath.Base(path), m)
		}
	}
}

func TestAllocationFree(t *testing.T) {
	n := randomNet(t, 5, "tanh", "ce", true)
	xs, ts := randomSequence(5, 10, 3, 2, 2, "ce")
	b, _ := New(n, 3, 10)
	g := gle.NewFullGrads(n)
	window := func() {
		for i, x := range xs {
			b.Step(nil, x, ts[i])
		}
		b.Backward(g)
	}
	window()
	if a := testing.AllocsPerRun(20, window); a != 0 {
		t.Errorf("%v allocations per window, want 0", a)
	}
}

// TestMemoryScalesWithWindow: exact gradients keep a tape of the window
// (memory linear in the window length, allocated once by New), while the
// online engine's memory does not depend on how long it runs.
func TestMemoryScalesWithWindow(t *testing.T) {
	n := randomNet(t, 5, "tanh", "ce", true)
	allocated := func(f func()) float64 {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		return float64(b.TotalAlloc - a.TotalAlloc)
	}
	size := map[int]float64{}
	for _, w := range []int{10, 100, 1000} {
		size[w] = allocated(func() {
			if _, err := New(n, 8, w); err != nil {
				t.Fatal(err)
			}
		})
	}
	perStep1, perStep2 := (size[100]-size[10])/90, (size[1000]-size[100])/900
	t.Logf("tape: %.0f, %.0f, %.0f bytes for windows 10, 100, 1000 (%.0f bytes per step)", size[10], size[100], size[1000], perStep2)
	if perStep1 <= 0 || math.Abs(perStep2-perStep1) > 0.2*perStep1 {
		t.Errorf("tape growth per step %.0f then %.0f bytes: want linear in the window", perStep1, perStep2)
	}
	e, err := gle.NewEngine(n, 8)
	if err != nil {
		t.Fatal(err)
	}
	xs, ts := randomSequence(5, 50, 8, 2, 2, "ce")
	run := func(steps int) func() {
		return func() {
			for i := range steps {
				e.Step(nil, xs[i%len(xs)], ts[i%len(ts)])
			}
		}
	}
	run(10)()
	// Nothing beyond the runtime's own background allocations (a few bytes).
	if short, long := allocated(run(100)), allocated(run(10000)); short > 1024 || long > 1024 {
		t.Errorf("the online engine allocated %.0f bytes in 100 steps, %.0f in 10,000: want none", short, long)
	}
}
