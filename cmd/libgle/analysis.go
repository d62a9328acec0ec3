package main

/*
#include <stdint.h>
*/
import "C"

import (
	"context"
	"fmt"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/trajectory"
)

//export gle_grad
func gle_grad(h C.int64_t, method *C.char, x *C.double, steps, batch, inputs, ykind C.int64_t, yv *C.double, yc *C.int64_t,
	out *C.int64_t, objective *C.double) *C.char {
	return guard(func() error {
		nw, xs, ts, err := networkSequence(h, x, steps, batch, inputs, ykind, yv, yc)
		if err != nil {
			return err
		}
		g, j, err := gradient.Gradient(nw.net, C.GoString(method), int(batch), xs, ts)
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
		nw, xs, ts, err := networkSequence(h, x, steps, batch, inputs, ykind, yv, yc)
		if err != nil {
			return err
		}
		r, err := gradient.Compare(nw.net, int(batch), xs, ts, int(window), C.GoString(method), C.GoString(against))
		if err != nil {
			return err
		}
		return setJSON(rows, r)
	})
}

// gle_conformance replays a trajectory file and reports every recorded
// variable's error against its own scale (trajectory.Check) with the
// default tolerances, and the §6 measure per group.
//
//export gle_conformance
func gle_conformance(path *C.char, f32 C.int64_t, report **C.char) *C.char {
	return guard(func() error {
		rep, err := trajectory.Check(C.GoString(path), f32 != 0)
		if err != nil {
			return err
		}
		tol := trajectory.Tolerance(f32 != 0)
		vars := map[string]any{}
		for _, v := range rep.Vars {
			vars[v.Name] = map[string]any{"error": v.Err, "scale": v.Scale, "tolerance": tol(v.Kind)}
		}
		return setJSON(report, map[string]any{"ok": len(rep.Failures(tol)) == 0, "vars": vars,
			"output": rep.Output, "params": rep.Params, "state": rep.State,
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
			_, err = t.l.Run(context.Background(), xs, ts, nil, nil)
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
