package gradient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/optim"
)

// TestOnlineRulesLowerLoss: a trainer with a forward-mode rule learns the
// regression task of TestTBPTTLowersLoss online (W, b, τm, τr), the mean
// loss of the last pass well below the first's.
func TestOnlineRulesLowerLoss(t *testing.T) {
	for _, mode := range []gradient.Mode{gradient.RTRL, gradient.SnAp2, gradient.SnAp1} {
		t.Run(mode.String(), func(t *testing.T) {
			n := ruleChain(t, true)
			tr, err := gle.NewTrainer(n, 2, optim.NewAdam(0.003))
			if err != nil {
				t.Fatal(err)
			}
			tr.Rule = gradient.NewOnline(mode)
			xs, ts := slowTask(n.Dt, 400, 2)
			var first, last float64
			for ep := range 20 {
				tr.Reset()
				loss, err := tr.Run(context.Background(), xs, ts, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if ep == 0 {
					first = loss
				}
				last = loss
			}
			t.Logf("%s: loss %.4f → %.4f", mode, first, last)
			if !(last < first/3) {
				t.Errorf("%s: loss %.4f → %.4f, want below a third", mode, first, last)
			}
		})
	}
}

// TestOnlineIsPerStepSGD: with SGD, the online RTRL trainer moves the
// parameters at every step by −lr times the gradient of that step's loss
// from the sensitivities carried so far — what a Forward and SGD by hand
// give, bit for bit.
func TestOnlineIsPerStepSGD(t *testing.T) {
	const lr = 0.02
	n := ruleChain(t, true)
	byHand := n.Clone()
	tr, err := gle.NewTrainer(n, 2, &optim.SGD{Rate: lr})
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.NewOnline(gradient.RTRL)
	f, err := gradient.NewForward(byHand, 2, gradient.RTRL, gle.NewGrads(byHand))
	if err != nil {
		t.Fatal(err)
	}
	g := gle.NewGrads(byHand)
	xs, ts := slowTask(n.Dt, 200, 2)
	out := make([]float64, 4)
	for k, x := range xs {
		if _, err := tr.Step(out, x, ts[k]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Step(nil, x, ts[k], g); err != nil {
			t.Fatal(err)
		}
		sgdByHand(byHand, g, lr)
	}
	if d := paramsDiffer(n, byHand); d != "" {
		t.Errorf("trainer vs by hand: %s", d)
	}
	if d := paramsDiffer(n, ruleChain(t, true)); d == "" {
		t.Error("the parameters did not move")
	}
}

// TestOnlineReset: Trainer.Reset makes a forward-mode rule forget its
// sensitivities with the state, so two identical trials give identical
// gradients; without it the second trial's would carry the first's past.
func TestOnlineReset(t *testing.T) {
	for _, mode := range []gradient.Mode{gradient.RTRL, gradient.SnAp1} {
		n := ruleChain(t, false)
		tr, err := gle.NewTrainer(n, 2, &optim.SGD{Rate: 0}) // gradients, no learning
		if err != nil {
			t.Fatal(err)
		}
		tr.Rule = gradient.NewOnline(mode)
		xs, ts := slowTask(n.Dt, 100, 2)
		trial := func(reset func()) *gle.Grads {
			reset()
			if _, err := tr.Run(context.Background(), xs, ts, nil, nil); err != nil {
				t.Fatal(err)
			}
			g := gle.NewGrads(n)
			g.Add(tr.Grads())
			return g
		}
		a := trial(tr.Reset)
		if b := trial(tr.Reset); gradsDiffer(n, a, b, 0) != "" {
			t.Errorf("%s: after Trainer.Reset the gradients differ: %s", mode, gradsDiffer(n, a, b, 0))
		}
		if c := trial(tr.Engine.Reset); gradsDiffer(n, a, c, 0) == "" {
			t.Errorf("%s: resetting only the engine left the sensitivities, yet the gradients are equal: the test is blind", mode)
		}
	}
}

// TestForwardMemoryLimit: sensitivities above gle.MemoryLimit are
// refused before anything is allocated, naming the estimate; SnAp-1's
// traces (the size of the weights) fit where RTRL's do not.
func TestForwardMemoryLimit(t *testing.T) {
	s := &gle.Spec{Dt: 0.1, Loss: gle.MSE, Inputs: 4, Output: "h", Seed: 1,
		Populations: []gle.PopulationSpec{{Name: "h", Size: 128, Phi: gle.Tanh, TauM: gle.Taus{1}, TauR: gle.Taus{1}}},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"}}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	gle.SetMemoryLimit(64 << 20)
	defer gle.SetMemoryLimit(0)
	g := gle.NewGrads(n)
	if need := gradient.ForwardBytes(n, 4, gradient.RTRL, g); need <= 64<<20 {
		t.Fatalf("RTRL needs %.0f bytes: the test does not exceed the limit", need)
	}
	var fe *gle.FieldError
	_, err = gradient.NewForward(n, 4, gradient.RTRL, g)
	if !errors.Is(err, gle.ErrTooLarge) || !errors.As(err, &fe) {
		t.Fatalf("RTRL over the limit: %v", err)
	}
	t.Log(err)
	if _, err := gradient.NewForward(n, 4, gradient.SnAp1, g); err != nil {
		t.Errorf("SnAp-1 under the limit: %v", err)
	}
	tr, err := gle.NewTrainer(n, 4, optim.NewAdam(0.01))
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.NewOnline(gradient.RTRL)
	if _, err := tr.Step(make([]float64, 4*128), make([]float64, 16), gle.Target{}); !errors.Is(err, gle.ErrTooLarge) {
		t.Errorf("an RTRL trainer over the limit: %v", err)
	}
}

// TestForwardAllocationFree: a Forward's Step allocates nothing.
func TestForwardAllocationFree(t *testing.T) {
	n := randomGraph(t, 4, gle.Tanh, gle.MSE, 0.8)
	xs, ts := sequence(1, 10, 2, n.Inputs, n.Outputs(), gle.MSE)
	for _, mode := range []gradient.Mode{gradient.RTRL, gradient.SnAp2, gradient.SnAp1} {
		g := gle.NewFullGrads(n)
		f, err := gradient.NewForward(n, 2, mode, g)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		if a := testing.AllocsPerRun(20, func() {
			if _, err := f.Step(nil, xs[k%10], ts[k%10], g); err != nil {
				t.Fatal(err)
			}
			k++
		}); a != 0 {
			t.Errorf("%s: %.1f allocations per step", mode, a)
		}
	}
}

// TestOnlineRuleResumes: a trainer with a forward-mode rule saved in the
// middle of a sequence and loaded again continues bit for bit — the
// checkpoint carries the sensitivities (gle.StatefulRule); without them
// the continued run would differ.
func TestOnlineRuleResumes(t *testing.T) {
	for _, mode := range []gradient.Mode{gradient.RTRL, gradient.SnAp1} {
		t.Run(mode.String(), func(t *testing.T) {
			xs, ts := slowTask(0.1, 300, 2)
			train := func(n *gle.Network) *gle.Trainer {
				tr, err := gle.NewTrainer(n, 2, optim.NewAdam(0.003))
				if err != nil {
					t.Fatal(err)
				}
				tr.Rule = gradient.NewOnline(mode)
				return tr
			}
			n := ruleChain(t, true)
			whole := train(n.Clone())
			if _, err := whole.Run(context.Background(), xs, ts, nil, nil); err != nil {
				t.Fatal(err)
			}
			half := train(n.Clone())
			if _, err := half.Run(context.Background(), xs[:150], ts[:150], nil, nil); err != nil {
				t.Fatal(err)
			}
			path := t.TempDir() + "/ck.gob"
			id := map[string]string{"run": "a"}
			if err := half.Save(path, id, nil); err != nil {
				t.Fatal(err)
			}
			back, err := gle.LoadTrainer[float64](path, id, gradient.NewOnline(mode), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := back.Run(context.Background(), xs[150:], ts[150:], nil, nil); err != nil {
				t.Fatal(err)
			}
			for k := range n.Projs {
				a, b := whole.Engine.Net.Projs[k].W, back.Engine.Net.Projs[k].W
				for i := range a {
					if a[i] != b[i] {
						t.Fatalf("projection %d weight %d: %v after the resume, %v without it", k, i, b[i], a[i])
					}
				}
			}
		})
	}
}
