package gradient_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/trajectory"
)

// checkGradients runs GradCheck on n and asserts that every tensor's
// exact gradient agrees with the finite differences to tol, that every
// parameter tensor was checked, that the gradient is not trivially zero,
// and that the reported worst components are what they claim: Exact is
// Full's gradient there and Numeric an independent central difference.
// It returns the largest relative error and the number of kinks.
func checkGradients(t *testing.T, n *gle.Network, batch int, xs [][]float64, ts []gle.Target, tol float64) (float64, int) {
	t.Helper()
	before := n.Clone()
	res, err := gradient.GradCheck(n, batch, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	if d := paramsDiffer(before, n); d != "" {
		t.Errorf("GradCheck changed the parameters: %s", d)
	}
	params := n.Tensors()
	if len(res) != len(params) {
		t.Fatalf("GradCheck reported %d tensors, the network has %d parameter tensors", len(res), len(params))
	}
	g := gle.NewFullGrads(n)
	if _, err := gradient.Full(n, batch, xs, ts, g); err != nil {
		t.Fatal(err)
	}
	grads := g.Tensors(n)
	kinks := 0
	for i, r := range res {
		if r.Tensor != params[i].Name || r.N != len(params[i].Data) {
			t.Errorf("result %d is %s (%d values), want %s (%d)", i, r.Tensor, r.N, params[i].Name, len(params[i].Data))
			continue
		}
		kinks += r.Kinks
		if r.MaxRelErr > tol || math.IsNaN(r.MaxRelErr) {
			t.Errorf("%s: rel err %.3g at %d (exact %.10g, numeric %.10g)", r.Tensor, r.MaxRelErr, r.Worst, r.Exact, r.Numeric)
		}
		if r.Kinks < r.N && r.Worst < 0 {
			t.Errorf("%s: %d of %d components compared but no worst one reported", r.Tensor, r.N-r.Kinks, r.N)
		}
		if r.Worst < 0 {
			continue
		}
		if r.Exact != grads[i].Data[r.Worst] {
			t.Errorf("%s[%d]: reported exact gradient %.17g, Full gives %.17g", r.Tensor, r.Worst, r.Exact, grads[i].Data[r.Worst])
		}
		p := params[i].Data
		orig := p[r.Worst]
		h := 1e-5 * math.Max(1, math.Abs(orig))
		p[r.Worst] = orig + h
		jp := totalLoss(t, n, batch, xs, ts)
		p[r.Worst] = orig - h
		jm := totalLoss(t, n, batch, xs, ts)
		p[r.Worst] = orig
		if num := (jp - jm) / (2 * h); math.Abs(num-r.Numeric) > 1e-5*math.Max(math.Abs(num), maxAbs(n, g)) {
			t.Errorf("%s[%d]: reported numeric gradient %.10g, a central difference gives %.10g", r.Tensor, r.Worst, r.Numeric, num)
		}
	}
	if maxAbs(n, g) == 0 {
		t.Error("the gradient is zero: the check compares nothing")
	}
	for _, tn := range grads {
		var norm float64
		for _, v := range tn.Data {
			norm += v * v
		}
		if norm == 0 {
			t.Errorf("%s: zero gradient, the check is vacuous there", tn.Name)
		}
	}
	return gradient.MaxRelErr(res), kinks
}

// TestGradCheckEveryActivation: on random layered networks of every
// activation, with MSE and CE losses, the BPTT gradient of every W, b, τm
// and τr agrees with fourth-order central differences to 1e-6.
func TestGradCheckEveryActivation(t *testing.T) {
	var worst float64
	for _, a := range activations {
		for i, loss := range []gle.Loss{gle.MSE, gle.CE} {
			t.Run(fmt.Sprintf("%v/%v", a, loss), func(t *testing.T) {
				n := randomChain(t, uint64(10*int(a)+i), a, loss, i == 0)
				xs, ts := sequence(uint64(a), 60, 3, 2, 2, loss)
				m, kinks := checkGradients(t, n, 3, xs, ts, 1e-6)
				worst = math.Max(worst, m)
				t.Logf("max rel err %.3g, %d kinks", m, kinks)
			})
		}
	}
	t.Logf("largest relative error over all layered networks: %.3g", worst)
}

// TestGraphGradCheck: on random recurrent graphs (self, lateral, loop,
// top-down and skip projections) of every activation, with MSE and CE,
// the BPTT gradient of every parameter agrees with the finite differences
// to 1e-6.
func TestGraphGradCheck(t *testing.T) {
	var worst float64
	for _, a := range activations {
		for i, loss := range []gle.Loss{gle.MSE, gle.CE} {
			t.Run(fmt.Sprintf("%v/%v", a, loss), func(t *testing.T) {
				n := randomGraph(t, uint64(20*int(a)+i+1), a, loss, 0.8)
				xs, ts := sequence(uint64(int(a)+7*i), 60, 2, 2, 2, loss)
				m, kinks := checkGradients(t, n, 2, xs, ts, 1e-6)
				worst = math.Max(worst, m)
				t.Logf("max rel err %.3g, %d kinks", m, kinks)
			})
		}
	}
	t.Logf("largest relative error over all graphs: %.3g", worst)
}

// TestGradCheckFixtures runs the gradient check on the shared reference
// networks (their specs, inputs and targets; the first 300 steps, 100
// with -short).
func TestGradCheckFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testutil.ReferenceDir(t), "trajectories", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference trajectories (%v)", err)
	}
	steps := 300
	if testing.Short() {
		steps = 100
	}
	for _, path := range files {
		f, err := trajectory.Read(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := gle.NewNetwork(&f.Spec)
		if err != nil {
			t.Fatal(err)
		}
		xs := f.FlatInputs()
		T := min(len(xs), steps)
		ts := f.Targets[:T]
		if ts == nil {
			ts = make([]gle.Target, T)
		}
		res, err := gradient.GradCheck(n, f.Batch(), xs[:T], ts)
		if err != nil {
			t.Fatal(err)
		}
		kinks := 0
		for _, r := range res {
			kinks += r.Kinks
		}
		if m := gradient.MaxRelErr(res); m > 1e-6 {
			t.Errorf("%s: max rel err %.3g", filepath.Base(path), m)
		} else {
			t.Logf("%s (%d steps): max rel err %.3g, %d kinks", filepath.Base(path), T, m, kinks)
		}
	}
}

// kinkChain is a deep chain 2 → 4 → 4 → 4 → 4 → 4 (phi) → 2 (linear).
func kinkChain(t *testing.T, phi gle.Activation, seed uint64) (*gle.Spec, *gle.Network) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &gle.Spec{Dt: 0.05, Loss: gle.MSE, Seed: seed}
	in := 2
	for l := range 6 {
		out, p := 4, phi
		if l == 5 {
			out, p = 2, gle.Linear
		}
		tm := randomTaus(rng, out, 0.3, 1)
		s.Layers = append(s.Layers, gle.LayerSpec{In: in, Out: out, Phi: p, TauM: tm, TauR: belowTauM(randomTaus(rng, out, 0.05, 0.5), tm),
			Bias: gle.Bias{Values: make([]float64, out)}})
		in = out
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	for k := range n.Projs {
		for i := range n.Projs[k].W {
			n.Projs[k].W[i] = 1.2 * rng.NormFloat64()
		}
	}
	return s, n
}

// TestGradCheckReLUKinks: a deep ReLU chain started from rest with zero
// biases and a zero first input frame has every ReLU neuron exactly at its
// kink (ŭ = 0) on the first step, so any perturbation of a bias, however
// small, moves it across. GradCheck must count those components as kinks
// — not report a mismatch — while every other component still agrees to
// 1e-6. A plain central difference at the kinks does disagree with the
// (one-sided) exact gradient, so the kinks are real.
func TestGradCheckReLUKinks(t *testing.T) {
	_, n := kinkChain(t, gle.ReLU, 3)
	xs, ts := sequence(5, 60, 2, 2, 2, gle.MSE)
	clear(xs[0])
	res, err := gradient.GradCheck(n, 2, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	g := gle.NewFullGrads(n)
	if _, err := gradient.Full(n, 2, xs, ts, g); err != nil {
		t.Fatal(err)
	}
	params, grads := n.Tensors(), g.Tensors(n)
	var kinks int
	var naiveWorst float64
	for i, r := range res {
		t.Logf("%-16s kinks %d/%d, max rel err %.3g", r.Tensor, r.Kinks, r.N, r.MaxRelErr)
		kinks += r.Kinks
		if r.MaxRelErr > 1e-6 {
			t.Errorf("%s: rel err %.3g at %d (exact %.10g, numeric %.10g)", r.Tensor, r.MaxRelErr, r.Worst, r.Exact, r.Numeric)
		}
		reluBias := strings.HasSuffix(r.Tensor, ".bias") && r.Tensor != "layers.5.bias"
		switch {
		case reluBias && r.Kinks != r.N:
			t.Errorf("%s: %d kinks, want all %d ReLU biases (every one sits on its kink at step 0)", r.Tensor, r.Kinks, r.N)
		case !reluBias && r.Kinks > r.N/2:
			t.Errorf("%s: %d of %d components reported as kinks; only the biases sit on kinks", r.Tensor, r.Kinks, r.N)
		}
		if !reluBias {
			continue
		}
		// The plain fourth-order difference at h = 1e-4 averages the two
		// sides of the kink.
		p := params[i].Data
		for k := range p {
			orig := p[k]
			h := 1e-4
			var j [4]float64
			for a, off := range [4]float64{h, -h, 2 * h, -2 * h} {
				p[k] = orig + off
				j[a] = totalLoss(t, n, 2, xs, ts)
			}
			p[k] = orig
			num := (8*(j[0]-j[1]) - (j[2] - j[3])) / (12 * h)
			e := math.Abs(grads[i].Data[k]-num) / math.Max(math.Abs(num), 1e-4*maxAbs(n, g))
			naiveWorst = math.Max(naiveWorst, e)
		}
	}
	if kinks == 0 {
		t.Error("no kinks reported")
	}
	if m := gradient.MaxRelErr(res); m > 1e-6 {
		t.Errorf("max rel err %.3g with the kinks left out", m)
	}
	t.Logf("%d kinks; a plain central difference at the kinks is off by up to %.3g (relative)", kinks, naiveWorst)
	if naiveWorst < 1e-4 {
		t.Errorf("a plain central difference agrees at the kinks to %.3g: the test network has no real kinks", naiveWorst)
	}
}

// TestGradCheckHardTanhKinks: in a deep hard_tanh chain, neuron 0 of every
// hidden layer has τm = τr = 0.5 and bias 1, so on the first step (from
// rest, zero input) ŭ = τr b/τm = 1 exactly, hard_tanh's kink: its bias,
// τm and τr are kinks for every step size. GradCheck reports them and
// nothing else fails.
func TestGradCheckHardTanhKinks(t *testing.T) {
	_, n := kinkChain(t, gle.HardTanh, 4)
	for q := range 5 {
		p := &n.Pops[q]
		p.TauM[0], p.TauR[0], p.Bias[0] = 0.5, 0.5, 1
	}
	xs, ts := sequence(6, 60, 2, 2, 2, gle.MSE)
	clear(xs[0])
	res, err := gradient.GradCheck(n, 2, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	var kinks int
	for _, r := range res {
		kinks += r.Kinks
		if r.MaxRelErr > 1e-6 {
			t.Errorf("%s: rel err %.3g at %d (exact %.10g, numeric %.10g)", r.Tensor, r.MaxRelErr, r.Worst, r.Exact, r.Numeric)
		}
		var layer int
		var field string
		if _, err := fmt.Sscanf(strings.ReplaceAll(r.Tensor, ".", " "), "layers %d %s", &layer, &field); err != nil {
			t.Fatalf("tensor name %q: %v", r.Tensor, err)
		}
		if layer < 5 && field != "weight" && r.Kinks < 1 {
			t.Errorf("%s: no kink reported; neuron 0 sits on hard_tanh's kink at step 0", r.Tensor)
		}
	}
	t.Logf("%d kinks, max rel err %.3g", kinks, gradient.MaxRelErr(res))
}

// TestGradCheckSmoothNoKinks: networks of smooth activations report no
// kinks at all, even where the ReLU networks above have them.
func TestGradCheckSmoothNoKinks(t *testing.T) {
	for _, phi := range []gle.Activation{gle.Tanh, gle.Softplus} {
		_, n := kinkChain(t, phi, 3)
		xs, ts := sequence(5, 40, 2, 2, 2, gle.MSE)
		clear(xs[0])
		res, err := gradient.GradCheck(n, 2, xs, ts)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Kinks != 0 {
				t.Errorf("%v: %s reports %d kinks", phi, r.Tensor, r.Kinks)
			}
		}
		if m := gradient.MaxRelErr(res); m > 1e-6 {
			t.Errorf("%v: max rel err %.3g", phi, m)
		}
	}
}

// TestCheckGradsRejectsWrongGradients hands CheckGrads gradients that are
// wrong in the ways a bug makes them, on a tanh chain whose second input
// is always zero (so the first layer's weights from it have a gradient of
// exactly zero, where the error floor FloorFraction·G decides): the true
// gradient passes at 1e-6; scaled by 1 + 1e-4, one component's sign
// flipped, one component ten times too large, the gradient of a window
// one step short, and one zero component off by 1e-9·G (an error of
// exactly 1e-5 of the floor) are each rejected, with the worst component
// where the error was put.
func TestCheckGradsRejectsWrongGradients(t *testing.T) {
	n := randomChain(t, 31, gle.Tanh, gle.MSE, true)
	const T, B = 40, 2
	xs, ts := sequence(31, T, B, 2, 2, gle.MSE)
	for _, x := range xs {
		for b := range B {
			x[2*b+1] = 0
		}
	}
	num, err := gradient.FiniteDifferences(n, B, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	var G float64
	for _, v := range num.Value {
		for _, d := range v {
			G = math.Max(G, math.Abs(d))
		}
	}
	if num.Scale != G || G == 0 {
		t.Fatalf("Scale %g, want the largest |numeric| %g > 0", num.Scale, G)
	}
	exactGrad := func(steps int) *gle.Grads {
		g := gle.NewFullGrads(n)
		if _, err := gradient.Full(n, B, xs[:steps], ts[:steps], g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	check := func(g *gle.Grads) []gradient.CheckResult {
		res, err := num.Check(n, g)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != len(num.Names) {
			t.Fatalf("%d results for %d tensors", len(res), len(num.Names))
		}
		return res
	}
	// The first layer's weight from input 1 (row-major Out × In: odd
	// indices) has no effect on J: its numeric gradient is exactly 0.
	if v := num.Value[0]; num.Names[0] != "layers.0.weight" || v[1] != 0 || v[3] != 0 {
		t.Fatalf("%s: numeric gradient %v, want 0 at the odd indices", num.Names[0], v)
	}

	good := check(exactGrad(T))
	if m := gradient.MaxRelErr(good); m > 1e-6 {
		t.Fatalf("the exact gradient: max rel err %.3g > 1e-6", m)
	}
	t.Logf("exact gradient: max rel err %.3g", gradient.MaxRelErr(good))

	scaled := exactGrad(T)
	scaled.Scale(1 + 1e-4)
	if m := gradient.MaxRelErr(check(scaled)); !(m > 0.9e-4) {
		t.Errorf("gradient × (1 + 1e-4): max rel err %.3g, want ≈ 1e-4", m)
	}

	// One sign flipped: layers.1.weight[5].
	flipped := exactGrad(T)
	w := flipped.Projs[1].W
	w[5] = -w[5]
	res := check(flipped)
	if r := res[slices.IndexFunc(res, func(r gradient.CheckResult) bool { return r.Tensor == "layers.1.weight" })]; r.Worst != 5 || !(r.MaxRelErr > 1) {
		t.Errorf("one sign flipped: %s worst at %d, rel err %.3g; want at 5, > 1", r.Tensor, r.Worst, r.MaxRelErr)
	}
	if m := gradient.MaxRelErr(res); !(m > 1e-6) {
		t.Errorf("one sign flipped: max rel err %.3g passes", m)
	}

	// The error is relative to the finite difference, not to the gradient
	// checked: ten times a component (above the floor) is off by 9.
	tenfold := exactGrad(T)
	w = tenfold.Projs[2].W
	k := 0
	for i := range w {
		if math.Abs(w[i]) > math.Abs(w[k]) {
			k = i
		}
	}
	w[k] *= 10
	if r := check(tenfold)[slices.Index(num.Names, "layers.2.weight")]; r.Worst != k || math.Abs(r.MaxRelErr-9) > 1e-5 {
		t.Errorf("one component × 10: %s worst at %d, rel err %.6g; want at %d, 9", r.Tensor, r.Worst, r.MaxRelErr, k)
	}

	short := exactGrad(T - 1)
	if m := gradient.MaxRelErr(check(short)); !(m > 1e-3) {
		t.Errorf("the gradient of %d steps instead of %d: max rel err %.3g passes", T-1, T, m)
	}

	// An error of 1e-9·G at a zero component is 1e-5 of the floor 1e-4·G:
	// rejected at 1e-6 (a floor 100 times looser would let it pass).
	off := exactGrad(T)
	off.Projs[0].W[3] += 1e-9 * G
	res = check(off)
	if r := res[0]; r.Worst != 3 || math.Abs(r.MaxRelErr-1e-5) > 1e-9 {
		t.Errorf("zero component off by 1e-9·G: worst at %d, rel err %.6g; want at 3, 1e-5", r.Worst, r.MaxRelErr)
	}
	// Below the tolerance it passes.
	off.Projs[0].W[3] -= 0.99e-9 * G
	if m := gradient.MaxRelErr(check(off)); m > 1e-6 {
		t.Errorf("zero component off by 1e-11·G: max rel err %.3g, want ≤ 1e-6", m)
	}

	// CheckGrads is FiniteDifferences + Check; a gradient that does not
	// fit the network is refused.
	res2, err := gradient.CheckGrads(n, B, xs, ts, scaled)
	if err != nil || gradient.MaxRelErr(res2) != gradient.MaxRelErr(check(scaled)) {
		t.Errorf("CheckGrads: %v, max rel err %.3g; want Check's", err, gradient.MaxRelErr(res2))
	}
	other := gle.NewFullGrads(randomChain(t, 1, gle.Tanh, gle.MSE, true))
	other.Projs[0].W = other.Projs[0].W[:3]
	if _, err := num.Check(n, other); !errors.Is(err, gle.ErrShape) {
		t.Errorf("a gradient of the wrong shape: %v, want ErrShape", err)
	}
}
