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
}

func (f *sessionFlags) define(fs *flag.FlagSet) {
	fs.StringVar(&f.spec, "spec", "", "network spec (.json, .yaml or .yml); required")
	fs.StringVar(&f.data, "data", "", "inputs x and optional targets y (.npz, .npy or .json); required")
	fs.BoolVar(&f.batchMajor, "batch-major", false, "arrays are [batch][steps][features] (2-D: [batch][steps]) instead of [steps][batch][features]")
	fs.StringVar(&f.out, "out", "", "write outputs, final parameters and final state here (.npz)")
}

// loaded is a spec with its data: a layered network (spec) or a graph
// network (graphSpec, graphNet), whichever the spec file declares.
type loaded struct {
	spec      *gle.Spec
	graphSpec *graph.Spec
	graphNet  *graph.Network
	seq       *data.Sequence
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
	var l loaded
	var lossName string
	var in, out int
	if graph.IsSpec(raw) {
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
		return nil, nil, usagef("gle %s needs a layered spec (layers); %s declares populations (graph specs work with gle simulate and gle train)", command, f.spec)
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
}

func layeredSession(tr *gle.Trainer) *session {
	return &session{step: tr.Step, outputs: tr.Engine.Net.Outputs(), reset: tr.Engine.Reset,
		arrays: func() []npy.Named { return networkArrays(tr.Engine.Net, tr.Engine.State) },
		lr: func() float64 {
			if tr.Opt == nil {
				return 0
			}
			return tr.Opt.LR()
		},
		steps: func() int { return tr.Steps }}
}

func graphSession(tr *graph.Trainer) *session {
	return &session{step: tr.Step, outputs: tr.Engine.Net.Outputs(), reset: tr.Engine.Reset,
		arrays: func() []npy.Named { return graphArrays(tr.Engine.Net, tr.Engine.State) },
		lr: func() float64 {
			if tr.Opt == nil {
				return 0
			}
			return tr.Opt.LR()
		},
		steps: func() int { return tr.Steps }}
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
		from := n.Inputs
		if p.From >= 0 {
			from = n.Pops[p.From].N
		}
		add(fmt.Sprintf("projections.%d.weight", k), []int{n.Pops[p.To].N, from}, p.W)
		add(fmt.Sprintf("projections.%d.feedback", k), []int{n.Pops[p.To].N, from}, p.B)
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
		ss = graphSession(tr)
	} else {
		tr, err := optim.NewTrainer(l.spec, seq.Batch)
		if err != nil {
			return err
		}
		tr.Opt = nil // simulation: no learning
		ss = layeredSession(tr)
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
	if l.graphNet != nil && (checkpoint != "" || resume || saveSpec != "") {
		return usagef("--checkpoint, --resume and --save-spec are not supported for graph specs yet (use --out for the learned parameters)")
	}
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
	defaults := []struct {
		flag *string
		name string
	}{{&metrics, "metrics.jsonl"}, {&f.out, "out.npz"}}
	if l.graphNet == nil {
		defaults = append(defaults, []struct {
			flag *string
			name string
		}{{&checkpoint, "checkpoint.gob"}, {&saveSpec, "learned.json"}}...)
	}
	for _, d := range defaults {
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
	var ss *session
	var tr *gle.Trainer
	first := 1
	if l.graphNet != nil {
		opt, err := optim.New(l.graphSpec.Optimizer)
		if err != nil {
			return err
		}
		gtr, err := graph.NewTrainer(l.graphNet, seq.Batch, opt)
		if err != nil {
			return err
		}
		ss = graphSession(gtr)
	} else {
		if tr, first, err = trainerFromCheckpoint(spec, seq.Batch, checkpoint, resume); err != nil {
			return err
		}
		ss = layeredSession(tr)
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
			if checkpoint != "" && tr != nil {
				err = saveTrainCheckpoint(checkpoint, epoch, tr)
			}
		}
	}
	// Save what was learned even when the run was interrupted or diverged
	// (then the parameters are those of the last step that was taken).
	var werr error
	if err == nil || !errors.Is(err, gle.ErrDiverged) {
		werr = f.save(ss, outputs, seq, stdout)
		if saveSpec != "" && tr != nil {
			b, jerr := json.MarshalIndent(tr.Engine.Net.ToSpec(spec), "", "  ")
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

// trainCheckpoint is what gle train needs to continue bit-identically.
type trainCheckpoint struct {
	Epoch int
	Net   *gle.Network
	State *gle.State
	Adam  *optim.Adam
	SGD   *optim.SGD
	Steps int
}

func saveTrainCheckpoint(path string, epoch int, tr *gle.Trainer) error {
	ck := trainCheckpoint{Epoch: epoch, Net: tr.Engine.Net, State: tr.Engine.State, Steps: tr.Steps}
	switch o := tr.Opt.(type) {
	case *optim.Adam:
		ck.Adam = o
	case *optim.SGD:
		ck.SGD = o
	}
	return atomicfile.WriteGob(path, &ck)
}

// trainerFromCheckpoint builds the trainer of spec, continuing from the
// checkpoint when resume is set and it exists; it returns the first epoch
// to run.
func trainerFromCheckpoint(spec *gle.Spec, batch int, path string, resume bool) (*gle.Trainer, int, error) {
	var ck trainCheckpoint
	if resume {
		if err := atomicfile.ReadGob(path, &ck); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, 0, err
		}
	}
	if ck.Net == nil {
		tr, err := optim.NewTrainer(spec, batch)
		return tr, 1, err
	}
	var opt gle.Optimizer = ck.SGD
	if ck.Adam != nil {
		opt = ck.Adam
	}
	if opt == nil {
		return nil, 0, fmt.Errorf("%s: checkpoint without optimizer state", path)
	}
	tr, err := gle.NewTrainer(ck.Net, batch, opt)
	if err != nil {
		return nil, 0, err
	}
	if ck.State.Batch != batch {
		return nil, 0, fmt.Errorf("%s: checkpoint of batch %d, the data has %d samples", path, ck.State.Batch, batch)
	}
	tr.Engine.State, tr.Steps = ck.State, ck.Steps
	tr.TauMMin, tr.LearnFromStep = spec.TauMMin, spec.LearnFromStep
	return tr, ck.Epoch + 1, nil
}
