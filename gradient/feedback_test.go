package gradient_test

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/optim"
)

// feedbackNet is input(2) → hidden(16, tanh) → hidden2(16, tanh) → out(2)
// with the given feedback on the projections that carry errors back.
func feedbackNet(t *testing.T, feedback gle.Feedback, decay float64) *gle.Network {
	t.Helper()
	s := &gle.Spec{Dt: 0.1, Loss: gle.MSE, Inputs: 2, Output: "out", Seed: 11, FeedbackDecay: decay,
		Populations: []gle.PopulationSpec{
			{Name: "hidden", Size: 16, Phi: gle.Tanh, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
			{Name: "hidden2", Size: 16, Phi: gle.Tanh, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
			{Name: "out", Size: 2, Phi: gle.Linear, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}},
		},
		Projections: []gle.ProjectionSpec{
			{From: gle.InputName, To: "hidden"},
			{From: "hidden", To: "hidden2", Feedback: feedback},
			{From: "hidden2", To: "out", Feedback: feedback},
		}}
	s.SetBeta(1)
	s.SetProspectiveErrors(true)
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// trainFeedback trains n online with GLE's local rule (gle.Trainer, Adam)
// on a smooth nonlinear map of two sinusoids and returns the mean loss of
// the first and the last 4000 steps.
func trainFeedback(t *testing.T, n *gle.Network, steps int) (first, last float64) {
	t.Helper()
	tr, err := gle.NewTrainer(n, 1, optim.NewAdam(1e-3))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 2)
	for step := range steps {
		tt := 0.1 * float64(step)
		x := []float64{math.Sin(0.7 * tt), math.Cos(0.3 * tt)}
		y := gle.Target{Values: []float64{0.8 * math.Tanh(2*x[0]*x[1]), 0.5 * x[0]}}
		l, err := tr.Step(out, x, y)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case step < 4000:
			first += l / 4000
		case step >= steps-4000:
			last += l / 4000
		}
	}
	return first, last
}

// TestFeedbackLearns: with symmetric, random (feedback alignment) and
// learned (Kolen–Pollack) feedback the local rule reduces the loss by
// more than half; under random feedback W turns towards the fixed B, and
// learned feedback weights come to equal the forward weights.
func TestFeedbackLearns(t *testing.T) {
	const steps = 40000
	for _, c := range []struct {
		feedback gle.Feedback
		decay    float64
	}{{gle.Symmetric, 0}, {gle.Random, 0}, {gle.Learned, 0.005}} {
		n := feedbackNet(t, c.feedback, c.decay)
		out := &n.Projs[2]
		if (out.FeedbackWeight == nil) != (c.feedback == gle.Symmetric) {
			t.Fatalf("%v feedback: feedback weights %v", c.feedback, out.FeedbackWeight != nil)
		}
		b0 := slices.Clone(out.FeedbackWeight)
		var cos0 float64
		if b0 != nil {
			cos0 = cosine(out.W, b0)
		}
		first, last := trainFeedback(t, n, steps)
		msg := ""
		if b0 != nil {
			msg = " cos(W, B) hidden2→out " + ftoa(cos0) + " → " + ftoa(cosine(out.W, out.FeedbackWeight)) +
				", hidden→hidden2 " + ftoa(cosine(n.Projs[1].W, n.Projs[1].FeedbackWeight))
		}
		t.Logf("%-9v loss %.4g → %.4g%s", c.feedback, first, last, msg)
		if !(last < 0.4*first) {
			t.Errorf("%v feedback: loss %.4g → %.4g, want it reduced by more than half", c.feedback, first, last)
		}
		switch c.feedback {
		case gle.Random:
			if !slices.Equal(out.FeedbackWeight, b0) {
				t.Error("random feedback weights changed: they must stay fixed")
			}
			if !(cosine(out.W, out.FeedbackWeight) > cos0+0.05) {
				t.Errorf("random feedback: cos(W, B) %.3f → %.3f, want W to align with B", cos0, cosine(out.W, out.FeedbackWeight))
			}
		case gle.Learned:
			for _, pi := range []int{1, 2} {
				if cs := cosine(n.Projs[pi].W, n.Projs[pi].FeedbackWeight); cs < 0.95 {
					t.Errorf("learned feedback of projection %d: cos(W, B) = %.3f, want ≥ 0.95", pi, cs)
				}
			}
		}
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// TestLearnedFeedbackUpdate: one local step of a learned projection gives
// the Kolen–Pollack pair ∂B = ∂W_local + λB and ∂W = ∂W_local + λW, where
// ∂W_local is what the same projection's gradient is with random feedback
// (λ = 0); so B − W decays as (1 − ηλ) under SGD.
func TestLearnedFeedbackUpdate(t *testing.T) {
	const decay = 0.3
	learned := feedbackNet(t, gle.Learned, decay)
	random := learned.Clone()
	for k := range random.Projs {
		if random.Projs[k].Feedback == gle.Learned {
			random.Projs[k].Feedback = gle.Random
		}
	}
	random.FeedbackDecay = 0
	run := func(n *gle.Network) *gle.Grads {
		e, err := gle.NewEngine(n, 1)
		if err != nil {
			t.Fatal(err)
		}
		g := gle.NewGrads(n)
		if err := e.SetGrads(g); err != nil {
			t.Fatal(err)
		}
		for step := range 30 {
			x := []float64{math.Sin(0.1 * float64(step)), 0.5}
			if err := e.Step(nil, x, gle.Target{Values: []float64{0.3, -0.2}}); err != nil {
				t.Fatal(err)
			}
		}
		return g
	}
	gl, gr := run(learned), run(random)
	for _, k := range []int{1, 2} {
		p, wl, bl, wr := &learned.Projs[k], gl.Projs[k].W, gl.Projs[k].FeedbackWeight, gr.Projs[k].W
		if bl == nil || gr.Projs[k].FeedbackWeight != nil {
			t.Fatalf("projection %d: learned feedback has gradient %v, random %v", k, bl != nil, gr.Projs[k].FeedbackWeight != nil)
		}
		var norm float64
		for i := range wr {
			norm = math.Max(norm, math.Abs(wr[i]))
			if math.Abs(wl[i]-(wr[i]+decay*p.W[i])) > 1e-12 || math.Abs(bl[i]-(wr[i]+decay*p.FeedbackWeight[i])) > 1e-12 {
				t.Fatalf("projection %d [%d]: ∂W %.10g, ∂B %.10g; want %.10g + λW, + λB", k, i, wl[i], bl[i], wr[i])
			}
		}
		if norm == 0 {
			t.Errorf("projection %d: zero local gradient", k)
		}
	}
}

// TestExactGradientIgnoresFeedback: feedback matrices only carry GLE's
// real-time errors; the exact gradient of the forward pass (Full,
// Adjoint) is the same whatever the feedback, and passes the gradient
// check on a network with random and learned feedback.
func TestExactGradientIgnoresFeedback(t *testing.T) {
	sym := feedbackNet(t, gle.Symmetric, 0)
	xs, ts := slowTask(sym.Dt, 80, 1)
	want, wantAdj := gle.NewFullGrads(sym), gle.NewFullGrads(sym)
	if _, err := gradient.Full(sym, 1, xs, ts, want); err != nil {
		t.Fatal(err)
	}
	if _, err := gradient.Adjoint(sym, 1, xs, ts, wantAdj); err != nil {
		t.Fatal(err)
	}
	for _, fb := range []gle.Feedback{gle.Random, gle.Learned} {
		n := feedbackNet(t, fb, 0.01)
		for k := range n.Projs { // the same forward weights
			copy(n.Projs[k].W, sym.Projs[k].W)
		}
		g, ga := gle.NewFullGrads(n), gle.NewFullGrads(n)
		if _, err := gradient.Full(n, 1, xs, ts, g); err != nil {
			t.Fatal(err)
		}
		if _, err := gradient.Adjoint(n, 1, xs, ts, ga); err != nil {
			t.Fatal(err)
		}
		if d := gradsDiffer(n, g, want, 0); d != "" {
			t.Errorf("%v feedback: Full's gradient differs from symmetric feedback's: %s", fb, d)
		}
		if d := gradsDiffer(n, ga, wantAdj, 0); d != "" {
			t.Errorf("%v feedback: Adjoint's gradient differs from symmetric feedback's: %s", fb, d)
		}
	}
	n := feedbackNet(t, gle.Learned, 0.01)
	small, st := xs[:40], ts[:40]
	res, err := gradient.GradCheck(n, 1, small, st)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if strings.HasSuffix(r.Tensor, "feedback_weight") {
			t.Errorf("GradCheck checked %s, which never enters the forward pass", r.Tensor)
		}
	}
	if m := gradient.MaxRelErr(res); m > 1e-6 {
		t.Errorf("learned feedback network: max rel err %.3g", m)
	}
}

// TestFeedbackSpecErrors: an unknown feedback kind, feedback weights on a
// projection from the input or with symmetric feedback, and a negative
// feedback decay are field errors.
func TestFeedbackSpecErrors(t *testing.T) {
	base := func() *gle.Spec {
		return &gle.Spec{Dt: 0.1, Loss: gle.MSE, Inputs: 1, Output: "hidden",
			Populations: []gle.PopulationSpec{{Name: "hidden", Size: 2, Phi: gle.Tanh, TauM: gle.Taus{1}, TauR: gle.Taus{1}}},
			Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "hidden"}, {From: "hidden", To: "hidden"}}}
	}
	for _, c := range []struct {
		name  string
		edit  func(*gle.Spec)
		field string
		err   error
	}{
		{"unknown kind", func(s *gle.Spec) { s.Projections[1].Feedback = gle.Feedback(7) }, "projections[1].feedback", gle.ErrUnknownName},
		{"random from the input", func(s *gle.Spec) { s.Projections[0].Feedback = gle.Random }, "projections[0].feedback", gle.ErrInvalid},
		{"symmetric with weights", func(s *gle.Spec) { s.Projections[1].FeedbackWeight = [][]float64{{1, 2}, {3, 4}} }, "projections[1].feedback_weight", gle.ErrInvalid},
		{"feedback weights shape", func(s *gle.Spec) {
			s.Projections[1].Feedback, s.Projections[1].FeedbackWeight = gle.Learned, [][]float64{{1, 2, 3}}
		}, "projections[1].feedback_weight", gle.ErrShape},
		{"negative decay", func(s *gle.Spec) { s.FeedbackDecay = -1 }, "feedback_decay", gle.ErrInvalid},
	} {
		s := base()
		c.edit(s)
		_, err := gle.NewNetwork(s)
		var fe *gle.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want a %v error on %s", c.name, err, c.err, c.field)
		}
	}
	var f gle.Feedback
	if err := f.UnmarshalText([]byte("transpose")); !errors.Is(err, gle.ErrUnknownName) {
		t.Errorf(`feedback "transpose": %v`, err)
	}
	for _, name := range []string{"symmetric", "random", "learned"} {
		if err := f.UnmarshalText([]byte(name)); err != nil || f.String() != name {
			t.Errorf("feedback %q: %v (%v)", name, err, f)
		}
	}
}

// TestFeedbackToSpecRoundTrip: a trained network written with ToSpec,
// encoded as JSON and rebuilt has the same parameters, feedback kinds and
// feedback weights included.
func TestFeedbackToSpecRoundTrip(t *testing.T) {
	base := &gle.Spec{Dt: 0.1, Loss: gle.MSE, Inputs: 2, Output: "out", Seed: 3, FeedbackDecay: 0.01,
		Populations: []gle.PopulationSpec{
			{Name: "h", Size: 5, Phi: gle.Tanh, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.1}},
			{Name: "out", Size: 2, Phi: gle.Linear, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.5}, Bias: gle.Bias{Disabled: true}},
		},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h", Feedback: gle.Learned}, {From: "h", To: "out", Feedback: gle.Random}}}
	n, err := gle.NewNetwork(base)
	if err != nil {
		t.Fatal(err)
	}
	n.Projs[1].FeedbackWeight[3] += 0.25 // as if learned
	n.Pops[0].TauM[2] = 0.7
	b, err := json.Marshal(n.ToSpec(base))
	if err != nil {
		t.Fatal(err)
	}
	s, err := gle.DecodeSpec(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	if d := paramsDiffer(n, m); d != "" {
		t.Errorf("after the round trip: %s", d)
	}
	for k := range n.Projs {
		if n.Projs[k].Feedback != m.Projs[k].Feedback {
			t.Errorf("projection %d: feedback %v, was %v", k, m.Projs[k].Feedback, n.Projs[k].Feedback)
		}
	}
	if m.FeedbackDecay != n.FeedbackDecay {
		t.Errorf("feedback decay %g, was %g", m.FeedbackDecay, n.FeedbackDecay)
	}
}
