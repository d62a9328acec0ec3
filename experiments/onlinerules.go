package experiments

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/plots"
)

// OnlineRulesConfig configures `gle run online-rules` (docs/online.md):
// the cost sweep and the two tasks only recurrence solves, every learning
// rule on each, over several seeds.
type OnlineRulesConfig struct {
	Cost   OnlineCostConfig
	Recall MemoryConfig // the delayed recall of `gle run recurrent-memory`
	Sum    MemoryConfig // the delayed sum of two cues
	Seeds  []uint64
}

// DefaultOnlineRules returns the experiment of docs/online.md: the cost
// sweep, recall at gaps 0.5…8 and the sum of two cues at gaps 0.5…4, every variant of
// OnlineVariants, seeds 1–5, the alignment traced every 250 trials.
func DefaultOnlineRules() OnlineRulesConfig {
	recall := DefaultMemory()
	recall.Variants, recall.AlignEvery = OnlineVariants, 250
	sum := recall
	sum.Task, sum.Gaps = "sum", []float64{0.5, 1, 2, 4}
	return OnlineRulesConfig{Cost: DefaultOnlineCost(), Recall: recall, Sum: sum, Seeds: []uint64{1, 2, 3, 4, 5}}
}

// LearningItem is one training run of the learning part: a task, a seed,
// a variant and a gap.
type LearningItem struct {
	Task    string
	Seed    uint64
	Variant string
	Gap     float64
}

// Key identifies the item's result in a results file.
func (it LearningItem) Key() string {
	return fmt.Sprintf("%s/%d/%s/%g", it.Task, it.Seed, it.Variant, it.Gap)
}

// ResultKey is the Key of the item that produced r.
func ResultKey(r MemoryResult) string {
	return LearningItem{Task: r.Task, Seed: r.Seed, Variant: r.Variant, Gap: r.Gap}.Key()
}

// Items lists the learning runs of the tasks named (recall, sum) in a
// fixed order.
func (c *OnlineRulesConfig) Items(tasks []string) []LearningItem {
	var items []LearningItem
	for _, task := range tasks {
		m := c.Task(task)
		for _, seed := range c.Seeds {
			for _, v := range m.Variants {
				for _, g := range m.Gaps {
					items = append(items, LearningItem{Task: task, Seed: seed, Variant: v, Gap: g})
				}
			}
		}
	}
	return items
}

// Task returns the configuration of the task named (recall or sum).
func (c *OnlineRulesConfig) Task(name string) MemoryConfig {
	if name == "sum" {
		return c.Sum
	}
	return c.Recall
}

// Item returns the configuration that runs one item alone (RunMemory
// draws each variant's and gap's trials from their own streams, so this
// is the result the whole sweep gives).
func (c *OnlineRulesConfig) Item(it LearningItem) MemoryConfig {
	m := c.Task(it.Task)
	m.Seed, m.Variants, m.Gaps = it.Seed, []string{it.Variant}, []float64{it.Gap}
	return m
}

// solved is the accuracy at which a seed counts as having solved a gap.
const solved = 0.95

// LearningTable is the markdown table of one task: per variant and gap,
// the mean ± std (population) of the accuracy over seeds and, in
// parentheses, the seeds that solve it (accuracy ≥ 0.95).
func LearningTable(task string, res []MemoryResult, variants []string, gaps []float64) string {
	var b strings.Builder
	b.WriteString("| variant |")
	for _, g := range gaps {
		fmt.Fprintf(&b, " gap %g |", g)
	}
	b.WriteString("\n|---|")
	for range gaps {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, v := range variants {
		fmt.Fprintf(&b, "| %s |", v)
		for _, g := range gaps {
			var acc []float64
			for _, r := range res {
				if r.Task == task && r.Variant == v && r.Gap == g {
					acc = append(acc, r.Accuracy)
				}
			}
			if len(acc) == 0 {
				b.WriteString(" – |")
				continue
			}
			s := Summarize(acc)
			n := 0
			for _, a := range acc {
				if a >= solved {
					n++
				}
			}
			fmt.Fprintf(&b, " %.2f ± %.2f (%d/%d) |", s.Mean, s.Std, n, len(acc))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// AlignmentTable is the markdown table of the gradient alignment (cosine
// with the exact gradient of the probe trials, all parameters) over
// training: per variant and gap, the mean over seeds at the first and the
// last measurement, and the lowest seen.
func AlignmentTable(task string, res []MemoryResult, variants []string, gaps []float64) string {
	var b strings.Builder
	b.WriteString("| variant | gap | cosine at start | cosine at end | lowest | norm ratio at end |\n|---|---|---|---|---|---|\n")
	for _, v := range variants {
		for _, g := range gaps {
			var first, last, ratio []float64
			low := math.Inf(1)
			for _, r := range res {
				if r.Task != task || r.Variant != v || r.Gap != g || len(r.Alignment) == 0 {
					continue
				}
				first = append(first, r.Alignment[0].Cosine)
				end := r.Alignment[len(r.Alignment)-1]
				last, ratio = append(last, end.Cosine), append(ratio, end.NormRatio)
				for _, a := range r.Alignment {
					if !math.IsNaN(a.Cosine) {
						low = math.Min(low, a.Cosine)
					}
				}
			}
			if len(first) == 0 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %g | %.3f | %.3f | %.3f | %.3g |\n", v, g, Summarize(first).Mean, Summarize(last).Mean, low, Summarize(ratio).Mean)
		}
	}
	return b.String()
}

// LearningFigure draws, per task, the mean accuracy over seeds against
// the gap, one line per variant, and the alignment over training at the
// gap given (mean cosine over seeds).
func LearningFigure(base string, res []MemoryResult, tasks, variants []string, alignGap float64) error {
	var panels []plots.Panel
	for _, task := range tasks {
		acc := plots.Panel{Title: task + ": accuracy vs gap (mean over seeds)", XLabel: "gap (time units)", YLabel: "accuracy", Legend: "bottom right",
			LogX: true, YRange: [2]float64{0, 1.02}}
		al := plots.Panel{Title: fmt.Sprintf("%s: cosine with the exact gradient, gap %g", task, alignGap), XLabel: "training trials", YLabel: "cosine", Legend: "bottom right",
			XIntegers: true, YRange: [2]float64{-1, 1.02}}
		for i, v := range variants {
			byGap := map[float64][]float64{}
			byTrial := map[int][]float64{}
			for _, r := range res {
				if r.Task != task || r.Variant != v {
					continue
				}
				byGap[r.Gap] = append(byGap[r.Gap], r.Accuracy)
				if r.Gap == alignGap {
					for _, a := range r.Alignment {
						if !math.IsNaN(a.Cosine) {
							byTrial[a.Trial] = append(byTrial[a.Trial], a.Cosine)
						}
					}
				}
			}
			s := plots.Series{Name: v, Color: i}
			for _, g := range sortedKeys(byGap) {
				s.X, s.Y = append(s.X, g), append(s.Y, Summarize(byGap[g]).Mean)
			}
			acc.Series = append(acc.Series, s)
			if len(byTrial) > 0 {
				a := plots.Series{Name: v, Color: i}
				for _, t := range sortedKeys(byTrial) {
					a.X, a.Y = append(a.X, float64(t)), append(a.Y, Summarize(byTrial[t]).Mean)
				}
				al.Series = append(al.Series, a)
			}
		}
		panels = append(panels, acc, al)
	}
	return plots.Save(base, len(tasks), 2, 12, 4.5*float64(len(tasks)), panels...)
}

func sortedKeys[K int | float64, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CostTable is the markdown table of the cost sweep: time per step (ms)
// and live memory per method, size and batch, then the fitted exponents.
func CostTable(rows []CostRow, fits []CostFit) string {
	var b strings.Builder
	var sizes []int
	for _, r := range rows {
		if !slices.Contains(sizes, r.N) {
			sizes = append(sizes, r.N)
		}
	}
	slices.Sort(sizes)
	b.WriteString("| method | batch |")
	for _, n := range sizes {
		fmt.Fprintf(&b, " n = %d |", n)
	}
	b.WriteString(" time ∝ n^ | memory ∝ n^ |\n|---|---|")
	for range sizes {
		b.WriteString("---|")
	}
	b.WriteString("---|---|\n")
	for _, f := range fits {
		fmt.Fprintf(&b, "| %s | %d |", f.Method, f.Batch)
		for _, n := range sizes {
			i := slices.IndexFunc(rows, func(r CostRow) bool { return r.Method == f.Method && r.Batch == f.Batch && r.N == n })
			switch {
			case i < 0:
				b.WriteString(" – |")
			case rows[i].Skipped != "":
				fmt.Fprintf(&b, " (skipped; needs %s) |", gle.FormatBytes(rows[i].EstimatedBytes))
			default:
				fmt.Fprintf(&b, " %s ms, %s |", fmtMS(rows[i].MSPerStep), gle.FormatBytes(rows[i].Bytes))
			}
		}
		fmt.Fprintf(&b, " %.2f | %.2f |\n", f.TimeExponent, f.MemExponent)
	}
	return b.String()
}

// fmtMS prints a time in ms with three significant digits.
func fmtMS(ms float64) string { return fmt.Sprintf("%.3g", ms) }

// CostFigure draws time per step and memory against n (log–log), one
// line per method, solid for batch 1 and dashed for the larger batch.
func CostFigure(base string, rows []CostRow, methods []string) error {
	tp := plots.Panel{Title: "time per dt step", XLabel: "n (recurrent neurons)", YLabel: "ms", LogX: true, LogY: true, Legend: "bottom right"}
	mp := plots.Panel{Title: "memory (live heap)", XLabel: "n (recurrent neurons)", YLabel: "bytes", LogX: true, LogY: true, Legend: "bottom right"}
	var batches []int
	for _, r := range rows {
		if !slices.Contains(batches, r.Batch) {
			batches = append(batches, r.Batch)
		}
	}
	slices.Sort(batches)
	for bi, batch := range batches {
		for i, m := range methods {
			ts := plots.Series{Name: fmt.Sprintf("%s, batch %d", m, batch), Color: i, Dashed: bi > 0}
			ms := ts
			for _, r := range rows {
				if r.Method == m && r.Batch == batch && r.Skipped == "" {
					ts.X, ts.Y = append(ts.X, float64(r.N)), append(ts.Y, r.MSPerStep)
					ms.X, ms.Y = append(ms.X, float64(r.N)), append(ms.Y, r.Bytes)
				}
			}
			tp.Series, mp.Series = append(tp.Series, ts), append(mp.Series, ms)
		}
	}
	return plots.Save(base, 1, 2, 12, 5, tp, mp)
}

// RunOnlineRulesIn runs the parts of the comparison (cost, recall, sum)
// in dir, resumably: results already in its cost.jsonl and
// learning.jsonl are kept, the rest computed (jobs learning runs at a
// time), then the tables (cost.md, online-rules.md) and figures are
// written; progress and tables go to stdout.
func RunOnlineRulesIn(ctx context.Context, c OnlineRulesConfig, parts []string, jobs int, dir string, stdout io.Writer) error {
	var errs []error
	if slices.Contains(parts, "cost") {
		errs = append(errs, onlineCost(ctx, c.Cost, dir, stdout))
	}
	var tasks []string
	for _, t := range []string{"recall", "sum"} {
		if slices.Contains(parts, t) {
			tasks = append(tasks, t)
		}
	}
	if len(tasks) > 0 && ctx.Err() == nil {
		errs = append(errs, onlineLearning(ctx, &c, tasks, jobs, dir, stdout))
	}
	return errors.Join(errs...)
}

// onlineCost runs (or completes) the cost sweep and writes its table and
// figure.
func onlineCost(ctx context.Context, c OnlineCostConfig, dir string, stdout io.Writer) error {
	path := filepath.Join(dir, "cost.jsonl")
	done, err := runs.ReadJSONL[CostRow](path)
	if err != nil {
		return err
	}
	key := func(r CostRow) string { return fmt.Sprintf("%s/%d/%d", r.Method, r.N, r.Batch) }
	have := map[string]CostRow{}
	for _, r := range done {
		have[key(r)] = r
	}
	m, err := runs.OpenMetrics(path, done)
	if err != nil {
		return err
	}
	defer m.Close()
	// The memory limit before the sweep: the measurements hold memory.
	limit := float64(gle.MemoryLimit())
	fmt.Fprintf(stdout, "%-7s %5s %6s %12s %12s\n", "method", "n", "batch", "ms/step", "memory")
	var rows []CostRow
	for _, batch := range c.Batches {
		for _, method := range c.Methods {
			for _, n := range c.Sizes {
				one := c
				one.Sizes, one.Batches, one.Methods = []int{n}, []int{batch}, []string{method}
				r, ok := have[key(CostRow{Method: method, N: n, Batch: batch})]
				if !ok {
					got, _, err := RunOnlineCost(ctx, one, nil)
					if err != nil {
						return err
					}
					r = got[0]
					if err := m.Write(r); err != nil {
						return err
					}
				}
				rows = append(rows, r)
				if r.Skipped != "" {
					fmt.Fprintf(stdout, "%-7s %5d %6d   skipped: %s\n", method, n, batch, r.Skipped)
				} else {
					fmt.Fprintf(stdout, "%-7s %5d %6d %12.4g %12s\n", method, n, batch, r.MSPerStep, gle.FormatBytes(r.Bytes))
				}
			}
		}
	}
	fits := FitCosts(rows, c)
	var largest []string
	for _, batch := range c.Batches {
		n, err := LargestRTRL(batch, limit)
		if err != nil {
			return err
		}
		largest = append(largest, fmt.Sprintf("n = %d at batch %d", n, batch))
	}
	table := fmt.Sprintf("## Cost per dt step (input 4 → h ⟲ n → out 2)\n\n%s\nLargest recurrent population whose RTRL sensitivities fit in %s (this machine's available memory): %s.\n",
		CostTable(rows, fits), gle.FormatBytes(limit), strings.Join(largest, ", "))
	fmt.Fprint(stdout, "\n"+table+"\n")
	if err := runs.WriteJSONL(filepath.Join(dir, "cost-fits.jsonl"), fits); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "cost.md"), []byte(table)); err != nil {
		return err
	}
	return CostFigure(filepath.Join(dir, "cost"), rows, c.Methods)
}

// onlineLearning trains every variant at every gap and seed of the tasks
// (the results already in learning.jsonl are kept) and writes the tables
// and figures.
func onlineLearning(ctx context.Context, c *OnlineRulesConfig, tasks []string, jobs int, dir string, stdout io.Writer) error {
	path := filepath.Join(dir, "learning.jsonl")
	done, err := runs.ReadJSONL[MemoryResult](path)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range done {
		have[ResultKey(r)] = true
	}
	var todo []LearningItem
	for _, it := range c.Items(tasks) {
		if !have[it.Key()] {
			todo = append(todo, it)
		}
	}
	m, err := runs.OpenMetrics(path, done)
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintf(stdout, "%d learning runs, %d done before; %d to go\n", len(done)+len(todo), len(done), len(todo))
	var mu sync.Mutex
	res := done
	err = runs.FanOut(len(todo), jobs, func(i int) error {
		if ctx.Err() != nil {
			return nil
		}
		it := todo[i]
		r, err := RunMemory(ctx, c.Item(it), nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil // interrupted: the run is redone on --resume
			}
			return fmt.Errorf("%s: %w", it.Key(), err)
		}
		mu.Lock()
		defer mu.Unlock()
		res = append(res, r[0])
		fmt.Fprintf(stdout, "%-7s seed %d %-12s gap %-4g accuracy %.3f  test loss %.4g\n", it.Task, it.Seed, it.Variant, it.Gap, r[0].Accuracy, r[0].Loss)
		return m.Write(r[0])
	})
	if err != nil {
		return err
	}
	var md strings.Builder
	for _, task := range tasks {
		tc := c.Task(task)
		fmt.Fprintf(&md, "## %s: accuracy, mean ± std over seeds %v (seeds with accuracy ≥ 0.95)\n\n%s\n", task, c.Seeds, LearningTable(task, res, tc.Variants, tc.Gaps))
		fmt.Fprintf(&md, "## %s: cosine of each rule's gradient with the exact one over training (probe batch, all parameters)\n\n%s\n", task, AlignmentTable(task, res, tc.Variants, tc.Gaps))
	}
	fmt.Fprint(stdout, "\n"+md.String())
	if err := atomicfile.Write(filepath.Join(dir, "online-rules.md"), []byte(md.String())); err != nil {
		return err
	}
	return LearningFigure(filepath.Join(dir, "learning"), res, tasks, c.Recall.Variants, 2)
}

// onlineParts are the parts of `gle run online-rules`.
var onlineParts = []string{"cost", "recall", "sum"}

func init() {
	register(Command{Name: "online-rules", Resumable: true,
		Summary: "RTRL, SnAp-2, SnAp-1, e-prop, GLE and BPTT side by side: cost as n grows, learning on delayed recall and sum over seeds (docs/online.md)",
		Define: func(fs *flag.FlagSet, env *Env) func(context.Context) error {
			c := DefaultOnlineRules()
			parts, seeds := strings.Join(onlineParts, ","), "1-5"
			variants := strings.Join(c.Recall.Variants, ",")
			jobs, trials := 1, c.Recall.Trials
			fs.StringVar(&parts, "part", parts, "comma-separated parts: "+strings.Join(onlineParts, ", "))
			fs.StringVar(&seeds, "seeds", seeds, "seeds of the learning tables, e.g. 1-5")
			fs.StringVar(&variants, "variant", variants, "comma-separated variants: "+strings.Join(OnlineVariants, ", "))
			fs.Var(floatsFlag{&c.Recall.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "recall-gaps", "gaps of the recall task (time units)")
			fs.Var(floatsFlag{&c.Sum.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "sum-gaps", "gaps of the sum task (time units)")
			fs.IntVar(&trials, "trials", trials, "training trials (batches of 16) per run")
			fs.IntVar(&c.Recall.AlignEvery, "align-every", c.Recall.AlignEvery, "measure the gradient alignment every N trials (0: off)")
			fs.Var(intsFlag{&c.Cost.Sizes}, "sizes", "recurrent population sizes of the cost sweep")
			fs.Var(intsFlag{&c.Cost.Batches}, "batches", "batch sizes of the cost sweep")
			fs.DurationVar(&c.Cost.MinTime, "min-time", c.Cost.MinTime, "least time per cost measurement")
			fs.IntVar(&jobs, "jobs", jobs, "learning runs in parallel (the cost sweep always runs alone)")
			return func(ctx context.Context) error {
				var err error
				if c.Seeds, err = runs.ParseSeeds(seeds); err != nil {
					return Usagef("--seeds %q: %v", seeds, err)
				}
				want := strings.Split(parts, ",")
				for _, p := range want {
					if !slices.Contains(onlineParts, p) {
						return Usagef("--part %q: want %s", p, strings.Join(onlineParts, ", "))
					}
				}
				vs := strings.Split(variants, ",")
				for _, v := range vs {
					if !slices.Contains(OnlineVariants, v) {
						return Usagef("--variant %q: want %s", v, strings.Join(OnlineVariants, ", "))
					}
				}
				if trials <= 0 || jobs <= 0 || c.Recall.AlignEvery < 0 {
					return Usagef("--trials = %d and --jobs = %d must be positive, --align-every = %d ≥ 0", trials, jobs, c.Recall.AlignEvery)
				}
				c.Recall.Variants, c.Sum.Variants = vs, vs
				c.Recall.Trials, c.Sum.Trials = trials, trials
				c.Sum.AlignEvery = c.Recall.AlignEvery
				dir, err := env.Dir("online-rules")
				if err != nil {
					return err
				}
				id, err := runs.Identity(c)
				if err != nil {
					return err
				}
				if err := errors.Join(runs.KeepIdentity(dir, id, env.Resume), runs.WriteConfig(dir, c)); err != nil {
					return err
				}
				if err := RunOnlineRulesIn(ctx, c, want, jobs, dir, env.Stdout); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "wrote the tables (online-rules.md), results (*.jsonl) and figures to %s\n", dir)
				return ctx.Err()
			}
		}})
}
