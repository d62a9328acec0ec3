package trajectory_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gle-go/gle"

	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/trajectory"
)

// TestReferenceFixtures replays every shared fixture through the public
// API and requires every recorded variable to match to 1e-9 of its own
// scale (Float64Tolerance), and so also every number to 1e-9 relative as
// docs/model.md §6 measures it.
func TestReferenceFixtures(t *testing.T) {
	replayFixtures(t, (*trajectory.File).Replay, func(t *testing.T, rep trajectory.Report) {
		for _, v := range rep.Failures(func(string) float64 { return trajectory.Float64Tolerance }) {
			t.Errorf("%s: error %.3g of its scale %.3g > %g (at %d)", v.Name, v.Err, v.Scale, trajectory.Float64Tolerance, v.At)
		}
		if rep.Max() > 1e-9 {
			t.Errorf("max relative error %.3g > 1e-9", rep.Max())
		}
	})
}

// replayFixtures replays each of the 4 shared fixtures with replay,
// compares the result with the recorded numbers and hands the report to
// check.
func replayFixtures(t *testing.T, replay func(*trajectory.File) (*trajectory.Result, error), check func(*testing.T, trajectory.Report)) {
	files, err := filepath.Glob(filepath.Join(testutil.ReferenceDir(t), "trajectories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("found %d fixtures, want the 4 shared ones", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := trajectory.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			res, err := replay(f)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := f.Compare(res)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, v := range rep.Vars {
				fmt.Fprintf(&b, "\n  %-18s scale %-9.3g err %.3g", v.Name, v.Scale, v.Err)
			}
			t.Logf("§6 measure: output %.3g, params %.3g, state %.3g; per variable:%s", rep.Output, rep.Params, rep.State, b.String())
			check(t, rep)
		})
	}
}

// TestFloat32Fixtures replays the fixtures on the float32 engine: every
// variable within Float32Tolerance of its scale (2e-6 for outputs, u, r,
// r′, 3e-6 for weights and biases: a float32 kernel wrong by 1e-6
// relative fails),
// and not bit-equal to the float64 path (it does run in float32).
func TestFloat32Fixtures(t *testing.T) {
	replayFixtures(t, (*trajectory.File).ReplayFloat32, func(t *testing.T, rep trajectory.Report) {
		var m float64
		for _, v := range rep.Vars {
			m = max(m, v.Err)
		}
		for _, v := range rep.Failures(trajectory.Float32Tolerance) {
			t.Errorf("%s: error %.3g of its scale %.3g > %g (at %d)", v.Name, v.Err, v.Scale, trajectory.Float32Tolerance(v.Kind), v.At)
		}
		if m < 1e-12 {
			t.Errorf("max error %.3g: the float32 replay looks like float64", m)
		}
	})
}

// TestCompareScalesPerVariable: Compare lists every recorded variable
// with its scale S = max |b| in the file, and measures max |a − b| / S. A
// relative error of 1e-6 put into lagline's v (of size 4e-4), which the §6
// measure max |a − b| / max(1, |b|) sees as 4e-10 (below 1e-9), fails the
// per-variable check and names the variable.
func TestCompareScalesPerVariable(t *testing.T) {
	f, err := trajectory.Read(filepath.Join(testutil.ReferenceDir(t), "trajectories", "lagline.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := f.Compare(res)
	if err != nil {
		t.Fatal(err)
	}
	// The variables and their scales, from the file itself.
	maxAbs := func(x ...[]float64) float64 {
		var m float64
		for _, r := range x {
			for _, v := range r {
				m = math.Max(m, math.Abs(v))
			}
		}
		return m
	}
	want := map[string]float64{}
	var outs [][]float64
	for _, step := range f.Expected.Output {
		outs = append(outs, step...)
	}
	want["output"] = maxAbs(outs...)
	for i, p := range f.Expected.FinalParams {
		pre := fmt.Sprintf("layers.%d.", i)
		want[pre+"weight"], want[pre+"tau_m"] = maxAbs(p.Weight...), maxAbs(p.TauM)
		if p.Bias != nil {
			want[pre+"bias"] = maxAbs(p.Bias)
		}
		s := f.Expected.FinalState[i]
		want[pre+"u"], want[pre+"v"], want[pre+"r"] = maxAbs(s.U...), maxAbs(s.V...), maxAbs(s.R...)
		want[pre+"r_prime"], want[pre+"e_bottom"] = maxAbs(s.RPrime...), maxAbs(s.EBottom...)
	}
	if len(rep.Vars) != len(want) {
		t.Errorf("%d variables reported, want %d", len(rep.Vars), len(want))
	}
	for _, v := range rep.Vars {
		if s, ok := want[v.Name]; !ok || s != v.Scale || !strings.HasSuffix(v.Name, v.Kind) {
			t.Errorf("%s (%s): scale %g, want %g (listed %v)", v.Name, v.Kind, v.Scale, s, ok)
		}
	}
	if s := want["layers.0.v"]; !(s > 1e-4 && s < 1e-3) {
		t.Fatalf("lagline's layer 0 v has scale %g, want ≈ 4e-4", s)
	}
	for i := range res.State.Pops[0].V {
		res.State.Pops[0].V[i] *= 1 + 1e-6
	}
	rep, err = f.Compare(res)
	if err != nil {
		t.Fatal(err)
	}
	tol := func(string) float64 { return trajectory.Float64Tolerance }
	bad := rep.Failures(tol)
	if len(bad) != 1 || bad[0].Name != "layers.0.v" || math.Abs(bad[0].Err-1e-6) > 1e-7 {
		t.Errorf("v × (1 + 1e-6): failures %+v, want layers.0.v at ≈ 1e-6", bad)
	}
	if w := rep.Worst(tol); w.Name != "layers.0.v" {
		t.Errorf("worst variable %q, want layers.0.v", w.Name)
	}
	if rep.State > 1e-9 {
		t.Errorf("the §6 measure gives %.3g; the test assumes it misses the error", rep.State)
	}
	// A variable that is zero in the file is checked absolutely.
	for _, row := range f.Expected.FinalState[1].V {
		clear(row)
	}
	for i := range res.State.Pops[1].V {
		res.State.Pops[1].V[i] = 1e-12
	}
	rep, _ = f.Compare(res)
	found := false
	for _, v := range rep.Vars {
		if v.Name == "layers.1.v" {
			found = true
			if v.Scale != 0 || v.Err != 1e-12 {
				t.Errorf("v zero in the file, 1e-12 in the replay: scale %g, error %g; want 0, 1e-12", v.Scale, v.Err)
			}
		}
	}
	if !found {
		t.Error("layers.1.v not reported")
	}
}

// TestMalformedFiles: broken files give ErrMalformed naming the field,
// never a panic.
func TestMalformedFiles(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testutil.ReferenceDir(t), "trajectories", "mlp_ce_gle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal(src, &tree); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) string {
		var c map[string]any
		json.Unmarshal(src, &c)
		f(c)
		b, _ := json.Marshal(c)
		return string(b)
	}
	spec := func(m map[string]any) map[string]any { return m["spec"].(map[string]any) }
	layer := func(m map[string]any, i int) map[string]any {
		return spec(m)["layers"].([]any)[i].(map[string]any)
	}
	for _, tc := range []struct {
		name, text, mention string
	}{
		{"truncated", string(src[:len(src)/3]), "truncated"},
		{"not JSON", "this is not json", "invalid"},
		{"wrong format", edit(func(m map[string]any) { m["format"] = "something/2" }), "format"},
		{"steps disagree", edit(func(m map[string]any) { spec(m)["steps"] = 5 }), "spec.steps"},
		{"tau below dt", edit(func(m map[string]any) { layer(m, 1)["tau_m"] = 0.01 }), "layers[1].tau_m[0]"},
		{"unknown phi", edit(func(m map[string]any) { layer(m, 0)["phi"] = "gelu" }), "layers[0].phi"},
		{"input width", edit(func(m map[string]any) { m["inputs"].([]any)[7].([]any)[1] = []any{1.0} }), "inputs[7][1]"},
		{"class index", edit(func(m map[string]any) { m["targets"].([]any)[3].([]any)[0] = 7 }), "targets[3][0]"},
		{"fractional class", edit(func(m map[string]any) { m["targets"].([]any)[3].([]any)[0] = 0.5 }), "targets[3][0]"},
		{"class index at the bound", edit(func(m map[string]any) { m["targets"].([]any)[3].([]any)[0] = 3 }), "targets[3][0]"}, // 3 classes: 0…2
		{"missing output step", edit(func(m map[string]any) {
			e := m["expected"].(map[string]any)
			e["output"] = e["output"].([]any)[1:]
		}), "expected.output"},
		{"state shape", edit(func(m map[string]any) {
			e := m["expected"].(map[string]any)
			e["final_state"].([]any)[0].(map[string]any)["e_bottom"] = []any{}
		}), "expected.final_state[0].e_bottom"},
		{"bias presence", edit(func(m map[string]any) {
			e := m["expected"].(map[string]any)
			e["final_params"].([]any)[2].(map[string]any)["bias"] = nil
		}), "expected.final_params[2].bias: present = false, but the spec's bias is present = true"},
		{"bias length", edit(func(m map[string]any) {
			e := m["expected"].(map[string]any)
			e["final_params"].([]any)[2].(map[string]any)["bias"] = []any{0.1, 0.2}
		}), "expected.final_params[2].bias: 2 values, want 3"},
	} {
		_, err := trajectory.Decode(strings.NewReader(tc.text))
		if !errors.Is(err, trajectory.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tc.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: %q does not mention %q", tc.name, err, tc.mention)
		}
	}
}

// TestFieldsHonoured rewrites a fixture's spec (learn_from_step, lr 0,
// no targets) and checks the replay's behaviour directly.
func TestFieldsHonoured(t *testing.T) {
	path := filepath.Join(testutil.ReferenceDir(t), "trajectories", "mlp_adam_tau.json")
	base, err := trajectory.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	initial, err := gle.NewNetwork(&base.Spec)
	if err != nil {
		t.Fatal(err)
	}
	// learn_from_step beyond the last step: nothing learns.
	f, _ := trajectory.Read(path)
	f.Spec.LearnFromStep = len(f.Inputs)
	res, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Net, initial) {
		t.Error("learn_from_step = steps: parameters changed")
	}
	// learn_from_step = 100: the first 100 outputs equal a pure simulation's.
	f.Spec.LearnFromStep = 100
	late, _ := f.Replay()
	f.Spec.LearnFromStep, f.Spec.Optimizer.LR = 0, 0
	sim, _ := f.Replay()
	if !reflect.DeepEqual(late.Output[:101], sim.Output[:101]) || reflect.DeepEqual(late.Output[101:], sim.Output[101:]) {
		t.Error("learn_from_step = 100 does not start learning at step 100")
	}
	if !reflect.DeepEqual(sim.Net, initial) {
		t.Error("lr = 0: parameters changed")
	}
	// No targets: no error reaches the network, nothing learns.
	f, _ = trajectory.Read(path)
	for i := range f.Targets {
		f.Targets[i] = gle.Target{}
	}
	res, err = f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Net, initial) {
		t.Error("targets = null: parameters changed")
	}
	for _, v := range res.State.EBottom[0] {
		if v != 0 {
			t.Fatal("targets = null: non-zero error")
		}
	}
}

// BenchmarkFixtureStep times one dt step (with learning) of each shared
// fixture's network at its batch size.
func BenchmarkFixtureStep(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(testutil.ReferenceDir(b), "trajectories", "*.json"))
	for _, path := range files {
		f, err := trajectory.Read(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(path), ".json"), func(b *testing.B) {
			tr, err := gle.NewTrainerFromSpec[float64](&f.Spec, f.Batch())
			if err != nil {
				b.Fatal(err)
			}
			xs := make([][]float64, len(f.Inputs))
			for t, in := range f.Inputs {
				for _, row := range in {
					xs[t] = append(xs[t], row...)
				}
			}
			out := make([]float64, f.Batch()*tr.Engine.Net.Outputs())
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				t := i % len(xs)
				if _, err := tr.Step(out, xs[t], f.Targets[t]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzDecode feeds arbitrary bytes to the trajectory reader and asserts
// decodeProperties for every input it accepts; errors, never panics, for
// the rest.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"format": "gle-reference-trajectory/1", "spec": {"dt": 0.1, "layers": [{"in": 1, "out": 1, "tau_m": 1, "tau_r": 1}]}, "inputs": [[[1]]], "targets": null}`))
	f.Add([]byte(`{"format": "gle-reference-trajectory/1", "spec": {"dt": 0.1, "loss": "ce", "layers": [{"in": 1, "out": 2, "tau_m": 1, "tau_r": 0.5}]}, "inputs": [[[1]], [[0.5]]], "targets": [[1], [0]]}`))
	f.Add([]byte(`{"format": "gle-reference-trajectory/1", "spec": {"dt": 0.1, "layers": [{"in": 2, "out": 1, "tau_m": 1, "tau_r": 1, "bias": false}]}, "inputs": [[[1, 2]]], "targets": [[[0.5]]], "expected": {"output": [[[0]]], "final_params": [{"weight": [[0.1, 0.2]], "bias": null, "tau_m": [1]}], "final_state": [{"u": [[0]], "v": [[0]], "r": [[0]], "r_prime": [[1]], "e_bottom": [[0, 0]]}]}}`))
	f.Add([]byte(`{"format": "gle-reference-trajectory/1"}`))
	f.Fuzz(decodeProperties)
}

// TestDecodeProperties asserts decodeProperties on the shared fixtures.
func TestDecodeProperties(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testutil.ReferenceDir(t), "trajectories", "*.json"))
	if err != nil || len(files) < 4 {
		t.Fatalf("%d fixtures (%v)", len(files), err)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) { decodeProperties(t, b) })
	}
}

// decodeProperties decodes data and, if Decode accepts it, asserts:
//   - the invariants Decode promises: a valid layered spec, steps ≥ 1,
//     every input row of In values, one target per step fitting the loss
//     (class indices in range), expected arrays of the declared shapes;
//   - a round trip: the file written back as JSON decodes to the same
//     spec, inputs, targets and expected numbers (and network);
//   - replay and Compare (for small files): one output per step of
//     batch × out values, and a file whose expected numbers are the replay
//     itself compares with error 0 in every variable.
//
// A refused input must give ErrMalformed.
func decodeProperties(t *testing.T, data []byte) {
	tf, err := trajectory.Decode(strings.NewReader(string(data)))
	if err != nil {
		if !errors.Is(err, trajectory.ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
		return
	}
	checkDecoded(t, tf)
	// Round trip.
	var targets any
	if tf.RawTargets != nil {
		targets = tf.RawTargets
	}
	b, err := json.Marshal(map[string]any{"format": tf.Format, "name": tf.Name, "description": tf.Description,
		"spec": &tf.Spec, "inputs": tf.Inputs, "targets": targets, "expected": tf.Expected})
	if err != nil {
		t.Fatalf("writing the decoded file back: %v", err)
	}
	back, err := trajectory.Decode(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("the decoded file written back does not decode: %v\n%s", err, b)
	}
	s1, _ := json.Marshal(&tf.Spec)
	s2, _ := json.Marshal(&back.Spec)
	if string(s1) != string(s2) {
		t.Fatalf("round trip changed the spec:\n%s\n%s", s1, s2)
	}
	if !reflect.DeepEqual(tf.Inputs, back.Inputs) || !reflect.DeepEqual(tf.Targets, back.Targets) || !reflect.DeepEqual(tf.Expected, back.Expected) {
		t.Fatal("round trip changed the inputs, targets or expected numbers")
	}
	// Small files only from here: the same network from both specs, and
	// the replay as its own expectation compares exactly.
	params := 0
	for _, l := range tf.Spec.Layers {
		params += (l.In + 3) * l.Out
	}
	if params > 1<<12 || len(tf.Inputs)*tf.Batch()*params > 1<<22 {
		return
	}
	n1, err1 := gle.NewNetwork(&tf.Spec)
	n2, err2 := gle.NewNetwork(&back.Spec)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(n1, n2) {
		t.Fatalf("round trip changed the network (%v, %v)", err1, err2)
	}
	res, err := tf.Replay()
	if err != nil {
		return // e.g. diverging numbers: reported, not a panic
	}
	nOut := tf.Spec.Layers[len(tf.Spec.Layers)-1].Out
	if len(res.Output) != len(tf.Inputs) {
		t.Fatalf("replay gave %d outputs for %d steps", len(res.Output), len(tf.Inputs))
	}
	for step, o := range res.Output {
		if len(o) != tf.Batch() || len(o[0]) != nOut {
			t.Fatalf("output %d is %d×%d, want %d×%d", step, len(o), len(o[0]), tf.Batch(), nOut)
		}
	}
	self := *tf
	self.Expected = expectedOf(res, tf.Batch())
	rep, err := self.Compare(res)
	if err != nil {
		t.Fatalf("comparing a replay with itself: %v", err)
	}
	for _, v := range rep.Vars {
		if v.Err != 0 && !math.IsInf(v.Err, 1) { // +Inf: a NaN in the replay
			t.Fatalf("%s compared with itself: error %g", v.Name, v.Err)
		}
	}
}

// checkDecoded asserts the invariants of a decoded file.
func checkDecoded(t *testing.T, tf *trajectory.File) {
	t.Helper()
	if err := tf.Spec.Validate(); err != nil || !tf.Spec.Layered() {
		t.Fatalf("accepted a spec that does not validate as layered: %v", err)
	}
	steps, batch := len(tf.Inputs), tf.Batch()
	in, out := tf.Spec.Layers[0].In, tf.Spec.Layers[len(tf.Spec.Layers)-1].Out
	if steps < 1 || batch < 1 || len(tf.Targets) != steps {
		t.Fatalf("accepted %d steps × %d samples with %d targets", steps, batch, len(tf.Targets))
	}
	for step, x := range tf.FlatInputs() {
		if len(x) != batch*in {
			t.Fatalf("inputs[%d] has %d values, want %d", step, len(x), batch*in)
		}
		if err := tf.Targets[step].Check(tf.Spec.Loss, batch, out); err != nil {
			t.Fatalf("targets[%d] does not fit: %v", step, err)
		}
	}
	if e := tf.Expected; e != nil {
		if len(e.Output) != steps || len(e.FinalParams) != len(tf.Spec.Layers) || len(e.FinalState) != len(tf.Spec.Layers) {
			t.Fatalf("expected: %d outputs, %d and %d layers", len(e.Output), len(e.FinalParams), len(e.FinalState))
		}
	}
}

// expectedOf writes a replay's result in the layout of Expected.
func expectedOf(res *trajectory.Result, batch int) *trajectory.Expected {
	rows := func(x []float64, width int) [][]float64 {
		out := make([][]float64, 0, batch)
		for b := range batch {
			out = append(out, append([]float64(nil), x[b*width:(b+1)*width]...))
		}
		return out
	}
	e := &trajectory.Expected{Output: res.Output}
	for i := range res.Net.Pops {
		pop, proj, ps := &res.Net.Pops[i], &res.Net.Projs[i], &res.State.Pops[i]
		in := res.Net.FromSize(proj)
		var w [][]float64
		for o := range pop.N {
			w = append(w, proj.W[o*in:(o+1)*in])
		}
		e.FinalParams = append(e.FinalParams, trajectory.Params{Weight: w, Bias: pop.Bias, TauM: pop.TauM})
		e.FinalState = append(e.FinalState, trajectory.State{U: rows(ps.U, pop.N), V: rows(ps.V, pop.N), R: rows(ps.R, pop.N),
			RPrime: rows(ps.RPrime, pop.N), EBottom: rows(res.State.EBottom[i], in)})
	}
	return e
}
