package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/internal/session"
	"github.com/gle-go/gle/optim"
	"github.com/gle-go/gle/safetensors"
)

// sessionFlags are the flags the commands that run a network on data share.
type sessionFlags struct {
	spec, data, out   string
	batchMajor, force bool
}

func (f *sessionFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.spec, "spec", "", "network spec (.json, .yaml or .yml: layers, or populations and projections, docs/spec.md), or a .safetensors network; required")
	fs.StringVar(&f.data, "data", "", "inputs x and optional targets y (.npz, .npy or .json); required")
	fs.BoolVar(&f.batchMajor, "batch-major", false, "arrays are [batch][steps][features] (2-D: [batch][steps]) instead of [steps][batch][features]")
	defineCommon(fs, &f.force)
}

// defineCommon adds the flags every command that writes files or builds
// networks has: --force (overwrite outputs that exist) and --max-memory
// (the memory a network, batch or tape may need; default the machine's
// available memory).
func defineCommon(fs *flag.FlagSet, force *bool) {
	fs.BoolVar(force, "force", false, "overwrite output files and folders that exist")
	defineThreads(fs)
	fs.Func("max-memory", "refuse networks, batches and BPTT tapes needing more memory than this, e.g. 8G (default: the memory available)", func(v string) error {
		n, err := runs.ParseBytes(v)
		if err == nil {
			gle.SetMemoryLimit(n)
			debug.SetMemoryLimit(n)
		}
		return err
	})
}

// defineThreads adds --threads: the threads a network step is split over
// (default GLE_THREADS, or every core the process may use divided among
// --jobs); results are bit-identical for any number.
func defineThreads(fs *flag.FlagSet) {
	fs.Func("threads", "threads a network step is split over (default: GLE_THREADS, or every core divided among --jobs; results do not depend on it)", func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q: want a positive integer", v)
		}
		gle.SetThreads(n)
		return nil
	})
}

// load reads the spec (either form) and the data, checking that they fit.
func (f *sessionFlags) load() (*gle.Spec, *data.Sequence, error) {
	if f.spec == "" || f.data == "" {
		return nil, nil, usagef("--spec and --data are required")
	}
	spec, err := safetensors.LoadSpec(f.spec)
	if err != nil {
		return nil, nil, err
	}
	layout := data.TimeMajor
	if f.batchMajor {
		layout = data.BatchMajor
	}
	seq, err := data.Load(f.data, layout, spec.Loss, spec.NumInputs(), spec.NumOutputs())
	if err != nil {
		return nil, nil, err
	}
	return spec, seq, nil
}

func runSimulate(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	var f32 bool
	if err := parseNoArgs("simulate", args, func(fs *flag.FlagSet) {
		f.define(fs)
		fs.StringVar(&f.out, "out", "", "write outputs, parameters and final state here (.npz)")
		fs.BoolVar(&f32, "float32", false, "run on the float32 engine (about 2× faster; float32 rounding, float64 parameters)")
	}); err != nil {
		return err
	}
	if f.out != "" && !strings.EqualFold(filepath.Ext(f.out), ".npz") {
		return usagef("--out %s: outputs are written as .npz", f.out)
	}
	if err := runs.CheckOutputs(f.force, []string{f.spec, f.data}, f.out); err != nil {
		return err
	}
	spec, seq, err := f.load()
	if err != nil {
		return err
	}
	l, err := gle.NewLearner(spec, seq.Batch, f32)
	if err != nil {
		return err
	}
	l.SetOptimizer(nil) // no learning; targets, when given, still drive the errors
	k := spec.NumOutputs()
	outputs := make([]float64, seq.Steps*seq.Batch*k)
	var loss float64
	steps := 0
	for t := range seq.Steps {
		if ctx.Err() != nil {
			err = ctx.Err()
			break
		}
		var v float64
		if v, err = l.Step(outputs[t*seq.Batch*k:(t+1)*seq.Batch*k], seq.Frame(t), seq.Targets[t]); err != nil {
			break
		}
		loss += v
		steps++
	}
	msg := fmt.Sprintf("simulated %d steps × %d samples", steps, seq.Batch)
	if !seq.Targets[0].None() && steps > 0 {
		msg += fmt.Sprintf("; mean loss %.6g", loss/float64(steps))
	}
	fmt.Fprintln(stdout, msg)
	if f.out != "" {
		if werr := session.SaveOutputs(f.out, l, outputs[:steps*seq.Batch*k], seq); werr != nil {
			return errors.Join(err, werr)
		}
		fmt.Fprintf(stdout, "wrote %s\n", f.out)
	}
	return err
}

// trainFlags are gle train's settings.
type trainFlags struct {
	sessionFlags
	epochs, logEvery                         int
	reset, resume, f32                       bool
	rule, saveSpec, metrics, checkpoint, dir string
	valData, schedule                        string
	figures                                  bool
}

func runTrain(ctx context.Context, args []string, stdout io.Writer) error {
	var f trainFlags
	f.epochs, f.figures = 1, true
	if err := parseNoArgs("train", args, func(fs *flag.FlagSet) {
		fs.StringVar(&f.dir, "run-dir", "", "run folder for config.yaml, summary.json and every output not named by its own flag (default runs/train-<timestamp>)")
		f.define(fs)
		fs.StringVar(&f.out, "out", "", "write outputs, learned parameters and final state here (.npz; default RUN-DIR/out.npz)")
		fs.IntVar(&f.epochs, "epochs", f.epochs, "passes over the sequence")
		fs.StringVar(&f.rule, "rule", "gle", "learning rule: gle (local, real time), tbptt:N (truncated BPTT over N steps), bptt (full BPTT per pass), rtrl (exact, online), snap2, snap1 or eprop (its sparse, local approximations)")
		fs.BoolVar(&f.reset, "reset", false, "reset the network state at the start of every epoch (default: carry it over, as the reference does)")
		fs.IntVar(&f.logEvery, "log-every", 0, "also write a metrics line every N steps (0: once per epoch)")
		fs.StringVar(&f.saveSpec, "save-spec", "", "write the learned network here: a spec file with the learned parameters (.json, .yaml, .yml; loadable with --spec) or .safetensors (default RUN-DIR/learned.json, or learned.safetensors beyond 262,144 parameters)")
		fs.StringVar(&f.metrics, "metrics", "", "metrics as JSON lines (default RUN-DIR/metrics.jsonl)")
		fs.StringVar(&f.checkpoint, "checkpoint", "", "checkpoint written after every epoch, atomically (default RUN-DIR/checkpoint.gob)")
		fs.BoolVar(&f.resume, "resume", false, "continue the run of --run-dir (or --checkpoint) from its checkpoint")
		fs.BoolVar(&f.f32, "float32", false, "train on the float32 engine (about 2× faster; float32 rounding, float64 parameters)")
		fs.BoolVar(&f.figures, "figures", f.figures, "draw curves.png (loss; accuracy and confusion for class labels) and output.png (and .svg) into the run folder")
		fs.StringVar(&f.valData, "val-data", "", "held-out inputs and targets, run after every epoch without learning from rest: val_loss (and val_acc) in the metrics and the figures")
		fs.StringVar(&f.schedule, "schedule", "none", "learning-rate schedule after every epoch on the validation loss (or the training loss without --val-data): plateau[:FACTOR[:PATIENCE]], step:EVERY[:GAMMA], cosine[:MIN] or none")
	}); err != nil {
		return err
	}
	if f.epochs <= 0 {
		return usagef("--epochs = %d must be positive", f.epochs)
	}
	if f.logEvery < 0 {
		return usagef("--log-every = %d must be ≥ 0", f.logEvery)
	}
	if f.resume && f.checkpoint == "" && f.dir == "" {
		return usagef("--resume needs --run-dir or --checkpoint")
	}
	if f.saveSpec != "" {
		if err := session.LearnedFormat(f.saveSpec); err != nil {
			return usagef("--save-spec %s: %v", f.saveSpec, err)
		}
	}
	sched, err := optim.ParseSchedule(f.schedule, f.epochs)
	if err != nil {
		return usagef("--%v", err)
	}
	spec, seq, err := f.load()
	if err != nil {
		return err
	}
	if seq.Targets[0].None() {
		return fmt.Errorf("%s: no targets \"y\": nothing to train on (use gle simulate)", f.data)
	}
	rule, err := gradient.ParseRule(f.rule, seq.Steps)
	if err != nil {
		return usagef("--%v", err)
	}
	if rule != nil && f.f32 {
		return usagef("--rule %s runs on the float64 engine only: drop --float32", f.rule)
	}
	job := &session.Job{Spec: spec, Data: seq, DataName: f.data, Dir: f.dir, Resume: f.resume, Force: f.force,
		Out: f.out, Learned: f.saveSpec, Metrics: f.metrics, Checkpoint: f.checkpoint, Figures: f.figures,
		Inputs: []string{f.spec, f.data, f.valData}, Stdout: stdout, Config: map[string]any{"batch_major": f.batchMajor}}
	job.Settings = fit.Settings{Epochs: f.epochs, Order: data.InOrder, ResetEachEpoch: f.reset, LogEvery: f.logEvery, Schedule: sched, ScheduleOn: fit.Train}
	if f.valData != "" {
		vf := f.sessionFlags
		vf.data = f.valData
		if _, job.Val, err = vf.load(); err != nil {
			return err
		}
		if job.Val.(*data.Sequence).Targets[0].None() {
			return fmt.Errorf("%s: no targets \"y\" to validate on", f.valData)
		}
		job.ValName, job.Settings.ScheduleOn = f.valData, fit.Validation
	}
	if job.Learner, err = gle.NewLearner(spec, seq.Batch, f.f32); err != nil {
		return err
	}
	if tr, ok := job.Learner.(*gle.Trainer); ok {
		tr.Rule = rule
	}
	con := newConsole("", stdout, nil, "", f.epochs, true)
	defer con.Close()
	job.Recorder = con
	_, err = session.Run(ctx, job)
	return err
}
