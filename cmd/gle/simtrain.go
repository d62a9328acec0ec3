package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/graph"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/optim"
)

// sessionFlags are the flags simulate and train share.
type sessionFlags struct {
	spec, data, out string
	batchMajor      bool
	float32         bool
}

func (f *sessionFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.spec, "spec", "", "network spec (.json, .yaml or .yml): layers, or populations and projections (docs/vle.md); required")
	fs.StringVar(&f.data, "data", "", "inputs x and optional targets y (.npz, .npy or .json); required")
	fs.BoolVar(&f.batchMajor, "batch-major", false, "arrays are [batch][steps][features] (2-D: [batch][steps]) instead of [steps][batch][features]")
	fs.StringVar(&f.out, "out", "", "write outputs, final parameters and final state here (.npz)")
	fs.BoolVar(&f.float32, "float32", false, "run a layered network on the float32 engine (about 2× faster; float32 rounding, float64 parameters)")
}

// loaded is a spec with its data: a layered network (spec) or a graph
// network (graphSpec, graphNet), whichever the spec file declares.
type loaded struct {
	spec      *gle.Spec
	graphSpec *graph.Spec
	graphNet  *graph.Network
	seq       *data.Sequence
	float32   bool // run the layered network on gle.Engine32
}

// load reads the spec (layers or populations) and the data, checking that
// they fit.
func (f *sessionFlags) load() (*loaded, error) {
	if f.spec == "" || f.data == "" {
		return nil, usagef("--spec and --data are required")
	}
	raw, err := os.ReadFile(f.spec)
	if err != nil {
		return nil, err
	}
	l := loaded{float32: f.float32}
	var lossName string
	var in, out int
	if graph.IsSpec(raw) {
		if f.float32 {
			return nil, usagef("--float32: %s declares a graph network (populations), which runs in float64 only", f.spec)
		}
		if l.graphSpec, l.graphNet, err = graph.LoadSpec(f.spec); err != nil {
			return nil, err
		}
		lossName, in, out = l.graphSpec.Loss, l.graphNet.Inputs, l.graphNet.Outputs()
	} else {
		if l.spec, err = gle.LoadSpec(f.spec); err != nil {
			return nil, err
		}
		lossName, in, out = l.spec.Loss, l.spec.Layers[0].In, l.spec.Layers[len(l.spec.Layers)-1].Out
	}
	loss, _ := gle.ParseLoss(lossName)
	layout := data.TimeMajor
	if f.batchMajor {
		layout = data.BatchMajor
	}
	if l.seq, err = data.Load(f.data, layout, loss, in, out); err != nil {
		return nil, err
	}
	return &l, nil
}

// loadLayered is load for the commands that need a layered spec.
func (f *sessionFlags) loadLayered(command string) (*gle.Spec, *data.Sequence, error) {
	l, err := f.load()
	if err != nil {
		return nil, nil, err
	}
	if l.graphNet != nil {
		return nil, nil, usagef("gle %s needs a layered spec (layers); %s declares populations (graph specs work with gle simulate, train and align)", command, f.spec)
	}
	return l.spec, l.seq, nil
}

// session is a network run over a data sequence: a layered network
// (gle.Trainer) or a graph (graph.Trainer).
type session struct {
	step    func(out, x []float64, t gle.Target) (float64, error)
	outputs int
	reset   func()
	arrays  func() []npy.Named // parameters and state, for --out
	lr      func() float64
	steps   func() int
	// checkpoint writes what resuming needs after epoch (atomically);
	// learnedSpec is the spec with the current parameters.
	checkpoint  func(path string, epoch int) error
	learnedSpec func() any
}

// optLR is the learning rate of opt (0 without an optimizer).
func optLR(opt gle.Optimizer) float64 {
	if opt == nil {
		return 0
	}
	return opt.LR()
}

// layeredSession runs a layered network's trainer in either precision; its
// state is saved in float64 (exact for float32).
func layeredSession[T gle.Float](tr *gle.TrainerOf[T], spec *gle.Spec, f32 bool) *session {
	return &session{step: tr.Step, outputs: tr.Engine.Net.Outputs(), reset: tr.Engine.Reset,
		arrays: func() []npy.Named { return networkArrays(tr.Engine.Net, gle.ConvertState[float64](tr.Engine.State)) },
		lr:     func() float64 { return optLR(tr.Opt) },
		steps:  func() int { return tr.Steps },
		checkpoint: func(path string, epoch int) error {
			ck := trainCheckpoint{Epoch: epoch, Net: tr.Engine.Net, State: gle.ConvertState[float64](tr.Engine.State), Steps: tr.Steps, Float32: f32}
			ck.setOptimizer(tr.Opt)
			return atomicfile.WriteGob(path, &ck)
		},
		learnedSpec: func() any { return tr.Engine.Net.ToSpec(spec) }}
}

func graphSession(tr *graph.Trainer, spec *graph.Spec) *session {
	return &session{step: tr.Step, outputs: tr.Engine.Net.Outputs(), reset: tr.Engine.Reset,
		arrays: func() []npy.Named { return graphArrays(tr.Engine.Net, tr.Engine.State) },
		lr:     func() float64 { return optLR(tr.Opt) },
		steps:  func() int { return tr.Steps },
		checkpoint: func(path string, epoch int) error {
			ck := trainCheckpoint{Epoch: epoch, GraphNet: tr.Engine.Net, GraphState: tr.Engine.State, Steps: tr.Steps}
			ck.setOptimizer(tr.Opt)
			return atomicfile.WriteGob(path, &ck)
		},
		learnedSpec: func() any { return tr.Engine.Net.ToSpec(spec) }}
}

// graphArrays names a graph network's parameters and state:
// projections.K.weight (to×from), .feedback; populations.NAME.bias,
// .tau_m, .tau_r, and the state populations.NAME.u, .v, .r, .r_prime.
func graphArrays(n *graph.Network, st *graph.State) []npy.Named {
	var out []npy.Named
	add := func(name string, shape []int, x []float64) {
		if x != nil {
			out = append(out, npy.Named{Name: name, Array: &npy.Array{Shape: shape, Float: x}})
		}
	}
	for k, p := range n.Projs {
		shape := []int{n.Pops[p.To].N, len(p.W) / n.Pops[p.To].N}
		add(fmt.Sprintf("projections.%d.weight", k), shape, p.W)
		add(fmt.Sprintf("projections.%d.feedback", k), shape, p.B)
	}
	for q, p := range n.Pops {
		pre := "populations." + p.Name + "."
		add(pre+"bias", []int{p.N}, p.B)
		add(pre+"tau_m", []int{p.N}, p.TauM)
		add(pre+"tau_r", []int{p.N}, p.TauR)
		add(pre+"u", []int{st.Batch, p.N}, st.U[q])
		add(pre+"v", []int{st.Batch, p.N}, st.V[q])
		add(pre+"r", []int{st.Batch, p.N}, st.R[q])
		add(pre+"r_prime", []int{st.Batch, p.N}, st.RP[q])
	}
	return out
}

func runSimulate(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	if _, err := parseFlags("simulate", args, f.define); err != nil {
		return err
	}
	l, err := f.load()
	if err != nil {
		return err
	}
	seq := l.seq
	var ss *session
	if l.graphNet != nil {
		tr, err := graph.NewTrainer(l.graphNet, seq.Batch, nil)
		if err != nil {
			return err
		}
		ss = graphSession(tr, l.graphSpec)
	} else if ss, _, err = layered(l, nil, nil, false); err != nil {
		return err
	}
	outputs, loss, err := runEpoch(ctx, ss, seq, nil)
	fmt.Fprintf(stdout, "simulated %d steps × %d samples; mean loss %.6g\n", ss.steps(), seq.Batch, loss)
	if werr := f.save(ss, outputs, seq, stdout); werr != nil {
		return errors.Join(err, werr)
	}
	return err
}

func runTrain(ctx context.Context, args []string, stdout io.Writer) error {
	var f sessionFlags
	epochs, logEvery := 1, 0
	var reset bool
	var saveSpec, metrics, checkpoint, runDirFlag string
	var resume bool
	if _, err := parseFlags("train", args, func(fs *flag.FlagSet) {
		fs.StringVar(&runDirFlag, "run-dir", "", "run folder for config.yaml, summary.json and every output not named by its own flag (default runs/train-<timestamp>)")
		f.define(fs)
		fs.IntVar(&epochs, "epochs", epochs, "passes over the sequence")
		fs.BoolVar(&reset, "reset", false, "reset the network state at the start of every epoch (default: carry it over, as the reference does)")
		fs.IntVar(&logEvery, "log-every", 0, "also write a metrics line every N steps (0: once per epoch)")
		fs.StringVar(&saveSpec, "save-spec", "", "write the spec with the learned parameters here (.json), loadable with --spec")
		fs.StringVar(&metrics, "metrics", "", "append metrics as JSON lines here")
		fs.StringVar(&checkpoint, "checkpoint", "", "write a checkpoint here after every epoch (atomically)")
		fs.BoolVar(&resume, "resume", false, "continue from --checkpoint if it exists")
	}); err != nil {
		return err
	}
	if epochs <= 0 {
		return usagef("--epochs = %d must be positive", epochs)
	}
	l, err := f.load()
	if err != nil {
		return err
	}
	spec, seq := l.spec, l.seq
	if seq.Targets[0].None() {
		return fmt.Errorf("%s: no targets \"y\": nothing to train on (use gle simulate)", f.data)
	}
	if resume && checkpoint == "" && runDirFlag == "" {
		return usagef("--resume needs --run-dir or --checkpoint")
	}
	dir, err := runDir(runDirFlag, "train")
	if err != nil {
		return err
	}
	for _, d := range []struct {
		flag *string
		name string
	}{{&metrics, "metrics.jsonl"}, {&checkpoint, "checkpoint.gob"}, {&saveSpec, "learned.json"}, {&f.out, "out.npz"}} {
		if *d.flag == "" {
			*d.flag = filepath.Join(dir, d.name)
		}
	}
	var specCfg any = spec
	if l.graphNet != nil {
		specCfg = l.graphSpec
	}
	if err := writeRunConfig(dir, map[string]any{"spec": specCfg, "data": f.data, "epochs": epochs, "reset": reset}); err != nil {
		return err
	}
	ss, first, err := sessionFromCheckpoint(l, checkpoint, resume)
	if err != nil {
		return err
	}
	var mw *bufio.Writer
	if metrics != "" {
		fh, err := os.OpenFile(metrics, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer fh.Close()
		mw = bufio.NewWriter(fh)
		defer mw.Flush()
	}
	logLine := func(rec map[string]any) {
		if mw != nil {
			b, _ := json.Marshal(rec)
			mw.Write(append(b, '\n'))
		}
	}
	var outputs []float64
	var lastLoss float64
	for epoch := first; epoch <= epochs && err == nil; epoch++ {
		if reset {
			ss.reset()
		}
		start := time.Now()
		var stepLog func(step int, loss float64)
		if logEvery > 0 {
			var sum float64
			stepLog = func(step int, loss float64) {
				sum += loss
				if (step+1)%logEvery == 0 {
					logLine(map[string]any{"epoch": epoch, "step": step + 1, "loss": sum / float64(logEvery)})
					sum = 0
				}
			}
		}
		var loss float64
		outputs, loss, err = runEpoch(ctx, ss, seq, stepLog)
		if err == nil {
			lastLoss = loss
			logLine(map[string]any{"epoch": epoch, "loss": loss, "seconds": time.Since(start).Seconds(), "lr": ss.lr()})
			fmt.Fprintf(stdout, "epoch %d/%d: mean loss %.6g (%.2fs)\n", epoch, epochs, loss, time.Since(start).Seconds())
			if checkpoint != "" {
				err = ss.checkpoint(checkpoint, epoch)
			}
		}
	}
	// Save what was learned even when the run was interrupted or diverged
	// (then the parameters are those of the last step that was taken).
	var werr error
	if err == nil || !errors.Is(err, gle.ErrDiverged) {
		werr = f.save(ss, outputs, seq, stdout)
		if saveSpec != "" {
			b, jerr := json.MarshalIndent(ss.learnedSpec(), "", "  ")
			if jerr == nil {
				jerr = atomicfile.Write(saveSpec, append(b, '\n'))
			}
			werr = errors.Join(werr, jerr)
			if jerr == nil {
				fmt.Fprintf(stdout, "wrote %s\n", saveSpec)
			}
		}
	}
	werr = errors.Join(werr, writeSummary(dir, map[string]any{"epochs": epochs, "last_loss": lastLoss, "steps": ss.steps(), "error": fmt.Sprint(err)}))
	fmt.Fprintf(stdout, "run folder %s\n", dir)
	return errors.Join(err, werr)
}

// runEpoch feeds the whole sequence once and returns the outputs
// (steps × batch × outputs) and the mean loss. On an error it returns
// the outputs so far.
func runEpoch(ctx context.Context, ss *session, seq *data.Sequence, stepLog func(int, float64)) ([]float64, float64, error) {
	k := ss.outputs * seq.Batch
	outputs := make([]float64, seq.Steps*k)
	var sum float64
	for t := range seq.Steps {
		if t%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return outputs[:t*k], sum / float64(max(t, 1)), err
			}
		}
		loss, err := ss.step(outputs[t*k:(t+1)*k], seq.Frame(t), seq.Targets[t])
		if err != nil {
			return outputs[:t*k], sum / float64(max(t, 1)), err
		}
		sum += loss
		if stepLog != nil {
			stepLog(t, loss)
		}
	}
	return outputs, sum / float64(seq.Steps), nil
}

// save writes the outputs, the parameters and the final state to --out.
func (f *sessionFlags) save(ss *session, outputs []float64, seq *data.Sequence, stdout io.Writer) error {
	if f.out == "" {
		return nil
	}
	k := ss.outputs
	arrs := []npy.Named{{Name: "output", Array: &npy.Array{Shape: []int{len(outputs) / (k * seq.Batch), seq.Batch, k}, Float: outputs}}}
	arrs = append(arrs, ss.arrays()...)
	if err := npy.WriteNPZ(f.out, arrs...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", f.out)
	return nil
}

// networkArrays names every parameter and state array of the network:
// layers.L.weight (out×in), .bias, .tau_m, .tau_r, and the state
// layers.L.u, .v, .r, .r_prime (batch×out), .e_bottom (batch×in).
func networkArrays(net *gle.Network, st *gle.State) []npy.Named {
	var out []npy.Named
	add := func(l int, name string, shape []int, x []float64) {
		if x != nil {
			out = append(out, npy.Named{Name: fmt.Sprintf("layers.%d.%s", l, name), Array: &npy.Array{Shape: shape, Float: x}})
		}
	}
	for i, l := range net.Layers {
		add(i, "weight", []int{l.Out, l.In}, l.W)
		add(i, "bias", []int{l.Out}, l.B)
		add(i, "tau_m", []int{l.Out}, l.TauM)
		add(i, "tau_r", []int{l.Out}, l.TauR)
		if st != nil {
			ls := st.Layers[i]
			add(i, "u", []int{st.Batch, l.Out}, ls.U)
			add(i, "v", []int{st.Batch, l.Out}, ls.V)
			add(i, "r", []int{st.Batch, l.Out}, ls.R)
			add(i, "r_prime", []int{st.Batch, l.Out}, ls.RPrime)
			add(i, "e_bottom", []int{st.Batch, l.In}, ls.EBottom)
		}
	}
	return out
}

// trainCheckpoint is what gle train needs to continue bit-identically:
// the network and state (layered, or graph), the optimizer and the step
// count.
type trainCheckpoint struct {
	Epoch      int
	Net        *gle.Network
	State      *gle.State
	GraphNet   *graph.Network
	GraphState *graph.State
	Adam       *optim.Adam
	SGD        *optim.SGD
	Steps      int
	Float32    bool // a layered run on the float32 engine (State holds its values exactly)
}

func (ck *trainCheckpoint) setOptimizer(opt gle.Optimizer) {
	switch o := opt.(type) {
	case *optim.Adam:
		ck.Adam = o
	case *optim.SGD:
		ck.SGD = o
	}
}

func (ck *trainCheckpoint) optimizer(path string) (gle.Optimizer, error) {
	switch {
	case ck.Adam != nil:
		return ck.Adam, nil
	case ck.SGD != nil:
		return ck.SGD, nil
	}
	return nil, fmt.Errorf("%s: checkpoint without optimizer state", path)
}

// sessionFromCheckpoint builds the training session of l, continuing from
// the checkpoint when resume is set and it exists; it returns the first
// epoch to run.
func sessionFromCheckpoint(l *loaded, path string, resume bool) (*session, int, error) {
	batch := l.seq.Batch
	var ck trainCheckpoint
	if resume {
		if err := atomicfile.ReadGob(path, &ck); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, 0, err
		}
	}
	found := ck.Net != nil || ck.GraphNet != nil
	if found && (ck.GraphNet != nil) != (l.graphNet != nil) {
		return nil, 0, fmt.Errorf("%s: checkpoint of a %s network, the spec declares a %s one", path,
			map[bool]string{true: "graph", false: "layered"}[ck.GraphNet != nil], map[bool]string{true: "graph", false: "layered"}[l.graphNet != nil])
	}
	var opt gle.Optimizer
	if found {
		var err error
		if opt, err = ck.optimizer(path); err != nil {
			return nil, 0, err
		}
	}
	if l.graphNet != nil {
		net := l.graphNet
		if !found {
			var err error
			if opt, err = optim.New(l.graphSpec.Optimizer); err != nil {
				return nil, 0, err
			}
		} else {
			net = ck.GraphNet
		}
		tr, err := graph.NewTrainer(net, batch, opt)
		if err != nil {
			return nil, 0, err
		}
		if found {
			if ck.GraphState.Batch != batch {
				return nil, 0, fmt.Errorf("%s: checkpoint of batch %d, the data has %d samples", path, ck.GraphState.Batch, batch)
			}
			tr.Engine.State, tr.Steps = ck.GraphState, ck.Steps
		}
		return graphSession(tr, l.graphSpec), ck.Epoch + 1, nil
	}
	if !found {
		return layered(l, nil, nil, true)
	}
	if ck.Float32 != l.float32 {
		return nil, 0, fmt.Errorf("%s: checkpoint of a run with --float32=%v; resume it the same way", path, ck.Float32)
	}
	if ck.State.Batch != batch {
		return nil, 0, fmt.Errorf("%s: checkpoint of batch %d, the data has %d samples", path, ck.State.Batch, batch)
	}
	return layered(l, &ck, opt, true)
}

// layered builds the session of l's layered network on the engine of the
// precision l asks for: new (without learning unless learn), or continuing
// from ck with its optimizer opt.
func layered(l *loaded, ck *trainCheckpoint, opt gle.Optimizer, learn bool) (*session, int, error) {
	if l.float32 {
		return layeredTraining[float32](l, ck, opt, learn)
	}
	return layeredTraining[float64](l, ck, opt, learn)
}

func layeredTraining[T gle.Float](l *loaded, ck *trainCheckpoint, opt gle.Optimizer, learn bool) (*session, int, error) {
	batch := l.seq.Batch
	if ck == nil {
		tr, err := optim.NewTrainerOf[T](l.spec, batch)
		if err != nil {
			return nil, 0, err
		}
		if !learn {
			tr.Opt = nil
		}
		return layeredSession(tr, l.spec, l.float32), 1, nil
	}
	tr, err := gle.NewTrainerOf[T](ck.Net, batch, opt)
	if err != nil {
		return nil, 0, err
	}
	tr.Engine.State, tr.Steps = gle.ConvertState[T](ck.State), ck.Steps
	tr.TauMMin, tr.LearnFromStep = l.spec.TauMMin, l.spec.LearnFromStep
	return layeredSession(tr, l.spec, l.float32), ck.Epoch + 1, nil
}
