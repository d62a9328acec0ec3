package gle_test

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/optim"
)

// threadCounts are the thread counts every bit-identity test compares.
var threadCounts = []int{1, 2, 3, 5, 8}

// taus returns n time constants from a to b.
func taus(n int, a, b float64) gle.Taus {
	t := make(gle.Taus, n)
	for i := range t {
		t[i] = a + (b-a)*float64(i%7)/6
	}
	return t
}

// layeredThreadsSpec is a chain big enough to be split (two hidden
// layers of 130 mixed neurons, learned τm, CE).
func layeredThreadsSpec() *gle.Spec {
	return &gle.Spec{Dt: 0.05, Loss: gle.CE, Seed: 11, TauMMin: 0.05,
		Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: 3e-3},
		Layers: []gle.LayerSpec{
			{In: 8, Out: 130, Phi: gle.Tanh, TauM: taus(130, 0.3, 1.2), TauR: taus(130, 0.1, 0.3), LearnTauM: true},
			{In: 130, Out: 130, Phi: gle.Sigmoid, TauM: taus(130, 0.5, 1), TauR: taus(130, 0.5, 1)},
			{In: 130, Out: 10, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
		}}
}

// wideThreadsSpec has a layer wide enough (704 float32, 352 float64 rows
// ≥ 2.5 KiB) that the products copy panels and the gradient reads êᵀ
// transposed.
func wideThreadsSpec() *gle.Spec {
	return &gle.Spec{Dt: 0.05, Loss: gle.CE, Seed: 12, Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: 1e-3},
		Layers: []gle.LayerSpec{
			{In: 5, Out: 704, Phi: gle.Tanh, TauM: taus(704, 0.3, 1), TauR: taus(704, 0.1, 0.3)},
			{In: 704, Out: 10, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
		}}
}

// graphThreadsSpec is a graph with a recurrent population, a skip
// projection, two projections into the output and learned
// (Kolen–Pollack) feedback, MSE, SGD.
func graphThreadsSpec() *gle.Spec { return graphSpecOf(96, 40) }

// graphSpecOf is graphThreadsSpec with h and side of the given sizes.
func graphSpecOf(h, side int) *gle.Spec {
	// h, on the loop, has LE neurons (τm = τr) so that the loop's gain
	// stays below 1; the others are mixed.
	pop := func(name string, n int, phi gle.Activation, r float64) gle.PopulationSpec {
		return gle.PopulationSpec{Name: name, Size: n, Phi: phi, TauM: taus(n, 0.6, 0.9), TauR: taus(n, 0.6*r, 0.9*r), LearnTauM: true}
	}
	s := &gle.Spec{Dt: 0.1, Loss: gle.MSE, Seed: 5, Inputs: 6, Output: "out", TauMMin: 0.1,
		Optimizer:   gle.OptimizerSpec{Kind: optim.KindSGD, LR: 0.02},
		Populations: []gle.PopulationSpec{pop("h", h, gle.Tanh, 1), pop("side", side, gle.Softplus, 0.4), pop("out", 10, gle.Linear, 0.5)},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"}, {From: "h", To: "side"},
			{From: "h", To: "out", Feedback: gle.Learned}, {From: "side", To: "out"}, {From: gle.InputName, To: "out"}}}
	s.FeedbackDecay = 0.01
	return s
}

// threadsRun is everything a run produces that must not depend on the
// thread count.
type threadsRun struct {
	losses, outputs []float64
	params, state   []gle.Tensor
	moments         [][]float64
}

func (a *threadsRun) equal(b *threadsRun) string {
	switch {
	case !slices.Equal(a.losses, b.losses):
		return "losses"
	case !slices.Equal(a.outputs, b.outputs):
		return "outputs"
	}
	for i := range a.params {
		if !slices.Equal(a.params[i].Data, b.params[i].Data) {
			return a.params[i].Name
		}
	}
	for i := range a.state {
		if !slices.Equal(a.state[i].Data, b.state[i].Data) {
			return a.state[i].Name
		}
	}
	for i := range a.moments {
		if !slices.Equal(a.moments[i], b.moments[i]) {
			return fmt.Sprintf("optimizer moment %d", i)
		}
	}
	return ""
}

// threadsData returns a time-varying input and target of step t.
func threadsData(n *gle.Network, batch, t int) ([]float64, gle.Target) {
	x := make([]float64, batch*n.Inputs)
	for i := range x {
		x[i] = math.Sin(0.37*float64(i) + 0.05*float64(t*(1+i%3)))
	}
	k := n.Outputs()
	if n.Loss == gle.CE {
		y := make([]int, batch)
		for b := range y {
			y[b] = (b + t/20) % k
		}
		return x, gle.Target{Classes: y}
	}
	y := make([]float64, batch*k)
	for i := range y {
		y[i] = 0.5 * math.Cos(0.21*float64(i)+0.03*float64(t))
	}
	return x, gle.Target{Values: y}
}

// stepRun steps tr from step t0 to t1, appending to run.
func stepRun[T gle.Float](t *testing.T, tr *gle.TrainerOf[T], run *threadsRun, t0, t1 int) {
	t.Helper()
	n := tr.Engine.Net
	out := make([]float64, tr.Engine.Batch()*n.Outputs())
	for s := t0; s < t1; s++ {
		x, tg := threadsData(n, tr.Engine.Batch(), s)
		l, err := tr.Step(out, x, tg)
		if err != nil {
			t.Fatal(err)
		}
		run.losses = append(run.losses, l)
		run.outputs = append(run.outputs, out...)
	}
}

// finish records tr's parameters, state and optimizer moments.
func finish[T gle.Float](tr *gle.TrainerOf[T], run *threadsRun) *threadsRun {
	run.params = tr.Engine.Net.Tensors()
	run.state = gle.StateTensors(tr.Engine.Net, tr.Snapshot())
	switch o := tr.Opt.(type) {
	case *optim.Adam:
		run.moments = append(run.moments, o.M...)
		run.moments = append(run.moments, o.V...)
		for _, m := range append(slices.Clone(o.M32), o.V32...) {
			c := make([]float64, len(m))
			for i, v := range m {
				c[i] = float64(v)
			}
			run.moments = append(run.moments, c)
		}
	}
	return run
}

func trainThreads[T gle.Float](t *testing.T, s *gle.Spec, batch, steps, threads int) *threadsRun {
	t.Helper()
	tr, err := gle.NewTrainerFromSpec[T](s, batch)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetThreads(threads)
	if threads > 1 && tr.Threads() != threads {
		t.Fatalf("%d threads asked, the trainer runs on %d", threads, tr.Threads())
	}
	run := &threadsRun{}
	stepRun(t, tr, run, 0, steps)
	return finish(tr, run)
}

// TestThreadsBitIdentical: layered and graph networks train to the same
// bits on 1, 2, 3, 5 and 8 threads and on the default (one thread or all,
// switched by timing), in float64 and float32 — outputs, losses,
// parameters, state and the optimizer's moments.
func TestThreadsBitIdentical(t *testing.T) {
	for _, c := range []struct {
		name  string
		spec  *gle.Spec
		batch int
	}{{"layered", layeredThreadsSpec(), 44}, {"graph", graphThreadsSpec(), 37}, {"wide", wideThreadsSpec(), 24}} {
		t.Run(c.name+"/float64", func(t *testing.T) { testThreads[float64](t, c.spec, c.batch) })
		t.Run(c.name+"/float32", func(t *testing.T) { testThreads[float32](t, c.spec, c.batch) })
	}
}

func testThreads[T gle.Float](t *testing.T, s *gle.Spec, batch int) {
	const steps = 60
	want := trainThreads[T](t, s, batch, steps, 1)
	if want.losses[0] == want.losses[steps-1] {
		t.Fatal("nothing learned")
	}
	// 0: the default, which times its steps on one thread and on all and
	// switches between them.
	for _, th := range append(threadCounts[1:], 0) {
		if d := trainThreads[T](t, s, batch, steps, th).equal(want); d != "" {
			t.Errorf("%d threads: %s differ from 1 thread's", th, d)
		}
	}
}

// TestThreadsResume: a float32 run saved on 1 thread and resumed on 3
// continues bit for bit like an uninterrupted run on 2.
func TestThreadsResume(t *testing.T) {
	s := layeredThreadsSpec()
	const batch = 44
	want := trainThreads[float32](t, s, batch, 60, 2)
	tr, err := gle.NewTrainerFromSpec[float32](s, batch)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetThreads(1)
	got := &threadsRun{}
	stepRun(t, tr, got, 0, 30)
	path := filepath.Join(t.TempDir(), "ck.gob")
	if err := tr.Save(path, nil, nil); err != nil {
		t.Fatal(err)
	}
	back, err := gle.LoadTrainer[float32](path, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	back.SetThreads(3)
	stepRun(t, back, got, 30, 60)
	if d := finish(back, got).equal(want); d != "" {
		t.Errorf("saved on 1 thread, resumed on 3: %s differ from an uninterrupted run on 2", d)
	}
}

// TestThreadsExactGradients: BPTT and RTRL gradients, and a trainer on
// truncated BPTT, do not depend on the threads of the engines under them
// (a small graph, every step split however small).
func TestThreadsExactGradients(t *testing.T) {
	defer gle.SetThreads(0)
	defer gle.SetMinParallelFlops(0)()
	s := graphSpecOf(12, 6)
	net, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	const batch, steps = 37, 12
	xs, ts := make([][]float64, steps), make([]gle.Target, steps)
	for i := range steps {
		xs[i], ts[i] = threadsData(net, batch, i)
	}
	for _, method := range []string{"bptt", "rtrl", "gle"} {
		var want []gle.Tensor
		for _, th := range threadCounts {
			gle.SetThreads(th)
			g, _, err := gradient.Gradient(net, method, batch, xs, ts)
			if err != nil {
				t.Fatal(err)
			}
			got := g.Tensors(net)
			if want == nil {
				want = got
				continue
			}
			for i := range got {
				if !slices.Equal(got[i].Data, want[i].Data) {
					t.Errorf("%s on %d threads: %s differs from 1 thread's", method, th, got[i].Name)
				}
			}
		}
	}
	var want *threadsRun
	for _, th := range threadCounts {
		tr, err := gle.NewTrainerFromSpec[float64](s, batch)
		if err != nil {
			t.Fatal(err)
		}
		tr.SetThreads(th)
		tr.Rule = gradient.TBPTT(5)
		run := finish(tr, func() *threadsRun { r := &threadsRun{}; stepRun(t, tr, r, 0, 20); return r }())
		if want == nil {
			want = run
		} else if d := run.equal(want); d != "" {
			t.Errorf("tbptt:5 on %d threads: %s differ from 1 thread's", th, d)
		}
	}
}
