// Command gle simulates and trains Generalized Latent Equilibrium
// networks, replays reference trajectories and runs the published
// experiments. Run "gle help" for the commands.
//
// Exit codes: 0 success, 1 failure (a run failed or a check did not
// pass), 2 wrong usage, 128+N stopped by signal N (130 SIGINT, 143
// SIGTERM, 129 SIGHUP).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/atomicfile"
)

type command struct {
	summary string
	usage   string // arguments after the command name
	example string
	run     func(ctx context.Context, args []string, stdout io.Writer) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"data": {
			summary: "generate a dataset (mnist1d, bit-compatible with the canonical generator) or split one (speech-split: Speech Commands as the reference splits it)",
			usage:   "mnist1d [--seed 42] [--length 40] [--samples 5000] [--out FILE.npz] | speech-split --data DIR --seed N --out split.json [--task kw12] [--list-split]",
			example: "gle data mnist1d --length 360 --out mnist1d_360.npz; gle data speech-split --data speech_commands_v0.02 --seed 1 --out split.json",
			run:     runData,
		},
		"demo": {
			summary: "train a GLE chain to recover a teacher's weights and time constants (built in, < 1 min)",
			usage:   "[--time T] [--seed S]",
			example: "gle demo",
			run:     runDemo,
		},
		"align": {
			summary: "compare two methods' gradients (default GLE's local updates against BPTT), window by window",
			usage:   "--spec SPEC --data DATA [--method gle] [--against bptt] [--window N] [--steps N] [--out DIR]",
			example: "gle align --spec net.yaml --data series.npz --window 200 --out runs/align",
			run:     runAlign,
		},
		"bench": {
			summary: "time the standard workloads and compare with the reference implementation",
			usage:   "[--json] [--workload mnist1d-e2e,lagline] [--reps 5] [--min-time 500ms] [--threads 1,2]",
			example: "gle bench --threads 1,2 --workload gsc-f32,mnist1d-e2e-f32",
			run:     runBench,
		},
		"conformance": {
			summary: "replay reference trajectory files and check every recorded variable to 1e-9 of its own scale",
			usage:   "[--float32] [--tol 1e-9] FILE.json...",
			example: "gle conformance testdata/reference/trajectories/*.json",
			run:     runConformance,
		},
		"export": {
			summary: "write a network's parameters as safetensors (for PyTorch users) or npz",
			usage:   "--spec SPEC [--params P.safetensors] [--format safetensors|npz] --out FILE",
			example: "gle export --spec learned.json --out model.safetensors",
			run:     runExport,
		},
		"grad": {
			summary: "the gradient of a network's summed loss on data by one method (bptt, tbptt:N, adjoint, rtrl, snap1, snap2, eprop, gle), per tensor",
			usage:   "--spec SPEC --data DATA --method bptt|tbptt:N|adjoint|rtrl|snap1|snap2|eprop|gle --out G.npz [--steps N]",
			example: "gle grad --spec net.yaml --data series.npz --method tbptt:50 --out g.npz",
			run:     runGrad,
		},
		"gradcheck": {
			summary: "compare the exact BPTT gradient with finite differences: a trajectory file's network, or --spec and --data (kinks of relu, hard_tanh, hard_sigmoid reported as such)",
			usage:   "[--tol 1e-5] [--steps N] FILE.json | --spec SPEC --data DATA",
			example: "gle gradcheck testdata/reference/trajectories/mlp_ce_gle.json",
			run:     runGradcheck,
		},
		"listen": {
			summary: "spot keywords in a live stream: a WAV of any length or raw 16-bit PCM on stdin, one engine step per dt, detections as they happen",
			usage:   "[--model M.safetensors] [--json] STREAM.wav|- | --demo",
			example: "arecord -f S16_LE -r 16000 -c 1 -t raw | gle listen -",
			run:     runListen,
		},
		"mel": {
			summary: "log-mel spectrogram of a WAV file (log2(mel + 1e-9)); with --gsc the features the speech experiment trains on, augmentation fixed",
			usage:   "IN.wav [--n-fft 1024] [--hop 400] [--n-mels 32] [--f-min 0] [--f-max 8000] --out OUT.npy | --gsc IN.wav --out OUT.npy [--samples N] [--noise NOISE.npy|NOISE.wav --noise-start N --snr-db D] [--shift S]",
			example: "gle mel --gsc yes.wav --noise noise.wav --noise-start 3000 --snr-db 10 --shift 800 --out yes_features.npy",
			run:     runMel,
		},
		"plot": {
			summary: "redraw a run folder's figures (PNG and SVG) from its metrics",
			usage:   "RUNDIR...",
			example: "gle plot runs/mnist1d-e2e runs/lagline",
			run:     runPlot,
		},
		"predict": {
			summary: "name the keyword of WAV clips with a model trained by gle run speech",
			usage:   "--model MODEL.gob CLIP.wav...",
			example: "gle predict --model runs/speech/model.gob yes.wav",
			run:     runPredict,
		},
		"report": {
			summary: "aggregate classifier runs (final and best test accuracy, mean ± std over seeds) into a table and a figure",
			usage:   "RUNDIR... [--out DIR]",
			example: "gle report runs/mnist1d-e2e runs/mnist1d-lagnet --out runs/report",
			run:     runReport,
		},
		"run": {
			summary: "run an experiment (lagline, lagnet, mnist1d-e2e, mnist1d-e2e-42k, mnist1d-lagnet, mnist1d-42k-lr1e-3, mnist1d --spec, speech, vle-align, recurrent-memory, online-rules, listen-train, listen-eval)",
			usage:   "EXPERIMENT [flags]   (gle run lagline -h for its flags)",
			example: "gle run lagline --variant gle,bp,bptt-tw4 --out runs/lagline",
			run:     runExperiment,
		},
		"slurm": {
			summary: "print an sbatch script running one seed of an experiment per Slurm array task",
			usage:   "[--seeds 1-10] [--out DIR] [--time 04:00:00] [--mem 2G] [--cpus-per-task 1] run EXPERIMENT [flags]",
			example: "gle slurm --seeds 1-10 --out runs/e2e run mnist1d-e2e > e2e.sbatch && sbatch e2e.sbatch",
			run:     runSlurm,
		},
		"simulate": {
			summary: "run a network on input data without learning; write outputs and final state",
			usage:   "--spec SPEC --data DATA [--batch-major] [--out OUT.npz]",
			example: "gle simulate --spec net.yaml --data inputs.npz --out outputs.npz",
			run:     runSimulate,
		},
		"trace": {
			summary: "record and plot neuron traces (u, r, ê, adjoint λ) and rate heat maps of a network on data",
			usage:   "--spec SPEC --data DATA [--neurons 0,1,2] [--sample 0] [--out DIR]",
			example: "gle trace --spec net.yaml --data series.npz --neurons 0,3 --out runs/trace",
			run:     runTrace,
		},
		"train": {
			summary: "train a network online on input/target data; write parameters, outputs and metrics",
			usage:   "--spec SPEC --data DATA [--epochs N] [--reset] [--out OUT.npz] [--save-spec LEARNED.json] [--metrics M.jsonl]",
			example: "gle train --spec net.yaml --data series.npz --epochs 5 --out trained.npz --metrics metrics.jsonl",
			run:     runTrain,
		},
	}
}

// usageError marks errors that come from wrong command-line use (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// stepsFit checks a --steps flag against the data's length (0: all).
func stepsFit(steps, have int) error {
	if steps > have {
		return usagef("--steps = %d: the data has %d steps", steps, have)
	}
	return nil
}

func main() {
	if err := setupLogging(os.Stderr, os.Getenv("GLE_LOG")); err != nil {
		fmt.Fprintln(os.Stderr, "gle:", err)
		os.Exit(2)
	}
	if err := setupThreads(os.Getenv("GLE_THREADS")); err != nil {
		fmt.Fprintln(os.Stderr, "gle:", err)
		os.Exit(2)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// setupThreads applies GLE_THREADS: the number of threads a network step
// is split over (default: every core the process may use, divided among
// --jobs; results do not depend on it).
func setupThreads(spec string) error {
	if spec == "" {
		return nil
	}
	n, err := strconv.Atoi(spec)
	if err != nil || n < 1 {
		return fmt.Errorf("GLE_THREADS = %q: want a positive integer", spec)
	}
	gle.SetThreads(n)
	return nil
}

// setupLogging sends structured logs (log/slog, text) to w at the level
// named by GLE_LOG: debug, info, warn (default) or error; "json" or
// "json:LEVEL" selects JSON lines.
func setupLogging(w io.Writer, spec string) error {
	format, level, _ := strings.Cut(spec, ":")
	if format != "json" {
		format, level = "text", spec
	}
	lv := slog.LevelWarn
	if level != "" {
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return fmt.Errorf("GLE_LOG = %q: want debug, info, warn or error, optionally after json: (e.g. json:info)", spec)
		}
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format == "json" {
		slog.SetDefault(slog.New(slog.NewJSONHandler(w, opts)))
	} else {
		slog.SetDefault(slog.New(slog.NewTextHandler(w, opts)))
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run([]string{args[1], "-h"}, stdout, stderr)
		}
		printHelp(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "gle: unknown command %q; run \"gle help\"\n", args[0])
		return 2
	}
	// The guard (gle.CheckMemory) refuses what would not fit; the Go
	// runtime's soft limit makes the collector work harder near the same
	// limit rather than let garbage (of the writes at the end of a run)
	// grow the process beyond it.
	if limit := gle.MemoryLimit(); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	ctx, stop := signalContext()
	defer stop()
	start := time.Now()
	slog.Info("start", "command", args[0], "args", args[1:])
	err := c.run(ctx, args[1:], stdout)
	slog.Info("end", "command", args[0], "seconds", time.Since(start).Seconds(), "error", err)
	var ue usageError
	var help helpRequest
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		printCommandHelp(stdout, args[0], c, help.flags)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "gle %s: %v\nusage: gle %s %s\n", args[0], err, args[0], c.usage)
		return 2
	case errors.Is(err, context.Canceled):
		sig, _ := context.Cause(ctx).(signalError)
		fmt.Fprintf(stderr, "gle %s: stopped by %v\n", args[0], sig)
		return sig.exitCode()
	default:
		fmt.Fprintf(stderr, "gle %s: %v\n", args[0], err)
		return 1
	}
}

// signalError is the cause of a run's cancellation by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string {
	switch e.sig {
	case nil:
		return "signal"
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return e.sig.String()
}

// exitCode is 128 + the signal number, as a shell reports it (130 for
// SIGINT, 143 for SIGTERM, 129 for SIGHUP).
func (e signalError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// signalContext returns a context cancelled, with a signalError cause, by
// the first SIGINT, SIGTERM or SIGHUP: the running command stops the
// graceful way (finishes its step, writes its checkpoint and metrics). A
// second signal exits at once; every file is written atomically, so
// nothing is left half-written.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		cancel(signalError{s})
		if s, ok := <-sigs; ok {
			atomicfile.RemovePending()
			fmt.Fprintf(os.Stderr, "gle: second %v: exiting at once; files being written were abandoned, the ones written before (the last checkpoint) stand\n", signalError{s})
			os.Exit(signalError{s}.exitCode())
		}
	}()
	return ctx, func() { signal.Stop(sigs); close(sigs); cancel(nil) }
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "gle — Generalized Latent Equilibrium networks: simulate, train, check against the reference.")
	fmt.Fprintln(w, "\nUsage: gle COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"gle help COMMAND\" for a command's flags and an example.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 failure, 2 wrong usage, 130/143/129 stopped by SIGINT/SIGTERM/SIGHUP (checkpoint written).")
	fmt.Fprintln(w, "Logs (log/slog) go to stderr at the level GLE_LOG names: debug, info, warn (default), error; GLE_LOG=json:info for JSON lines.")
	fmt.Fprintln(w, "GLE_THREADS=N runs each network step on N threads (default: every core the process may use, divided among --jobs; results are identical).")
}

func printCommandHelp(w io.Writer, name string, c command, flags string) {
	fmt.Fprintf(w, "gle %s — %s\n\nUsage: gle %s %s\n\nExample:\n  %s\n", name, c.summary, name, c.usage, c.example)
	if flags != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", flags)
	}
}

// helpRequest is returned by parseFlags for -h; it carries the flags'
// documentation.
type helpRequest struct{ flags string }

func (helpRequest) Error() string { return "help requested" }

// parseNoArgs is parseFlags for commands that take no positional
// arguments: a stray one is a usage error.
func parseNoArgs(name string, args []string, define func(*flag.FlagSet)) error {
	rest, err := parseFlags(name, args, define)
	if err == nil && len(rest) > 0 {
		err = usagef("unexpected argument %q (gle %s takes only flags; see gle help %s)", rest[0], name, strings.Fields(name)[0])
	}
	return err
}

// parseFlags defines a command's flags with define, parses args and
// returns the positional arguments. Flags may come before and after
// positional arguments ("gle mel IN.wav --out OUT.npy"); "--" ends the
// flags.
func parseFlags(name string, args []string, define func(*flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	define(fs)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				fs.SetOutput(&b)
				fs.PrintDefaults()
				return nil, helpRequest{b.String()}
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
