package gradient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/optim"
)

// ruleChain is a chain 2 → 8 (tanh) → 2 (linear) that learns W, b, τm
// and (exact rules only) τr.
func ruleChain(t *testing.T, learnTauR bool) *gle.Network {
	t.Helper()
	s := &gle.Spec{Dt: 0.05, Loss: gle.MSE, Seed: 17, Layers: []gle.LayerSpec{
		{In: 2, Out: 8, Phi: gle.Tanh, TauM: gle.Taus{0.3, 0.5, 0.8, 0.4, 0.6, 0.3, 0.9, 0.5}, TauR: gle.Taus{0.1, 0.2, 0.05, 0.3, 0.1, 0.2, 0.25, 0.15}, LearnTauM: true, LearnTauR: learnTauR},
		{In: 8, Out: 2, Phi: gle.Linear, TauM: gle.Taus{0.4}, TauR: gle.Taus{0.2}, LearnTauM: true, LearnTauR: learnTauR},
	}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sgdByHand applies g to n with SGD and clamps τm (and learned τr) at dt,
// as the trainer does.
func sgdByHand(n *gle.Network, g *gle.Grads, lr float64) {
	params, grads := gle.Pairs(n, g)
	(&optim.SGD{Rate: lr}).Step(params, grads)
	for q := range n.Pops {
		gle.ClampTaus(n.Pops[q].TauM, n.Dt)
		if n.Pops[q].LearnTauR {
			gle.ClampTaus(n.Pops[q].TauR, n.Dt)
		}
	}
}

// TestTBPTTLowersLoss: a trainer with truncated BPTT as its rule learns a
// small regression task (the mean loss of the last epoch is below a third
// of the first's), learning τm and τr too.
func TestTBPTTLowersLoss(t *testing.T) {
	n := ruleChain(t, true)
	tr, err := gle.NewTrainer(n, 2, optim.NewAdam(0.01))
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.TBPTT(20)
	xs, ts := slowTask(n.Dt, 400, 2)
	tauR0 := n.Pops[0].TauR[0]
	const epochs = 30
	var first, last float64
	for ep := range epochs {
		tr.Engine.Reset()
		tr.Rule.Reset()
		loss, err := tr.Run(context.Background(), xs, ts, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if ep == 0 {
			first = loss
		}
		last = loss
	}
	t.Logf("TBPTT(20): loss %.4g → %.4g over %d epochs; τr[0] %.4g → %.4g", first, last, epochs, tauR0, n.Pops[0].TauR[0])
	if !(last < first/3) {
		t.Errorf("TBPTT: loss %.4g → %.4g, want it below a third", first, last)
	}
	if n.Pops[0].TauR[0] == tauR0 {
		t.Error("τr did not learn")
	}
}

// TestFullBPTTRuleIsFull: a trainer with full BPTT as its rule and
// EndSequence per sequence makes, sequence after sequence, exactly the
// parameter update that SGD on Full's gradient makes by hand.
func TestFullBPTTRuleIsFull(t *testing.T) {
	n := ruleChain(t, true)
	ref := n.Clone()
	const lr, B = 0.005, 2
	tr, err := gle.NewTrainer(n, B, &optim.SGD{Rate: lr})
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.FullBPTT(100)
	for seq := range 3 {
		xs, ts := sequence(uint64(seq), 60, B, 2, 2, gle.MSE)
		tr.Engine.Reset()
		tr.Rule.Reset()
		outs := make([][]float64, len(xs))
		for i := range outs {
			outs[i] = make([]float64, B*2)
		}
		if _, err := tr.Run(context.Background(), xs, ts, outs, func(int, float64) {
			if tr.Rule.Pending() == 0 {
				t.Error("the full-BPTT rule has no pending steps during the sequence")
			}
		}); err != nil {
			t.Fatal(err)
		}
		if p := tr.Rule.Pending(); p != 0 {
			t.Errorf("sequence %d: %d steps pending after EndSequence", seq, p)
		}
		// By hand.
		g := gle.NewGrads(ref)
		if _, err := gradient.Full(ref, B, xs, ts, g); err != nil {
			t.Fatal(err)
		}
		sgdByHand(ref, g, lr)
		if d := paramsDiffer(n, ref); d != "" {
			t.Fatalf("sequence %d: the trainer's parameters differ from SGD on Full's gradient: %s", seq, d)
		}
		if d := paramsDiffer(n, ruleChain(t, true)); d == "" {
			t.Fatalf("sequence %d: nothing learned", seq)
		}
	}
}

// TestRuleKeepsTausValid: an exact rule learning τm and τr with a large
// step must leave a network the engine accepts (every τ ≥ dt): the
// trainer clamps τm at TauMMin, and τr needs the same (the Euler step
// needs τr ≥ dt; Network.Check refuses anything below).
func TestRuleKeepsTausValid(t *testing.T) {
	n := ruleChain(t, true)
	tr, err := gle.NewTrainer(n, 2, &optim.SGD{Rate: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.FullBPTT(60)
	for seq := range 3 {
		xs, ts := sequence(uint64(seq), 60, 2, 2, 2, gle.MSE)
		tr.Engine.Reset()
		tr.Rule.Reset()
		if _, err := tr.Run(context.Background(), xs, ts, nil, nil); err != nil {
			t.Fatalf("sequence %d: %v", seq, err)
		}
		if err := n.Check(); err != nil {
			t.Fatalf("after sequence %d the trainer left an invalid network: %v", seq, err)
		}
	}
}

// TestTBPTTRuleIsWindows: a trainer with TBPTT(w) makes, window after
// window with the state carried on, exactly the updates of SGD on the
// gradients of a BPTT of window w by hand, and EndSequence applies the
// last, partial window.
func TestTBPTTRuleIsWindows(t *testing.T) {
	n := ruleChain(t, true)
	ref := n.Clone()
	const lr, B, W, T = 0.02, 2, 7, 45
	tr, err := gle.NewTrainer(n, B, &optim.SGD{Rate: lr})
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.TBPTT(W)
	b, err := gradient.New(ref, B, W)
	if err != nil {
		t.Fatal(err)
	}
	g := gle.NewGrads(ref)
	xs, ts := sequence(3, T, B, 2, 2, gle.MSE)
	o1, o2 := make([]float64, B*2), make([]float64, B*2)
	for i, x := range xs {
		l1, err := tr.Step(o1, x, ts[i])
		if err != nil {
			t.Fatal(err)
		}
		l2, err := b.Step(o2, x, ts[i])
		if err != nil {
			t.Fatal(err)
		}
		if l1 != l2 || !equalF(o1, o2) {
			t.Fatalf("step %d: trainer output %v (loss %g), by hand %v (loss %g)", i, o1, l1, o2, l2)
		}
		if b.Steps() == W {
			b.Backward(g)
			sgdByHand(ref, g, lr)
		}
		if tr.Rule.Pending() != b.Steps() {
			t.Fatalf("step %d: the rule has %d steps pending, want %d", i, tr.Rule.Pending(), b.Steps())
		}
		if d := paramsDiffer(n, ref); d != "" {
			t.Fatalf("step %d: %s", i, d)
		}
	}
	if err := tr.EndSequence(); err != nil {
		t.Fatal(err)
	}
	b.Backward(g)
	sgdByHand(ref, g, lr)
	if d := paramsDiffer(n, ref); d != "" {
		t.Errorf("after EndSequence (the partial window of %d steps): %s", T%W, d)
	}
	if d := paramsDiffer(n, ruleChain(t, true)); d == "" {
		t.Error("nothing learned")
	}
}

// TestRuleLearnFromStep: with a rule the optimizer still waits for
// LearnFromStep: windows that end before it are dropped.
func TestRuleLearnFromStep(t *testing.T) {
	n := ruleChain(t, false)
	init := n.Clone()
	tr, err := gle.NewTrainer(n, 1, &optim.SGD{Rate: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule, tr.LearnFromStep = gradient.TBPTT(5), 10
	xs, ts := sequence(1, 15, 1, 2, 2, gle.MSE)
	out := make([]float64, 2)
	for i, x := range xs {
		if _, err := tr.Step(out, x, ts[i]); err != nil {
			t.Fatal(err)
		}
		changed := paramsDiffer(n, init) != ""
		if i < 14 && changed {
			t.Fatalf("step %d: the parameters changed before LearnFromStep", i)
		}
		if i == 14 && !changed {
			t.Error("the window ending at step 14 did not learn")
		}
	}
}

// TestRuleNames: the rules' names, as checkpoints record them.
func TestRuleNames(t *testing.T) {
	for _, c := range []struct {
		r    *gradient.Rule
		want string
	}{{gradient.TBPTT(100), "tbptt:100"}, {gradient.FullBPTT(50), "bptt:50"}} {
		if got := c.r.Name(); got != c.want {
			t.Errorf("name %q, want %q", got, c.want)
		}
		var _ gle.Rule = c.r
	}
}

// TestRuleErrors: a rule misused returns errors, never panics: a window
// of 0, a float32 trainer, a sequence longer than full BPTT's tape, no
// engine; and a rule with nothing recorded has no gradient.
func TestRuleErrors(t *testing.T) {
	xs, ts := sequence(1, 8, 1, 2, 2, gle.MSE)
	out := make([]float64, 2)

	for _, w := range []int{0, -3} {
		tr, err := gle.NewTrainer(ruleChain(t, false), 1, &optim.SGD{Rate: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		tr.Rule = gradient.TBPTT(w)
		err = noPanic(t, "TBPTT(0).Step", func() error { _, err := tr.Step(out, xs[0], ts[0]); return err })
		if !errors.Is(err, gle.ErrInvalid) {
			t.Errorf("TBPTT(%d): %v, want ErrInvalid", w, err)
		}
	}

	tr32, err := gle.NewTrainerOf[float32](ruleChain(t, false), 1, &optim.SGD{Rate: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	tr32.Rule = gradient.TBPTT(4)
	if err := noPanic(t, "Trainer32 with a rule", func() error { _, err := tr32.Step(out, xs[0], ts[0]); return err }); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("a rule on a float32 trainer: %v, want ErrInvalid", err)
	}

	tr, err := gle.NewTrainer(ruleChain(t, false), 1, &optim.SGD{Rate: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.FullBPTT(5)
	for i := range 5 {
		if _, err := tr.Step(out, xs[i], ts[i]); err != nil {
			t.Fatal(err)
		}
	}
	err = noPanic(t, "FullBPTT step 6", func() error { _, err := tr.Step(out, xs[5], ts[5]); return err })
	if !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("a 6th step of FullBPTT(5) without EndSequence: %v, want ErrInvalid", err)
	}
	if err := tr.EndSequence(); err != nil {
		t.Errorf("EndSequence after the refused step: %v", err)
	}
	if _, err := tr.Step(out, xs[5], ts[5]); err != nil {
		t.Errorf("the step after EndSequence: %v", err)
	}

	r := gradient.TBPTT(3)
	g := gle.NewGrads(ruleChain(t, false))
	if ready, err := r.EndSequence(nil, g); ready || err != nil {
		t.Errorf("EndSequence before any step: ready %v, %v; want no gradient, no error", ready, err)
	}
	if r.Pending() != 0 {
		t.Errorf("%d steps pending before any step", r.Pending())
	}
	r.Reset() // nothing recorded: a no-op
	if err := noPanic(t, "Rule.Step without an engine", func() error { _, err := r.Step(nil, out, xs[0], ts[0], g); return err }); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("Rule.Step without an engine: %v, want ErrInvalid", err)
	}

	// Reset forgets the recorded steps.
	e, err := gle.NewEngine(ruleChain(t, false), 1)
	if err != nil {
		t.Fatal(err)
	}
	r = gradient.TBPTT(3)
	if _, err := r.Step(e, out, xs[0], ts[0], g); err != nil {
		t.Fatal(err)
	}
	if r.Pending() != 1 {
		t.Errorf("%d steps pending after one, want 1", r.Pending())
	}
	r.Reset()
	if ready, err := r.EndSequence(e, g); ready || err != nil || r.Pending() != 0 {
		t.Errorf("after Reset: EndSequence ready %v (%v), %d pending; want nothing", ready, err, r.Pending())
	}
}
