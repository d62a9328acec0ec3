package experiments

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
	"github.com/gle-go/gle/optim"
)

// BenchResult is one workload's timing (docs/performance.md).
type BenchResult struct {
	Workload    string  `json:"workload"`
	Threads     int     `json:"threads,omitempty"` // threads per step (gle bench --threads)
	MSPerStep   float64 `json:"ms_per_step"`       // median over repetitions
	GFLOPS      float64 `json:"gflops"`
	ReferenceMS float64 `json:"reference_ms_per_step"` // 0: no reference figure
	Speedup     float64 `json:"speedup"`               // reference / ours; 0 without a reference
	PeakRSSKB   int64   `json:"peak_rss_kb,omitempty"` // the workload's peak resident set (gle bench)
	// AllocsPerStep is the number of heap allocations per dt step over the
	// timed repetitions (0 for the engine).
	AllocsPerStep float64 `json:"allocs_per_step"`
}

// Workload is a standard benchmark: Setup builds it and returns one step.
type Workload struct {
	Name        string
	ReferenceMS float64 // the reference's float32 time per dt step (docs/performance.md)
	FLOPs       float64 // floating-point operations per step (the three products)
	Setup       func() (step func() error, err error)
}

// productFLOPs counts the products of one dt step: s += W r and the error
// sent back ê W for every projection, the weight gradient ê rᵀ when
// learning: 2·B·from·to each.
func productFLOPs(s *gle.Spec, batch int, learn bool) float64 {
	per := 4.0
	if learn {
		per = 6
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		return 0
	}
	var f float64
	for _, p := range n.Projs {
		f += per * float64(batch*len(p.W))
	}
	return f
}

// trainerWorkload steps a network of spec s on a fixed input frame, on
// the engine in T.
func trainerWorkload[T gle.Float](name string, ref float64, s *gle.Spec, batch int, learn bool) Workload {
	return Workload{Name: name, ReferenceMS: ref, FLOPs: productFLOPs(s, batch, learn), Setup: func() (func() error, error) {
		tr, err := gle.NewTrainerFromSpec[T](s, batch)
		if err != nil {
			return nil, err
		}
		if !learn {
			tr.Opt = nil
		}
		in, k := tr.Engine.Net.Inputs, tr.Engine.Net.Outputs()
		x := make([]float64, batch*in)
		for i := range x {
			x[i] = math.Sin(float64(i))
		}
		labels := make([]int, batch)
		for i := range labels {
			labels[i] = i % k
		}
		tgt := gle.Target{Classes: labels}
		if !learn {
			tgt = gle.Target{}
		}
		out := make([]float64, batch*k)
		return func() error { _, err := tr.Step(out, x, tgt); return err }, nil
	}}
}

// GSCSpec is the speech network of docs/model.md §9: 32 → 750 → 750 → 750 → 12,
// each hidden layer five groups of 150 neurons with (τm, τr) = (2.4, 2.4),
// (0.6, 0.1), (1.2, 0.1), (1.8, 0.1), (2.4, 0.1); tanh (first layer
// linear), linear outputs with τm = τr = 2.4, CE, dt = 0.05.
func GSCSpec() *gle.Spec {
	tauM := slices.Concat(tauGroup(150, 2.4), tauGroup(150, 0.6), tauGroup(150, 1.2), tauGroup(150, 1.8), tauGroup(150, 2.4))
	tauR := slices.Concat(tauGroup(150, 2.4), tauGroup(600, 0.1))
	s := &gle.Spec{Dt: 0.05, Loss: gle.CE, Seed: 1, Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: 5e-4 * 0.05 * 625 / 800}}
	in := 32
	for i := range 3 {
		phi := gle.Tanh
		if i == 0 {
			phi = gle.Linear
		}
		s.Layers = append(s.Layers, gle.LayerSpec{In: in, Out: 750, Phi: phi, TauM: tauM, TauR: tauR})
		in = 750
	}
	s.Layers = append(s.Layers, gle.LayerSpec{In: 750, Out: 12, TauM: gle.Taus{2.4}, TauR: gle.Taus{2.4}})
	return s
}

// RecurrentSpec is the graph workload: 32 inputs → a recurrent tanh
// population of 256 (h → h) → 10 linear outputs, with a skip projection
// input → out; CE, LE neurons (τm = τr = 1, so that the loop's gain, ≈ 0.6
// at the default initialisation, keeps the real-time errors bounded),
// dt = 0.1, Adam.
func RecurrentSpec() *gle.Spec {
	pop := func(name string, n int, phi gle.Activation) gle.PopulationSpec {
		return gle.PopulationSpec{Name: name, Size: n, Phi: phi, TauM: gle.Taus{1}, TauR: gle.Taus{1}}
	}
	s := &gle.Spec{Dt: 0.1, Loss: gle.CE, Seed: 1, Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: 1e-4},
		Inputs: 32, Output: "out", Populations: []gle.PopulationSpec{pop("h", 256, gle.Tanh), pop("out", 10, gle.Linear)},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"}, {From: "h", To: "out"}, {From: gle.InputName, To: "out"}}}
	return s
}

// ChainOfRecurrentSize is the chain with the recurrent workload's weights
// laid out as layers: 32 → 256 → 256 → 10, the same neurons and products
// but one population more.
func ChainOfRecurrentSize() *gle.Spec {
	s := &gle.Spec{Dt: 0.1, Loss: gle.CE, Seed: 1, Optimizer: gle.OptimizerSpec{Kind: optim.KindAdam, LR: 1e-4}}
	for _, l := range [][3]int{{32, 256, int(gle.Tanh)}, {256, 256, int(gle.Tanh)}, {256, 10, int(gle.Linear)}} {
		s.Layers = append(s.Layers, gle.LayerSpec{In: l[0], Out: l[1], Phi: gle.Activation(l[2]), TauM: gle.Taus{1}, TauR: gle.Taus{1}})
	}
	return s
}

// Workloads returns the standard workloads of `gle bench`: the float64
// engine's, then the float32 engine's (suffix -f32) for the trained
// networks.
func Workloads() []Workload {
	e2e := DefaultMNIST1D("e2e")
	lag := DefaultLagLine()
	return []Workload{
		trainerWorkload[float64]("mnist1d-e2e", 2.19, e2e.Spec(), 100, true),
		trainerWorkload[float64]("mnist1d-eval", 17.3, e2e.Spec(), 1000, false),
		{Name: "lagline", ReferenceMS: 0.478,
			// student (learning) + teacher (forward) products
			FLOPs: productFLOPs(lag.chainSpec([2]float64{1, 2}, [2]float64{1, 2}), 100, true) * 10 / 6,
			Setup: func() (func() error, error) {
				// One call runs lagLineStepsPerCall steps; Bench divides by it.
				c := lag
				T := float64(lagLineStepsPerCall) * c.Dt
				c.SettleTime, c.TrainTime, c.LogEvery = 0, T, T
				return func() error { _, err := RunLagLine(context.Background(), c, nil); return err }, nil
			}},
		trainerWorkload[float64]("gsc", 0, GSCSpec(), 256, true),
		trainerWorkload[float64]("graph-recurrent", 0, RecurrentSpec(), 100, true),
		trainerWorkload[float64]("chain-same-size", 0, ChainOfRecurrentSize(), 100, true),
		trainerWorkload[float32]("mnist1d-e2e-f32", 2.19, e2e.Spec(), 100, true),
		trainerWorkload[float32]("mnist1d-eval-f32", 17.3, e2e.Spec(), 1000, false),
		trainerWorkload[float32]("gsc-f32", 0, GSCSpec(), 256, true),
	}
}

// lagLineStepsPerCall is the number of dt steps one lagline call runs.
const lagLineStepsPerCall = 20000

// Bench times a workload: a warm-up call, then repetitions of at least
// minTime each, and reports the median time per step.
func Bench(w Workload, minTime time.Duration, reps int) (BenchResult, error) {
	step, err := w.Setup()
	if err != nil {
		return BenchResult{}, err
	}
	stepsPerCall := 1
	if w.Name == "lagline" {
		stepsPerCall = lagLineStepsPerCall
	}
	if err := step(); err != nil { // warm-up: first-step allocations, caches
		return BenchResult{}, err
	}
	times := make([]float64, 0, reps)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	calls := 0
	for range reps {
		n := 0
		start := time.Now()
		for n == 0 || time.Since(start) < minTime {
			if err := step(); err != nil {
				return BenchResult{}, err
			}
			n++
		}
		times = append(times, time.Since(start).Seconds()/float64(n*stepsPerCall))
		calls += n
	}
	runtime.ReadMemStats(&after)
	slices.Sort(times)
	med := times[len(times)/2]
	r := BenchResult{Workload: w.Name, MSPerStep: med * 1e3, GFLOPS: w.FLOPs / med / 1e9, ReferenceMS: w.ReferenceMS,
		AllocsPerStep: float64(after.Mallocs-before.Mallocs) / float64(calls*stepsPerCall)}
	if w.ReferenceMS > 0 {
		r.Speedup = w.ReferenceMS / r.MSPerStep
	}
	return r, nil
}

// GEMMPeak measures the GFLOP/s of the project's GEMM kernel in T on n×n
// matrices (the roofline for the products of a step).
func GEMMPeak[T gle.Float](n int, minTime time.Duration) float64 {
	a, b, c := make([]T, n*n), make([]T, n*n), make([]T, n*n)
	for i := range a {
		a[i], b[i] = T(math.Sin(float64(i))), T(math.Cos(float64(i)))
	}
	kernel.GemmAcc(n, n, n, a, n, 1, b, n, c, n)
	start := time.Now()
	reps := 0
	for time.Since(start) < minTime {
		kernel.GemmAcc(n, n, n, a, n, 1, b, n, c, n)
		reps++
	}
	return 2 * float64(n*n*n) * float64(reps) / time.Since(start).Seconds() / 1e9
}

// String formats a result as a table row.
func (r BenchResult) String() string {
	ref, sp := "-", "-"
	if r.ReferenceMS > 0 {
		ref, sp = fmt.Sprintf("%.3f", r.ReferenceMS), fmt.Sprintf("%.2f×", r.Speedup)
	}
	return fmt.Sprintf("%-17s %7d %12.4f %10.2f %14s %9s %8.2g", r.Workload, max(1, r.Threads), r.MSPerStep, r.GFLOPS, ref, sp, r.AllocsPerStep)
}
