package graph

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
	"github.com/gle-go/gle/optim"
)

// feedbackNet is input(2) → hidden(16, tanh) → hidden2(16, tanh) → out(2)
// with the given feedback on the projections that carry errors back.
func feedbackNet(t *testing.T, feedback string, decay float64) *Network {
	t.Helper()
	n, err := New(&Spec{Dt: 0.1, Beta: 1, Loss: "mse", ProspectiveErrors: true, Inputs: 2, Output: "out", Seed: 11,
		FeedbackDecay: decay,
		Populations: []PopulationSpec{
			{Name: "hidden", Size: 16, Phi: "tanh", TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
			{Name: "hidden2", Size: 16, Phi: "tanh", TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
			{Name: "out", Size: 2, Phi: "linear", TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
		},
		Projections: []ProjectionSpec{
			{From: Input, To: "hidden"},
			{From: "hidden", To: "hidden2", Feedback: feedback},
			{From: "hidden2", To: "out", Feedback: feedback},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// trainFeedback trains n online with its local rule on a smooth nonlinear
// map of two sinusoids and returns the mean loss of the first and last
// 4000 steps.
func trainFeedback(t *testing.T, n *Network, steps int) (first, last float64) {
	t.Helper()
	e := NewEngine(n, 1)
	e.Grads = NewGrads(n)
	params, grads := Pairs(n, e.Grads)
	opt := optim.NewAdam(1e-3)
	out := make([]float64, 2)
	for step := range steps {
		tt := 0.1 * float64(step)
		x := []float64{math.Sin(0.7 * tt), math.Cos(0.3 * tt)}
		y := gle.Target{Values: []float64{0.8 * math.Tanh(2*x[0]*x[1]), 0.5 * x[0]}}
		if err := e.Step(out, x, y); err != nil {
			t.Fatal(err)
		}
		l := n.Loss.Value(out, y, 1)
		switch {
		case step < 4000:
			first += l / 4000
		case step >= steps-4000:
			last += l / 4000
		}
		opt.Step(params, grads)
	}
	return first, last
}

func cosine(a, b []float64) float64 {
	return kernel.Dot(a, b) / math.Sqrt(kernel.Dot(a, a)*kernel.Dot(b, b))
}

// TestFeedbackLearns: with symmetric, random (feedback alignment) and
// learned (Kolen–Pollack) feedback the local rule reduces the loss; the
// learned feedback weights come to equal the forward weights.
func TestFeedbackLearns(t *testing.T) {
	const steps = 40000
	for _, c := range []struct {
		feedback string
		decay    float64
	}{{"symmetric", 0}, {"random", 0}, {"learned", 0.005}} {
		n := feedbackNet(t, c.feedback, c.decay)
		out := &n.Projs[2]
		var cos0 float64
		if out.B != nil {
			cos0 = cosine(out.W, out.B)
		}
		first, last := trainFeedback(t, n, steps)
		msg := ""
		if out.B != nil {
			msg = " cos(W, B) hidden2→out " + ftoa(cos0) + " → " + ftoa(cosine(out.W, out.B)) +
				", hidden→hidden2 " + ftoa(cosine(n.Projs[1].W, n.Projs[1].B))
		}
		t.Logf("%-9s loss %.4g → %.4g%s", c.feedback, first, last, msg)
		if !(last < 0.4*first) {
			t.Errorf("%s feedback: loss %.4g → %.4g, want it reduced by more than half", c.feedback, first, last)
		}
		if c.feedback == "random" && !(cosine(out.W, out.B) > cos0+0.05) {
			// Feedback alignment: W turns towards the fixed B.
			t.Errorf("random feedback: cos(W, B) %.3f → %.3f, want W to align with B", cos0, cosine(out.W, out.B))
		}
		if c.feedback == "learned" {
			for _, pi := range []int{1, 2} {
				if cs := cosine(n.Projs[pi].W, n.Projs[pi].B); cs < 0.95 {
					t.Errorf("learned feedback of projection %d: cos(W, B) = %.3f, want ≥ 0.95", pi, cs)
				}
			}
		}
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func TestFeedbackSpecErrors(t *testing.T) {
	for _, c := range []struct {
		from, feedback, field string
		err                   error
	}{
		{"hidden", "transpose", "projections[1].feedback", gle.ErrUnknownName},
		{Input, "random", "projections[1].feedback", gle.ErrInvalid},
	} {
		_, err := New(&Spec{Dt: 0.1, Loss: "mse", Inputs: 1, Output: "hidden",
			Populations: []PopulationSpec{{Name: "hidden", Size: 2, Phi: "tanh", TauM: gle.Taus{1}, TauR: gle.Taus{1}}},
			Projections: []ProjectionSpec{{From: Input, To: "hidden"}, {From: c.from, To: "hidden", Feedback: c.feedback}}})
		var fe *gle.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, c.err) {
			t.Errorf("feedback %q from %s: error %v, want field %s", c.feedback, c.from, err, c.field)
		}
	}
	if _, err := New(&Spec{Dt: 0.1, Loss: "mse", Inputs: 1, Output: "h", FeedbackDecay: -1,
		Populations: []PopulationSpec{{Name: "h", Size: 1, Phi: "tanh", TauM: gle.Taus{1}, TauR: gle.Taus{1}}},
		Projections: []ProjectionSpec{{From: Input, To: "h"}}}); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("feedback_decay −1: %v", err)
	}
}

// TestToSpecRoundTrip: a trained network written with ToSpec, encoded as
// JSON and rebuilt with New has the same parameters, feedback weights
// included.
func TestToSpecRoundTrip(t *testing.T) {
	base := &Spec{Dt: 0.1, Beta: 1, Loss: "mse", ProspectiveErrors: true, Inputs: 2, Output: "out", Seed: 3,
		Populations: []PopulationSpec{
			{Name: "h", Size: 5, Phi: "tanh", TauM: gle.Taus{0.5}, TauR: gle.Taus{0.1}},
			{Name: "out", Size: 2, Phi: "linear", TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}, Bias: gle.Bias{Disabled: true}},
		},
		Projections: []ProjectionSpec{{From: Input, To: "h"}, {From: "h", To: "h", Feedback: "learned"}, {From: "h", To: "out", Feedback: "random"}}}
	n, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	n.Projs[1].B[3] += 0.25 // as if learned
	n.Pops[0].TauM[2] = 0.7
	b, err := json.Marshal(n.ToSpec(base))
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	for k := range n.Projs {
		if !slices.Equal(n.Projs[k].W, m.Projs[k].W) || !slices.Equal(n.Projs[k].B, m.Projs[k].B) || n.Projs[k].Feedback != m.Projs[k].Feedback {
			t.Errorf("projection %d differs after the round trip", k)
		}
	}
	for q := range n.Pops {
		if !slices.Equal(n.Pops[q].TauM, m.Pops[q].TauM) || !slices.Equal(n.Pops[q].B, m.Pops[q].B) {
			t.Errorf("population %d differs after the round trip", q)
		}
	}
	bad := *base
	bad.Projections = slices.Clone(base.Projections)
	bad.Projections[0].FeedbackWeight = [][]float64{{1, 2}}
	if _, err := New(&bad); !errors.Is(err, gle.ErrInvalid) || !strings.Contains(err.Error(), "projections[0].feedback_weight") {
		t.Errorf("feedback weights on a symmetric projection: %v", err)
	}
}

// FuzzGraphSpec: decoding and building arbitrary graph specs never panics,
// and a network that builds runs a step, BPTT and the adjoint.
func FuzzGraphSpec(f *testing.F) {
	f.Add([]byte(`{"dt": 0.1, "loss": "mse", "inputs": 1, "output": "o", "populations": [{"name": "o", "size": 1, "phi": "tanh", "tau_m": 1, "tau_r": 0.5}], "projections": [{"from": "input", "to": "o"}, {"from": "o", "to": "o", "feedback": "learned"}]}`))
	f.Add([]byte("dt: 0.1\nloss: ce\ninputs: 2\noutput: b\npopulations:\n  - {name: a, size: 3, phi: relu, tau_m: [{n: 2, value: 1}, 2], tau_r: 0.1, instant_errors: true}\n  - {name: b, size: 2, phi: linear, tau_m: 1, tau_r: 1, bias: false}\nprojections:\n  - {from: input, to: a}\n  - {from: a, to: b, feedback: random, feedback_weight: [[1, 2, 3], [4, 5, 6]]}\n  - {from: b, to: a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSpec(data)
		if err != nil {
			return
		}
		if s.Inputs > 64 || len(s.Projections) > 16 || len(s.Populations) > 16 {
			return // keep the fuzzer away from huge allocations
		}
		for _, p := range s.Populations {
			if p.Size > 64 {
				return
			}
		}
		n, err := New(s)
		if err != nil {
			return
		}
		x := make([]float64, n.Inputs)
		e := NewEngine(n, 1)
		if err := e.Step(make([]float64, n.Outputs()), x, gle.Target{}); err != nil {
			t.Fatalf("a built network failed a step: %v", err)
		}
		xs, ts := [][]float64{x, x}, []gle.Target{{}, {}}
		if _, err := Loss(n, 1, xs, ts, NewGrads(n)); err != nil {
			t.Fatalf("BPTT: %v", err)
		}
		if _, err := Adjoint(n, 1, xs, ts, NewGrads(n)); err != nil {
			t.Fatalf("adjoint: %v", err)
		}
	})
}
