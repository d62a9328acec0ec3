package main

/*
#include <stdint.h>
typedef void (*gle_progress_fn)(const char*);
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/session"
	"github.com/gle-go/gle/optim"
)

// trainer is a learner (either precision) of a network.
type trainer struct {
	net *network
	l   gle.Learner
}

//export gle_trainer_new
func gle_trainer_new(h C.int64_t, batch C.int64_t, rule *C.char, f32 C.int64_t, out *C.int64_t) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		r, err := gradient.ParseRule(C.GoString(rule), 0)
		if err != nil {
			return err
		}
		l, err := gle.NewLearnerFor(nw.net, nw.spec, int(batch), f32 != 0)
		if err != nil {
			return err
		}
		if err := l.SetRule(r); err != nil {
			return err
		}
		*out = C.int64_t(store(&trainer{net: nw, l: l}))
		return nil
	})
}

// gle_trainer_run feeds one sequence through the trainer, learning
// online. A non-nil stop is the caller's flag: once it is non-zero the
// run stops after the current step with context.Canceled (the trainer
// stays usable).
//
//export gle_trainer_run
func gle_trainer_run(th C.int64_t, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t,
	out *C.double, stop *C.int32_t, loss *C.double) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		if b := t.l.Batch(); int(batch) != b {
			return fmt.Errorf("%w: a batch of %d, the trainer's is %d", gle.ErrShape, batch, b)
		}
		xs, ts, err := sequence(t.net.net, x, steps, batch, inputs, ykind, yv, yc)
		if err != nil {
			return err
		}
		var outs [][]float64
		if out != nil {
			K := int(batch) * t.net.net.Outputs()
			all := floats(out, C.int64_t(len(xs)*K))
			outs = make([][]float64, len(xs))
			for i := range outs {
				outs[i] = all[i*K : (i+1)*K]
			}
		}
		ctx, cancel := stopContext(stop)
		defer cancel()
		l, err := t.l.Run(ctx, xs, ts, outs, nil)
		*loss = C.double(l)
		return err
	})
}

//export gle_trainer_reset
func gle_trainer_reset(th C.int64_t) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		t.l.Reset()
		return nil
	})
}

//export gle_trainer_state
func gle_trainer_state(th C.int64_t, out *C.int64_t) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		var b bundle
		for _, ts := range gle.StateTensors(t.net.net, t.l.Snapshot()) {
			b.addF(ts.Name, ts.Shape, ts.Data)
		}
		*out = C.int64_t(store(&b))
		return nil
	})
}

//export gle_trainer_info
func gle_trainer_info(th C.int64_t, info **C.char) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		lr := 0.0
		if o := t.l.Optimizer(); o != nil {
			lr = o.LR()
		}
		return setJSON(info, map[string]any{"steps": t.l.StepCount(), "lr": lr, "rule": t.l.RuleName(), "batch": t.l.Batch(),
			"float32": t.l.Precision() == "float32"})
	})
}

//export gle_trainer_set_lr
func gle_trainer_set_lr(th C.int64_t, lr C.double) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		if v := float64(lr); !(v >= 0) || math.IsInf(v, 0) {
			return &gle.FieldError{Field: "lr", Value: v, Why: "must be finite and ≥ 0", Err: gle.ErrInvalid}
		}
		if o := t.l.Optimizer(); o != nil {
			o.SetLR(float64(lr))
		}
		return nil
	})
}

// gle_trainer_set_threads sets the threads the trainer's steps are split
// over (0: the default, every core the process may use); results do not
// depend on it.
//
//export gle_trainer_set_threads
func gle_trainer_set_threads(th C.int64_t, n C.int64_t) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		if n < 0 || n > 1<<16 {
			return &gle.FieldError{Field: "threads", Value: int64(n), Why: "want 1…65536, or 0 for every core", Err: gle.ErrInvalid}
		}
		t.l.SetThreads(int(n))
		return nil
	})
}

// gle_trainer_save writes a checkpoint in the run driver's format (the
// trainer, its spec, the history given as JSON records).
//
//export gle_trainer_save
func gle_trainer_save(th C.int64_t, path, history *C.char) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		var recs []fit.Record
		if h := C.GoString(history); h != "" {
			if err := json.Unmarshal([]byte(h), &recs); err != nil {
				return fmt.Errorf("%w: history: %v", gle.ErrInvalid, err)
			}
		}
		return fit.SaveCheckpoint(C.GoString(path), t.l, nil, t.net.net.ToSpec(t.net.spec), recs)
	})
}

// gle_trainer_load reads a checkpoint (of gle_trainer_save, a Python
// fit or gle train) with the given rule and precision; it returns the
// network, the trainer and the records as JSON.
//
//export gle_trainer_load
func gle_trainer_load(path, rule *C.char, f32 C.int64_t, outNet, outTr *C.int64_t, history **C.char) *C.char {
	return guard(func() error {
		r, err := gradient.ParseRule(C.GoString(rule), 0)
		if err != nil {
			return err
		}
		l, ck, err := fit.LoadCheckpoint(C.GoString(path), f32 != 0, r, nil)
		if err != nil {
			return err
		}
		if ck.Spec == nil {
			return fmt.Errorf("%w: %s holds no spec (written before checkpoints kept theirs)", gle.ErrInvalid, C.GoString(path))
		}
		nw := &network{spec: ck.Spec, net: l.Network()}
		*outNet = C.int64_t(store(nw))
		*outTr = C.int64_t(store(&trainer{net: nw, l: l}))
		return setJSON(history, ck.Records)
	})
}

// gle_dataset_new copies the caller's arrays into a data source: kind 0
// one sequence x [steps, batch, inputs] with targets of ykind 0 (none), 1
// (values [steps, batch, outputs]), 2 (classes [steps, batch]) or 3 (a
// class per sample, [batch]); kind 1 a set of samples x [samples, steps,
// inputs] with targets 1 ([samples, steps, outputs]), 2 ([samples,
// steps]) or 3 ([samples]).
//
//export gle_dataset_new
func gle_dataset_new(h C.int64_t, kind C.int64_t, x *C.double, d0, d1, d2, ykind C.int64_t, yv *C.double, yc *C.int64_t, out *C.int64_t) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		n := nw.net
		a, b, F, K := int(d0), int(d1), int(d2), n.Outputs()
		switch {
		case a <= 0 || b <= 0 || x == nil:
			return &gle.FieldError{Field: "x", Value: fmt.Sprintf("[%d, %d, %d]", a, b, F), Why: "empty", Err: gle.ErrShape}
		case F != n.Inputs:
			return &gle.FieldError{Field: "x", Value: fmt.Sprintf("%d inputs per step", F), Why: fmt.Sprintf("the network takes %d", n.Inputs), Err: gle.ErrShape}
		case ykind == 1 && n.Loss != gle.MSE, (ykind == 2 || ykind == 3) && n.Loss != gle.CE:
			return &gle.FieldError{Field: "y", Value: []string{"", "values", "class labels", "class labels"}[ykind], Why: fmt.Sprintf("do not fit the network's loss %v", n.Loss), Err: gle.ErrInvalid}
		}
		xs := append([]float64(nil), floats(x, C.int64_t(a*b*F))...)
		var src data.Source
		if kind == 0 { // one sequence: steps a, batch b
			seq := &data.Sequence{Steps: a, Batch: b, In: F, X: xs, Targets: make([]gle.Target, a), Outputs: K}
			switch ykind {
			case 1:
				v := append([]float64(nil), floats(yv, C.int64_t(a*b*K))...)
				for t := range a {
					seq.Targets[t].Values = v[t*b*K : (t+1)*b*K]
				}
			case 2:
				c := append([]int(nil), ints(yc, C.int64_t(a*b))...)
				for t := range a {
					seq.Targets[t].Classes = c[t*b : (t+1)*b]
				}
			case 3:
				seq.Labels = append([]int(nil), ints(yc, C.int64_t(b))...)
				for t := range a {
					seq.Targets[t].Classes = seq.Labels
				}
			}
			src = seq
		} else { // a set: samples a, steps b
			set := &data.Set{N: a, Steps: b, In: F, X: xs, Outputs: K}
			switch ykind {
			case 1:
				set.Values = append([]float64(nil), floats(yv, C.int64_t(a*b*K))...)
			case 2:
				set.StepLabels = append([]int(nil), ints(yc, C.int64_t(a*b))...)
			case 3:
				set.Labels = append([]int(nil), ints(yc, C.int64_t(a))...)
			}
			if err := set.Check(); err != nil {
				return err
			}
			src = set
		}
		*out = C.int64_t(store(&dataset{src}))
		return nil
	})
}

// dataset is a data source made by gle_dataset_new.
type dataset struct{ src data.Source }

// fitSettings are gle_fit's settings (JSON), named as Python's fit names
// them.
type fitSettings struct {
	Epochs    int        `json:"epochs"`
	BatchSize int        `json:"batch_size"` // 0: the whole training data as one batch
	Order     data.Order `json:"order"`
	Seed      uint64     `json:"seed"`
	Reset     bool       `json:"reset"`
	LogEvery  int        `json:"log_every"`
	Schedule  string     `json:"schedule"`
	RunDir    string     `json:"run_dir"`
	Resume    bool       `json:"resume"`
	Force     bool       `json:"force"`
	Figures   bool       `json:"figures"`
}

// gle_fit trains the trainer on the dataset train (and evaluates the
// dataset val, 0 for none, after every epoch from rest) with the run
// driver (package fit) — in the run folder run_dir when given, exactly
// as `gle train` does, so that either resumes the other's run. events
// receives the records, the progress within epochs and warnings as JSON;
// stop is the Ctrl-C flag. The result (JSON) holds the records, whether
// the run finished, the stop note and the run folder.
//
//export gle_fit
func gle_fit(th, trainH, valH C.int64_t, settings *C.char, events C.gle_progress_fn, stop *C.int32_t, result **C.char) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		train, err := lookup[*dataset](trainH)
		if err != nil {
			return err
		}
		var val data.Source
		if valH != 0 {
			v, err := lookup[*dataset](valH)
			if err != nil {
				return err
			}
			val = v.src
		}
		var fs fitSettings
		if err := json.Unmarshal([]byte(C.GoString(settings)), &fs); err != nil {
			return fmt.Errorf("%w: fit settings: %v", gle.ErrInvalid, err)
		}
		sched, err := optim.ParseSchedule(fs.Schedule, fs.Epochs)
		if err != nil {
			return err
		}
		s := fit.Settings{Epochs: fs.Epochs, Batch: fs.BatchSize, Order: fs.Order, Seed: fs.Seed, ResetEachEpoch: fs.Reset,
			LogEvery: fs.LogEvery, Schedule: sched, ScheduleOn: fit.Train}
		if val != nil {
			s.ScheduleOn = fit.Validation
		}
		ctx, cancel := stopContext(stop)
		defer cancel()
		rec := &events_{fn: events}
		var res *fit.Result
		dir := ""
		if fs.RunDir != "" || fs.Resume {
			var out *session.Outcome
			out, err = session.Run(ctx, &session.Job{Spec: t.net.spec, Learner: t.l, Data: train.src, DataName: "arrays", Val: val, ValName: "arrays",
				Settings: s, Dir: fs.RunDir, Resume: fs.Resume, Force: fs.Force, Figures: fs.Figures, Stdout: rec, Recorder: rec,
				Config: map[string]any{"front_door": "python"}})
			if out != nil {
				res, dir = out.Result, out.Dir
			}
		} else {
			if val != nil {
				s.EachEpoch, s.EvalFromRest = []fit.Split{fit.Validation}, true
			}
			res, err = fit.Run(ctx, t.l, fit.Sources{Train: train.src, Validation: val}, s, rec)
		}
		if res == nil {
			return err
		}
		if res.Learner != t.l { // resumed from the run folder's checkpoint
			t.l, t.net.net = res.Learner, res.Learner.Network()
		}
		return errors.Join(err, setJSON(result, map[string]any{"records": res.Records, "finished": res.Finished,
			"already_finished": res.AlreadyFinished, "stop_note": res.StopNote, "run_dir": dir}))
	})
}

// events_ hands the driver's events to the caller (a fit.Recorder, and
// the run's messages as an io.Writer); progress at most 5 times a second.
type events_ struct {
	fn   C.gle_progress_fn
	last time.Time
}

var _ io.Writer = (*events_)(nil)

func (e *events_) Start([]fit.Record) error { return nil }

func (e *events_) Record(r fit.Record) error {
	send(e.fn, map[string]any{"kind": "record", "record": r})
	return nil
}

func (e *events_) Progress(p fit.Progress) {
	if time.Since(e.last) < 200*time.Millisecond {
		return
	}
	e.last = time.Now()
	send(e.fn, map[string]any{"kind": "progress", "epoch": p.Epoch, "split": p.Split, "fraction": p.Fraction(),
		"steps": p.Steps, "seconds": p.Elapsed.Seconds()})
}

func (e *events_) Warn(msg string) { send(e.fn, map[string]any{"kind": "warning", "message": msg}) }

func (e *events_) Write(b []byte) (int, error) {
	send(e.fn, map[string]any{"kind": "message", "message": string(b)})
	return len(b), nil
}
