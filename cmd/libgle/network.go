package main

/*
#include <stdint.h>
*/
import "C"

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/session"
	"github.com/gle-go/gle/safetensors"
)

// network is a network and the spec it came from.
type network struct {
	spec *gle.Spec
	net  *gle.Network
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
			n, s, err := safetensors.Load(p)
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

// networkTensor looks up network h and its parameter name, checking
// that the caller's buffer holds n values.
func networkTensor(h C.int64_t, name *C.char, n C.int64_t) (*network, gle.Tensor, error) {
	nw, err := lookup[*network](h)
	if err != nil {
		return nil, gle.Tensor{}, err
	}
	t, err := nw.tensor(C.GoString(name))
	if err == nil && int(n) != len(t.Data) {
		err = fmt.Errorf("%w: %s has %d values, the buffer %d", gle.ErrShape, t.Name, len(t.Data), n)
	}
	return nw, t, err
}

//export gle_param_get
func gle_param_get(h C.int64_t, name *C.char, dst *C.double, n C.int64_t) *C.char {
	return guard(func() error {
		_, t, err := networkTensor(h, name, n)
		if err == nil {
			copy(floats(dst, n), t.Data)
		}
		return err
	})
}

//export gle_param_set
func gle_param_set(h C.int64_t, name *C.char, src *C.double, n C.int64_t) *C.char {
	return guard(func() error {
		nw, t, err := networkTensor(h, name, n)
		if err != nil {
			return err
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

// gle_network_save writes the network by the extension of path: a spec
// file with its parameters (.json, .yaml, .yml) or safetensors
// (.safetensors); another extension is refused, and so is a file that
// exists unless force is set (the CLI's --force).
//
//export gle_network_save
func gle_network_save(h C.int64_t, path *C.char, force C.int64_t) *C.char {
	return guard(func() error {
		nw, err := lookup[*network](h)
		if err != nil {
			return err
		}
		p := C.GoString(path)
		if err := session.LearnedFormat(p); err != nil {
			return &gle.FieldError{Field: "path", Value: p, Why: err.Error(), Err: gle.ErrInvalid}
		}
		if _, err := os.Stat(p); err == nil && force == 0 {
			return &gle.FieldError{Field: "path", Value: p, Why: "exists: save with force=True to overwrite it", Err: fs.ErrExist}
		}
		if err := atomicfile.CheckWritable(p); err != nil {
			return err
		}
		return session.SaveLearned(p, nw.net, nw.spec)
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

// networkSequence looks up network h and turns the caller's arrays into
// its frames and targets (sequence).
func networkSequence(h C.int64_t, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t) (*network, [][]float64, []gle.Target, error) {
	nw, err := lookup[*network](h)
	if err != nil {
		return nil, nil, nil, err
	}
	xs, ts, err := sequence(nw.net, x, steps, batch, inputs, ykind, yv, yc)
	return nw, xs, ts, err
}

//export gle_simulate
func gle_simulate(h C.int64_t, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t,
	out *C.double, record C.int64_t, traces *C.int64_t) *C.char {
	return guard(func() error {
		nw, xs, ts, err := networkSequence(h, x, steps, batch, inputs, ykind, yv, yc)
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
		rec, err := gradient.Record(e, xs, ts)
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
		if lambda, err := gradient.LambdaTrace(nw.net, rec); err == nil {
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
