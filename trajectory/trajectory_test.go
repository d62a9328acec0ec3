package trajectory_test

import (
	"encoding/json"
	"errors"
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
// API and requires every recorded number to match to 1e-9 relative.
func TestReferenceFixtures(t *testing.T) {
	replayFixtures(t, (*trajectory.File).Replay, func(t *testing.T, rep trajectory.Report) {
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
			t.Logf("output %.3g (%s)  params %.3g (%s)  state %.3g (%s)", rep.Output, rep.OutputAt, rep.Params, rep.ParamsAt, rep.State, rep.StateAt)
			check(t, rep)
		})
	}
}

// The documented agreement of the float32 engine with the reference
// fixtures (relative, as Compare measures): float32 rounding (6e-8)
// compounded over the fixtures' steps of learning. The state allows more:
// prospective errors ê = v + τm (e − v)/τr amplify rounding by τm/τr (20
// in mlp_ce_gle), and e_bottom = ê W inherits it.
const (
	Float32OutputParamsTolerance = 1e-5
	Float32StateTolerance        = 1e-3
)

// TestFloat32Fixtures replays the fixtures on the float32 engine: within
// the float32 tolerances of the reference, and not bit-equal to the
// float64 path (it does run in float32).
func TestFloat32Fixtures(t *testing.T) {
	replayFixtures(t, (*trajectory.File).ReplayFloat32, func(t *testing.T, rep trajectory.Report) {
		if max(rep.Output, rep.Params) > Float32OutputParamsTolerance || rep.State > Float32StateTolerance {
			t.Errorf("relative errors %.3g (output), %.3g (params), %.3g (state) exceed %g, %g, %g",
				rep.Output, rep.Params, rep.State, Float32OutputParamsTolerance, Float32OutputParamsTolerance, Float32StateTolerance)
		}
		if rep.Max() < 1e-12 {
			t.Errorf("max relative error %.3g: the float32 replay looks like float64", rep.Max())
		}
	})
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
		}), "expected.final_params[2].bias"},
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

// FuzzDecode feeds arbitrary bytes to the trajectory reader: errors, never
// panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"format": "gle-reference-trajectory/1", "spec": {"dt": 0.1, "layers": [{"in": 1, "out": 1, "tau_m": 1, "tau_r": 1}]}, "inputs": [[[1]]], "targets": null}`))
	f.Add([]byte(`{"format": "gle-reference-trajectory/1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := trajectory.Decode(strings.NewReader(string(data)))
		if err != nil || tf.Batch() > 64 || len(tf.Inputs) > 64 {
			return
		}
		for _, l := range tf.Spec.Layers {
			if l.In*l.Out > 1<<12 {
				return
			}
		}
		if res, err := tf.Replay(); err == nil && tf.Expected != nil {
			tf.Compare(res)
		}
	})
}
