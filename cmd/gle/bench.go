package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/internal/par"
)

// runBench times the standard workloads against the reference
// (docs/performance.md), at one or several thread counts in one run.
func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	asJSON := false
	names := ""
	reps := 5
	minTime := 500 * time.Millisecond
	var threads []int
	if err := parseNoArgs("bench", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print a JSON array instead of a table")
		fs.StringVar(&names, "workload", "", "comma-separated workloads (default all: mnist1d-e2e, mnist1d-eval, lagline, gsc, graph-recurrent, chain-same-size, and the float32 engine's mnist1d-e2e-f32, mnist1d-eval-f32, gsc-f32)")
		fs.IntVar(&reps, "reps", reps, "repetitions; the median is reported")
		fs.DurationVar(&minTime, "min-time", minTime, "minimum time of one repetition")
		fs.Func("threads", "threads per step, or a comma-separated list timed side by side, e.g. 1,2 (default GLE_THREADS, or every core: then each run times itself on one thread and on all and keeps the faster)", func(v string) error {
			threads = threads[:0]
			for _, f := range strings.Split(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 1 {
					return fmt.Errorf("%q: want positive integers, e.g. 1,2", v)
				}
				threads = append(threads, n)
			}
			return nil
		})
	}); err != nil {
		return err
	}
	explicit := len(threads) > 0
	if !explicit {
		threads = []int{gle.Threads()}
	}
	defer par.SetThreads(par.Explicit())
	if reps < 1 || minTime <= 0 {
		return usagef("--reps = %d must be ≥ 1 and --min-time = %v positive", reps, minTime)
	}
	var ws []experiments.Workload
	for _, w := range experiments.Workloads() {
		if names == "" || strings.Contains(","+names+",", ","+w.Name+",") {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return usagef("no workload matches %q", names)
	}
	var results []experiments.BenchResult
	if !asJSON {
		fmt.Fprintf(stdout, "%-17s %7s %12s %10s %14s %9s %8s %8s   (-f32: float32 engine; %d cores; median of %d)\n",
			"workload", "threads", "ms/step", "GFLOP/s", "reference ms", "speedup", "allocs", "scaling", gle.Cores(), reps)
	}
	for _, w := range ws {
		var first float64
		for i, th := range threads {
			if err := ctx.Err(); err != nil {
				return err
			}
			if explicit {
				gle.SetThreads(th)
			}
			own := resetPeakRSS()
			r, err := experiments.Bench(w, minTime, reps)
			if err != nil {
				return fmt.Errorf("%s: %w", w.Name, err)
			}
			r.Threads = th
			r.PeakRSSKB = peakRSSKB()
			results = append(results, r)
			if i == 0 {
				first = r.MSPerStep
			}
			if !asJSON {
				label := "peak RSS"
				if !own {
					label = "peak RSS of the process so far"
				}
				fmt.Fprintf(stdout, "%s %7.2f×   %s %d kB\n", r, first/r.MSPerStep, label, r.PeakRSSKB)
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	}
	peak64, peak32 := experiments.GEMMPeak[float64](512, time.Second), experiments.GEMMPeak[float32](512, time.Second)
	fmt.Fprintf(stdout, "GEMM kernel on 512×512 matrices, one core: %.2f GFLOP/s (float64), %.2f GFLOP/s (float32)\n", peak64, peak32)
	for _, r := range results {
		switch r.Workload {
		case "gsc":
			fmt.Fprintf(stdout, "gsc on %d threads reaches %.0f%% of %d× the float64 GEMM rate\n", r.Threads, 100*r.GFLOPS/peak64/float64(r.Threads), r.Threads)
		case "gsc-f32":
			fmt.Fprintf(stdout, "gsc-f32 on %d threads reaches %.0f%% of %d× the float32 GEMM rate\n", r.Threads, 100*r.GFLOPS/peak32/float64(r.Threads), r.Threads)
		}
	}
	return nil
}

// resetPeakRSS releases the memory of earlier workloads and resets the
// process's peak resident set (Linux ≥ 4.0: "5" to /proc/self/clear_refs),
// so that the next reading is the next workload's own peak. It reports
// whether the reset worked.
func resetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSSKB returns the process's peak resident set (VmHWM) in kB from
// /proc, or 0 where there is none.
func peakRSSKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}
