package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/optim"
	"github.com/gle-go/gle/plots"
)

// MemoryConfig configures the delayed-recall task of `gle run
// recurrent-memory` (issue 8): a cue (A or B, a pulse of one time unit on
// one of two input lines) is followed by a gap, then a go pulse on a third
// line; from the go pulse on, for Response time units, the output must be
// +1 after A and −1 after B. Nothing is asked before. With the gap longer
// than any τm, only a network that holds the cue in its activity can
// answer.
type MemoryConfig struct {
	// Task is "recall" (above); "sum": two cues A/B separated by the gap,
	// then the go pulse, the answer the number of A cues less one (−1, 0
	// or +1), so the first cue must be held across the gap and added to
	// the second; or "xor": the same two cues, the answer +1 when they
	// differ and −1 when they are the same (combined nonlinearly).
	Task     string
	Gaps     []float64 // gap lengths swept (time units)
	Variants []string  // see MemoryVariants
	Dt       float64
	// TauM of every population, with τr = τm: the neurons are then
	// instantaneous (r = φ(W r + b), docs/gradients.md), so a layered net
	// has no memory at all and only recurrence can hold the cue; the
	// real-time errors are instantaneous too (H = 1, docs/vle.md §4).
	TauM     float64
	Hidden   int     // neurons of the recurrent population (and of each layer of the chain)
	Response float64 // response window after the go pulse (time units)
	Trials   int     // training trials (each a batch)
	Batch    int     // trials in parallel
	LR       float64 // Adam, local rules (one step per dt step)
	BPTTLR   float64 // Adam, BPTT variants (one step per trial or window)
	OnlineLR float64 // Adam, forward-mode rules rtrl, snap2, snap1, eprop (one step per dt step)
	Seed     uint64
	// AlignEvery, when positive, measures every AlignEvery trials (and
	// after the last) how the variant's gradient on a fixed probe batch
	// aligns with the exact one of the same trials (gradient.Compare against
	// bptt, all parameters together).
	AlignEvery int
	// MaxLoopGain, when positive, rescales the recurrent weights after
	// every trial so that ρ(W_hh)·τm/τr ≤ MaxLoopGain: the stability
	// condition (6) of docs/vle.md for the real-time errors (and, here, for
	// the forward loop too).
	MaxLoopGain float64
	// InitLoopGain, when positive, scales the recurrent weights at the
	// start so that ρ(W_hh)·τm/τr = InitLoopGain (a slowly fading memory
	// of the input from the first trial on).
	InitLoopGain float64
}

// MemoryVariants: "vle-local" — the recurrent graph input → h⟲ → out
// learning online with its local rule (GLE's errors on a graph); "gle-layered"
// — the chain input → h1 → h2 → out (no recurrence) with GLE's rule;
// "bptt" — the recurrent graph trained with the exact gradient of each
// whole trial (gradient.FullBPTT), the non-local upper bound; "bptt-twN" —
// truncated BPTT, one gradient step per window of N time units with the
// state carried across windows (gradient.TBPTT); "rtrl", "snap2", "snap1",
// "eprop" — the recurrent graph learning online from forward-mode
// sensitivities (gradient.NewOnline), exact for rtrl.
var MemoryVariants = []string{"vle-local", "gle-layered", "bptt-tw1", "bptt"}

// OnlineVariants adds the forward-mode rules to MemoryVariants.
var OnlineVariants = []string{"gle-layered", "vle-local", "eprop", "snap1", "snap2", "rtrl", "bptt-tw1", "bptt"}

// forwardMode reports whether a variant learns online from forward-mode
// sensitivities (rtrl, snap2, snap1, eprop).
func forwardMode(variant string) bool {
	_, ok := gradient.ParseMode(variant)
	return ok
}

// DefaultMemory returns the sweep of `gle run recurrent-memory`.
func DefaultMemory() MemoryConfig {
	return MemoryConfig{Task: "recall", Gaps: []float64{0.5, 1, 2, 4, 8}, Variants: MemoryVariants, Dt: 0.1, TauM: 0.5, Hidden: 16,
		Response: 1, Trials: 1500, Batch: 16, LR: 3e-5, BPTTLR: 3e-4, OnlineLR: 3e-5, Seed: 1, MaxLoopGain: 0.99, InitLoopGain: 0.95}
}

// MemoryResult is one variant's accuracy at one gap.
type MemoryResult struct {
	Task     string  `json:"task"`
	Variant  string  `json:"variant"`
	Seed     uint64  `json:"seed"`
	Gap      float64 `json:"gap"`
	Accuracy float64 `json:"accuracy"` // fraction of test trials answered with the right sign
	Loss     float64 `json:"loss"`     // mean test loss per response step
	// Alignment traces the gradient alignment over training (AlignEvery).
	Alignment []AlignPoint `json:"alignment,omitempty"`
}

// AlignPoint is the alignment of a variant's gradient with the exact one
// on the probe batch after Trial training trials.
type AlignPoint struct {
	Trial     int     `json:"trial"`
	Cosine    float64 `json:"cosine"`
	NormRatio float64 `json:"norm_ratio"`
}

// MarshalJSON writes an undefined cosine or ratio (a zero gradient) as
// null.
func (a AlignPoint) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"trial": a.Trial, "cosine": finiteOrNil(a.Cosine), "norm_ratio": finiteOrNil(a.NormRatio)})
}

// UnmarshalJSON reads what MarshalJSON writes (null: NaN).
func (a *AlignPoint) UnmarshalJSON(b []byte) error {
	var v struct {
		Trial     int      `json:"trial"`
		Cosine    *float64 `json:"cosine"`
		NormRatio *float64 `json:"norm_ratio"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.Trial, a.Cosine, a.NormRatio = v.Trial, math.NaN(), math.NaN()
	if v.Cosine != nil {
		a.Cosine = *v.Cosine
	}
	if v.NormRatio != nil {
		a.NormRatio = *v.NormRatio
	}
	return nil
}

// memoryTarget is the answer's magnitude.
const memoryTarget = 1.0

// MemoryTasks are the tasks RunMemory knows.
var MemoryTasks = []string{"recall", "sum", "xor"}

// cuesPerTrial is the number of A/B cues of a trial.
func (c *MemoryConfig) cuesPerTrial() int {
	if c.Task == "recall" {
		return 1
	}
	return 2
}

// answer is trial b's right answer, −1, 0 or +1 (in units of
// memoryTarget), given the cues of the batch.
func (c *MemoryConfig) answer(cues []bool, b int) float64 {
	sign := func(ok bool) float64 {
		if ok {
			return 1
		}
		return -1
	}
	switch c.Task {
	case "xor":
		return sign(cues[2*b] != cues[2*b+1])
	case "sum":
		n := 0.0
		for _, a := range cues[2*b : 2*b+2] {
			if a {
				n++
			}
		}
		return n - 1
	}
	return sign(cues[b])
}

// correct reports whether a trial's mean output in the scored window
// answers want: the nearest of the task's answers (−1, +1; and 0 for sum).
func (c *MemoryConfig) correct(mean, want float64) bool {
	levels := []float64{-1, 1}
	if c.Task == "sum" {
		levels = []float64{-1, 0, 1}
	}
	best := levels[0]
	for _, l := range levels[1:] {
		if math.Abs(mean-l*memoryTarget) < math.Abs(mean-best*memoryTarget) {
			best = l
		}
	}
	return best == want
}

// memoryTrial returns the inputs and targets of one batch of trials with
// the given cues (true: A; cuesPerTrial per trial).
func (c *MemoryConfig) memoryTrial(gap float64, cues []bool) ([][]float64, []gle.Target) {
	steps := c.trialSteps(gap)
	unit := stepsIn(1, c.Dt) // a cue or the go pulse lasts one time unit
	k := c.cuesPerTrial()
	// cue i of a trial starts at i·(1 + gap); the go pulse after the last.
	cueStart := func(i int) int { return stepsIn(float64(i)*(1+gap), c.Dt) }
	goStep := cueStart(k-1) + unit
	if k == 1 {
		goStep = stepsIn((1 + gap), c.Dt)
	}
	B := len(cues) / k
	xs, ts := make([][]float64, steps), make([]gle.Target, steps)
	for s := range steps {
		x := make([]float64, 3*B)
		for b := range B {
			for i := range k {
				if st := cueStart(i); s >= st && s < st+unit {
					if cues[k*b+i] {
						x[3*b] = 1
					} else {
						x[3*b+1] = 1
					}
				}
			}
			if s >= goStep && s < goStep+unit {
				x[3*b+2] = 1
			}
		}
		xs[s] = x
		if s >= goStep {
			y := make([]float64, B)
			for b := range B {
				y[b] = c.answer(cues, b) * memoryTarget
			}
			ts[s] = gle.Target{Values: y}
		}
	}
	return xs, ts
}

// memoryNet builds the variant's network.
func (c *MemoryConfig) memoryNet(variant string) (*gle.Network, error) {
	pop := func(name string, size int, phi gle.Activation) gle.PopulationSpec {
		return gle.PopulationSpec{Name: name, Size: size, Phi: phi, TauM: gle.Taus{c.TauM}, TauR: gle.Taus{c.TauM}}
	}
	s := &gle.Spec{Dt: c.Dt, Loss: gle.MSE, Inputs: 3, Output: "out", Seed: c.Seed}
	if strings.HasPrefix(variant, "bptt-tw") {
		variant = "bptt"
	}
	switch {
	case variant == "vle-local" || variant == "bptt" || forwardMode(variant):
		s.Populations = []gle.PopulationSpec{pop("h", c.Hidden, gle.Tanh), pop("out", 1, gle.Linear)}
		s.Projections = []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"}, {From: "h", To: "out"}}
	case variant == "gle-layered":
		s.Populations = []gle.PopulationSpec{pop("h1", c.Hidden, gle.Tanh), pop("h2", c.Hidden, gle.Tanh), pop("out", 1, gle.Linear)}
		s.Projections = []gle.ProjectionSpec{{From: gle.InputName, To: "h1"}, {From: "h1", To: "h2"}, {From: "h2", To: "out"}}
	default:
		return nil, &gle.FieldError{Field: "variant", Value: variant, Why: fmt.Sprintf("want one of %v", OnlineVariants), Err: gle.ErrUnknownName}
	}
	n, err := gle.NewNetwork(s)
	if err != nil || c.InitLoopGain <= 0 {
		return n, err
	}
	return n, gle.SetLoopGain(n, c.InitLoopGain)
}

// RunMemory trains every variant at every gap and measures the accuracy on
// 200 fresh test trials. report, when non-nil, receives each result.
func RunMemory(ctx context.Context, c MemoryConfig, report func(MemoryResult)) ([]MemoryResult, error) {
	if !(c.Dt > 0) || c.Trials <= 0 || c.Batch <= 0 || c.Hidden <= 0 || !(c.TauM >= c.Dt) || !(c.Response > 0) || !(c.LR > 0) || !(c.BPTTLR > 0) || !(c.OnlineLR > 0) || c.AlignEvery < 0 {
		return nil, fmt.Errorf("%w: memory task needs dt > 0, tau_m ≥ dt, response > 0, align_every ≥ 0 and positive trials, batch, hidden, lr, bptt_lr, online_lr (got %+v)", gle.ErrInvalid, c)
	}
	if !slices.Contains(MemoryTasks, c.Task) {
		return nil, &gle.FieldError{Field: "task", Value: c.Task, Why: "want " + strings.Join(MemoryTasks, ", "), Err: gle.ErrUnknownName}
	}
	var res []MemoryResult
	for _, variant := range c.Variants {
		for _, gap := range c.Gaps {
			if !(gap >= 0) {
				return nil, fmt.Errorf("%w: gap %g", gle.ErrInvalid, gap)
			}
			n, err := c.memoryNet(variant)
			if err != nil {
				return nil, err
			}
			rng := rand.New(rand.NewPCG(c.Seed, math.Float64bits(gap)))
			cues := func(B int) []bool {
				v := make([]bool, B)
				for i := range v {
					v[i] = rng.IntN(2) == 0
				}
				return v
			}
			align, err := c.trainMemory(ctx, n, variant, gap, cues)
			if err != nil {
				return res, fmt.Errorf("%s, gap %g: %w", variant, gap, err)
			}
			r, err := c.testMemory(n, variant, gap, cues(200*c.cuesPerTrial()))
			if err != nil {
				return res, err
			}
			r.Alignment = align
			res = append(res, r)
			if report != nil {
				report(r)
			}
		}
	}
	return res, nil
}

// trainMemory trains n on c.Trials batches of trials, each from rest:
// online with the local rule or a forward-mode rule, or with the exact
// gradient of every whole trial (bptt) or of every window of it
// (bptt-twN). With AlignEvery it returns the alignment trace.
func (c *MemoryConfig) trainMemory(ctx context.Context, n *gle.Network, variant string, gap float64, cues func(int) []bool) ([]AlignPoint, error) {
	lr := c.LR
	var rule gle.Rule
	method := "gle" // what the alignment compares with bptt
	switch {
	case strings.HasPrefix(variant, "bptt"):
		lr = c.BPTTLR
		rule, method = gradient.FullBPTT(c.trialSteps(gap)), ""
		if w, ok := strings.CutPrefix(variant, "bptt-tw"); ok {
			tw, err := strconv.ParseFloat(w, 64)
			if err != nil || !(tw >= c.Dt) {
				return nil, &gle.FieldError{Field: "variant", Value: variant, Why: "the window must be a number of time units ≥ dt", Err: gle.ErrInvalid}
			}
			steps := stepsIn(tw, c.Dt)
			rule, method = gradient.TBPTT(steps), fmt.Sprintf("tbptt:%d", steps)
		}
	case forwardMode(variant):
		lr, method = c.OnlineLR, variant
		rule, _ = gradient.ParseRule(variant, 0)
	}
	tr, err := gle.NewTrainer(n, c.Batch, optim.NewAdam(lr))
	if err != nil {
		return nil, err
	}
	tr.Rule, tr.MaxLoopGain = rule, c.MaxLoopGain
	// The probe: a fixed batch of trials, its own cue stream.
	probeRng := rand.New(rand.NewPCG(c.Seed+1000, math.Float64bits(gap)))
	probeCues := make([]bool, c.Batch*c.cuesPerTrial())
	for i := range probeCues {
		probeCues[i] = probeRng.IntN(2) == 0
	}
	px, pt := c.memoryTrial(gap, probeCues)
	var align []AlignPoint
	measure := func(trial int) error {
		if c.AlignEvery <= 0 || method == "" {
			return nil
		}
		rows, err := gradient.Compare(n, c.Batch, px, pt, len(px), method, "bptt")
		if err != nil {
			return fmt.Errorf("alignment after %d trials: %w", trial, err)
		}
		for _, r := range rows {
			if r.Window == -1 && r.Param == "all" {
				align = append(align, AlignPoint{Trial: trial, Cosine: r.Cosine, NormRatio: r.NormRatio})
			}
		}
		return nil
	}
	out := make([]float64, c.Batch)
	for trial := range c.Trials {
		if trial%50 == 0 && ctx.Err() != nil {
			return align, ctx.Err()
		}
		if trial%max(c.AlignEvery, 1) == 0 {
			if err := measure(trial); err != nil {
				return align, err
			}
		}
		xs, ts := c.memoryTrial(gap, cues(c.Batch*c.cuesPerTrial()))
		tr.Reset()
		for s, x := range xs {
			if _, err := tr.Step(out, x, ts[s]); err != nil {
				return align, fmt.Errorf("trial %d: %w", trial, err)
			}
		}
		if err := tr.EndSequence(); err != nil {
			return align, fmt.Errorf("trial %d: %w", trial, err)
		}
	}
	return align, measure(c.Trials)
}

// trialSteps returns the length of a trial at the gap: the cues, the gap
// and the response window.
func (c *MemoryConfig) trialSteps(gap float64) int {
	return stepsIn(float64(c.cuesPerTrial())+gap+c.Response, c.Dt)
}

// testMemory runs the trials without learning and scores the output
// averaged over the second half of the response window: the nearest of
// the task's answers must be the right one.
func (c *MemoryConfig) testMemory(n *gle.Network, variant string, gap float64, cues []bool) (MemoryResult, error) {
	B := len(cues) / c.cuesPerTrial()
	xs, ts := c.memoryTrial(gap, cues)
	e, err := gle.NewEngine(n, B)
	if err != nil {
		return MemoryResult{}, err
	}
	out := make([]float64, B)
	sum := make([]float64, B)
	var loss float64
	var scored int
	first := len(xs) - int(math.Round(c.Response/(2*c.Dt)))
	for s, x := range xs {
		if err := e.Step(out, x, gle.Target{}); err != nil { // no target: the test run does not nudge
			return MemoryResult{}, err
		}
		if !ts[s].None() {
			loss += n.Loss.Value(out, ts[s], 1)
			scored++
		}
		if s >= first {
			for b, v := range out {
				sum[b] += v
			}
		}
	}
	correct := 0
	scoredSteps := float64(len(xs) - first)
	for b := range B {
		if c.correct(sum[b]/scoredSteps, c.answer(cues, b)) {
			correct++
		}
	}
	return MemoryResult{Task: c.Task, Variant: variant, Seed: c.Seed, Gap: gap, Accuracy: float64(correct) / float64(B), Loss: loss / float64(max(scored, 1))}, nil
}

// MemoryFigure draws accuracy against the gap, one line per variant.
func MemoryFigure(base string, res []MemoryResult, variants []string) error {
	p := plots.Panel{Title: "delayed recall: accuracy vs gap", XLabel: "gap (time units)", YLabel: "accuracy", Legend: "bottom right",
		LogX: true, YRange: [2]float64{0, 1.02}}
	for i, v := range variants {
		s := plots.Series{Name: v, Color: i}
		for _, r := range res {
			if r.Variant == v {
				s.X, s.Y = append(s.X, r.Gap), append(s.Y, r.Accuracy)
			}
		}
		p.Series = append(p.Series, s)
	}
	return plots.Save(base, 1, 1, 7, 4.5, p)
}

func init() {
	register(Command{Name: "recurrent-memory", Summary: "delayed recall (and sum, xor) against the gap: local rules on a recurrent graph against BPTT",
		Define: func(fs *flag.FlagSet, env *Env) func(context.Context) error {
			c := DefaultMemory()
			variants := strings.Join(c.Variants, ",")
			fs.Var(floatsFlag{&c.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "gaps", "comma-separated gap lengths (time units)")
			fs.StringVar(&variants, "variant", variants, "comma-separated variants: "+strings.Join(OnlineVariants, ", "))
			fs.Float64Var(&c.TauM, "tau-m", c.TauM, "τm (= τr) of every population")
			fs.IntVar(&c.Hidden, "hidden", c.Hidden, "neurons per hidden population")
			fs.IntVar(&c.Trials, "trials", c.Trials, "training trials (batches)")
			fs.IntVar(&c.Batch, "batch", c.Batch, "trials per batch")
			fs.Float64Var(&c.LR, "lr", c.LR, "Adam learning rate of the local rules (a step per dt step)")
			fs.Float64Var(&c.BPTTLR, "bptt-lr", c.BPTTLR, "Adam learning rate of the BPTT variants (a step per trial or window)")
			fs.Float64Var(&c.OnlineLR, "online-lr", c.OnlineLR, "Adam learning rate of the forward-mode variants rtrl, snap2, snap1, eprop (a step per dt step)")
			fs.StringVar(&c.Task, "task", c.Task, "recall (one cue), sum (the number of A among two cues separated by the gap, less one) or xor (+1 when the two cues differ)")
			fs.Float64Var(&c.MaxLoopGain, "max-loop-gain", c.MaxLoopGain, "keep ρ(W_hh)·τm/τr at most this after every trial (0: off)")
			fs.Float64Var(&c.InitLoopGain, "init-loop-gain", c.InitLoopGain, "start the recurrent weights at this ρ(W_hh)·τm/τr (0: as drawn)")
			fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for weights and cues")
			return func(ctx context.Context) error {
				c.Variants = strings.Split(variants, ",")
				return runMemoryIn(ctx, c, env)
			}
		}})
}

// runMemoryIn runs every variant and gap and writes
// recurrent-memory.jsonl, the figure and the table.
func runMemoryIn(ctx context.Context, c MemoryConfig, env *Env) error {
	dir, err := env.Folder("recurrent-memory", c)
	if err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "%-12s %5s %9s %12s\n", "variant", "gap", "accuracy", "test loss")
	res, err := RunMemory(ctx, c, func(r MemoryResult) {
		fmt.Fprintf(w, "%-12s %5g %9.3f %12.4g\n", r.Variant, r.Gap, r.Accuracy, r.Loss)
	})
	if err != nil {
		return err
	}
	if err := errors.Join(runs.WriteJSONL(filepath.Join(dir, "recurrent-memory.jsonl"), res),
		MemoryFigure(filepath.Join(dir, "recurrent-memory"), res, c.Variants)); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote recurrent-memory.jsonl and recurrent-memory.png/.svg to %s\n", dir)
	return nil
}
