package gradient_test

import (
	"errors"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// FuzzGraphSpec: decoding and building arbitrary specs never panics, and
// a network that builds runs a step, full BPTT, the adjoint, the λ trace
// (an error on a loop) and the alignment, with finite results.
func FuzzGraphSpec(f *testing.F) {
	f.Add([]byte(`{"dt": 0.1, "loss": "mse", "inputs": 1, "output": "o", "populations": [{"name": "o", "size": 1, "phi": "tanh", "tau_m": 1, "tau_r": 0.5}], "projections": [{"from": "input", "to": "o"}, {"from": "o", "to": "o", "feedback": "learned"}]}`))
	f.Add([]byte("dt: 0.1\nloss: ce\ninputs: 2\noutput: b\npopulations:\n  - {name: a, size: 3, phi: relu, tau_m: [{n: 2, value: 1}, 2], tau_r: 0.1, instant_errors: true}\n  - {name: b, size: 2, phi: linear, tau_m: 1, tau_r: 1, bias: false}\nprojections:\n  - {from: input, to: a}\n  - {from: a, to: b, feedback: random, feedback_weight: [[1, 2, 3], [4, 5, 6]]}\n  - {from: b, to: a}\n"))
	f.Add([]byte("dt: 0.05\nfeedback_decay: 0.01\ninputs: 2\noutput: out\npopulations:\n  - {name: h, size: 3, phi: hard_tanh, tau_m: 0.5, tau_r: 0.1}\n  - {name: out, size: 2, phi: linear, tau_m: 0.5, tau_r: 0.5}\nprojections:\n  - {from: input, to: h}\n  - {from: h, to: out, feedback: learned}\n  - {from: input, to: out}\n"))
	f.Add([]byte(`{"dt": 0.1, "loss": "mse", "layers": [{"in": 2, "out": 3, "phi": "softplus", "tau_m": 1, "tau_r": 0.2}, {"in": 3, "out": 1, "tau_m": 0.5, "tau_r": 0.5}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := gle.DecodeSpec(data)
		if err != nil {
			return
		}
		if s.Inputs > 64 || len(s.Projections) > 16 || len(s.Populations) > 16 || len(s.Layers) > 8 {
			return // keep the fuzzer away from huge allocations
		}
		for _, p := range s.Populations {
			if p.Size > 64 {
				return
			}
		}
		for _, l := range s.Layers {
			if l.In > 64 || l.Out > 64 {
				return
			}
		}
		n, err := gle.NewNetwork(s)
		if err != nil {
			return
		}
		x := make([]float64, n.Inputs)
		for i := range x {
			x[i] = 0.5
		}
		e, err := gle.NewEngine(n, 1)
		if err != nil {
			t.Fatalf("a built network has no engine: %v", err)
		}
		if err := e.Step(make([]float64, n.Outputs()), x, gle.Target{}); err != nil {
			t.Fatalf("a built network failed a step: %v", err)
		}
		xs, ts := [][]float64{x, x, x}, []gle.Target{{}, {}, {}}
		g := gle.NewFullGrads(n)
		j, err := gradient.Full(n, 1, xs, ts, g)
		if err != nil {
			t.Fatalf("BPTT: %v", err)
		}
		if j != 0 {
			t.Errorf("no targets but J = %g", j)
		}
		if _, err := gradient.Adjoint(n, 1, xs, ts, gle.NewFullGrads(n)); err != nil {
			t.Fatalf("adjoint: %v", err)
		}
		rec, err := gradient.Record(e, xs, ts)
		if err != nil {
			t.Fatalf("record: %v", err)
		}
		if lambda, err := gradient.LambdaTrace(n, rec); err == nil {
			for q, l := range lambda {
				for _, v := range l {
					if v != 0 {
						t.Fatalf("no targets but λ of population %d is %g", q, v)
					}
				}
			}
		}
		// Without targets there is nothing to align: refused, not zeros.
		if _, err := gradient.Align(n, 1, xs, ts, 2); !errors.Is(err, gle.ErrInvalid) {
			t.Fatalf("align without targets: %v, want a refusal", err)
		}
	})
}
