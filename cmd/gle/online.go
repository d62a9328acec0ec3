package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/runs"
)

// onlineParts are the parts of `gle run online-rules`.
var onlineParts = []string{"cost", "recall", "sum"}

// runOnlineRules runs the comparison of docs/online.md: the cost sweep
// and the learning tables (every rule, every seed), resumable result by
// result.
func runOnlineRules(ctx context.Context, args []string, stdout io.Writer) error {
	c := experiments.DefaultOnlineRules()
	out, parts, seeds := "", strings.Join(onlineParts, ","), "1-5"
	variants := strings.Join(c.Recall.Variants, ",")
	var force, resume bool
	jobs, trials := 1, c.Recall.Trials
	if err := parseNoArgs("run online-rules", args, func(fs *flag.FlagSet) {
		defineCommon(fs, &force)
		fs.StringVar(&parts, "part", parts, "comma-separated parts: "+strings.Join(onlineParts, ", "))
		fs.StringVar(&seeds, "seeds", seeds, "seeds of the learning tables, e.g. 1-5")
		fs.StringVar(&variants, "variant", variants, "comma-separated variants: "+strings.Join(experiments.OnlineVariants, ", "))
		fs.Var(floatsFlag{&c.Recall.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "recall-gaps", "gaps of the recall task (time units)")
		fs.Var(floatsFlag{&c.Sum.Gaps, func(v float64) bool { return v >= 0 }, "a non-negative number"}, "sum-gaps", "gaps of the sum task (time units)")
		fs.IntVar(&trials, "trials", trials, "training trials (batches of 16) per run")
		fs.IntVar(&c.Recall.AlignEvery, "align-every", c.Recall.AlignEvery, "measure the gradient alignment every N trials (0: off)")
		fs.Var(intsFlag{&c.Cost.Sizes}, "sizes", "recurrent population sizes of the cost sweep")
		fs.Var(intsFlag{&c.Cost.Batches}, "batches", "batch sizes of the cost sweep")
		fs.DurationVar(&c.Cost.MinTime, "min-time", c.Cost.MinTime, "least time per cost measurement")
		fs.IntVar(&jobs, "jobs", jobs, "learning runs in parallel (the cost sweep always runs alone)")
		fs.StringVar(&out, "out", "", "output folder (default runs/online-rules-<timestamp>)")
		fs.BoolVar(&resume, "resume", false, "continue the run in --out: results already there are kept, the rest computed")
	}); err != nil {
		return err
	}
	var err error
	if c.Seeds, err = runs.ParseSeeds(seeds); err != nil {
		return usagef("--seeds %q: %v", seeds, err)
	}
	want := strings.Split(parts, ",")
	for _, p := range want {
		if !slices.Contains(onlineParts, p) {
			return usagef("--part %q: want %s", p, strings.Join(onlineParts, ", "))
		}
	}
	vs := strings.Split(variants, ",")
	for _, v := range vs {
		if !slices.Contains(experiments.OnlineVariants, v) {
			return usagef("--variant %q: want %s", v, strings.Join(experiments.OnlineVariants, ", "))
		}
	}
	if trials <= 0 || jobs <= 0 || c.Recall.AlignEvery < 0 {
		return usagef("--trials = %d and --jobs = %d must be positive, --align-every = %d ≥ 0", trials, jobs, c.Recall.AlignEvery)
	}
	c.Recall.Variants, c.Sum.Variants = vs, vs
	c.Recall.Trials, c.Sum.Trials = trials, trials
	c.Sum.AlignEvery = c.Recall.AlignEvery
	if resume && out == "" {
		return usagef("--resume needs --out, the folder of the run to continue")
	}
	dir, err := runs.Dir(out, "online-rules", force || resume)
	if err != nil {
		return err
	}
	id, err := runs.Identity(c)
	if err != nil {
		return err
	}
	if err := runs.KeepIdentity(dir, id, resume); err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, c); err != nil {
		return err
	}
	var errs []error
	if slices.Contains(want, "cost") {
		errs = append(errs, onlineCost(ctx, c.Cost, dir, stdout))
	}
	var tasks []string
	for _, t := range []string{"recall", "sum"} {
		if slices.Contains(want, t) {
			tasks = append(tasks, t)
		}
	}
	if len(tasks) > 0 && ctx.Err() == nil {
		errs = append(errs, onlineLearning(ctx, &c, tasks, jobs, dir, stdout))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote the tables (online-rules.md), results (*.jsonl) and figures to %s\n", dir)
	return ctx.Err()
}

// onlineCost runs (or completes) the cost sweep and writes its table and
// figure.
func onlineCost(ctx context.Context, c experiments.OnlineCostConfig, dir string, stdout io.Writer) error {
	path := filepath.Join(dir, "cost.jsonl")
	done, err := readJSONL[experiments.CostRow](path)
	if err != nil {
		return err
	}
	key := func(r experiments.CostRow) string { return fmt.Sprintf("%s/%d/%d", r.Method, r.N, r.Batch) }
	have := map[string]experiments.CostRow{}
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
	var rows []experiments.CostRow
	for _, batch := range c.Batches {
		for _, method := range c.Methods {
			for _, n := range c.Sizes {
				one := c
				one.Sizes, one.Batches, one.Methods = []int{n}, []int{batch}, []string{method}
				r, ok := have[key(experiments.CostRow{Method: method, N: n, Batch: batch})]
				if !ok {
					got, _, err := experiments.RunOnlineCost(ctx, one, nil)
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
	fits := experiments.FitCosts(rows, c)
	var largest []string
	for _, batch := range c.Batches {
		n, err := experiments.LargestRTRL(batch, limit)
		if err != nil {
			return err
		}
		largest = append(largest, fmt.Sprintf("n = %d at batch %d", n, batch))
	}
	table := fmt.Sprintf("## Cost per dt step (input 4 → h ⟲ n → out 2)\n\n%s\nLargest recurrent population whose RTRL sensitivities fit in %s (this machine's available memory): %s.\n",
		experiments.CostTable(rows, fits), gle.FormatBytes(limit), strings.Join(largest, ", "))
	fmt.Fprint(stdout, "\n"+table+"\n")
	if err := writeJSONL(filepath.Join(dir, "cost-fits.jsonl"), fits); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "cost.md"), []byte(table)); err != nil {
		return err
	}
	return experiments.CostFigure(filepath.Join(dir, "cost"), rows, c.Methods)
}

// onlineLearning trains every variant at every gap and seed of the tasks
// (the results already in learning.jsonl are kept) and writes the tables
// and figures.
func onlineLearning(ctx context.Context, c *experiments.OnlineRulesConfig, tasks []string, jobs int, dir string, stdout io.Writer) error {
	path := filepath.Join(dir, "learning.jsonl")
	done, err := readJSONL[experiments.MemoryResult](path)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range done {
		have[experiments.ResultKey(r)] = true
	}
	var todo []experiments.LearningItem
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
		r, err := experiments.RunMemory(ctx, c.Item(it), nil)
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
		fmt.Fprintf(&md, "## %s: accuracy, mean ± std over seeds %v (seeds with accuracy ≥ 0.95)\n\n%s\n", task, c.Seeds, experiments.LearningTable(task, res, tc.Variants, tc.Gaps))
		fmt.Fprintf(&md, "## %s: cosine of each rule's gradient with the exact one over training (probe batch, all parameters)\n\n%s\n", task, experiments.AlignmentTable(task, res, tc.Variants, tc.Gaps))
	}
	fmt.Fprint(stdout, "\n"+md.String())
	if err := atomicfile.Write(filepath.Join(dir, "online-rules.md"), []byte(md.String())); err != nil {
		return err
	}
	return experiments.LearningFigure(filepath.Join(dir, "learning"), res, tasks, c.Recall.Variants, 2)
}

// readJSONL reads the records of a JSON-lines file (none if it does not
// exist); a line that does not parse (a run killed mid-write tears at
// most the last) is dropped, and its result computed again.
func readJSONL[T any](path string) ([]T, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []T
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			continue
		}
		out = append(out, v)
	}
	return out, sc.Err()
}
