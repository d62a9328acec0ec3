package gle_test

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/optim"
)

// chainAsGraph returns the populations form of a layered spec: the same
// neurons, the chain's weights and biases given explicitly (drawn from the
// layered spec's streams), so that both build the same network.
func chainAsGraph(t testing.TB, s *gle.Spec) *gle.Spec {
	t.Helper()
	net, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	full := net.ToSpec(s)
	g := *s
	g.Layers = nil
	g.Inputs, g.Output = s.Layers[0].In, fmt.Sprintf("l%d", len(s.Layers)-1)
	for i, l := range full.Layers {
		from := gle.InputName
		if i > 0 {
			from = fmt.Sprintf("l%d", i-1)
		}
		name := fmt.Sprintf("l%d", i)
		g.Populations = append(g.Populations, gle.PopulationSpec{Name: name, Size: l.Out, Phi: l.Phi, TauM: l.TauM, TauR: l.TauR,
			Gamma: l.Gamma, Bias: l.Bias, LearnBias: l.LearnBias, LearnTauM: l.LearnTauM})
		g.Projections = append(g.Projections, gle.ProjectionSpec{From: from, To: name, Weight: l.Weight, LearnWeight: l.LearnWeight})
	}
	return &g
}

// TestChainFormsAgree: a chain declared as layers and as populations and
// projections is one network: the same outputs, state and parameters,
// bit for bit, over learning steps, in float64 and float32.
func TestChainFormsAgree(t *testing.T) {
	layered := mlpSpec(4, 0.01, 1)
	graph := chainAsGraph(t, layered)
	x, y := classTask(12)
	for _, f32 := range []bool{false, true} {
		run := func(s *gle.Spec) ([]float64, *gle.Network, [][]float64) {
			var losses []float64
			out := make([]float64, 12*3)
			step, net, state := trainerOf(t, s, 12, f32)
			for range 300 {
				l, err := step(out, x, gle.Target{Classes: y})
				if err != nil {
					t.Fatal(err)
				}
				losses = append(losses, l)
			}
			return losses, net, state()
		}
		la, na, sa := run(layered)
		lb, nb, sb := run(graph)
		if !slices.Equal(la, lb) {
			t.Errorf("float32=%v: losses differ", f32)
		}
		ta, tb := na.Tensors(), nb.Tensors()
		for i := range ta {
			if !slices.Equal(ta[i].Data, tb[i].Data) {
				t.Errorf("float32=%v: %s differs from %s", f32, ta[i].Name, tb[i].Name)
			}
		}
		for i := range sa {
			if !slices.Equal(sa[i], sb[i]) {
				t.Errorf("float32=%v: state array %d differs", f32, i)
			}
		}
	}
}

// trainerOf builds the trainer of s in either precision and returns its
// step, its network and a function listing its state arrays in float64.
func trainerOf(t testing.TB, s *gle.Spec, batch int, f32 bool) (func(out, x []float64, tg gle.Target) (float64, error), *gle.Network, func() [][]float64) {
	t.Helper()
	if f32 {
		tr, err := gle.NewTrainerFromSpec[float32](s, batch)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Step, tr.Engine.Net, func() [][]float64 { return stateArrays(tr.Engine.Net, gle.ConvertState[float64](tr.Engine.State())) }
	}
	tr, err := gle.NewTrainerFromSpec[float64](s, batch)
	if err != nil {
		t.Fatal(err)
	}
	return tr.Step, tr.Engine.Net, func() [][]float64 { return stateArrays(tr.Engine.Net, tr.Engine.State()) }
}

func stateArrays(n *gle.Network, s *gle.State) [][]float64 {
	var out [][]float64
	for _, t := range gle.StateTensors(n, s) {
		out = append(out, t.Data)
	}
	return out
}

// recurrentSpec is a graph with a recurrent population, a lateral
// projection, a skip projection and an output that sends errors back
// along two projections.
func recurrentSpec(learnTau bool) *gle.Spec {
	pop := func(name string, n int, phi gle.Activation) gle.PopulationSpec {
		return gle.PopulationSpec{Name: name, Size: n, Phi: phi, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}, LearnTauM: learnTau}
	}
	return &gle.Spec{Dt: 0.1, Loss: gle.CE, Seed: 2, Inputs: 2, Output: "out", TauMMin: 0.2,
		Optimizer:   gle.OptimizerSpec{Kind: optim.KindAdam, LR: 0.01},
		Populations: []gle.PopulationSpec{pop("h", 9, gle.Tanh), pop("side", 5, gle.Sigmoid), pop("out", 3, gle.Linear)},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"}, {From: "h", To: "side"},
			{From: "h", To: "out"}, {From: "side", To: "out"}, {From: gle.InputName, To: "out"}}}
}

// TestGraphDefaultsAreTheLayeredOnes: a populations spec without beta or
// prospective_errors gets β = 1 and prospective errors, like a layers
// spec, and trains exactly like the spec that sets them.
func TestGraphDefaultsAreTheLayeredOnes(t *testing.T) {
	implicit := recurrentSpec(false)
	explicit := recurrentSpec(false)
	explicit.SetBeta(1)
	explicit.SetProspectiveErrors(true)
	a, err := gle.NewNetwork(implicit)
	if err != nil {
		t.Fatal(err)
	}
	if a.Beta != 1 || !a.ProspectiveErrors {
		t.Fatalf("graph defaults: β = %g, prospective errors %v; want 1 and true", a.Beta, a.ProspectiveErrors)
	}
	x, y := classTask(12)
	run := func(s *gle.Spec) []float64 {
		step, _, _ := trainerOf(t, s, 12, false)
		out := make([]float64, 12*3)
		var ls []float64
		for range 400 {
			l, err := step(out, x, gle.Target{Classes: y})
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, l)
		}
		return ls
	}
	li, le := run(implicit), run(explicit)
	if !slices.Equal(li, le) {
		t.Error("the spec without beta/prospective_errors trains differently from the one that sets the defaults")
	}
	if !(meanOf(li[350:]) < 0.8*meanOf(li[:50])) {
		t.Errorf("loss %.4f → %.4f: the recurrent graph does not learn", meanOf(li[:50]), meanOf(li[350:]))
	}
}

// TestGraphLearnsTauM: a population with learn_tau_m learns its τm (the
// optimizer receives the gradient), clamped at tau_m_min.
func TestGraphLearnsTauM(t *testing.T) {
	s := recurrentSpec(true)
	tr, err := gle.NewTrainerFromSpec[float64](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(tr.Engine.Net.Pops[0].TauM)
	x, y := classTask(12)
	out := make([]float64, 12*3)
	for range 500 {
		if _, err := tr.Step(out, x, gle.Target{Classes: y}); err != nil {
			t.Fatal(err)
		}
	}
	after := tr.Engine.Net.Pops[0].TauM
	var moved float64
	for i := range after {
		moved = max(moved, math.Abs(after[i]-before[i]))
		if after[i] < 0.2 {
			t.Fatalf("τm[%d] = %g below tau_m_min 0.2", i, after[i])
		}
	}
	if moved < 1e-3 {
		t.Errorf("τm moved by at most %.3g: not learned", moved)
	}
	t.Logf("largest τm change %.4f", moved)
}

// TestGraphStepAllocatesNothing on a graph with loops, skips and summed
// errors, in both precisions.
func TestGraphStepAllocatesNothing(t *testing.T) {
	s := recurrentSpec(true)
	x, y := classTask(12)
	out := make([]float64, 12*3)
	for _, f32 := range []bool{false, true} {
		step, _, _ := trainerOf(t, s, 12, f32)
		step(out, x, gle.Target{Classes: y}) // Adam allocates its moments once
		if a := testing.AllocsPerRun(100, func() {
			if _, err := step(out, x, gle.Target{Classes: y}); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("float32=%v: %v allocations per step", f32, a)
		}
	}
}

// TestCheckpointResume: a run saved and loaded continues bit for bit —
// optimizer moments, state and step count included (learning starts at
// step 50, so a resumed run that restarted its count at the checkpoint,
// step 100, would wait 50 steps again); a checkpoint of another run,
// precision or rule is refused, naming what differs.
func TestCheckpointResume(t *testing.T) {
	s := recurrentSpec(true)
	s.LearnFromStep = 50
	x, y := classTask(12)
	out := make([]float64, 12*3)
	steps := func(tr *gle.Trainer, n int) []float64 {
		var ls []float64
		for range n {
			l, err := tr.Step(out, x, gle.Target{Classes: y})
			if err != nil {
				t.Fatal(err)
			}
			ls = append(ls, l)
		}
		return ls
	}
	full, err := gle.NewTrainerFromSpec[float64](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	want := steps(full, 200)[100:]
	tr, err := gle.NewTrainerFromSpec[float64](s, 12)
	if err != nil {
		t.Fatal(err)
	}
	steps(tr, 100)
	path := filepath.Join(t.TempDir(), "ck.gob")
	id := map[string]string{"spec": "a", "lr": "0.01"}
	if err := tr.Save(path, id, []int{100}); err != nil {
		t.Fatal(err)
	}
	var meta []int
	back, err := gle.LoadTrainer[float64](path, id, nil, &meta)
	if err != nil {
		t.Fatal(err)
	}
	if got := steps(back, 100); !slices.Equal(got, want) || !slices.Equal(meta, []int{100}) {
		t.Errorf("resumed run differs from the uninterrupted one (meta %v)", meta)
	}
	if !sameParams(back.Engine.Net, full.Engine.Net) {
		t.Error("resumed parameters differ")
	}
	if _, err := gle.LoadTrainer[float64](path, map[string]string{"spec": "b", "lr": "0.01"}, nil, nil); !errors.Is(err, gle.ErrMismatch) || !strings.Contains(err.Error(), `spec: checkpoint a, now b`) {
		t.Errorf("changed spec: %v", err)
	}
	if _, err := gle.LoadTrainer[float32](path, id, nil, nil); !errors.Is(err, gle.ErrMismatch) || !strings.Contains(err.Error(), "precision") {
		t.Errorf("other precision: %v", err)
	}
}

// TestLoopGains: the gain of a self-loop is ρ(W)·max τm/min τr; a chain
// has no loop; LimitLoopGain brings a loop down to the limit; the
// divergence error of a trainer names the loop and its gain.
func TestLoopGains(t *testing.T) {
	chain, _ := gle.NewNetwork(mlpSpec(1, 0, 1))
	if g, err := gle.LoopGains(chain); err != nil || len(g) != 0 {
		t.Errorf("chain: loops %v, %v", g, err)
	}
	s := &gle.Spec{Dt: 0.1, Inputs: 1, Output: "h",
		Populations: []gle.PopulationSpec{{Name: "h", Size: 2, TauM: gle.Taus{1}, TauR: gle.Taus{0.5}}},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h", Weight: [][]float64{{0, 2}, {0.5, 0}}}}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gle.LoopGains(n)
	if err != nil || len(g) != 1 {
		t.Fatalf("loops %v, %v", g, err)
	}
	// eigenvalues ±1, τm/τr = 2
	if math.Abs(g[0].Gain-2) > 1e-12 || !slices.Equal(g[0].Populations, []string{"h"}) {
		t.Errorf("gain %v of %v, want 2 of [h]", g[0].Gain, g[0].Populations)
	}
	if err := gle.LimitLoopGain(n, 0.5); err != nil {
		t.Fatal(err)
	}
	if g, _ := gle.LoopGains(n); math.Abs(g[0].Gain-0.5) > 1e-12 {
		t.Errorf("after LimitLoopGain(0.5): gain %g", g[0].Gain)
	}
	// A loop of gain 60 diverges; the error says where and which gain.
	s.Projections[1].Weight = [][]float64{{0, 30}, {1, 0}}
	s.Loss = gle.MSE
	s.Optimizer = gle.OptimizerSpec{Kind: optim.KindSGD, LR: 0.1}
	tr, err := gle.NewTrainerFromSpec[float64](s, 1)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 2)
	for i := range 100000 {
		if _, err = tr.Step(out, []float64{1}, gle.Target{Values: []float64{0.5, -0.5}}); err != nil {
			break
		}
		if i == 99999 {
			t.Fatal("no divergence")
		}
	}
	if !errors.Is(err, gle.ErrDiverged) || !strings.Contains(err.Error(), "loop h has gain ρ(W)·τm/τr = ") || !strings.Contains(err.Error(), "(limit 1)") {
		t.Errorf("divergence error %v: want ErrDiverged naming the loop gain", err)
	}
	t.Log(err)
}

// TestEngineErrors: bad sizes, buffers and states give errors, never
// panics, and leave the engine usable.
func TestEngineErrors(t *testing.T) {
	n, err := gle.NewNetwork(recurrentSpec(false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gle.NewEngine(nil, 1); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("nil network: %v", err)
	}
	for _, b := range []int{0, -1} {
		if _, err := gle.NewEngine(n, b); !errors.Is(err, gle.ErrInvalid) {
			t.Errorf("batch %d: %v", b, err)
		}
	}
	e, err := gle.NewEngine(n, 4)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 4*2)
	if err := e.Step(make([]float64, 5), x, gle.Target{}); !errors.Is(err, gle.ErrShape) {
		t.Errorf("short output buffer: %v", err)
	}
	if err := e.Step(make([]float64, 4*3), x[:3], gle.Target{}); !errors.Is(err, gle.ErrShape) {
		t.Errorf("short input: %v", err)
	}
	if err := e.SetState(gle.NewState(n, 0)); err == nil {
		t.Error("a state of batch 0 was accepted")
	}
	other, _ := gle.NewNetwork(mlpSpec(1, 0, 1))
	if err := e.SetState(gle.NewState(other, 4)); !errors.Is(err, gle.ErrShape) {
		t.Errorf("another network's state: %v", err)
	}
	if err := e.SetGrads(gle.NewGrads(other)); !errors.Is(err, gle.ErrShape) {
		t.Errorf("another network's gradients: %v", err)
	}
	if _, err := e.State().Resized(-3); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("Resized(-3): %v", err)
	}
	if err := e.Step(make([]float64, 4*3), x, gle.Target{}); err != nil {
		t.Errorf("the engine is not usable after the errors: %v", err)
	}
}

// TestMemoryGuard: a network or batch far beyond the memory limit is
// refused with ErrTooLarge, naming the field, before anything is
// allocated.
func TestMemoryGuard(t *testing.T) {
	gle.SetMemoryLimit(1 << 30)
	defer gle.SetMemoryLimit(0)
	huge := &gle.Spec{Dt: 0.1, Layers: []gle.LayerSpec{{In: 1 << 16, Out: 1 << 16, TauM: gle.Taus{1}, TauR: gle.Taus{1}}}}
	if _, err := gle.NewNetwork(huge); !errors.Is(err, gle.ErrTooLarge) || !strings.Contains(err.Error(), "layers") {
		t.Errorf("a 2^32-weight layer: %v", err)
	}
	n, err := gle.NewNetwork(mlpSpec(1, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gle.NewEngine(n, 1<<28); !errors.Is(err, gle.ErrTooLarge) || !strings.Contains(err.Error(), "batch") {
		t.Errorf("batch 2^28: %v", err)
	}
	// A trainer needs more than its engine (gradients, optimizer moments,
	// checkpoint encoding): a limit between the two refuses the trainer.
	wide, err := gle.NewNetwork(&gle.Spec{Dt: 0.1, Layers: []gle.LayerSpec{{In: 1000, Out: 1000, TauM: gle.Taus{1}, TauR: gle.Taus{1}}}})
	if err != nil {
		t.Fatal(err)
	}
	engine, trainer := gle.EngineBytes(wide, 1, 8), gle.TrainerBytes(wide, 1, 8)
	gle.SetMemoryLimit(int64(engine+trainer) / 2)
	if _, err := gle.NewEngine(wide, 1); err != nil {
		t.Errorf("engine of %.3g bytes under a limit of %.3g: %v", engine, (engine+trainer)/2, err)
	}
	if _, err := gle.NewTrainer(wide, 1, nil); !errors.Is(err, gle.ErrTooLarge) {
		t.Errorf("trainer of %.3g bytes under a limit of %.3g: %v", trainer, (engine+trainer)/2, err)
	}
	// An engine switching between batches it has held (training and
	// evaluation) is not stopped by a limit that drops meanwhile (other
	// processes taking the machine's memory); a larger batch is checked.
	gle.SetMemoryLimit(1 << 30)
	e, err := gle.NewEngine(wide, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SetBatch(100); err != nil {
		t.Fatal(err)
	}
	gle.SetMemoryLimit(1 << 10)
	if err := errors.Join(e.SetBatch(1), e.SetBatch(100)); err != nil {
		t.Errorf("batches held before, under a lower limit: %v", err)
	}
	if err := e.SetBatch(101); !errors.Is(err, gle.ErrTooLarge) {
		t.Errorf("a larger batch under a limit of 1 KiB: %v", err)
	}
}

// FuzzEngine builds networks from fuzzed specs and drives them with
// fuzzed batch sizes, inputs and targets: every failure must be an error.
func FuzzEngine(f *testing.F) {
	f.Add([]byte(`{"dt":0.1,"inputs":2,"output":"o","populations":[{"name":"h","size":3,"tau_m":1,"tau_r":0.5},{"name":"o","size":2,"tau_m":1,"tau_r":1}],"projections":[{"from":"input","to":"h"},{"from":"h","to":"h"},{"from":"h","to":"o"}]}`), 2, 3, int64(1))
	f.Add([]byte(`{"dt":0.1,"loss":"ce","layers":[{"in":1,"out":2,"tau_m":1,"tau_r":1}]}`), 1, 1, int64(0))
	f.Fuzz(func(t *testing.T, spec []byte, batch, inputs int, label int64) {
		s, err := gle.DecodeSpec(spec)
		if err != nil || s.Validate() != nil || gle.ParamBytes(s) > 1<<20 {
			return
		}
		n, err := gle.NewNetwork(s)
		if err != nil {
			t.Fatalf("a valid spec did not build: %v", err)
		}
		batch %= 64
		tr, err := gle.NewTrainer(n, batch, &optim.SGD{Rate: 0.01})
		if err != nil {
			return
		}
		if inputs < 0 || inputs > 1<<12 {
			inputs = n.Inputs
		}
		x := make([]float64, batch*inputs)
		for i := range x {
			x[i] = math.Sin(float64(i))
		}
		tg := gle.Target{Classes: slices.Repeat([]int{int(label)}, batch)}
		out := make([]float64, batch*n.Outputs())
		for range 3 {
			tr.Step(out, x, tg)
			tr.Step(out, x, gle.Target{})
		}
	})
}
