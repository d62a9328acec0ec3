package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/exact"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
)

// sessionFlags are the flags the commands that run a network on data share.
type sessionFlags struct {
	spec, data, out   string
	batchMajor, force bool
}

func (f *sessionFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.spec, "spec", "", "network spec (.json, .yaml or .yml): layers, or populations and projections (docs/spec.md); required")
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
	fs.Func("max-memory", "refuse networks, batches and BPTT tapes needing more memory than this, e.g. 8G (default: the memory available)", func(v string) error {
		n, err := runs.ParseBytes(v)
		if err == nil {
			gle.SetMemoryLimit(n)
			debug.SetMemoryLimit(n)
		}
		return err
	})
}

// load reads the spec (either form) and the data, checking that they fit.
func (f *sessionFlags) load() (*gle.Spec, *data.Sequence, error) {
	if f.spec == "" || f.data == "" {
		return nil, nil, usagef("--spec and --data are required")
	}
	spec, err := gle.LoadSpec(f.spec)
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
	if f32 {
		return simulate[float32](ctx, &f, spec, seq, stdout)
	}
	return simulate[float64](ctx, &f, spec, seq, stdout)
}

func simulate[T gle.Float](ctx context.Context, f *sessionFlags, spec *gle.Spec, seq *data.Sequence, stdout io.Writer) error {
	tr, err := gle.NewTrainerFromSpec[T](spec, seq.Batch)
	if err != nil {
		return err
	}
	tr.Opt = nil
	outputs, outs := outputBuffers(seq, tr.Engine.Net.Outputs())
	loss, err := tr.Run(ctx, seq.Frames(0), seq.Targets, outs, nil)
	msg := fmt.Sprintf("simulated %d steps × %d samples", tr.Steps, seq.Batch)
	if !seq.Targets[0].None() {
		msg += fmt.Sprintf("; mean loss %.6g", loss)
	}
	fmt.Fprintln(stdout, msg)
	if f.out != "" {
		if werr := saveOutputs(f.out, tr, outputs[:tr.Steps*seq.Batch*tr.Engine.Net.Outputs()], seq, stdout); werr != nil {
			return errors.Join(err, werr)
		}
	}
	return err
}

// outputBuffers returns one array of steps × batch × k outputs and its
// per-step slices.
func outputBuffers(seq *data.Sequence, k int) ([]float64, [][]float64) {
	all := make([]float64, seq.Steps*seq.Batch*k)
	outs := make([][]float64, seq.Steps)
	for t := range outs {
		outs[t] = all[t*seq.Batch*k : (t+1)*seq.Batch*k]
	}
	return all, outs
}

// saveOutputs writes the outputs (steps × batch × outputs), the targets
// of values (same shape) when the data has them, dt, the parameters and
// the final state (gle.Network.Tensors, gle.StateTensors) to path (.npz).
func saveOutputs[T gle.Float](path string, tr *gle.TrainerOf[T], outputs []float64, seq *data.Sequence, stdout io.Writer) error {
	n := tr.Engine.Net
	k, batch := n.Outputs(), seq.Batch
	steps := len(outputs) / (k * batch)
	arrs := []npy.Named{{Name: "output", Array: &npy.Array{Shape: []int{steps, batch, k}, Float: outputs}},
		{Name: "dt", Array: &npy.Array{Shape: []int{1}, Float: []float64{n.Dt}}}}
	if steps > 0 && seq.Targets[0].Values != nil {
		tg := make([]float64, 0, len(outputs))
		for t := range steps {
			tg = append(tg, seq.Targets[t].Values...)
		}
		arrs = append(arrs, npy.Named{Name: "target", Array: &npy.Array{Shape: []int{steps, batch, k}, Float: tg}})
	}
	for _, t := range n.Tensors() {
		arrs = append(arrs, npy.Named{Name: t.Name, Array: &npy.Array{Shape: t.Shape, Float: t.Data}})
	}
	for _, t := range gle.StateTensors(n, gle.ConvertState[float64](tr.Engine.State())) {
		arrs = append(arrs, npy.Named{Name: t.Name, Array: &npy.Array{Shape: t.Shape, Float: t.Data}})
	}
	if err := npy.WriteNPZ(path, arrs...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// trainRecord is one line of gle train's metrics: an epoch's mean loss,
// time and learning rate (and the learned τm per population: min, median,
// max), or with Step a running mean over --log-every steps.
type trainRecord struct {
	Epoch   int                   `json:"epoch"`
	Step    int                   `json:"step,omitempty"`
	Loss    float64               `json:"loss"`
	ValLoss *float64              `json:"val_loss,omitempty"` // mean loss on --val-data (no learning, from rest)
	Seconds float64               `json:"seconds,omitempty"`
	LR      float64               `json:"lr,omitempty"`
	TauM    map[string][3]float64 `json:"tau_m,omitempty"`
}

// trainMeta is what gle train keeps in its checkpoint besides the trainer.
type trainMeta struct {
	Epoch    int // epochs finished
	Records  []trainRecord
	LastLoss float64
	// A run stopped within an epoch: the steps of the unfinished epoch
	// taken, the sums of their losses (the epoch's and --log-every's),
	// and their outputs.
	EpochSteps           int
	EpochLossSum, LogSum float64
	EpochOutputs         []float64
	LogEvery             int // the --log-every the sums are for
}

// trainFlags are gle train's settings.
type trainFlags struct {
	sessionFlags
	epochs, logEvery                         int
	reset, resume, f32                       bool
	rule, saveSpec, metrics, checkpoint, dir string
	valData                                  string
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
		fs.StringVar(&f.saveSpec, "save-spec", "", "write the spec with the learned parameters here (.json, .yaml or .yml), loadable with --spec")
		fs.StringVar(&f.metrics, "metrics", "", "metrics as JSON lines (default RUN-DIR/metrics.jsonl)")
		fs.StringVar(&f.checkpoint, "checkpoint", "", "checkpoint written after every epoch, atomically (default RUN-DIR/checkpoint.gob)")
		fs.BoolVar(&f.resume, "resume", false, "continue the run of --run-dir (or --checkpoint) from its checkpoint")
		fs.BoolVar(&f.f32, "float32", false, "train on the float32 engine (about 2× faster; float32 rounding, float64 parameters)")
		fs.BoolVar(&f.figures, "figures", f.figures, "draw loss.png and output.png (and .svg) into the run folder")
		fs.StringVar(&f.valData, "val-data", "", "held-out inputs and targets, run after every epoch without learning from rest: val_loss in the metrics and the loss figure")
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
		if err := specFileFormat(f.saveSpec); err != nil {
			return usagef("--save-spec %s: %v", f.saveSpec, err)
		}
	}
	if f.out != "" && !strings.EqualFold(filepath.Ext(f.out), ".npz") {
		return usagef("--out %s: outputs are written as .npz", f.out)
	}
	spec, seq, err := f.load()
	if err != nil {
		return err
	}
	if n := gle.ParamBytes(spec) / 8; f.saveSpec != "" && specIsYAML(f.saveSpec) && n > maxYAMLNumbers {
		return usagef("--save-spec %s: the learned spec holds %.0f numbers, too many for YAML (at most %d: its encoder needs kilobytes per number); use .json", f.saveSpec, n, maxYAMLNumbers)
	}
	if seq.Targets[0].None() {
		return fmt.Errorf("%s: no targets \"y\": nothing to train on (use gle simulate)", f.data)
	}
	rule, err := exact.ParseRule(f.rule, seq.Steps)
	if err != nil {
		return usagef("--%v", err)
	}
	var val *data.Sequence
	if f.valData != "" {
		vf := f.sessionFlags
		vf.data = f.valData
		if _, val, err = vf.load(); err != nil {
			return err
		}
		if val.Targets[0].None() {
			return fmt.Errorf("%s: no targets \"y\" to validate on", f.valData)
		}
	}
	if rule != nil && f.f32 {
		return usagef("--rule %s runs on the float64 engine only: drop --float32", f.rule)
	}
	if f.f32 {
		return train[float32](ctx, &f, spec, seq, val, rule, stdout)
	}
	return train[float64](ctx, &f, spec, seq, val, rule, stdout)
}

// validate runs the network of tr on val without learning, from rest, on
// an engine of its own, and returns the mean loss per step.
func validate[T gle.Float](ctx context.Context, tr *gle.TrainerOf[T], val *data.Sequence) (float64, error) {
	v, err := gle.NewTrainerOf[T](tr.Engine.Net, val.Batch, nil)
	if err != nil {
		return 0, err
	}
	return v.Run(ctx, val.Frames(0), val.Targets, nil, nil)
}

// identity is what defines a gle train run: resuming with any of it
// changed is refused, naming what differs (the epoch count may change).
func (f *trainFlags) identity(spec *gle.Spec) (map[string]string, error) {
	raw, err := os.ReadFile(f.data)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	return runs.Identity(map[string]any{"spec": spec, "data": fmt.Sprintf("%s, sha256 %x", f.data, sum[:8]),
		"reset": f.reset, "batch_major": f.batchMajor})
}

func train[T gle.Float](ctx context.Context, f *trainFlags, spec *gle.Spec, seq, val *data.Sequence, rule gle.Rule, stdout io.Writer) (err error) {
	_, statErr := os.Stat(f.dir)
	dir, err := runs.Dir(f.dir, "train", f.resume || f.force)
	if err != nil {
		return err
	}
	if f.dir == "" || errors.Is(statErr, fs.ErrNotExist) {
		// A command refused before its first file leaves no empty folder.
		defer func() {
			if err != nil {
				os.Remove(dir) // only if empty
			}
		}()
	}
	for _, d := range []struct {
		flag *string
		name string
	}{{&f.metrics, "metrics.jsonl"}, {&f.checkpoint, "checkpoint.gob"}, {&f.saveSpec, "learned.json"}, {&f.out, "out.npz"}} {
		if *d.flag == "" {
			*d.flag = filepath.Join(dir, d.name)
		}
	}
	// Every output is checked before the first step: none may be an input,
	// none may exist unless the run is resumed (its own files) or forced.
	if err := runs.CheckOutputs(f.resume || f.force, []string{f.spec, f.data}, f.out, f.saveSpec, f.metrics, f.checkpoint); err != nil {
		return err
	}
	if f.resume {
		for _, p := range []string{f.out, f.saveSpec, f.metrics, f.checkpoint} {
			if err := atomicfile.RemoveStale(p); err != nil {
				return err
			}
		}
	}
	id, err := f.identity(spec)
	if err != nil {
		return err
	}
	var meta trainMeta
	var tr *gle.TrainerOf[T]
	if f.resume {
		tr, err = gle.LoadTrainer[T](f.checkpoint, id, rule, &meta)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Nothing to resume: start the run, unless an earlier run
			// finished an epoch here (it wrote a checkpoint then, so a
			// mistyped --checkpoint would replace its work). A run
			// stopped in its first epoch has nothing to keep.
			if n := finishedEpochs(f.metrics); n > 0 {
				return fmt.Errorf("--resume: no checkpoint %s, but %s records %d finished epoch(s) of an earlier run: resuming would start over and replace its outputs (check --checkpoint and --run-dir; --force without --resume starts over)", f.checkpoint, f.metrics, n)
			}
			fmt.Fprintf(stdout, "no checkpoint %s yet: starting the run\n", f.checkpoint)
			tr = nil
		case err != nil:
			return err
		case meta.EpochSteps > 0 && f.epochs <= meta.Epoch:
			return fmt.Errorf("%s: the run stopped within epoch %d: --epochs %d would end it before that epoch (resume with --epochs %d or more)", f.checkpoint, meta.Epoch+1, f.epochs, meta.Epoch+1)
		case meta.EpochSteps > 0 && f.logEvery != meta.LogEvery:
			return fmt.Errorf("%s: the run stopped within epoch %d with --log-every %d: resume it with the same --log-every (now %d)", f.checkpoint, meta.Epoch+1, meta.LogEvery, f.logEvery)
		case meta.Epoch >= f.epochs:
			// A run stopped after its last checkpoint may lack the last
			// metrics line: the checkpoint's records are the metrics.
			m, err := runs.OpenMetrics(f.metrics, meta.Records)
			if err != nil {
				return err
			}
			if err := m.Close(); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: the run already finished its %d epochs (last loss %.6g); nothing to do (raise --epochs to continue it)\n", dir, meta.Epoch, meta.LastLoss)
			return nil
		}
	}
	if tr == nil {
		if tr, err = gle.NewTrainerFromSpec[T](spec, seq.Batch); err != nil {
			return err
		}
		tr.Rule = rule
	} else if tr.Engine.Batch() != seq.Batch {
		return fmt.Errorf("%s: checkpoint of batch %d, the data has %d samples", f.checkpoint, tr.Engine.Batch(), seq.Batch)
	}
	// Training, checkpoints and the learned spec at the end, before the
	// first step.
	need := gle.TrainerBytes(tr.Engine.Net, seq.Batch, 8) + gle.SpecJSONBytes(tr.Engine.Net)
	if err := gle.CheckMemory("network", fmt.Sprintf("%.0f parameters at batch %d", gle.NetworkBytes(tr.Engine.Net)/8, seq.Batch), need); err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, map[string]any{"spec": spec, "data": f.data, "epochs": f.epochs, "rule": f.rule, "reset": f.reset, "float32": f.f32}); err != nil {
		return err
	}
	// The resolved spec, loadable with --spec as it is.
	if err := saveSpecFile(filepath.Join(dir, "spec.yaml"), spec); err != nil {
		return err
	}
	metrics, err := runs.OpenMetrics(f.metrics, meta.Records)
	if err != nil {
		return err
	}
	defer metrics.Close()
	record := func(r trainRecord) error {
		meta.Records = append(meta.Records, r)
		return metrics.Write(r)
	}
	outputs, outs := outputBuffers(seq, tr.Engine.Net.Outputs())
	xs := seq.Frames(0)
	// outputFiles writes what was learned: the outputs of the last pass,
	// the parameters and state, the learned spec, the figures.
	outputFiles := func() error {
		done := outputs[:min(tr.Steps, seq.Steps)*seq.Batch*tr.Engine.Net.Outputs()]
		err := saveOutputs(f.out, tr, done, seq, stdout)
		if f.figures {
			err = errors.Join(err, trainFigures(dir, meta.Records, done, seq, tr.Engine.Net.Dt))
		}
		if serr := saveSpecFile(f.saveSpec, tr.Engine.Net.ToSpec(spec)); serr != nil {
			return errors.Join(err, serr)
		}
		fmt.Fprintf(stdout, "wrote %s\n", f.saveSpec)
		return err
	}
	finished, stopped := false, false
	for epoch := meta.Epoch + 1; epoch <= f.epochs && err == nil; epoch++ {
		// A run stopped within this epoch continues at the step it
		// reached, with the loss sums and outputs of the steps before.
		from, sum, logSum := meta.EpochSteps, meta.EpochLossSum, meta.LogSum
		copy(outputs, meta.EpochOutputs)
		meta.EpochSteps, meta.EpochLossSum, meta.LogSum, meta.EpochOutputs = 0, 0, 0, nil
		if f.reset && from == 0 {
			tr.Reset()
		}
		start := time.Now()
		taken := from
		each := func(t int, loss float64) {
			t += from
			sum += loss
			taken = t + 1
			if f.logEvery > 0 {
				logSum += loss
				if (t+1)%f.logEvery == 0 {
					err = errors.Join(err, record(trainRecord{Epoch: epoch, Step: t + 1, Loss: logSum / float64(f.logEvery)}))
					logSum = 0
				}
			}
		}
		// stopAt records a stop after the given steps of this epoch for
		// the checkpoint written below (none before its first step).
		stopAt := func(steps int) {
			if errors.Is(err, context.Canceled) && steps > 0 {
				stopped = true
				meta.EpochSteps, meta.EpochLossSum, meta.LogSum, meta.LogEvery = steps, sum, logSum, f.logEvery
				meta.EpochOutputs = outputs[:steps*seq.Batch*tr.Engine.Net.Outputs()]
			}
		}
		if from < len(xs) { // else: stopped during the validation after the last step
			if _, err = tr.Run(ctx, xs[from:], targetsFrom(seq.Targets, from), outs[from:], each); err != nil {
				stopAt(taken)
				break
			}
		}
		loss := sum / float64(max(len(xs), 1))
		lr := 0.0
		if tr.Opt != nil {
			lr = tr.Opt.LR()
		}
		rec := trainRecord{Epoch: epoch, Loss: loss, LR: lr, TauM: tauMStats(tr.Engine.Net)}
		msg := ""
		if val != nil {
			var vl float64
			if vl, err = validate(ctx, tr, val); err != nil {
				stopAt(len(xs)) // every step taken: a resume only validates
				err = fmt.Errorf("validation after epoch %d: %w", epoch, err)
				break
			}
			rec.ValLoss, msg = &vl, fmt.Sprintf(", validation %.6g", vl)
		}
		meta.Epoch, meta.LastLoss = epoch, loss
		rec.Seconds = time.Since(start).Seconds()
		meta.Records = append(meta.Records, rec)
		fmt.Fprintf(stdout, "epoch %d/%d: mean loss %.6g%s (%.2fs)\n", epoch, f.epochs, loss, msg, rec.Seconds)
		if epoch == f.epochs {
			// The last epoch writes its files before its checkpoint: a run
			// stopped in between resumes from the epoch before and writes
			// them again, and a checkpoint that says "finished" means they
			// are all there.
			err, finished = outputFiles(), true
		}
		// The checkpoint (which holds every record) comes before the
		// epoch's metrics line: a run stopped in between rewrites the line
		// on resume, and metrics that record a finished epoch always have
		// a checkpoint beside them.
		if err == nil {
			err = tr.Save(f.checkpoint, id, &meta)
		}
		if err == nil {
			err = metrics.Write(rec)
		}
	}
	var werr error
	if stopped {
		// Stopped within an epoch: the checkpoint keeps the steps taken
		// (a rule holding recorded steps, BPTT's, cannot be saved there:
		// the epoch's steps are then lost, the previous checkpoint stands).
		if serr := tr.Save(f.checkpoint, id, &meta); serr != nil {
			fmt.Fprintf(stdout, "not saved within epoch %d: %v; --resume starts that epoch again\n", meta.Epoch+1, serr)
		} else {
			fmt.Fprintf(stdout, "stopped at step %d of %d of epoch %d: saved in %s (--resume continues there)\n", meta.EpochSteps, len(xs), meta.Epoch+1, f.checkpoint)
		}
	}
	// An interrupted run keeps what it learned so far (the parameters of
	// the last step taken); a diverged one has nothing worth keeping. The
	// checkpoint is on disk by now: a second signal, which exits at once,
	// loses these extra files only.
	if !finished && err != nil && !errors.Is(err, gle.ErrDiverged) {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(stdout, "writing what was learned so far (a second signal skips this)\n")
		}
		werr = outputFiles()
	}
	werr = errors.Join(werr, runs.WriteSummary(dir, map[string]any{"epochs": meta.Epoch, "last_loss": meta.LastLoss, "steps": tr.Steps, "error": runs.ErrorText(ctx, err)}))
	fmt.Fprintf(stdout, "run folder %s\n", dir)
	return errors.Join(err, werr)
}

// targetsFrom returns the targets from step t on (nil: none).
func targetsFrom(ts []gle.Target, t int) []gle.Target {
	if ts == nil {
		return nil
	}
	return ts[t:]
}

// finishedEpochs counts the epoch records (not the --log-every ones) of a
// gle train metrics file; 0 if there is none.
func finishedEpochs(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		var r trainRecord
		if json.Unmarshal(line, &r) == nil && r.Epoch > 0 && r.Step == 0 {
			n++
		}
	}
	return n
}

// tauMStats returns min, median and max τm of every population whose τm
// learns.
func tauMStats(n *gle.Network) map[string][3]float64 {
	var out map[string][3]float64
	for _, p := range n.Pops {
		if !p.LearnTauM {
			continue
		}
		if out == nil {
			out = map[string][3]float64{}
		}
		s := slices.Sorted(slices.Values(p.TauM))
		out[p.Name] = [3]float64{s[0], s[len(s)/2], s[len(s)-1]}
	}
	return out
}

// maxYAMLNumbers bounds the parameters of a spec saved as YAML: the YAML
// encoder allocates 2–6 KB per number.
const maxYAMLNumbers = 1 << 18

// specIsYAML reports whether path names a YAML file (.yaml, .yml).
func specIsYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// specFileFormat checks that path names a spec file format: .json, .yaml
// or .yml.
func specFileFormat(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return nil
	}
	return errors.New("want a .json, .yaml or .yml file")
}

// saveSpecFile writes spec in the format of path's extension: JSON
// (.json) or YAML (.yaml, .yml).
func saveSpecFile(path string, spec *gle.Spec) error {
	if err := specFileFormat(path); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var b []byte
	var err error
	if strings.ToLower(filepath.Ext(path)) == ".json" {
		b, err = json.MarshalIndent(spec, "", "  ")
		b = append(b, '\n')
	} else {
		b, err = runs.YAML(spec)
	}
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}
