package trajectory_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/trajectory"
)

// TestReportRanking: Failures keeps an error equal to its tolerance,
// Worst ranks by error over the kind's tolerance (also when nothing
// fails, and when every error is 0: the first variable).
func TestReportRanking(t *testing.T) {
	f32 := trajectory.Tolerance(true)
	rep := trajectory.Report{Vars: []trajectory.VarError{
		{Name: "layers.0.v", Kind: "v", Err: 1e-4},  // 0.5 of its tolerance 2e-4
		{Name: "layers.0.u", Kind: "u", Err: 4e-6},  // 0.8 of 5e-6
		{Name: "output", Kind: "output", Err: 5e-6}, // exactly its tolerance
	}}
	if f := rep.Failures(f32); len(f) != 0 {
		t.Errorf("errors within (and at) their tolerance reported as failures: %v", f)
	}
	if w := rep.Worst(f32); w.Name != "output" {
		t.Errorf("worst %q, want output (1.0 of its tolerance)", w.Name)
	}
	rep.Vars = rep.Vars[:2]
	if w := rep.Worst(f32); w.Name != "layers.0.u" {
		t.Errorf("worst %q, want layers.0.u (0.8 of its tolerance against v's 0.5)", w.Name)
	}
	zero := trajectory.Report{Vars: []trajectory.VarError{{Name: "a"}, {Name: "b"}}}
	if w := zero.Worst(trajectory.Tolerance(false)); w.Name != "a" {
		t.Errorf("all errors 0: worst %q, want the first", w.Name)
	}
}

// TestCheck: the whole check of a fixture passes in both precisions and
// names its worst places; a perturbed expected number is measured as §6
// says (relative above 1, absolute below); a file without expected
// numbers or missing is refused.
func TestCheck(t *testing.T) {
	path := filepath.Join(testutil.ReferenceDir(t), "trajectories", "mlp_adam_tau.json")
	for _, f32 := range []bool{false, true} {
		rep, err := trajectory.Check(path, f32)
		if err != nil {
			t.Fatal(err)
		}
		if f := rep.Failures(trajectory.Tolerance(f32)); len(f) != 0 || len(rep.Vars) == 0 {
			t.Errorf("float32 %v: failures %v of %d variables", f32, f, len(rep.Vars))
		}
		if !strings.HasPrefix(rep.OutputAt, "output[") || rep.ParamsAt == "" || rep.StateAt == "" {
			t.Errorf("float32 %v: places %q, %q, %q", f32, rep.OutputAt, rep.ParamsAt, rep.StateAt)
		}
	}
	f, err := trajectory.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	// A τm of the file moved by 0.1: relative to it when |τm| > 1.
	tau := &f.Expected.FinalParams[1].TauM[0]
	if !(math.Abs(*tau) > 1) {
		t.Fatalf("the fixture's τm of layer 1 is %g: want one above 1 for this test", *tau)
	}
	want := 0.1 / (math.Abs(*tau) + 0.1)
	*tau += math.Copysign(0.1, *tau)
	rep, err := f.Compare(res)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(rep.Params-want) > 1e-9 || rep.ParamsAt != "layer 1 tau_m[0]" {
		t.Errorf("params error %.12g at %q, want %.12g at layer 1 tau_m[0]", rep.Params, rep.ParamsAt, want)
	}
	// The replay's own outputs as expected: every error 0, and the place
	// of the worst is the first value.
	f.Expected.Output = res.Output
	rep, err = f.Compare(res)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Output != 0 || rep.OutputAt != "output[0][0][0]" {
		t.Errorf("outputs compared with themselves: error %g at %q, want 0 at output[0][0][0]", rep.Output, rep.OutputAt)
	}
	f.Expected = nil
	if _, err := f.Compare(res); !errors.Is(err, trajectory.ErrMalformed) {
		t.Errorf("no expected numbers: %v, want ErrMalformed", err)
	}
	if _, err := trajectory.Check(filepath.Join(t.TempDir(), "missing.json"), false); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
