package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/optim"
)

// OnlineCostConfig configures the cost part of `gle run online-rules`
// (docs/online.md §5): memory and time per dt step of every learning rule
// on a recurrent population of n neurons, input (4 lines) → h ⟲ → out
// (2), as n grows.
type OnlineCostConfig struct {
	Sizes   []int
	Batches []int
	Methods []string // gle, snap1, snap2, rtrl, bptt (tbptt:N too)
	// Window is the number of steps of each BPTT tape (its memory grows
	// with it): a trial of that length, its gradient at the end.
	Window int
	// MinTime is the least time spent timing one configuration (at least
	// one step, or one window for bptt).
	MinTime time.Duration
	// MaxFLOPs skips a configuration whose step needs more floating-point
	// operations than this (estimated; RTRL's grow as n⁴); 0: no limit.
	MaxFLOPs float64
	// FitFrom is the smallest n the fitted exponents use.
	FitFrom int
}

// DefaultOnlineCost returns the sweep of the issue: n = 8 … 256, batch 1
// and 32.
func DefaultOnlineCost() OnlineCostConfig {
	return OnlineCostConfig{Sizes: []int{8, 16, 32, 64, 128, 256}, Batches: []int{1, 32},
		Methods: []string{"gle", "snap1", "snap2", "rtrl", "bptt"}, Window: 100,
		MinTime: 300 * time.Millisecond, MaxFLOPs: 4e11, FitFrom: 32}
}

// CostRow is one method's cost at one size and batch.
type CostRow struct {
	Method    string  `json:"method"`
	N         int     `json:"n"`
	Batch     int     `json:"batch"`
	MSPerStep float64 `json:"ms_per_step"`
	// Bytes is the heap the network, its engine and the rule's state hold
	// (live after a garbage collection, minus what was live before).
	Bytes float64 `json:"bytes"`
	// EstimatedBytes is the rule's own estimate before allocating
	// (ForwardBytes, TapeBytes; the engine's for gle).
	EstimatedBytes float64 `json:"estimated_bytes"`
	Steps          int     `json:"steps"`             // steps timed
	Skipped        string  `json:"skipped,omitempty"` // why it was not measured
}

// CostFit is the fitted exponent of time and memory in n for one method
// and batch: cost ∝ n^exponent over n ≥ FitFrom.
type CostFit struct {
	Method       string  `json:"method"`
	Batch        int     `json:"batch"`
	TimeExponent float64 `json:"time_exponent"`
	MemExponent  float64 `json:"memory_exponent"`
	Points       int     `json:"points"`
}

// MarshalJSON writes an exponent that could not be fitted as null.
func (f CostFit) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"method": f.Method, "batch": f.Batch, "points": f.Points,
		"time_exponent": finiteOrNil(f.TimeExponent), "memory_exponent": finiteOrNil(f.MemExponent)})
}

// costNet is the network of the cost sweep: 4 inputs → h (n tanh neurons,
// τm 0.5, τr 0.2, a self projection at loop gain 0.3) → out (2, linear),
// every W, b and τm learned. The gain keeps GLE's real-time errors on the
// loop stable over the long timing runs: they are iff gain·τm/τr < 1
// (docs/vle.md §4), here 0.75.
func costNet(n int) (*gle.Network, error) {
	net, err := costShape(n)
	if err != nil {
		return nil, err
	}
	return net, gle.SetLoopGain(net, 0.3)
}

// costShape is costNet with its weights as drawn (the sizes are what the
// memory estimates need).
func costShape(n int) (*gle.Network, error) {
	s := &gle.Spec{Dt: 0.1, Loss: gle.MSE, Inputs: 4, Output: "out", Seed: uint64(n),
		Populations: []gle.PopulationSpec{
			{Name: "h", Size: n, Phi: gle.Tanh, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.2}, LearnTauM: true},
			{Name: "out", Size: 2, Phi: gle.Linear, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}, LearnTauM: true},
		},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"}, {From: "h", To: "out"}}}
	return gle.NewNetwork(s)
}

// costFLOPs estimates a step's floating-point operations: the engine's
// products (forward, errors, weight gradients: 6 per weight and sample)
// plus, for RTRL and SnAp-2, 2·N·P per weight-row entry (the product
// W ∂R/∂θ, P parameters) and, for SnAp-1, a few per trace.
func costFLOPs(net *gle.Network, method string, batch int) float64 {
	var weights float64
	for _, p := range net.Projs {
		weights += float64(len(p.W))
	}
	base := 6 * weights * float64(batch)
	switch method {
	case "rtrl", "snap2":
		P := float64(gle.NewGrads(net).Len())
		var rec float64
		for _, p := range net.Projs {
			if p.From != gle.Input {
				rec += float64(len(p.W))
			}
		}
		return base + 2*float64(batch)*rec*P + 8*float64(batch*(net.Pops[0].N+2))*P
	case "snap1":
		return base + 10*weights*float64(batch)
	}
	return base
}

// RunOnlineCost measures every method at every size and batch. report,
// when non-nil, receives each row.
func RunOnlineCost(ctx context.Context, c OnlineCostConfig, report func(CostRow)) ([]CostRow, []CostFit, error) {
	if len(c.Sizes) == 0 || len(c.Batches) == 0 || len(c.Methods) == 0 || c.Window <= 0 {
		return nil, nil, fmt.Errorf("%w: the cost sweep needs sizes, batches, methods and a positive window (got %+v)", gle.ErrInvalid, c)
	}
	for _, m := range c.Methods {
		if _, err := gradient.ParseRule(m, c.Window); err != nil {
			return nil, nil, err
		}
	}
	var rows []CostRow
	for _, batch := range c.Batches {
		for _, m := range c.Methods {
			for _, n := range c.Sizes {
				if err := ctx.Err(); err != nil {
					return rows, nil, err
				}
				r, err := measureCost(c, m, n, batch)
				if err != nil {
					return rows, nil, fmt.Errorf("%s, n = %d, batch %d: %w", m, n, batch, err)
				}
				rows = append(rows, r)
				if report != nil {
					report(r)
				}
			}
		}
	}
	return rows, FitCosts(rows, c), nil
}

// measureCost times one configuration and measures its live heap.
func measureCost(c OnlineCostConfig, method string, n, batch int) (CostRow, error) {
	row := CostRow{Method: method, N: n, Batch: batch}
	// Give the memory of the configuration before back to the system, so
	// that the memory limit (MemAvailable) is the machine's again.
	debug.FreeOSMemory()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	net, err := costNet(n)
	if err != nil {
		return row, err
	}
	row.EstimatedBytes = estimateBytes(net, method, batch, c.Window)
	if flops := costFLOPs(net, method, batch); c.MaxFLOPs > 0 && flops > c.MaxFLOPs {
		row.Skipped = fmt.Sprintf("≈ %.3g FLOP per step, above the sweep's limit of %.3g", flops, c.MaxFLOPs)
		return row, nil
	}
	if limit := gle.MemoryLimit(); limit > 0 && row.EstimatedBytes > float64(limit) {
		row.Skipped = fmt.Sprintf("needs ≈ %s, above the memory limit of %s", gle.FormatBytes(row.EstimatedBytes), gle.FormatBytes(float64(limit)))
		return row, nil
	}
	tr, err := gle.NewTrainer(net, batch, optim.NewAdam(1e-6))
	if err != nil {
		return row, err
	}
	if tr.Rule, err = gradient.ParseRule(method, c.Window); err != nil {
		return row, err
	}
	// One trial of Window steps: sines on the inputs, a target on the
	// outputs.
	xs, ts := make([][]float64, c.Window), make([]gle.Target, c.Window)
	for t := range c.Window {
		xs[t], ts[t] = make([]float64, 4*batch), gle.Target{Values: make([]float64, 2*batch)}
		for i := range xs[t] {
			xs[t][i] = math.Sin(0.3*float64(t) + float64(i))
		}
		for i := range ts[t].Values {
			ts[t].Values[i] = 0.5 * math.Cos(0.2*float64(t)+float64(i))
		}
	}
	out := make([]float64, 2*batch)
	k := 0
	unit := 1 // steps per timed unit; a whole tape for bptt
	if method == "bptt" {
		unit = c.Window
	}
	step := func() error {
		for range unit {
			if _, err := tr.Step(out, xs[k%c.Window], ts[k%c.Window]); err != nil {
				return err
			}
			k++
		}
		if method == "bptt" {
			return tr.EndSequence()
		}
		return nil
	}
	if err := step(); err != nil { // warm-up: allocations made lazily, caches
		return row, err
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	row.Bytes = max(0, float64(after.HeapAlloc)-float64(before.HeapAlloc)) // 0: below the noise of the heap
	start := time.Now()
	steps := 0
	for steps == 0 || time.Since(start) < c.MinTime {
		if err := step(); err != nil {
			return row, err
		}
		steps += unit
	}
	row.MSPerStep = float64(time.Since(start).Nanoseconds()) / 1e6 / float64(steps)
	row.Steps = steps
	runtime.KeepAlive(tr)
	return row, nil
}

// estimateBytes is the rule's estimate of its state plus the engine's.
func estimateBytes(net *gle.Network, method string, batch, window int) float64 {
	base := gle.EngineBytes(net, batch, 8)
	switch method {
	case "rtrl":
		return base + gradient.ForwardBytes(net, batch, gradient.RTRL, gle.NewGrads(net))
	case "snap2":
		return base + gradient.ForwardBytes(net, batch, gradient.SnAp2, gle.NewGrads(net))
	case "snap1":
		return base + gradient.ForwardBytes(net, batch, gradient.SnAp1, gle.NewGrads(net))
	case "bptt":
		return base + gradient.TapeBytes(net, batch, window)
	}
	return base
}

// FitCosts fits log cost = a + e log n per method and batch over the
// measured sizes n ≥ FitFrom.
func FitCosts(rows []CostRow, c OnlineCostConfig) []CostFit {
	var fits []CostFit
	for _, batch := range c.Batches {
		for _, m := range c.Methods {
			var ln, lt, lm []float64
			for _, r := range rows {
				if r.Method == m && r.Batch == batch && r.Skipped == "" && r.N >= c.FitFrom && r.MSPerStep > 0 && r.Bytes > 0 {
					ln, lt, lm = append(ln, math.Log(float64(r.N))), append(lt, math.Log(r.MSPerStep)), append(lm, math.Log(r.Bytes))
				}
			}
			f := CostFit{Method: m, Batch: batch, TimeExponent: math.NaN(), MemExponent: math.NaN(), Points: len(ln)}
			if len(ln) >= 2 {
				f.TimeExponent, f.MemExponent = slope(ln, lt), slope(ln, lm)
			}
			fits = append(fits, f)
		}
	}
	return fits
}

// slope is the least-squares slope of y on x.
func slope(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx, my = mx+x[i], my+y[i]
	}
	mx, my = mx/float64(len(x)), my/float64(len(y))
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	return sxy / sxx
}

// LargestRTRL returns the largest n of the cost network whose RTRL
// sensitivities and engine fit in limit bytes at the batch.
func LargestRTRL(batch int, limit float64) (int, error) {
	fits := func(n int) (bool, error) {
		net, err := costShape(n)
		if err != nil {
			return false, err
		}
		return estimateBytes(net, "rtrl", batch, 1) <= limit, nil
	}
	lo, hi := 1, 2
	for {
		ok, err := fits(hi)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		lo, hi = hi, 2*hi
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := fits(mid)
		if err != nil {
			return 0, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, nil
}
