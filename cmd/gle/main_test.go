package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/npy"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConformanceCommand(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testutil.ReferenceDir(t), "trajectories", "*.json"))
	code, out, errs := runCLI(t, append([]string{"conformance"}, files...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if n := strings.Count(out, "ok   "); n != len(files) {
		t.Errorf("%d ok lines for %d files:\n%s", n, len(files), out)
	}

	// A truncated file and a tightened tolerance both fail, naming the file.
	bad := filepath.Join(t.TempDir(), "broken.json")
	src, _ := os.ReadFile(files[0])
	os.WriteFile(bad, src[:len(src)/2], 0o644)
	code, out, errs = runCLI(t, "conformance", files[0], bad)
	if code != 1 || !strings.Contains(out, "FAIL "+bad) || !strings.Contains(errs, "1 of 2 files failed") {
		t.Errorf("truncated file: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "conformance", "--tol", "0", files[0])
	if code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("zero tolerance: exit %d\n%s", code, out)
	}

	// Every variable is reported and checked against its own scale: lagline
	// with its recorded layer 0 v (≈ 4e-4) off by 1e-6 relative fails
	// there, although every number still matches to 1e-9 as max(1, |b|)
	// measures it.
	src, _ = os.ReadFile(filepath.Join(testutil.ReferenceDir(t), "trajectories", "lagline.json"))
	var tree map[string]any
	if err := json.Unmarshal(src, &tree); err != nil {
		t.Fatal(err)
	}
	for _, row := range tree["expected"].(map[string]any)["final_state"].([]any)[0].(map[string]any)["v"].([]any) {
		for i, v := range row.([]any) {
			row.([]any)[i] = v.(float64) * (1 + 1e-6)
		}
	}
	shifted := filepath.Join(t.TempDir(), "lagline_v.json")
	b, _ := json.Marshal(tree)
	os.WriteFile(shifted, b, 0o644)
	code, out, _ = runCLI(t, "conformance", shifted)
	if code != 1 || !strings.Contains(out, "FAIL "+shifted) || !regexp.MustCompile(`layers\.0\.v +scale .*FAIL`).MatchString(out) ||
		strings.Count(out, "FAIL") != 2 {
		t.Errorf("layer 0 v × (1 + 1e-6): exit %d, want a failure of layers.0.v alone\n%s", code, out)
	}
	for _, name := range []string{"output", "layers.1.weight", "layers.1.tau_m", "layers.0.u", "layers.1.r_prime", "layers.1.e_bottom"} {
		if !strings.Contains(out, "    "+name+" ") {
			t.Errorf("variable %s not reported:\n%s", name, out)
		}
	}
	// The float32 replay passes its per-variable tolerances.
	code, out, errs = runCLI(t, append([]string{"conformance", "--float32"}, files...)...)
	if code != 0 || strings.Count(out, "ok   ") != len(files) {
		t.Errorf("--float32: exit %d\n%s%s", code, out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"conformance"}, {"train", "--epochs", "x"}, {"simulate"}} {
		if code, _, _ := runCLI(t, args...); code != 2 {
			t.Errorf("gle %v: exit %d, want 2", args, code)
		}
	}
	code, out, _ := runCLI(t, "help", "train")
	if code != 0 || !strings.Contains(out, "--epochs") || !strings.Contains(out, "Example") {
		t.Errorf("help train: exit %d\n%s", code, out)
	}
}

const cliSpec = `
dt: 0.1
loss: mse
beta: 1
seed: 4
optimizer: {kind: adam, lr: 0.001}
layers:
  - {in: 1, out: 8, phi: tanh, tau_m: 0.5, tau_r: [{n: 4, value: 0.1}, {n: 4, value: 0.5}]}
  - {in: 8, out: 1, tau_m: 0.5, tau_r: 0.5}
`

// TestSimulateAndTrain trains on a delayed sine through the CLI, then
// reloads the learned spec and simulates it.
func TestSimulateAndTrain(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	dataPath := delayedSine(t, dir)
	out, learned, metrics := filepath.Join(dir, "out.npz"), filepath.Join(dir, "learned.json"), filepath.Join(dir, "m.jsonl")
	code, stdout, stderr := runCLI(t, "train", "--spec", spec, "--data", dataPath, "--epochs", "30",
		"--out", out, "--save-spec", learned, "--metrics", metrics, "--run-dir", filepath.Join(dir, "run1"))
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, metrics)), "\n")
	if len(lines) != 30 {
		t.Fatalf("%d metric lines, want 30", len(lines))
	}
	var first, last struct {
		Loss float64 `json:"train_loss"`
	}
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[29]), &last)
	if !(last.Loss < 0.1*first.Loss) {
		t.Errorf("loss %g → %g: want a tenfold reduction", first.Loss, last.Loss)
	}
	arrs, err := npy.ReadNPZ(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"output", "layers.0.weight", "layers.1.tau_m", "layers.1.e_bottom"} {
		if arrs[name] == nil {
			t.Errorf("%s missing from %s", name, out)
		}
	}
	if s := arrs["output"].Shape; len(s) != 3 || s[0] != 400 || s[1] != 2 || s[2] != 1 {
		t.Errorf("output shape %v", s)
	}
	// The learned spec reloads and its weights are the trained ones.
	ls, err := gle.LoadSpec(learned)
	if err != nil {
		t.Fatal(err)
	}
	if ls.Layers[0].Weight[3][0] != arrs["layers.0.weight"].Float[3] {
		t.Error("saved spec and saved weights disagree")
	}
	checkResume(t, dir, spec, dataPath)

	st := filepath.Join(dir, "m.safetensors")
	if code, out, errs := runCLI(t, "export", "--spec", learned, "--out", st); code != 0 {
		t.Fatalf("export: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "export", "--spec", spec, "--params", st, "--format", "npz", "--out", filepath.Join(dir, "m.npz")); code != 0 {
		t.Fatalf("export npz: exit %d\n%s%s", code, out, errs)
	}
	exported, err := npy.ReadNPZ(filepath.Join(dir, "m.npz"), 0)
	if err != nil || exported["layers.0.weight"].Float[3] != arrs["layers.0.weight"].Float[3] {
		t.Errorf("safetensors → npz round trip lost the learned weights: %v", err)
	}
	code, stdout, stderr = runCLI(t, "simulate", "--spec", learned, "--data", dataPath, "--out", filepath.Join(dir, "sim.npz"))
	if code != 0 || !strings.Contains(stdout, "simulated 400 steps × 2 samples") {
		t.Fatalf("simulate: exit %d\n%s%s", code, stdout, stderr)
	}

	traceDir := filepath.Join(dir, "trace")
	if code, out, errs := runCLI(t, "trace", "--spec", learned, "--data", dataPath, "--neurons", "0,5", "--out", traceDir); code != 0 {
		t.Fatalf("trace: exit %d\n%s%s", code, out, errs)
	}
	if tr, err := npy.ReadNPZ(filepath.Join(traceDir, "trace.npz"), 0); err != nil || tr["layers.0.lambda"] == nil {
		t.Errorf("trace.npz: %v", err)
	}

	// Data that does not fit the spec is rejected with a clear message.
	wide := filepath.Join(dir, "wide.npy")
	npy.WriteFile(wide, &npy.Array{Shape: []int{10, 1, 3}, Float: make([]float64, 30)})
	code, _, stderr = runCLI(t, "simulate", "--spec", spec, "--data", wide)
	if code != 1 || !strings.Contains(stderr, "3 features per frame") {
		t.Errorf("wide data: exit %d, %s", code, stderr)
	}
}

// checkResume trains three epochs with a checkpoint, then two more resumed
// from it, and checks that the learned spec equals five epochs in one go.
func checkResume(t *testing.T, dir, spec, dataPath string) {
	t.Helper()
	ck := filepath.Join(dir, "train.ckpt")
	runCLI(t, "train", "--spec", spec, "--data", dataPath, "--epochs", "3", "--checkpoint", ck, "--save-spec", filepath.Join(dir, "a.json"), "--run-dir", filepath.Join(dir, "run2"))
	runCLI(t, "train", "--spec", spec, "--data", dataPath, "--epochs", "5", "--checkpoint", ck, "--resume", "--save-spec", filepath.Join(dir, "b.json"), "--run-dir", filepath.Join(dir, "run2"))
	runCLI(t, "train", "--spec", spec, "--data", dataPath, "--epochs", "5", "--save-spec", filepath.Join(dir, "c.json"), "--run-dir", filepath.Join(dir, "run3"))
	for _, f := range []string{"config.yaml", "summary.json", "metrics.jsonl", "out.npz", "checkpoint.gob"} {
		if _, err := os.Stat(filepath.Join(dir, "run3", f)); err != nil {
			t.Errorf("run folder: %v", err)
		}
	}
	b, c := readFile(t, filepath.Join(dir, "b.json")), readFile(t, filepath.Join(dir, "c.json"))
	if b != c || !strings.Contains(b, "weight") {
		t.Error("resumed training differs from uninterrupted training")
	}
}

// delayedSine writes series.npz in dir: 400 steps of two sines (phases 0
// and 0.7) as x and the same delayed by 5 steps and halved as y.
func delayedSine(t *testing.T, dir string) string {
	t.Helper()
	const steps, batch = 400, 2
	x := make([]float64, steps*batch)
	y := make([]float64, steps*batch)
	for tt := range steps {
		for b := range batch {
			ph := float64(b) * 0.7
			x[tt*batch+b] = sinAt(tt, ph)
			y[tt*batch+b] = 0.5 * sinAt(tt-5, ph)
		}
	}
	path := filepath.Join(dir, "series.npz")
	if err := npy.WriteNPZ(path,
		npy.Named{Name: "x", Array: &npy.Array{Shape: []int{steps, batch, 1}, Float: x}},
		npy.Named{Name: "y", Array: &npy.Array{Shape: []int{steps, batch, 1}, Float: y}}); err != nil {
		t.Fatal(err)
	}
	return path
}

func sinAt(t int, phase float64) float64 {
	return math.Sin(0.1*float64(t) + phase)
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDemoShort(t *testing.T) {
	code, out, errs := runCLI(t, "demo", "--time", "20")
	if code != 0 || !strings.Contains(out, "teacher") || !strings.Contains(out, "µs/step") {
		t.Fatalf("demo: exit %d\n%s%s", code, out, errs)
	}
}

func TestGradcheckCommand(t *testing.T) {
	path := filepath.Join(testutil.ReferenceDir(t), "trajectories", "mlp_adam_tau.json")
	code, out, errs := runCLI(t, "gradcheck", "--steps", "100", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || !strings.HasPrefix(lines[len(lines)-1], "max relative error") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runCLI(t, "gradcheck", "--tol", "1e-300", "--steps", "20", path); code != 1 {
		t.Errorf("a tolerance no float meets: exit %d, want 1", code)
	}
	if code, _, _ := runCLI(t, "gradcheck", "--tol", "0", "--steps", "20", path); code != 2 {
		t.Errorf("zero tolerance: exit %d, want 2 (usage)", code)
	}
}

func TestRunExperimentsShort(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "run", "lagline", "--variant", "gle,bptt-tw1", "--time", "20", "--log-every", "5", "--out", dir)
	if code != 0 || !strings.Contains(out, "bptt-tw1") {
		t.Fatalf("run lagline: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{"lagline.png", "lagline.svg", "lagline-gle.jsonl", "lagline-bptt-tw1.csv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, _ := runCLI(t, "run", "lagline", "--variant", "bptt-twX"); code != 2 {
		t.Errorf("bad variant: exit %d, want 2", code)
	}
	code, out, errs = runCLI(t, "run", "lagnet", "--time", "50", "--out", filepath.Join(dir, "lagnet"))
	if code != 0 || !strings.Contains(out, "theory gain") {
		t.Fatalf("run lagnet: exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runCLI(t, "run", "nonsense"); code != 2 {
		t.Errorf("unknown experiment: exit %d, want 2", code)
	}
	code, out, errs = runCLI(t, "run", "vle-align", "--tau-m", "0.1,1", "--time", "10", "--out", filepath.Join(dir, "vle"))
	if code != 0 || !strings.Contains(out, "recurrent-instant") || !strings.Contains(out, "diverged") {
		t.Fatalf("run vle-align: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "run", "vle-align", "--tau-m", "0.1,-1"); code != 2 || !strings.Contains(errs, `"-1" is not a positive number`) {
		t.Errorf("run vle-align --tau-m 0.1,-1: exit %d, %s", code, errs)
	}
	code, out, errs = runCLI(t, "run", "recurrent-memory", "--gaps", "0.5", "--trials", "30", "--variant", "bptt,gle-layered", "--out", filepath.Join(dir, "mem"))
	if code != 0 || !strings.Contains(out, "bptt") {
		t.Fatalf("run recurrent-memory: exit %d\n%s%s", code, out, errs)
	}
	for _, f := range []string{"vle/vle-align.jsonl", "vle/vle-align.png", "mem/recurrent-memory.jsonl", "mem/recurrent-memory.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestAlignCommand(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	const steps = 300
	x, y := make([]float64, steps), make([]float64, steps)
	for i := range steps {
		x[i], y[i] = sinAt(i, 0), 0.5*sinAt(i-5, 0)
	}
	data := filepath.Join(dir, "d.npz")
	npy.WriteNPZ(data, npy.Named{Name: "x", Array: &npy.Array{Shape: []int{steps, 1}, Float: x}},
		npy.Named{Name: "y", Array: &npy.Array{Shape: []int{steps, 1}, Float: y}})
	out := filepath.Join(dir, "align")
	code, stdout, errs := runCLI(t, "align", "--spec", spec, "--data", data, "--window", "50", "--out", out)
	if code != 0 || !strings.Contains(stdout, "cosine") {
		t.Fatalf("align: exit %d\n%s%s", code, stdout, errs)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(out, "alignment.jsonl"))), "\n")
	// 6 windows + the whole sequence; 2 layers of weight, bias and τm, and all.
	if len(lines) != 7*(2*3+1) {
		t.Errorf("%d alignment rows, want %d", len(lines), 7*(2*3+1))
	}
	// Any two methods: RTRL against BPTT agrees in every window (τr too).
	out2 := filepath.Join(dir, "align-rtrl")
	if code, stdout, errs := runCLI(t, "align", "--spec", spec, "--data", data, "--window", "50", "--method", "rtrl", "--against", "bptt", "--out", out2); code != 0 {
		t.Fatalf("align rtrl: exit %d\n%s%s", code, stdout, errs)
	}
	lines = strings.Split(strings.TrimSpace(readFile(t, filepath.Join(out2, "alignment.jsonl"))), "\n")
	if len(lines) != 7*(2*4+1) {
		t.Errorf("rtrl against bptt: %d rows, want %d", len(lines), 7*(2*4+1))
	}
	for _, l := range lines {
		var r struct {
			Cosine    *float64 `json:"cosine"`
			NormRatio *float64 `json:"norm_ratio"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatal(err)
		}
		if r.Cosine == nil || r.NormRatio == nil || math.Abs(*r.Cosine-1) > 1e-9 || math.Abs(*r.NormRatio-1) > 1e-9 {
			t.Errorf("rtrl against bptt: %s", l)
		}
	}
	if code, _, errs := runCLI(t, "align", "--spec", spec, "--data", data, "--against", "rtrl2", "--out", filepath.Join(dir, "x")); code != 2 || !strings.Contains(errs, "rtrl2") {
		t.Errorf("an unknown method: exit %d, %s", code, errs)
	}
}

// TestDataMNIST1D writes the canonical dataset through the CLI and
// compares it with the shared reference arrays.
func TestDataMNIST1D(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.npz")
	code, stdout, stderr := runCLI(t, "data", "mnist1d", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	got, err := npy.ReadNPZ(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := npy.ReadNPZ(filepath.Join(testutil.ReferenceDir(t), "mnist1d_len40_seed42.npz"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, w := range want {
		g := got[name]
		if g == nil {
			t.Errorf("%s missing", name)
			continue
		}
		if (w.Int == nil) != (g.Int == nil) {
			t.Errorf("%s: dtype %s, reference %s", name, g.DType, w.DType)
		}
		gv, wv := g.Float64s(), w.Float64s()
		for i := range wv {
			if math.Abs(gv[i]-wv[i]) > 1e-12 {
				t.Fatalf("%s[%d] = %v, reference %v", name, i, gv[i], wv[i])
			}
		}
	}
	if code, _, _ := runCLI(t, "data", "mnist1d", "--samples", "3"); code != 2 {
		t.Errorf("3 samples: exit %d, want 2", code)
	}
}

// TestMelCommand runs `gle mel` with the parameters of every recorded
// case (melspec_yes.json, and the band-limited melspec_yes_band.json
// through --f-min/--f-max) and compares the .npy it writes with the
// reference to 1e-6 relative (max |a−b| / max(1, |b|)).
func TestMelCommand(t *testing.T) {
	ref := testutil.ReferenceDir(t)
	wav := filepath.Join(ref, "yes_16k.wav")
	cases := 0
	for _, name := range []string{"melspec_yes.json", "melspec_yes_band.json"} {
		raw, err := os.ReadFile(filepath.Join(ref, name))
		if err != nil {
			t.Fatal(err)
		}
		var file struct {
			Cases map[string]struct {
				Params struct {
					NFFT  int     `json:"n_fft"`
					Hop   int     `json:"hop_length"`
					NMels int     `json:"n_mels"`
					FMin  float64 `json:"f_min"`
					FMax  float64 `json:"f_max"`
				} `json:"params"`
				LogMel [][]float64 `json:"log_mel"`
			} `json:"cases"`
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			t.Fatal(err)
		}
		for cname, c := range file.Cases {
			cases++
			p := c.Params
			out := filepath.Join(t.TempDir(), "m.npy")
			code, stdout, stderr := runCLI(t, "mel", wav, "--n-fft", fmt.Sprint(p.NFFT), "--hop", fmt.Sprint(p.Hop), "--n-mels", fmt.Sprint(p.NMels),
				"--f-min", fmt.Sprint(p.FMin), "--f-max", fmt.Sprint(p.FMax), "--out", out)
			if code != 0 {
				t.Fatalf("%s: exit %d\n%s%s", cname, code, stdout, stderr)
			}
			a, err := npy.ReadFile(out, 0)
			if err != nil {
				t.Fatal(err)
			}
			frames := len(c.LogMel[0])
			if len(a.Shape) != 2 || a.Shape[0] != p.NMels || a.Shape[1] != frames {
				t.Errorf("%s: shape %v, want [%d %d]", cname, a.Shape, p.NMels, frames)
				continue
			}
			var worst float64
			for m, row := range c.LogMel {
				for f, want := range row {
					worst = math.Max(worst, math.Abs(a.Float[m*frames+f]-want)/math.Max(1, math.Abs(want)))
				}
			}
			if !(worst <= 1e-6) {
				t.Errorf("%s: max relative error %.3g > 1e-6", cname, worst)
			}
		}
	}
	if cases < 4 {
		t.Errorf("%d reference cases, want the 4 recorded", cases)
	}
	out := filepath.Join(t.TempDir(), "m.npy")
	if code, _, _ := runCLI(t, "mel", filepath.Join(ref, "melspec_yes.json"), "--out", out); code != 1 {
		t.Errorf("non-WAV input: exit %d, want 1", code)
	}
}

func TestReportCommand(t *testing.T) {
	run := t.TempDir()
	for seed, accs := range map[int][]float64{1: {0.2, 0.5, 0.6}, 2: {0.3, 0.4, 0.8}} {
		var lines []string
		for i, a := range accs {
			b, _ := json.Marshal(map[string]any{"epoch": i + 1, "test_acc": a, "test_loss": 2 - a, "train_acc": a, "train_loss": 2 - a})
			lines = append(lines, string(b))
		}
		os.WriteFile(filepath.Join(run, fmt.Sprintf("seed%d.jsonl", seed)), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	}
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "report", run, "--out", out)
	if code != 0 || !strings.Contains(stdout, "| 2 | 3 | 70.00 ± 10.00 | 14.14 | 60.00–80.00 | 70.00 ± 10.00 |") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "report.png")); err != nil {
		t.Error(err)
	}
	if code, _, _ := runCLI(t, "report", t.TempDir()); code != 1 {
		t.Errorf("a folder without metrics: exit %d, want 1", code)
	}
}

func TestSlurmCommand(t *testing.T) {
	code, out, errs := runCLI(t, "slurm", "--seeds", "1-4", "--out", "runs/x", "run", "mnist1d-e2e", "--epochs", "5")
	if code != 0 || !strings.Contains(out, "#SBATCH --array=1-4") ||
		!strings.Contains(out, `gle run mnist1d-e2e --epochs 5 --seed "$SLURM_ARRAY_TASK_ID" --out runs/x --resume`) {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if code, _, _ := runCLI(t, "slurm", "--seeds", "1-4"); code != 2 {
		t.Errorf("no experiment: exit %d, want 2", code)
	}
}

func TestPlotCommand(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := runCLI(t, "run", "lagline", "--variant", "gle", "--time", "5", "--out", dir); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	os.Remove(filepath.Join(dir, "lagline.png"))
	if code, out, errs := runCLI(t, "plot", dir); code != 0 || !strings.Contains(out, "drew 1") {
		t.Fatalf("plot: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "lagline.png")); err != nil {
		t.Error(err)
	}
	if code, _, _ := runCLI(t, "plot", t.TempDir()); code != 1 {
		t.Errorf("empty folder: exit %d, want 1", code)
	}
}

const cliGraphSpec = `
dt: 0.1
loss: mse
beta: 1
prospective_errors: true
inputs: 1
output: out
seed: 4
optimizer: {kind: adam, lr: 0.001}
populations:
  - {name: h, size: 8, phi: tanh, tau_m: 0.5, tau_r: [{n: 4, value: 0.1}, {n: 4, value: 0.5}]}
  - {name: out, size: 1, phi: linear, tau_m: 0.5, tau_r: 0.5}
projections:
  - {from: input, to: h}
  - {from: h, to: out}
  - {from: input, to: out}
`

// TestGraphSpecCLI trains and simulates a graph with a skip projection
// declared in a spec file through the same commands as layered networks.
func TestGraphSpecCLI(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "graph.yaml")
	os.WriteFile(spec, []byte(cliGraphSpec), 0o644)
	dataPath := delayedSine(t, dir)
	// The untrained network's loss, from gle simulate.
	code, stdout, stderr := runCLI(t, "simulate", "--spec", spec, "--data", dataPath)
	var untrained float64
	if _, err := fmt.Sscanf(stdout[strings.Index(stdout, "mean loss"):], "mean loss %g", &untrained); code != 0 || err != nil {
		t.Fatalf("simulate: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	metrics, out := filepath.Join(dir, "m.jsonl"), filepath.Join(dir, "out.npz")
	code, stdout, stderr = runCLI(t, "train", "--spec", spec, "--data", dataPath, "--epochs", "30",
		"--metrics", metrics, "--out", out, "--run-dir", filepath.Join(dir, "run"))
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, metrics)), "\n")
	var last struct {
		Loss float64 `json:"train_loss"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	t.Logf("graph: untrained loss %.4g, after 30 epochs %.4g", untrained, last.Loss)
	if len(lines) != 30 || !(last.Loss < 0.4*untrained) {
		t.Errorf("%d epochs, loss %.4g untrained → %.4g: want 30 epochs and the loss below 40 %% of it", len(lines), untrained, last.Loss)
	}
	arrs, err := npy.ReadNPZ(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"output", "projections.2.weight", "populations.h.tau_m", "populations.out.r"} {
		if _, ok := arrs[name]; !ok {
			t.Errorf("%s: no array %q", out, name)
		}
	}
	if code, stdout, stderr := runCLI(t, "simulate", "--spec", spec, "--data", dataPath); code != 0 || !strings.Contains(stdout, "simulated 400 steps × 2 samples") {
		t.Errorf("simulate: exit %d\n%s%s", code, stdout, stderr)
	}
	checkResume(t, dir, spec, dataPath)
	// The learned graph spec reloads and simulates.
	if code, stdout, stderr := runCLI(t, "simulate", "--spec", filepath.Join(dir, "c.json"), "--data", dataPath); code != 0 || !strings.Contains(stdout, "simulated") {
		t.Errorf("simulate the learned graph spec: exit %d\n%s%s", code, stdout, stderr)
	}
	// A layered checkpoint does not resume a graph run.
	layered := filepath.Join(dir, "layered.yaml")
	os.WriteFile(layered, []byte(cliSpec), 0o644)
	ck := filepath.Join(dir, "layered.ckpt")
	runCLI(t, "train", "--spec", layered, "--data", dataPath, "--checkpoint", ck, "--run-dir", filepath.Join(dir, "run4"))
	if code, _, stderr := runCLI(t, "train", "--spec", spec, "--data", dataPath, "--checkpoint", ck, "--resume", "--run-dir", filepath.Join(dir, "run5")); code != 1 || !strings.Contains(stderr, "checkpoint of another run: parameters: ") || !strings.Contains(stderr, "spec.inputs: checkpoint absent, now 1") {
		t.Errorf("resume a graph run from a layered checkpoint: exit %d, %s", code, stderr)
	}
	if code, stdout, stderr := runCLI(t, "align", "--spec", spec, "--data", dataPath, "--out", filepath.Join(dir, "align")); code != 0 || !strings.Contains(stdout, "projections.0.weight") {
		t.Errorf("align with a graph spec: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, "trace", "--spec", spec, "--data", dataPath, "--out", filepath.Join(dir, "trace")); code != 0 || !strings.Contains(stdout, "trace.npz") {
		t.Errorf("trace with a graph spec: exit %d, %s%s", code, stdout, stderr)
	}
	bad := strings.Replace(cliGraphSpec, "{from: h, to: out}", "{from: h, to: nowhere}", 1)
	os.WriteFile(spec, []byte(bad), 0o644)
	if code, _, stderr := runCLI(t, "simulate", "--spec", spec, "--data", dataPath); code != 1 || !strings.Contains(stderr, "projections[1].to = nowhere") {
		t.Errorf("dangling projection: exit %d, %s", code, stderr)
	}
}

// TestTrainFloat32: gle train --float32 learns as the float64 run does,
// resumes bit-identically in float32, refuses to resume a checkpoint in
// the other precision, and runs graph specs in float32 too.
func TestTrainFloat32(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	dataPath := delayedSine(t, dir)
	losses := map[bool][]float64{}
	for _, f32 := range []bool{false, true} {
		metrics := filepath.Join(dir, fmt.Sprintf("m%v.jsonl", f32))
		args := []string{"train", "--spec", spec, "--data", dataPath, "--epochs", "30", "--metrics", metrics, "--run-dir", filepath.Join(dir, fmt.Sprint("run", f32))}
		if f32 {
			args = append(args, "--float32")
		}
		if code, stdout, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("train float32=%v: exit %d\n%s%s", f32, code, stdout, stderr)
		}
		for _, line := range strings.Split(strings.TrimSpace(readFile(t, metrics)), "\n") {
			var m struct {
				Loss float64 `json:"train_loss"`
			}
			json.Unmarshal([]byte(line), &m)
			losses[f32] = append(losses[f32], m.Loss)
		}
	}
	l64, l32 := losses[false], losses[true]
	t.Logf("loss %.4g → %.4g (float64), %.4g → %.4g (float32)", l64[0], l64[29], l32[0], l32[29])
	if math.Abs(l32[0]-l64[0]) > 1e-5*l64[0] || math.Abs(l32[29]-l64[29]) > 0.05*l64[29] {
		t.Errorf("float32 losses %g … %g differ from float64 %g … %g", l32[0], l32[29], l64[0], l64[29])
	}

	ck := filepath.Join(dir, "f32.ckpt")
	train := func(epochs int, out string, extra ...string) (int, string) {
		args := append([]string{"train", "--spec", spec, "--data", dataPath, "--epochs", fmt.Sprint(epochs), "--save-spec", filepath.Join(dir, out),
			"--run-dir", filepath.Join(dir, "run-"+out)}, extra...)
		code, _, stderr := runCLI(t, args...)
		return code, stderr
	}
	train(3, "a.json", "--float32", "--checkpoint", ck)
	if code, stderr := train(5, "x.json", "--checkpoint", ck, "--resume"); code != 1 || !strings.Contains(stderr, "precision: checkpoint float32, now float64") {
		t.Errorf("float64 resume of a float32 checkpoint: exit %d, %s", code, stderr)
	}
	train(5, "b.json", "--float32", "--checkpoint", ck, "--resume")
	train(5, "c.json", "--float32")
	if b, c := readFile(t, filepath.Join(dir, "b.json")), readFile(t, filepath.Join(dir, "c.json")); b != c {
		t.Error("resumed float32 training differs from uninterrupted float32 training")
	}
	graphSpec := filepath.Join(dir, "graph.yaml")
	os.WriteFile(graphSpec, []byte(cliGraphSpec), 0o644)
	if code, stdout, stderr := runCLI(t, "simulate", "--spec", graphSpec, "--data", dataPath, "--float32"); code != 0 || !strings.Contains(stdout, "simulated") {
		t.Errorf("graph spec with --float32: exit %d, %s%s", code, stdout, stderr)
	}
}

// TestBenchJSON: gle bench --json prints the documented fields for the
// chosen workloads, with the speed-up against the reference figure of docs/performance.md; an unknown
// workload is a usage error.
func TestBenchJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "bench", "--json", "--workload", "lagline,mnist1d-e2e-f32", "--reps", "1", "--min-time", "1ms")
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s%s", code, stdout, stderr)
	}
	var rs []experiments.BenchResult
	if err := json.Unmarshal([]byte(stdout), &rs); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(rs) != 2 || rs[0].Workload != "lagline" || rs[1].Workload != "mnist1d-e2e-f32" {
		t.Fatalf("workloads %+v", rs)
	}
	for i, r := range rs {
		if !(r.MSPerStep > 0) || !(r.GFLOPS > 0) || r.ReferenceMS != []float64{0.478, 2.19}[i] ||
			math.Abs(r.Speedup-r.ReferenceMS/r.MSPerStep) > 1e-9*r.Speedup {
			t.Errorf("%+v", r)
		}
		if _, err := os.Stat("/proc/self/status"); err == nil && r.PeakRSSKB <= 0 {
			t.Errorf("%s: no peak RSS: %+v", r.Workload, r)
		}
	}
	if code, _, stderr := runCLI(t, "bench", "--workload", "nope"); code != 2 || !strings.Contains(stderr, "nope") {
		t.Errorf("unknown workload: exit %d, %s", code, stderr)
	}
}

// TestGradCommand: gle grad writes one array per parameter tensor for
// every method; tbptt over the whole run equals bptt, and so does rtrl
// (to rounding).
func TestGradCommand(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	data := delayedSine(t, dir)
	grads := map[string]map[string]*npy.Array{}
	for _, m := range []string{"bptt", "tbptt:400", "tbptt:20", "adjoint", "rtrl", "snap1", "snap2", "gle"} {
		out := filepath.Join(dir, strings.ReplaceAll(m, ":", "-")+".npz")
		if code, stdout, errs := runCLI(t, "grad", "--spec", spec, "--data", data, "--method", m, "--out", out); code != 0 {
			t.Fatalf("grad %s: exit %d\n%s%s", m, code, stdout, errs)
		}
		a, err := npy.ReadNPZ(out, 0)
		if err != nil {
			t.Fatal(err)
		}
		grads[m] = a
	}
	if len(grads["bptt"]) != 8 || grads["bptt"]["layers.0.weight"] == nil || grads["bptt"]["layers.1.tau_r"] == nil {
		t.Errorf("tensors %v", grads["bptt"])
	}
	for name, a := range grads["bptt"] {
		if !slices.Equal(a.Float, grads["tbptt:400"][name].Float) {
			t.Errorf("%s: tbptt over the whole run differs from bptt", name)
		}
	}
	for name, a := range grads["bptt"] {
		var scale, diff float64
		for i, v := range a.Float {
			scale, diff = max(scale, math.Abs(v)), max(diff, math.Abs(grads["rtrl"][name].Float[i]-v))
		}
		if !(diff <= 1e-9*scale) { // NaN fails too
			t.Errorf("%s: rtrl differs from bptt by %.3g (scale %.3g)", name, diff, scale)
		}
	}
	if code, _, errs := runCLI(t, "grad", "--spec", spec, "--data", data, "--method", "rprop", "--out", filepath.Join(dir, "x.npz")); code != 2 || !strings.Contains(errs, `"rprop"`) {
		t.Errorf("unknown method: exit %d, %s", code, errs)
	}
}

// TestOnlineRulesCommand: a small gle run online-rules writes the cost
// and learning tables, figures and results; --resume finds everything
// done; a changed configuration is refused, naming the field.
func TestOnlineRulesCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "online")
	args := []string{"run", "online-rules", "--sizes", "4,8", "--batches", "1", "--min-time", "1ms", "--seeds", "1,2",
		"--trials", "12", "--align-every", "6", "--variant", "snap1,rtrl,bptt", "--recall-gaps", "0.5", "--sum-gaps", "0.5", "--jobs", "2", "--out", dir}
	code, stdout, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, errs)
	}
	for _, f := range []string{"cost.jsonl", "cost.md", "cost.png", "cost-fits.jsonl", "learning.jsonl", "online-rules.md", "learning.svg", "identity.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(dir, "learning.jsonl"))), "\n")
	if len(lines) != 2*2*3 { // tasks × seeds × variants (one gap each)
		t.Errorf("%d learning results, want 12", len(lines))
	}
	md := readFile(t, filepath.Join(dir, "online-rules.md"))
	for _, want := range []string{"| rtrl |", "## sum", "| snap1 | 0.5 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("online-rules.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| bptt | 0.5 |") {
		t.Errorf("an alignment row for bptt, the exact gradient itself:\n%s", md)
	}
	code, stdout, errs = runCLI(t, append(args, "--resume")...)
	if code != 0 || !strings.Contains(stdout, "0 to go") {
		t.Errorf("resume: exit %d\n%s%s", code, stdout, errs)
	}
	changed := slices.Clone(args)
	changed[slices.Index(changed, "12")] = "13"
	if code, _, errs := runCLI(t, append(changed, "--resume")...); code != 1 || !strings.Contains(errs, "Recall.Trials: was 12, now 13") {
		t.Errorf("resume with other trials: exit %d, %s", code, errs)
	}
}

// TestRunMNIST1DSplit: a run with --validation says everywhere that it
// evaluated on the held-out training samples, and leaves the paper's
// (test) number out; a run on the test set says test and cites it.
func TestRunMNIST1DSplit(t *testing.T) {
	dir := t.TempDir()
	short := []string{"run", "mnist1d-lagnet", "--epochs", "1", "--train-samples", "300", "--test-samples", "100"}
	code, out, errs := runCLI(t, append(short, "--validation", "100", "--out", filepath.Join(dir, "val"))...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "validation loss") || !strings.Contains(out, "validation accuracy (one seed)") || strings.Contains(out, "test") || strings.Contains(out, "paper") {
		t.Errorf("a validation run's output:\n%s", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "val", "summary.json")); !strings.Contains(string(b), `"evaluated_on": "validation"`) {
		t.Errorf("summary.json: %s", b)
	}
	if code, out, errs := runCLI(t, "report", filepath.Join(dir, "val")); code != 0 || !strings.Contains(out, "| validation (100 held-out training samples) |") {
		t.Errorf("gle report of a validation run: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, append(short, "--out", filepath.Join(dir, "test"))...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "test loss") || !strings.Contains(out, "test accuracy (one seed)") || !strings.Contains(out, "paper: 90.89") || strings.Contains(out, "validation") {
		t.Errorf("a test run's output:\n%s", out)
	}
}
