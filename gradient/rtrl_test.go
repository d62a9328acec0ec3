package gradient_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// relDiff returns the largest difference between a and b relative to the
// largest entry of b, over every tensor (each tensor on its own scale).
func relDiff(n *gle.Network, a, b *gle.Grads) (float64, string) {
	ta, tb := a.Tensors(n), b.Tensors(n)
	var worst float64
	var where string
	for i := range ta {
		var scale, diff float64
		for k, v := range tb[i].Data {
			scale = math.Max(scale, math.Abs(v))
			diff = math.Max(diff, math.Abs(ta[i].Data[k]-v))
		}
		if scale == 0 {
			scale = 1
		}
		if r := diff / scale; r > worst || math.IsNaN(r) {
			if math.IsNaN(r) {
				r = math.Inf(1) // a NaN is the worst difference
			}
			worst, where = r, ta[i].Name
		}
	}
	return worst, where
}

// TestRTRLEqualsBPTT: forward-mode sensitivities give the gradient of
// Σ_t L_t that the reverse sweep gives, for every parameter (W, b, τm,
// τr), on the recurrent graph (self, lateral, top-down and skip
// projections) and on a chain, for every activation and both losses.
func TestRTRLEqualsBPTT(t *testing.T) {
	var worst float64
	for i, phi := range activations {
		for _, loss := range []gle.Loss{gle.MSE, gle.CE} {
			for _, kind := range []string{"graph", "chain"} {
				name := fmt.Sprintf("%s/%s/%s", kind, phi, loss)
				t.Run(name, func(t *testing.T) {
					var n *gle.Network
					if kind == "graph" {
						n = randomGraph(t, uint64(20+i), phi, loss, 0.8)
					} else {
						n = randomChain(t, uint64(40+i), phi, loss, true)
					}
					batch := 3
					xs, ts := sequence(uint64(i), 60, batch, n.Inputs, n.Outputs(), loss)
					want, jb, err := gradient.Gradient(n, "bptt", batch, xs, ts)
					if err != nil {
						t.Fatal(err)
					}
					got, jr, err := gradient.Gradient(n, "rtrl", batch, xs, ts)
					if err != nil {
						t.Fatal(err)
					}
					if jr != jb {
						t.Errorf("losses differ: rtrl %.17g, bptt %.17g", jr, jb)
					}
					if maxAbs(n, want) == 0 {
						t.Fatal("the BPTT gradient is zero: the test would prove nothing")
					}
					d, where := relDiff(n, got, want)
					worst = math.Max(worst, d)
					if d > 1e-9 {
						t.Errorf("RTRL vs BPTT: relative difference %.3g in %s", d, where)
					}
				})
			}
		}
	}
	t.Logf("RTRL vs BPTT: max relative difference %.3g", worst)
}

// chainOf returns the first `layers` layers of randomChain's network
// shape as a chain of its own (the last one linear): 2 → 4 → 3 → 2 cut
// to 1, 2 or 3 layers.
func chainOf(t *testing.T, layers int, phi gle.Activation) *gle.Network {
	t.Helper()
	full := randomChain(t, 7, phi, gle.MSE, true)
	s := &gle.Spec{Dt: full.Dt, Loss: gle.MSE, Seed: 7}
	for l := range layers {
		pop, proj := full.Pops[l], full.Projs[l]
		ls := gle.LayerSpec{In: full.FromSize(&proj), Out: pop.N, Phi: pop.Phi, TauM: gle.Taus(pop.TauM), TauR: gle.Taus(pop.TauR),
			LearnTauM: true}
		if l == layers-1 {
			ls.Phi = gle.Linear
		}
		s.Layers = append(s.Layers, ls)
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	for l := range layers {
		copy(n.Projs[l].W, full.Projs[l].W)
	}
	return n
}

// tensorDiff returns the largest relative difference between a and b in
// the tensors whose name starts with prefix.
func tensorDiff(n *gle.Network, a, b *gle.Grads, prefix string) float64 {
	ta, tb := a.Tensors(n), b.Tensors(n)
	var worst float64
	for i := range ta {
		if !strings.HasPrefix(ta[i].Name, prefix) {
			continue
		}
		var scale, diff float64
		for k, v := range tb[i].Data {
			scale = math.Max(scale, math.Abs(v))
			diff = math.Max(diff, math.Abs(ta[i].Data[k]-v))
		}
		worst = math.Max(worst, diff/math.Max(scale, 1e-300))
	}
	if math.IsNaN(worst) {
		return math.Inf(1) // a NaN is the worst difference
	}
	return worst
}

// TestSnApExactWhereNothingIsDropped: SnAp-n drops the sensitivities of
// neurons to parameters more than n − 1 projections upstream. With one
// layer nothing is dropped by either; with two, SnAp-2 keeps everything
// (the output's sensitivity to the hidden layer's parameters is one hop),
// and SnAp-1's output layer is exact. With three, SnAp-2 is exact for
// the top two layers and gives the first nothing (two hops from the
// only population the loss reads).
func TestSnApExactWhereNothingIsDropped(t *testing.T) {
	grad := func(n *gle.Network, method string) *gle.Grads {
		xs, ts := sequence(5, 80, 2, n.Inputs, n.Outputs(), gle.MSE)
		g, _, err := gradient.Gradient(n, method, 2, xs, ts)
		if err != nil {
			t.Fatal(err)
		}
		if maxAbs(n, g) == 0 && method == "rtrl" {
			t.Fatal("zero gradient: the comparison would prove nothing")
		}
		return g
	}
	const tol = 1e-12
	one := chainOf(t, 1, gle.Tanh)
	r := grad(one, "rtrl")
	for _, m := range []string{"snap1", "snap2"} {
		if d := tensorDiff(one, grad(one, m), r, ""); d > tol {
			t.Errorf("one layer: %s differs from rtrl by %.3g", m, d)
		}
	}
	two := chainOf(t, 2, gle.Tanh)
	r = grad(two, "rtrl")
	if d := tensorDiff(two, grad(two, "snap2"), r, ""); d > tol {
		t.Errorf("two layers: snap2 differs from rtrl by %.3g", d)
	}
	s1 := grad(two, "snap1")
	if d := tensorDiff(two, s1, r, "layers.1."); d > tol {
		t.Errorf("two layers: snap1's output layer differs from rtrl by %.3g", d)
	}
	if d := tensorDiff(two, s1, r, "layers.0."); d < 1e-3 {
		t.Errorf("two layers: snap1's hidden layer equals rtrl's (%.3g): its learning signal is an approximation", d)
	}
	three := chainOf(t, 3, gle.Tanh)
	r, s2 := grad(three, "rtrl"), grad(three, "snap2")
	if d := tensorDiff(three, s2, r, "layers.1."); d > tol {
		t.Errorf("three layers: snap2's layer 1 differs from rtrl by %.3g", d)
	}
	if d := tensorDiff(three, s2, r, "layers.2."); d > tol {
		t.Errorf("three layers: snap2's layer 2 differs from rtrl by %.3g", d)
	}
	for _, tn := range s2.Tensors(three) {
		if strings.HasPrefix(tn.Name, "layers.0.") && slices.ContainsFunc(tn.Data, func(v float64) bool { return v != 0 }) {
			t.Errorf("three layers: snap2 gives %s a gradient, but it is two hops from the output", tn.Name)
		}
	}
}

// TestSnAp1AtFixedPoint: with a constant input and target the network
// settles, and at its fixed point the step's exact gradient is the
// steady-state one: the output error through φ′_out W (the DC gain of
// every neuron's dynamics, u = s), times the steady eligibility traces.
// SnAp-1's learning signal through the symmetric feedback is exactly
// that, so there it equals RTRL; through a random B it does not.
func TestSnAp1AtFixedPoint(t *testing.T) {
	two := chainOf(t, 2, gle.Tanh)
	two.Pops[1].Phi = gle.Tanh // so that the learning signal's φ′_out gating matters
	x := []float64{0.7, -0.4}
	tgt := gle.Target{Values: []float64{0.3, -0.2, 0.5}}
	last := func(n *gle.Network, mode gradient.Mode) *gle.Grads {
		f, err := gradient.NewForward(n, 1, mode, gle.NewFullGrads(n))
		if err != nil {
			t.Fatal(err)
		}
		g := gle.NewFullGrads(n)
		for range 3000 { // 150 time units, ≥ 150 τm
			if _, err := f.Step(nil, x, tgt, g); err != nil {
				t.Fatal(err)
			}
		}
		return g
	}
	r, s := last(two, gradient.RTRL), last(two, gradient.SnAp1)
	if maxAbs(two, r) < 1e-3 {
		t.Fatal("the fixed point has no error: the test would prove nothing")
	}
	for _, prefix := range []string{"layers.0.weight", "layers.0.bias", "layers.1."} {
		if d := tensorDiff(two, s, r, prefix); d > 1e-9 {
			t.Errorf("fixed point: snap1's %s differs from rtrl by %.3g", prefix, d)
		}
	}
	random := two.Clone()
	random.Projs[1].Feedback = gle.Random
	random.Projs[1].FeedbackWeight = make([]float64, len(random.Projs[1].W))
	for i := range random.Projs[1].FeedbackWeight {
		random.Projs[1].FeedbackWeight[i] = math.Cos(float64(3 * i))
	}
	if d := tensorDiff(random, last(random, gradient.SnAp1), r, "layers.0.weight"); d < 1e-2 {
		t.Errorf("random feedback: snap1's hidden gradient equals the exact one (%.3g): B is not used", d)
	}
	copy(random.Projs[1].FeedbackWeight, random.Projs[1].W)
	if d := tensorDiff(random, last(random, gradient.SnAp1), r, "layers.0.weight"); d > 1e-9 {
		t.Errorf("feedback B = W: snap1 differs from rtrl by %.3g", d)
	}
}

// TestSnAp1DiagonalRecurrence: in a population whose self projection is
// diagonal every neuron sees only itself, so SnAp-1's traces (which keep
// the diagonal) drop nothing and equal RTRL; a full self projection makes
// them an approximation. e-prop's traces, without the self-connection,
// equal SnAp-1's (and RTRL's) only when there is none.
func TestSnAp1DiagonalRecurrence(t *testing.T) {
	s := &gle.Spec{Dt: 0.05, Loss: gle.MSE, Inputs: 2, Output: "h", Seed: 3,
		Populations: []gle.PopulationSpec{{Name: "h", Size: 3, Phi: gle.Tanh, TauM: gle.Taus{0.4, 0.7, 1}, TauR: gle.Taus{0.1, 0.3, 0.05}, LearnTauM: true}},
		Projections: []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"}}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	self := n.Projs[1].W
	for i := range self {
		self[i] = 0
	}
	for o := range 3 {
		self[o*3+o] = 0.8 - 0.5*float64(o)
	}
	xs, ts := sequence(2, 100, 2, 2, 3, gle.MSE)
	grad := func(method string) *gle.Grads {
		g, _, err := gradient.Gradient(n, method, 2, xs, ts)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if d := tensorDiff(n, grad("snap1"), grad("rtrl"), ""); d > 1e-12 {
		t.Errorf("diagonal recurrence: snap1 differs from rtrl by %.3g", d)
	}
	// e-prop's traces leave the self-connection out: different here, the
	// same as SnAp-1 once it is zero.
	if d := tensorDiff(n, grad("eprop"), grad("snap1"), ""); d < 1e-3 {
		t.Errorf("diagonal recurrence: eprop equals snap1 (%.3g): its traces should leave the self-connection out", d)
	}
	self[1] = 0.6
	if d := tensorDiff(n, grad("snap1"), grad("rtrl"), ""); d < 1e-3 {
		t.Errorf("full recurrence: snap1 equals rtrl (%.3g): it should drop the off-diagonal sensitivities", d)
	}
	clear(self)
	if d := tensorDiff(n, grad("eprop"), grad("snap1"), ""); d > 1e-12 {
		t.Errorf("no recurrence: eprop differs from snap1 by %.3g", d)
	}
	if d := tensorDiff(n, grad("eprop"), grad("rtrl"), ""); d > 1e-12 {
		t.Errorf("no recurrence, one population: eprop differs from rtrl by %.3g", d)
	}
}

// TestCompareRTRLWithBPTT: split by the losses' time, BPTT's window
// parts are what RTRL delivers during each window: cosine 1 and norm
// ratio 1 in every window and tensor. GLE against RTRL runs too (each
// with its own split), and the adjoint gives whole-sequence rows only.
func TestCompareRTRLWithBPTT(t *testing.T) {
	n := randomGraph(t, 8, gle.Tanh, gle.MSE, 0.8)
	xs, ts := sequence(3, 90, 2, n.Inputs, n.Outputs(), gle.MSE)
	rows, err := gradient.Compare(n, 2, xs, ts, 30, "rtrl", "bptt")
	if err != nil {
		t.Fatal(err)
	}
	windows := map[int]bool{}
	for _, r := range rows {
		windows[r.Window] = true
		if math.Abs(r.Cosine-1) > 1e-9 || math.Abs(r.NormRatio-1) > 1e-9 {
			t.Errorf("window %d, %s: cosine %.12f, ratio %.12f, want 1", r.Window, r.Param, r.Cosine, r.NormRatio)
		}
	}
	if len(windows) != 4 {
		t.Errorf("windows %v, want 0, 1, 2 and the whole sequence", windows)
	}
	rows, err = gradient.Compare(n, 2, xs, ts, 30, "snap1", "gle")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if strings.HasSuffix(r.Param, "tau_r") {
			t.Errorf("%s compared, but GLE has no τr update", r.Param)
		}
	}
	rows, err = gradient.Compare(n, 2, xs, ts, 30, "adjoint", "bptt")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Window != -1 {
			t.Fatalf("adjoint: a row for window %d", r.Window)
		}
	}
	if _, err := gradient.Compare(n, 2, xs, ts, 30, "rtrl", "bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("an unknown method: %v", err)
	}
}
