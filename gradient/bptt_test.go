package gradient_test

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// TestForwardMatchesEngine: the forward pass BPTT records is the engine's
// dynamics without errors: with no target (so no error anywhere) a plain
// engine gives the same outputs and states, bit for bit, on a chain and on
// a recurrent graph; and the summed step losses are Full's J.
func TestForwardMatchesEngine(t *testing.T) {
	for name, n := range map[string]*gle.Network{
		"chain": randomChain(t, 3, gle.Tanh, gle.MSE, true),
		"graph": randomGraph(t, 7, gle.Tanh, gle.MSE, 0.8),
	} {
		xs, ts := sequence(3, 80, 3, 2, 2, gle.MSE)
		b, err := gradient.New(n, 3, 80)
		if err != nil {
			t.Fatal(err)
		}
		e, err := gle.NewEngine(n, 3)
		if err != nil {
			t.Fatal(err)
		}
		o1, o2 := make([]float64, 6), make([]float64, 6)
		var j float64
		for step, x := range xs {
			l, err := b.Step(o1, x, ts[step])
			if err != nil {
				t.Fatal(err)
			}
			j += l
			if err := e.Step(o2, x, gle.Target{}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o1, o2) {
				t.Fatalf("%s step %d: BPTT output %v, engine %v", name, step, o1, o2)
			}
			if l != n.Loss.Value(o2, ts[step], 2) {
				t.Fatalf("%s step %d: BPTT loss %.17g, the loss of the engine's output %.17g", name, step, l, n.Loss.Value(o2, ts[step], 2))
			}
		}
		for q := range n.Pops {
			if !slices.Equal(b.Engine.State().Pops[q].U, e.State().Pops[q].U) || !slices.Equal(b.Engine.State().Pops[q].R, e.State().Pops[q].R) {
				t.Errorf("%s: population %d's final state differs from the engine's", name, q)
			}
		}
		jf, err := gradient.Full(n, 3, xs, ts, gle.NewFullGrads(n))
		if err != nil {
			t.Fatal(err)
		}
		if jf != j {
			t.Errorf("%s: Full's J %.17g, summed step losses %.17g", name, jf, j)
		}
	}
}

// TestFullIsOneWindow: a BPTT whose window is the whole sequence, stepped
// by hand and Backward, gives Full's gradient bit for bit; BackwardSplit
// into one part gives the same, and split into windows its parts sum to
// it.
func TestFullIsOneWindow(t *testing.T) {
	for name, n := range map[string]*gle.Network{
		"chain": randomChain(t, 4, gle.Sigmoid, gle.CE, true),
		"graph": randomGraph(t, 5, gle.Tanh, gle.CE, 0.8),
	} {
		xs, ts := sequence(4, 40, 2, 2, 2, gle.CE)
		full := gle.NewFullGrads(n)
		if _, err := gradient.Full(n, 2, xs, ts, full); err != nil {
			t.Fatal(err)
		}
		b, err := gradient.New(n, 2, 40)
		if err != nil {
			t.Fatal(err)
		}
		run := func() {
			b.Reset()
			for i, x := range xs {
				if _, err := b.Step(nil, x, ts[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		run()
		g := gle.NewFullGrads(n)
		// Backward overwrites: garbage in g must not survive.
		for _, tn := range g.Tensors(n) {
			for i := range tn.Data {
				tn.Data[i] = 7
			}
		}
		b.Backward(g)
		if b.Steps() != 0 {
			t.Errorf("%s: Backward left %d steps on the tape", name, b.Steps())
		}
		if d := gradsDiffer(n, g, full, 0); d != "" {
			t.Errorf("%s: window = sequence differs from Full: %s", name, d)
		}
		run()
		one := []*gle.Grads{gle.NewFullGrads(n)}
		if err := b.BackwardSplit(one, 40); err != nil {
			t.Fatal(err)
		}
		if d := gradsDiffer(n, one[0], full, 0); d != "" {
			t.Errorf("%s: BackwardSplit into one part differs from Backward: %s", name, d)
		}
		for _, every := range []int{1, 7, 10} {
			run()
			parts := make([]*gle.Grads, (40+every-1)/every)
			for i := range parts {
				parts[i] = gle.NewFullGrads(n)
			}
			if err := b.BackwardSplit(parts, every); err != nil {
				t.Fatal(err)
			}
			sum := gle.NewFullGrads(n)
			for _, p := range parts {
				sum.Add(p)
			}
			if d := gradsDiffer(n, sum, full, 1e-12*maxAbs(n, full)); d != "" {
				t.Errorf("%s: parts of %d steps do not sum to the gradient: %s", name, every, d)
			}
			// The first part holds only the parameters' uses in the first
			// steps: it is not the whole gradient.
			if gradsDiffer(n, parts[0], full, 1e-3*maxAbs(n, full)) == "" {
				t.Errorf("%s: the first part of %d steps is the whole gradient: the split does nothing", name, every)
			}
		}
	}
}

// TestTruncatedWindows: BPTT over consecutive windows carries the state
// (the windows' losses sum to the whole sequence's, the final state is the
// engine's) but cuts the gradient at each window's start: every window's
// gradient is that of a fresh BPTT started from the carried state, and
// the derivative of the window's loss with the state at the window's
// start held fixed (finite differences, 1e-6). The first window, from
// rest, is Full over its steps; the windows' sum is not the full gradient.
func TestTruncatedWindows(t *testing.T) {
	for name, n := range map[string]*gle.Network{
		"chain": randomChain(t, 4, gle.Sigmoid, gle.CE, true),
		"graph": randomGraph(t, 6, gle.Tanh, gle.MSE, 0.8),
	} {
		loss := n.Loss
		const T, W, B = 40, 10, 2
		xs, ts := sequence(4, T, B, 2, 2, loss)
		full := gle.NewFullGrads(n)
		jFull, err := gradient.Full(n, B, xs, ts, full)
		if err != nil {
			t.Fatal(err)
		}
		b, err := gradient.New(n, B, W)
		if err != nil {
			t.Fatal(err)
		}
		sum := gle.NewFullGrads(n)
		var jSum, worst float64
		for w := 0; w < T; w += W {
			start := copyState(n, b.Engine.State())
			for i := w; i < w+W; i++ {
				l, err := b.Step(nil, xs[i], ts[i])
				if err != nil {
					t.Fatal(err)
				}
				jSum += l
			}
			g := gle.NewFullGrads(n)
			b.Backward(g)
			sum.Add(g)

			// A fresh BPTT from the carried state.
			f, err := gradient.New(n, B, W)
			if err != nil {
				t.Fatal(err)
			}
			windowLoss := func() float64 {
				if err := f.LoadState(start); err != nil {
					t.Fatal(err)
				}
				var j float64
				for i := w; i < w+W; i++ {
					l, err := f.Step(nil, xs[i], ts[i])
					if err != nil {
						t.Fatal(err)
					}
					j += l
				}
				return j
			}
			windowLoss()
			fg := gle.NewFullGrads(n)
			f.Backward(fg)
			if d := gradsDiffer(n, g, fg, 0); d != "" {
				t.Errorf("%s window %d: gradient differs from a fresh run from the carried state: %s", name, w/W, d)
			}
			if w == 0 {
				first := gle.NewFullGrads(n)
				if _, err := gradient.Full(n, B, xs[:W], ts[:W], first); err != nil {
					t.Fatal(err)
				}
				if d := gradsDiffer(n, g, first, 0); d != "" {
					t.Errorf("%s: the first window differs from Full over its steps: %s", name, d)
				}
			}
			// Finite differences of the window's loss, the start state fixed.
			params, grads := n.Tensors(), g.Tensors(n)
			scale := maxAbs(n, g)
			for pi, p := range params {
				for k := range p.Data {
					orig := p.Data[k]
					h := 1e-4 * math.Max(1, math.Abs(orig))
					var j [4]float64
					for a, off := range [4]float64{h, -h, 2 * h, -2 * h} {
						p.Data[k] = orig + off
						j[a] = windowLoss()
						f.Discard()
					}
					p.Data[k] = orig
					num := (8*(j[0]-j[1]) - (j[2] - j[3])) / (12 * h)
					e := math.Abs(grads[pi].Data[k]-num) / math.Max(math.Abs(num), 1e-4*scale)
					worst = math.Max(worst, e)
					if e > 1e-6 {
						t.Errorf("%s window %d %s[%d]: truncated gradient %.10g, finite difference with the start state fixed %.10g", name, w/W, p.Name, k, grads[pi].Data[k], num)
					}
				}
			}
		}
		t.Logf("%s: windows against finite differences of the window loss: max rel err %.3g", name, worst)
		if math.Abs(jSum-jFull) > 1e-12*math.Abs(jFull) {
			t.Errorf("%s: the windows' losses sum to %.17g, the whole sequence's is %.17g", name, jSum, jFull)
		}
		e, err := gle.NewEngine(n, B)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			if err := e.Step(nil, x, gle.Target{}); err != nil {
				t.Fatal(err)
			}
		}
		for q := range n.Pops {
			if !slices.Equal(e.State().Pops[q].U, b.Engine.State().Pops[q].U) {
				t.Errorf("%s: population %d: the state carried through the windows differs from the engine's", name, q)
			}
		}
		if gradsDiffer(n, sum, full, 1e-6*maxAbs(n, full)) == "" {
			t.Errorf("%s: the truncated gradient equals the full one: the graph was not cut", name)
		}
	}
}

// TestTapeFull: a full tape refuses another step (without recording it)
// until Backward or Discard empties it.
func TestTapeFull(t *testing.T) {
	n := randomChain(t, 4, gle.Tanh, gle.CE, false)
	xs, ts := sequence(4, 10, 2, 2, 2, gle.CE)
	b, err := gradient.New(n, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		if _, err := b.Step(nil, x, ts[i]); err != nil {
			t.Fatal(err)
		}
	}
	before := copyState(n, b.Engine.State())
	if _, err := b.Step(nil, xs[0], ts[0]); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("a full tape accepted another step: %v", err)
	}
	if b.Steps() != 10 || !slices.Equal(before.Pops[0].U, b.Engine.State().Pops[0].U) {
		t.Errorf("the refused step changed the tape (%d steps) or the state", b.Steps())
	}
	full := gle.NewFullGrads(n)
	if _, err := gradient.Full(n, 2, xs, ts, full); err != nil {
		t.Fatal(err)
	}
	g := gle.NewFullGrads(n)
	b.Backward(g)
	if d := gradsDiffer(n, g, full, 0); d != "" {
		t.Errorf("after the refused step the gradient differs from Full: %s", d)
	}
	for i, x := range xs {
		if _, err := b.Step(nil, x, ts[i]); err != nil {
			t.Fatalf("after Backward: %v", err)
		}
	}
	b.Discard()
	if b.Steps() != 0 {
		t.Errorf("Discard left %d steps", b.Steps())
	}
	if _, err := b.Step(nil, xs[0], ts[0]); err != nil {
		t.Errorf("after Discard: %v", err)
	}
}

// TestAllocationFree: BPTT's Step and Backward allocate nothing.
func TestAllocationFree(t *testing.T) {
	for name, n := range map[string]*gle.Network{
		"chain": randomChain(t, 5, gle.Tanh, gle.CE, true),
		"graph": randomGraph(t, 5, gle.Tanh, gle.CE, 0.8),
	} {
		xs, ts := sequence(5, 10, 3, 2, 2, gle.CE)
		b, err := gradient.New(n, 3, 10)
		if err != nil {
			t.Fatal(err)
		}
		g := gle.NewFullGrads(n)
		out := make([]float64, 6)
		window := func() {
			for i, x := range xs {
				if _, err := b.Step(out, x, ts[i]); err != nil {
					t.Fatal(err)
				}
			}
			b.Backward(g)
		}
		window()
		if a := testing.AllocsPerRun(20, window); a != 0 {
			t.Errorf("%s: %v allocations per window of Step and Backward, want 0", name, a)
		}
	}
}

// TestMemoryScalesWithWindow: exact gradients keep a tape of the window —
// New allocates memory linear in the window length, about TapeBytes —
// while the online engine allocates nothing however long it runs.
func TestMemoryScalesWithWindow(t *testing.T) {
	n := randomChain(t, 5, gle.Tanh, gle.CE, true)
	allocated := func(f func()) float64 {
		var a, b runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		return float64(b.TotalAlloc - a.TotalAlloc)
	}
	const B = 8
	size := map[int]float64{}
	windows := []int{100, 1000, 10000}
	for _, w := range windows {
		size[w] = allocated(func() {
			if _, err := gradient.New(n, B, w); err != nil {
				t.Fatal(err)
			}
		})
	}
	perStep1, perStep2 := (size[1000]-size[100])/900, (size[10000]-size[1000])/9000
	tape := gradient.TapeBytes(n, B, 1)
	t.Logf("New: %.0f, %.0f, %.0f bytes for windows 100, 1000, 10000 (%.0f then %.0f bytes per step; TapeBytes %.0f per step)",
		size[100], size[1000], size[10000], perStep1, perStep2, tape)
	if perStep1 <= 0 || math.Abs(perStep2-perStep1) > 0.1*perStep1 {
		t.Errorf("tape growth per step %.0f then %.0f bytes: want linear in the window", perStep1, perStep2)
	}
	if math.Abs(perStep2-tape) > 0.2*tape {
		t.Errorf("the tape grows by %.0f bytes per step, TapeBytes estimates %.0f", perStep2, tape)
	}
	if got, want := gradient.TapeBytes(n, B, 1000), 1000*tape; math.Abs(got-want) > 1e-9*want {
		t.Errorf("TapeBytes is not linear in the window: %.0f for 1000 steps, %.0f per step", got, tape)
	}
	e, err := gle.NewEngine(n, B)
	if err != nil {
		t.Fatal(err)
	}
	xs, ts := sequence(5, 50, B, 2, 2, gle.CE)
	run := func(steps int) func() {
		return func() {
			for i := range steps {
				if err := e.Step(nil, xs[i%len(xs)], ts[i%len(ts)]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	run(10)()
	// Nothing beyond the runtime's own background allocations (a few bytes).
	if short, long := allocated(run(100)), allocated(run(10000)); short > 1024 || long > 1024 {
		t.Errorf("the online engine allocated %.0f bytes in 100 steps, %.0f in 10,000: want none", short, long)
	}
}
