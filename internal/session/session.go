// Package session is a training run in a run folder: what `gle train`
// and Python's Trainer.fit share, so that both leave the same folder
// (config.yaml, spec.yaml, metrics.jsonl, checkpoint.gob, out.npz, the
// learned network, figures, summary.json) and a run started from one
// resumes from the other. The epochs themselves are package fit's.
package session

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/plots"
	"github.com/gle-go/gle/safetensors"
)

// Job is one training run.
type Job struct {
	// Spec is the network the run starts from; Learner is a new run's
	// learner (of Spec's network, or of a network changed since: the
	// identity holds the digest of its parameters at the start).
	Spec    *gle.Spec
	Learner gle.Learner
	// Data is the training data, Val optional validation data (evaluated
	// after every epoch, from rest); DataName and ValName name them in
	// config.yaml (a file, or "arrays").
	Data, Val         data.Source
	DataName, ValName string
	// Settings of the driver: Epochs, Batch, Order, Seed, ResetEachEpoch,
	// LogEvery, Schedule and ScheduleOn. Run fills in the rest.
	Settings fit.Settings
	// Dir is the run folder ("": runs/train-<timestamp>); Resume
	// continues the run there, Force lets it overwrite one.
	Dir           string
	Resume, Force bool
	// Out (outputs, parameters, state: .npz), Learned (the learned
	// network: .json, .yaml or .safetensors), Metrics and Checkpoint
	// default to files in Dir; Figures draws loss.png and output.png.
	Out, Learned, Metrics, Checkpoint string
	Figures                           bool
	// Inputs are files the run reads: none may be an output.
	Inputs []string
	// Config holds the front door's own settings for config.yaml.
	Config map[string]any
	// Stdout receives the messages; Recorder sees the records too (the
	// console of gle train, the progress callback of Python).
	Stdout   io.Writer
	Recorder fit.Recorder
}

// Outcome is what Run leaves besides the driver's result.
type Outcome struct {
	Dir    string
	Result *fit.Result
}

// LearnedJSONNumbers is the largest network whose learned parameters are
// written as a spec file by default; larger ones go to safetensors (a
// spec file of a 16-million-parameter net is half a gigabyte).
const LearnedJSONNumbers = 1 << 18

// Run runs the job in its folder.
func Run(ctx context.Context, j *Job) (_ *Outcome, err error) {
	if j.Stdout == nil {
		j.Stdout = io.Discard
	}
	s := &j.Settings
	if j.Val != nil {
		s.EachEpoch, s.EvalFromRest = []fit.Split{fit.Validation}, true
	}
	if err := s.Validate(fit.Sources{Train: j.Data, Validation: j.Val}); err != nil {
		return nil, err
	}
	if j.Learned != "" {
		if err := LearnedFormat(j.Learned); err != nil {
			return nil, fmt.Errorf("%s: %w", j.Learned, err)
		}
	}
	if j.Out != "" && !strings.EqualFold(filepath.Ext(j.Out), ".npz") {
		return nil, &gle.FieldError{Field: "out", Value: j.Out, Why: "outputs are written as .npz", Err: gle.ErrInvalid}
	}
	_, statErr := os.Stat(j.Dir)
	dir, err := runs.Dir(j.Dir, "train", j.Resume || j.Force)
	if err != nil {
		return nil, err
	}
	if j.Dir == "" || errors.Is(statErr, fs.ErrNotExist) {
		// A run refused before its first file leaves no empty folder.
		defer func() {
			if err != nil {
				os.Remove(dir) // only if empty
			}
		}()
	}
	net := j.Learner.Network()
	learnedDefault := "learned.json"
	if net.NumParams() > LearnedJSONNumbers {
		learnedDefault = "learned.safetensors"
	}
	for _, d := range []struct {
		path *string
		name string
	}{{&j.Metrics, "metrics.jsonl"}, {&j.Checkpoint, "checkpoint.gob"}, {&j.Learned, learnedDefault}, {&j.Out, "out.npz"}} {
		if *d.path == "" {
			*d.path = filepath.Join(dir, d.name)
		}
	}
	if n := net.NumParams(); isYAML(j.Learned) && n > LearnedJSONNumbers {
		return nil, &gle.FieldError{Field: "learned", Value: j.Learned, Why: fmt.Sprintf("the network has %d parameters, too many for a YAML file (at most %d); use .safetensors or .json", n, LearnedJSONNumbers), Err: gle.ErrInvalid}
	}
	// Every output is checked before the first step: none may be an input,
	// none may exist unless the run is resumed (its own files) or forced.
	if err := runs.CheckOutputs(j.Resume || j.Force, j.Inputs, j.Out, j.Learned, j.Metrics, j.Checkpoint); err != nil {
		return nil, err
	}
	if j.Resume {
		for _, p := range []string{j.Out, j.Learned, j.Metrics, j.Checkpoint} {
			if err := atomicfile.RemoveStale(p); err != nil {
				return nil, err
			}
		}
		if _, err := os.Stat(j.Checkpoint); errors.Is(err, fs.ErrNotExist) {
			// Nothing to resume: start the run, unless an earlier run
			// finished an epoch here (it wrote a checkpoint then, so a
			// mistyped checkpoint would replace its work).
			if n := finishedEpochs(j.Metrics); n > 0 {
				return nil, fmt.Errorf("resume: no checkpoint %s, but %s records %d finished epoch(s) of an earlier run: resuming would start over and replace its outputs (check the checkpoint and run folder; force without resume starts over)", j.Checkpoint, j.Metrics, n)
			}
			fmt.Fprintf(j.Stdout, "no checkpoint %s yet: starting the run\n", j.Checkpoint)
		}
	}
	id, err := Identity(j.Spec, net, j.Data, j.Val, s)
	if err != nil {
		return nil, err
	}
	// Training, checkpoints and the learned network at the end.
	need := gle.TrainerBytes(net, max(s.Batch, j.Learner.Batch()), 8) + gle.SpecJSONBytes(net)
	if err := gle.CheckMemory("network", fmt.Sprintf("%.0f parameters at batch %d", gle.NetworkBytes(net)/8, j.Learner.Batch()), need); err != nil {
		return nil, err
	}
	cfg := map[string]any{"spec": j.Spec, "data": j.DataName, "validation": j.ValName, "epochs": s.Epochs, "batch": s.Batch, "order": s.Order,
		"seed": s.Seed, "reset": s.ResetEachEpoch, "rule": j.Learner.RuleName(), "precision": j.Learner.Precision(), "log_every": s.LogEvery}
	for k, v := range j.Config {
		cfg[k] = v
	}
	if err := runs.WriteConfig(dir, cfg); err != nil {
		return nil, err
	}
	// The resolved spec, loadable as it is.
	if err := SaveSpec(filepath.Join(dir, "spec.yaml"), j.Spec); err != nil {
		return nil, err
	}
	s.Checkpoint, s.Resume, s.Identity, s.Spec = j.Checkpoint, j.Resume, id, j.Spec
	s.KeepOutputs = s.Order != data.Balanced && (s.Batch <= 0 || s.Batch == j.Data.Len())
	files := &outputs{j: j, dir: dir}
	metrics := &metricsFile{path: j.Metrics}
	defer metrics.Close()
	res, err := fit.Run(ctx, j.Learner, fit.Sources{Train: j.Data, Validation: j.Val}, *s, fit.Multi(metrics, j.Recorder, files))
	out := &Outcome{Dir: dir, Result: res}
	if res == nil {
		return out, err
	}
	if res.AlreadyFinished {
		fmt.Fprintf(j.Stdout, "%s: the run already finished its %d epochs; nothing to do (raise the epochs to continue it)\n", dir, s.Epochs)
		return out, nil
	}
	if res.StopNote != "" {
		fmt.Fprintln(j.Stdout, res.StopNote)
	}
	// A stopped run keeps what it learned so far (the parameters of the
	// last step taken, always finite: divergence is caught before an
	// update); the checkpoint is on disk by now, so a second signal,
	// which exits at once, loses these extra files only.
	var werr error
	if !res.Finished && err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(j.Stdout, "writing what was learned so far (a second signal skips this)\n")
		}
		werr = files.Finish(res)
	}
	last := res.LastEpoch()
	summary := map[string]any{"epochs": 0, "steps": res.Learner.StepCount(), "error": runs.ErrorText(ctx, err)}
	if last != nil {
		summary["epochs"], summary["last"] = last.Epoch, last
	}
	werr = errors.Join(werr, runs.WriteSummary(dir, summary))
	fmt.Fprintf(j.Stdout, "run folder %s\n", dir)
	return out, errors.Join(err, werr)
}

// Identity is what defines a training run: resuming with any of it
// changed is refused, naming each difference once (the epoch count may
// change; the rule and the precision are the checkpoint's own).
func Identity(spec *gle.Spec, net *gle.Network, train, val data.Source, s *fit.Settings) (map[string]string, error) {
	id := map[string]any{"spec": spec, "parameters": ParamDigest(net), "data": Digest(train),
		"batch": s.Batch, "order": s.Order, "seed": s.Seed, "reset": s.ResetEachEpoch}
	if val != nil {
		id["validation"] = Digest(val)
	}
	if s.Schedule != nil {
		b, err := json.Marshal(s.Schedule)
		if err != nil {
			return nil, err
		}
		id["schedule"] = fmt.Sprintf("%T %s on %s", s.Schedule, b, s.ScheduleOn)
	}
	return runs.Identity(id)
}

// ParamDigest is a digest of every parameter of n.
func ParamDigest(n *gle.Network) string {
	h := sha256.New()
	var b [8]byte
	for _, t := range n.Tensors() {
		h.Write([]byte(t.Name))
		for _, v := range t.Data {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return fmt.Sprintf("%d parameters, sha256 %x", n.NumParams(), h.Sum(nil)[:8])
}

// Digest is a digest of a source's samples and targets (in order, as
// they are: without transforms): the same arrays give the same digest
// whether they came from a file or from Python.
func Digest(src data.Source) string {
	h := sha256.New()
	var b [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	var s data.Sample
	for i := range src.Len() {
		s.X, s.Labels, s.Values, s.Label = s.X[:0], s.Labels[:0], s.Values[:0], -1
		if err := src.Sample(&s, i, nil); err != nil {
			return "unreadable: " + err.Error()
		}
		put(float64(s.Steps))
		for _, v := range s.X {
			put(v)
		}
		put(float64(s.Label))
		for _, c := range s.Labels {
			put(float64(c))
		}
		for _, v := range s.Values {
			put(v)
		}
	}
	return fmt.Sprintf("%d samples of %d features, sha256 %x", src.Len(), src.Features(), h.Sum(nil)[:8])
}

// outputs writes what a finished (or stopped) run leaves: out.npz, the
// learned network, the figures (a fit.Finisher).
type outputs struct {
	j   *Job
	dir string
}

func (o *outputs) Start([]fit.Record) error { return nil }
func (o *outputs) Record(fit.Record) error  { return nil }

// Finish implements fit.Finisher.
func (o *outputs) Finish(res *fit.Result) error {
	j, l := o.j, res.Learner
	net := l.Network()
	err := SaveOutputs(j.Out, l, res.Outputs, j.Data)
	if err == nil {
		fmt.Fprintf(j.Stdout, "wrote %s\n", j.Out)
	}
	if lerr := SaveLearned(j.Learned, net, j.Spec); lerr != nil {
		err = errors.Join(err, lerr)
	} else {
		fmt.Fprintf(j.Stdout, "wrote %s\n", j.Learned)
	}
	if j.Figures {
		err = errors.Join(err, Figures(o.dir, res.Records, res.Confusion, res.Outputs, j.Data, net))
	}
	return err
}

// Figures draws a training run's figures into dir: curves.png (loss, and
// for class labels accuracy and the confusion matrix) and, for targets of
// values, output.png (the outputs of the last epoch against the targets,
// sample 0).
func Figures(dir string, records []fit.Record, confusion map[fit.Split][][]int, outs []float64, src data.Source, net *gle.Network) error {
	on := fit.Train
	if _, ok := confusion[fit.Validation]; ok {
		on = fit.Validation
	}
	if len(records) > 0 {
		if err := plots.Records(filepath.Join(dir, "curves"), "training", records, confusion[on], on, 0, nil); err != nil {
			return err
		}
	}
	seq, ok := src.(*data.Sequence)
	if !ok || len(outs) == 0 || seq.Targets[0].Values == nil {
		return nil
	}
	k := net.Outputs()
	steps := len(outs) / (seq.Batch * k)
	targets := make([]float64, 0, len(outs))
	for t := range steps {
		targets = append(targets, seq.Targets[t].Values...)
	}
	return plots.Outputs(filepath.Join(dir, "output"), outs, targets, seq.Batch, k, net.Dt)
}

// SaveOutputs writes the outputs (steps × batch × outputs), the targets
// of values (same shape) when the data has them, dt, the parameters and
// the final state to path (.npz).
func SaveOutputs(path string, l gle.Learner, outputs []float64, src data.Source) error {
	n := l.Network()
	k, batch := n.Outputs(), l.Batch()
	steps := len(outputs) / max(k*batch, 1)
	arrs := []npy.Named{{Name: "output", Array: &npy.Array{Shape: []int{steps, batch, k}, Float: outputs[:steps*batch*k]}},
		{Name: "dt", Array: &npy.Array{Shape: []int{1}, Float: []float64{n.Dt}}}}
	if seq, ok := src.(*data.Sequence); ok && steps > 0 && seq.Targets[0].Values != nil && seq.Batch == batch {
		tg := make([]float64, 0, steps*batch*k)
		for t := range steps {
			tg = append(tg, seq.Targets[t].Values...)
		}
		arrs = append(arrs, npy.Named{Name: "target", Array: &npy.Array{Shape: []int{steps, batch, k}, Float: tg}})
	}
	for _, t := range n.Tensors() {
		arrs = append(arrs, npy.Named{Name: t.Name, Array: &npy.Array{Shape: t.Shape, Float: t.Data}})
	}
	for _, t := range gle.StateTensors(n, l.Snapshot()) {
		arrs = append(arrs, npy.Named{Name: t.Name, Array: &npy.Array{Shape: t.Shape, Float: t.Data}})
	}
	return npy.WriteNPZ(path, arrs...)
}

// SaveLearned writes the learned network: a spec file with its
// parameters (.json, .yaml, .yml), or a safetensors file that holds the
// spec too (.safetensors), by the extension of path.
func SaveLearned(path string, n *gle.Network, base *gle.Spec) error {
	if strings.EqualFold(filepath.Ext(path), ".safetensors") {
		return safetensors.Save(path, n, base)
	}
	return SaveSpec(path, n.ToSpec(base))
}

// LearnedFormat checks that path names a format SaveLearned writes.
func LearnedFormat(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".yaml", ".yml", ".safetensors":
		return nil
	}
	return errors.New("want a .json, .yaml, .yml or .safetensors file")
}

func isYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// SaveSpec writes spec in the format of path's extension: JSON (.json)
// or YAML (.yaml, .yml); another extension is refused.
func SaveSpec(path string, spec *gle.Spec) error {
	var b []byte
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		b, err = json.MarshalIndent(spec, "", "  ")
		b = append(b, '\n')
	case ".yaml", ".yml":
		b, err = runs.YAML(spec)
	default:
		return fmt.Errorf("%s: %w: a spec file is .json, .yaml or .yml", path, gle.ErrInvalid)
	}
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// finishedEpochs counts the epoch records (not the running-loss ones)
// of a metrics file; 0 if there is none.
func finishedEpochs(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		var r fit.Record
		if json.Unmarshal([]byte(line), &r) == nil && r.Epoch > 0 && r.Step == 0 {
			n++
		}
	}
	return n
}

// metricsFile is a fit.Recorder that writes metrics.jsonl: exactly the
// checkpoint's records on resume, then one whole line per new record.
type metricsFile struct {
	path string
	m    *runs.Metrics
}

func (f *metricsFile) Start(done []fit.Record) (err error) {
	f.m, err = runs.OpenMetrics(f.path, done)
	return err
}

func (f *metricsFile) Record(r fit.Record) error { return f.m.Write(r) }

func (f *metricsFile) Close() error { return f.m.Close() }
