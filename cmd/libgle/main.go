// Command libgle is the C ABI of the library, built as a shared object
// (go build -buildmode=c-shared) for the Python package in python/ (and
// any other language with a C foreign-function interface).
//
// Every function returns NULL on success or an error as a C string
// "kind: message" (kinds: invalid, shape, unknown, nonfinite, diverged,
// toolarge, notexist, mismatch, canceled, internal, other), which the
// caller frees with gle_free. Objects — networks, trainers and bundles of
// named arrays — live in Go and are named by int64 handles, released
// with gle_release. Arrays cross as pointers to C-contiguous memory the
// caller owns (float64, and int64 for class labels); Go reads and writes
// them during the call and keeps no pointer to them. A Go panic never
// crosses the boundary: it becomes an "internal" error.
package main

/*
#include <stdint.h>
#include <stdlib.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/data/mnist1d"
	"github.com/gle-go/gle/exact"
	"github.com/gle-go/gle/model"
	"github.com/gle-go/gle/trajectory"
)

func main() {}

// The handle table.
var (
	mu      sync.Mutex
	next    int64
	objects = map[int64]any{}
)

func store(v any) int64 {
	mu.Lock()
	defer mu.Unlock()
	next++
	objects[next] = v
	return next
}

func lookup[T any](h C.int64_t) (T, error) {
	mu.Lock()
	v, ok := objects[int64(h)]
	mu.Unlock()
	t, okT := v.(T)
	if !ok || !okT {
		var zero T
		return zero, fmt.Errorf("%w: handle %d names no %T (released, or never made)", gle.ErrInvalid, h, zero)
	}
	return t, nil
}

// network is a network and the spec it came from.
type network struct {
	spec *gle.Spec
	net  *gle.Network
}

// trainer is a trainer of a network in either precision.
type trainer struct {
	net  *network
	tr64 *gle.Trainer
	tr32 *gle.Trainer32
	rule string
}

// bundle is a set of named arrays (gradients, traces, datasets).
type bundle struct {
	names  []string
	arrays map[string]*array
}

type array struct {
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
	f     []float64
	i     []int64
}

func (b *bundle) addF(name string, shape []int, x []float64) {
	if b.arrays == nil {
		b.arrays = map[string]*array{}
	}
	b.names = append(b.names, name)
	b.arrays[name] = &array{Shape: shape, DType: "float64", f: x}
}

func (b *bundle) addI(name string, shape []int, x []int) {
	v := make([]int64, len(x))
	for k, e := range x {
		v[k] = int64(e)
	}
	if b.arrays == nil {
		b.arrays = map[string]*array{}
	}
	b.names = append(b.names, name)
	b.arrays[name] = &array{Shape: shape, DType: "int64", i: v}
}

// errText turns an error into "kind: message" for the caller, nil into
// NULL.
func errText(err error) *C.char {
	if err == nil {
		return nil
	}
	kind := "other"
	for _, k := range []struct {
		target error
		name   string
	}{{context.Canceled, "canceled"}, {gle.ErrTooLarge, "toolarge"}, {gle.ErrDiverged, "diverged"}, {gle.ErrMismatch, "mismatch"},
		{gle.ErrShape, "shape"}, {gle.ErrUnknownName, "unknown"}, {gle.ErrNonFinite, "nonfinite"}, {gle.ErrInvalid, "invalid"},
		{fs.ErrNotExist, "notexist"}, {trajectory.ErrMalformed, "invalid"}, {model.ErrFormat, "invalid"}} {
		if errors.Is(err, k.target) {
			kind = k.name
			break
		}
	}
	return C.CString(kind + ": " + err.Error())
}

// guard runs f, turning a panic into an internal error.
func guard(f func() error) (out *C.char) {
	defer func() {
		if r := recover(); r != nil {
			out = C.CString(fmt.Sprintf("internal: %v\n%s", r, debug.Stack()))
		}
	}()
	return errText(f())
}

func floats(p *C.double, n C.int64_t) []float64 {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(p)), int(n))
}

func ints(p *C.int64_t, n C.int64_t) []int {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*int)(unsafe.Pointer(p)), int(n)) // int is 64-bit on every platform we build for
}

func setString(dst **C.char, s string) {
	if dst != nil {
		*dst = C.CString(s)
	}
}

func setJSON(dst **C.char, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	setString(dst, string(b))
	return nil
}

//export gle_free
func gle_free(p *C.char) { C.free(unsafe.Pointer(p)) }

//export gle_release
func gle_release(h C.int64_t) {
	mu.Lock()
	delete(objects, int64(h))
	mu.Unlock()
}

//export gle_handles
func gle_handles() C.int64_t {
	mu.Lock()
	defer mu.Unlock()
	return C.int64_t(len(objects))
}

//export gle_network_from_json
func gle_network_from_json(spec *C.char, out *C.int64_t) *C.char {
	return guard(func() error {
		s, err := gle.DecodeSpec([]byte(C.GoString(spec)))
		if err != nil {
			return err
		}
		return newNetwork(s, out)
	})
}

//export gle_network_from_file
func gle_network_from_file(path *C.char, out *C.int64_t) *C.char {
	return guard(func() error {
		p := C.GoString(path)
		if strings.EqualFold(filepath.Ext(p), ".safetensors") {
			n, s, err := model.Load(p)
			if err != nil {
				return err
			}
			*out = C.int64_t(store(&network{spec: s, net: n}))
			return nil
		}
		s, err := gle.LoadSpec(p)
		if err != nil {
			return err
		}
		return newNetwork(s, out)
	})
}

func newNetwork(s *gle.Spec, out *C.int64_t) error {
	if err := s.Validate(); err != nil {
		return err
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		return err
	}
	*out = C.int64_t(store(&network{spec: s, net: n}))
	return nil
}

//export gle_network_info
func gle_network_info(h C.int64_t, info **C.char) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		n := nw.net
		type tensor struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		}
		var ts []tensor
		for _, t := range n.Tensors() {
			ts = append(ts, tensor{t.Name, t.Shape})
		}
		var pops []map[string]any
		for _, p := range n.Pops {
			pops = append(pops, map[string]any{"name": p.Name, "size": p.N})
		}
		var projs []map[string]any
		for k, p := range n.Projs {
			projs = append(projs, map[string]any{"from": n.PopulationName(p.From), "to": n.PopulationName(p.To), "name": n.ProjectionName(k)})
		}
		return setJSON(info, map[string]any{"inputs": n.Inputs, "outputs": n.Outputs(), "dt": n.Dt, "loss": n.Loss.String(),
			"layered": n.Layered, "populations": pops, "projections": projs, "tensors": ts, "learned": n.NumParams(),
			"spec": n.ToSpec(nw.spec)})
	})
}

// tensor finds a parameter of the network by name.
func (nw *network) tensor(name string) (gle.Tensor, error) {
	for _, t := range nw.net.Tensors() {
		if t.Name == name {
			return t, nil
		}
	}
	var names []string
	for _, t := range nw.net.Tensors() {
		names = append(names, t.Name)
	}
	return gle.Tensor{}, &gle.FieldError{Field: "parameter", Value: name, Why: "no such tensor (have " + strings.Join(names, ", ") + ")", Err: gle.ErrUnknownName}
}

//export gle_param_get
func gle_param_get(h C.int64_t, name *C.char, dst *C.double, n C.int64_t) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		t, err := nw.tensor(C.GoString(name))
		if err != nil {
			return err
		}
		if int(n) != len(t.Data) {
			return fmt.Errorf("%w: %s has %d values, the buffer %d", gle.ErrShape, t.Name, len(t.Data), n)
		}
		copy(floats(dst, n), t.Data)
		return nil
	})
}

//export gle_param_set
func gle_param_set(h C.int64_t, name *C.char, src *C.double, n C.int64_t) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		t, err := nw.tensor(C.GoString(name))
		if err != nil {
			return err
		}
		if int(n) != len(t.Data) {
			return fmt.Errorf("%w: %s has %d values, %d given", gle.ErrShape, t.Name, len(t.Data), n)
		}
		old := append([]float64(nil), t.Data...)
		copy(t.Data, floats(src, n))
		if err := nw.net.Check(); err != nil {
			copy(t.Data, old)
			return fmt.Errorf("%s: %w (the old values are kept)", t.Name, err)
		}
		return nil
	})
}

//export gle_network_save
func gle_network_save(h C.int64_t, path *C.char) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		return model.Save(C.GoString(path), nw.net, nw.spec)
	})
}

// sequence turns the caller's arrays into frames and targets: x is steps
// × batch × inputs; ykind 0 no targets, 1 values (steps × batch ×
// outputs), 2 classes (steps × batch).
func sequence(n *gle.Network, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t) ([][]float64, []gle.Target, error) {
	T, B, I := int(steps), int(batch), int(inputs)
	switch {
	case T <= 0 || B <= 0:
		return nil, nil, fmt.Errorf("%w: %d steps of batch %d: both must be positive", gle.ErrShape, T, B)
	case I != n.Inputs:
		return nil, nil, fmt.Errorf("%w: %d inputs per step, the network takes %d", gle.ErrShape, I, n.Inputs)
	case x == nil:
		return nil, nil, fmt.Errorf("%w: no inputs", gle.ErrShape)
	}
	all := floats(x, C.int64_t(T*B*I))
	xs := make([][]float64, T)
	for t := range xs {
		xs[t] = all[t*B*I : (t+1)*B*I]
	}
	ts := make([]gle.Target, T)
	K := n.Outputs()
	switch ykind {
	case 0:
	case 1:
		if n.Loss != gle.MSE {
			return nil, nil, fmt.Errorf("%w: targets of values need loss mse, the network's is %v", gle.ErrInvalid, n.Loss)
		}
		v := floats(yv, C.int64_t(T*B*K))
		for t := range ts {
			ts[t].Values = v[t*B*K : (t+1)*B*K]
		}
	case 2:
		if n.Loss != gle.CE {
			return nil, nil, fmt.Errorf("%w: class labels need loss ce, the network's is %v", gle.ErrInvalid, n.Loss)
		}
		c := ints(yc, C.int64_t(T*B))
		for t := range ts {
			ts[t].Classes = c[t*B : (t+1)*B]
		}
	default:
		return nil, nil, fmt.Errorf("%w: target kind %d", gle.ErrInvalid, ykind)
	}
	return xs, ts, nil
}

//export gle_simulate
func gle_simulate(h C.int64_t, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t,
	out *C.double, record C.int64_t, traces *C.int64_t) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		xs, ts, err := sequence(nw.net, x, steps, batch, inputs, ykind, yv, yc)
		if err != nil {
			return err
		}
		e, err := gle.NewEngine(nw.net, int(batch))
		if err != nil {
			return err
		}
		K := nw.net.Outputs()
		outs := floats(out, C.int64_t(len(xs)*int(batch)*K))
		if record == 0 {
			for t, xt := range xs {
				if err := e.Step(outs[t*int(batch)*K:(t+1)*int(batch)*K], xt, ts[t]); err != nil {
					return fmt.Errorf("step %d: %w", t, err)
				}
			}
			return nil
		}
		rec, err := exact.Record(e, xs, ts)
		if err != nil {
			return err
		}
		var b bundle
		T, B := len(xs), int(batch)
		for q, p := range nw.net.Pops {
			shape := []int{T, B, p.N}
			pre := nw.net.PopulationPrefix(q)
			b.addF(pre+"u", shape, rec.U[q])
			b.addF(pre+"r", shape, rec.R[q])
			b.addF(pre+"ehat", shape, rec.EHat[q])
			b.addF(pre+"r_prime", shape, rec.RPrime[q])
		}
		if lambda, err := exact.LambdaTrace(nw.net, rec); err == nil {
			for q, p := range nw.net.Pops {
				b.addF(nw.net.PopulationPrefix(q)+"lambda", []int{T, B, p.N}, lambda[q])
			}
		}
		// The outputs: the output population's rates before each step.
		o, r := nw.net.Output, rec.R[nw.net.Output]
		for t := 1; t < T; t++ {
			copy(outs[t*B*K:(t+1)*B*K], r[(t-1)*B*nw.net.Pops[o].N:t*B*nw.net.Pops[o].N])
		}
		clear(outs[:B*K])
		*traces = C.int64_t(store(&b))
		return nil
	})
}

//export gle_trainer_new
func gle_trainer_new(h C.int64_t, batch C.int64_t, rule *C.char, f32 C.int64_t, out *C.int64_t) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		tr, err := newTrainer(nw, int(batch), C.GoString(rule), f32 != 0)
		if err != nil {
			return err
		}
		*out = C.int64_t(store(tr))
		return nil
	})
}

func newTrainer(nw *network, batch int, ruleName string, f32 bool) (*trainer, error) {
	rule, err := exact.ParseRule(ruleName, 0)
	if err != nil {
		return nil, err
	}
	opt, err := nw.spec.Optimizer.New()
	if err != nil {
		return nil, err
	}
	t := &trainer{net: nw, rule: ruleName}
	if f32 {
		if rule != nil {
			return nil, &gle.FieldError{Field: "rule", Value: ruleName, Why: "exact-gradient rules run on the float64 engine only", Err: gle.ErrInvalid}
		}
		if t.tr32, err = gle.NewTrainerOf[float32](nw.net, batch, opt); err != nil {
			return nil, err
		}
		t.tr32.TauMMin, t.tr32.LearnFromStep = nw.spec.TauMMinOrDefault(), nw.spec.LearnFromStep
		return t, nil
	}
	if t.tr64, err = gle.NewTrainer(nw.net, batch, opt); err != nil {
		return nil, err
	}
	t.tr64.Rule = rule
	t.tr64.TauMMin, t.tr64.LearnFromStep = nw.spec.TauMMinOrDefault(), nw.spec.LearnFromStep
	return t, nil
}

// run feeds a sequence through the trainer. A non-nil stop is the
// caller's flag: once it is non-zero the run stops after the current step
// with context.Canceled (the trainer stays usable).
func (t *trainer) run(xs [][]float64, ts []gle.Target, outs [][]float64, stop *C.int32_t) (float64, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var each func(int, float64)
	if stop != nil {
		flag := (*int32)(unsafe.Pointer(stop))
		each = func(int, float64) {
			if atomic.LoadInt32(flag) != 0 {
				cancel()
			}
		}
	}
	if t.tr32 != nil {
		return t.tr32.Run(ctx, xs, ts, outs, each)
	}
	return t.tr64.Run(ctx, xs, ts, outs, each)
}

//export gle_trainer_run
func gle_trainer_run(th C.int64_t, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t,
	out *C.double, stop *C.int32_t, loss *C.double) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		if b := t.batch(); int(batch) != b {
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
		l, err := t.run(xs, ts, outs, stop)
		*loss = C.double(l)
		return err
	})
}

func (t *trainer) batch() int {
	if t.tr32 != nil {
		return t.tr32.Engine.Batch()
	}
	return t.tr64.Engine.Batch()
}

//export gle_trainer_reset
func gle_trainer_reset(th C.int64_t) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		if t.tr32 != nil {
			t.tr32.Reset()
		} else {
			t.tr64.Reset()
		}
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
		var st *gle.State
		if t.tr32 != nil {
			st = gle.ConvertState[float64](t.tr32.Engine.State())
		} else {
			st = gle.ConvertState[float64](t.tr64.Engine.State())
		}
		var b bundle
		for _, ts := range gle.StateTensors(t.net.net, st) {
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
		steps, lr := 0, 0.0
		if t.tr32 != nil {
			steps = t.tr32.Steps
			if t.tr32.Opt != nil {
				lr = t.tr32.Opt.LR()
			}
		} else {
			steps = t.tr64.Steps
			if t.tr64.Opt != nil {
				lr = t.tr64.Opt.LR()
			}
		}
		return setJSON(info, map[string]any{"steps": steps, "lr": lr, "rule": t.rule, "batch": t.batch(), "float32": t.tr32 != nil})
	})
}

//export gle_trainer_set_lr
func gle_trainer_set_lr(th C.int64_t, lr C.double) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		if !(lr >= 0) {
			return &gle.FieldError{Field: "lr", Value: float64(lr), Why: "must be ≥ 0", Err: gle.ErrInvalid}
		}
		if t.tr32 != nil && t.tr32.Opt != nil {
			t.tr32.Opt.SetLR(float64(lr))
		} else if t.tr64 != nil && t.tr64.Opt != nil {
			t.tr64.Opt.SetLR(float64(lr))
		}
		return nil
	})
}

//export gle_trainer_save
func gle_trainer_save(th C.int64_t, path, meta *C.char) *C.char {
	return guard(func() error {
		t, err := lookup[*trainer](th)
		if err != nil {
			return err
		}
		id := map[string]string{"rule": t.rule}
		m := C.GoString(meta)
		if t.tr32 != nil {
			return t.tr32.Save(C.GoString(path), id, m)
		}
		return t.tr64.Save(C.GoString(path), id, m)
	})
}

//export gle_trainer_load
func gle_trainer_load(path, rule *C.char, f32 C.int64_t, spec *C.char, outNet, outTr *C.int64_t, meta **C.char) *C.char {
	return guard(func() error {
		ruleName := C.GoString(rule)
		r, err := exact.ParseRule(ruleName, 0)
		if err != nil {
			return err
		}
		id := map[string]string{"rule": ruleName}
		var m string
		t := &trainer{rule: ruleName}
		var n *gle.Network
		if f32 != 0 {
			if t.tr32, err = gle.LoadTrainer[float32](C.GoString(path), id, r, &m); err != nil {
				return err
			}
			n = t.tr32.Engine.Net
		} else {
			if t.tr64, err = gle.LoadTrainer[float64](C.GoString(path), id, r, &m); err != nil {
				return err
			}
			n = t.tr64.Engine.Net
		}
		// The spec: given, or the "spec" of the caller's JSON meta.
		text := C.GoString(spec)
		if text == "" {
			var saved struct {
				Spec json.RawMessage `json:"spec"`
			}
			if json.Unmarshal([]byte(m), &saved) != nil || len(saved.Spec) == 0 {
				return fmt.Errorf("%w: %s: the checkpoint's meta holds no spec: give it", gle.ErrInvalid, C.GoString(path))
			}
			text = string(saved.Spec)
		}
		s, err := gle.DecodeSpec([]byte(text))
		if err != nil {
			return err
		}
		t.net = &network{spec: s, net: n}
		*outNet = C.int64_t(store(t.net))
		*outTr = C.int64_t(store(t))
		setString(meta, m)
		return nil
	})
}

//export gle_grad
func gle_grad(h C.int64_t, method *C.char, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t,
	out *C.int64_t, objective *C.double) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		xs, ts, err := sequence(nw.net, x, steps, batch, inputs, ykind, yv, yc)
		if err != nil {
			return err
		}
		g, j, err := exact.Gradient(nw.net, C.GoString(method), int(batch), xs, ts)
		if err != nil {
			return err
		}
		var b bundle
		for _, t := range g.Tensors(nw.net) {
			b.addF(t.Name, t.Shape, t.Data)
		}
		*objective = C.double(j)
		*out = C.int64_t(store(&b))
		return nil
	})
}

//export gle_align
func gle_align(h C.int64_t, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t,
	window C.int64_t, method, against *C.char, rows **C.char) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		xs, ts, err := sequence(nw.net, x, steps, batch, inputs, ykind, yv, yc)
		if err != nil {
			return err
		}
		r, err := exact.Compare(nw.net, int(batch), xs, ts, int(window), C.GoString(method), C.GoString(against))
		if err != nil {
			return err
		}
		return setJSON(rows, r)
	})
}

//export gle_bundle_info
func gle_bundle_info(h C.int64_t, info **C.char) *C.char {
	return guard(func() error {
		b, err := lookup[*bundle](h)
		if err != nil {
			return err
		}
		return setJSON(info, map[string]any{"names": b.names, "arrays": b.arrays})
	})
}

//export gle_bundle_get
func gle_bundle_get(h C.int64_t, name *C.char, dst unsafe.Pointer, n C.int64_t) *C.char {
	return guard(func() error {
		b, err := lookup[*bundle](h)
		if err != nil {
			return err
		}
		a := b.arrays[C.GoString(name)]
		if a == nil {
			return &gle.FieldError{Field: "array", Value: C.GoString(name), Why: "not in the bundle", Err: gle.ErrUnknownName}
		}
		if a.f != nil {
			if int(n) != len(a.f) {
				return fmt.Errorf("%w: %d values, the buffer %d", gle.ErrShape, len(a.f), n)
			}
			copy(unsafe.Slice((*float64)(dst), int(n)), a.f)
			return nil
		}
		if int(n) != len(a.i) {
			return fmt.Errorf("%w: %d values, the buffer %d", gle.ErrShape, len(a.i), n)
		}
		copy(unsafe.Slice((*int64)(dst), int(n)), a.i)
		return nil
	})
}

//export gle_mnist1d
func gle_mnist1d(seed, length, samples C.int64_t, trainSplit C.double, out *C.int64_t) *C.char {
	return guard(func() error {
		a := mnist1d.DefaultArgs()
		if seed < 0 || seed > 1<<32-1 {
			return &gle.FieldError{Field: "seed", Value: int64(seed), Why: "NumPy's legacy seeding takes 0…2³²−1", Err: gle.ErrInvalid}
		}
		a.Seed, a.FinalSeqLength, a.NumSamples, a.TrainSplit = uint32(seed), int(length), int(samples), float64(trainSplit)
		if err := a.Validate(); err != nil {
			return err
		}
		ds, err := mnist1d.Generate(a)
		if err != nil {
			return err
		}
		var b bundle
		b.addF("x", []int{ds.NumTrain, ds.Length}, ds.X)
		b.addI("y", []int{ds.NumTrain}, ds.Y)
		b.addF("x_test", []int{ds.NumTest, ds.Length}, ds.XTest)
		b.addI("y_test", []int{ds.NumTest}, ds.YTest)
		b.addF("t", []int{len(ds.T)}, ds.T)
		b.addF("templates_x", []int{10, len(ds.TemplatesT)}, ds.TemplatesX)
		b.addF("templates_t", []int{len(ds.TemplatesT)}, ds.TemplatesT)
		*out = C.int64_t(store(&b))
		return nil
	})
}

//export gle_logmel
func gle_logmel(samples *C.double, n C.int64_t, path *C.char, rate, nfft, hop, nmels C.int64_t, fmin, fmax C.double, out *C.int64_t) *C.char {
	return guard(func() error {
		x := floats(samples, n)
		sr := int(rate)
		if p := C.GoString(path); p != "" {
			w, err := audio.ReadWAVFile(p)
			if err != nil {
				return err
			}
			x, sr = w.Samples, w.SampleRate
		}
		if len(x) == 0 {
			return fmt.Errorf("%w: no samples", gle.ErrShape)
		}
		p := audio.MelParams{SampleRate: sr, NFFT: int(nfft), Hop: int(hop), NMels: int(nmels), FMin: float64(fmin), FMax: float64(fmax)}
		m, err := p.LogMel(x)
		if err != nil {
			return err
		}
		var b bundle
		b.addF("logmel", []int{p.NMels, p.Frames(len(x))}, m)
		*out = C.int64_t(store(&b))
		return nil
	})
}

//export gle_conformance
func gle_conformance(path *C.char, f32 C.int64_t, report **C.char) *C.char {
	return guard(func() error {
		f, err := trajectory.Read(C.GoString(path))
		if err != nil {
			return err
		}
		if f.Expected == nil {
			return fmt.Errorf("%w: %s has no \"expected\" field: nothing to compare", gle.ErrInvalid, C.GoString(path))
		}
		replay := f.Replay
		if f32 != 0 {
			replay = f.ReplayFloat32
		}
		res, err := replay()
		if err != nil {
			return err
		}
		rep, err := f.Compare(res)
		if err != nil {
			return err
		}
		return setJSON(report, map[string]any{"output": rep.Output, "params": rep.Params, "state": rep.State,
			"output_at": rep.OutputAt, "params_at": rep.ParamsAt, "state_at": rep.StateAt})
	})
}

//export gle_go_time
func gle_go_time(kind *C.char, h C.int64_t, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t, seconds *C.double) *C.char {
	// The same work as gle_simulate (kind "simulate", without traces) or
	// gle_trainer_run (kind "run", h a trainer) done by the Go API alone,
	// timed in Go: the reference for the binding's overhead.
	return guard(func() error {
		var n *gle.Network
		var t *trainer
		var err error
		switch C.GoString(kind) {
		case "simulate":
			var nw *network
			if nw, err = lookup[*network](h); err != nil {
				return err
			}
			n = nw.net
		case "run":
			if t, err = lookup[*trainer](h); err != nil {
				return err
			}
			n = t.net.net
		default:
			return fmt.Errorf("%w: kind %q", gle.ErrUnknownName, C.GoString(kind))
		}
		xs, ts, err := sequence(n, x, steps, batch, inputs, ykind, yv, yc)
		if err != nil {
			return err
		}
		out := make([]float64, int(batch)*n.Outputs())
		start := time.Now()
		if t != nil {
			_, err = t.run(xs, ts, nil, nil)
		} else {
			var e *gle.Engine
			if e, err = gle.NewEngine(n, int(batch)); err != nil {
				return err
			}
			for i, xt := range xs {
				if err = e.Step(out, xt, ts[i]); err != nil {
					break
				}
			}
		}
		*seconds = C.double(time.Since(start).Seconds())
		return err
	})
}
