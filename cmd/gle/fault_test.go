package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gle-go/gle/npy"
)

// TestMain lets the tests run the command as a separate process: the test
// binary itself, started with GLE_RUN_MAIN=1, is gle.
func TestMain(m *testing.M) {
	if os.Getenv("GLE_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// gleProcess returns the command gle args, run by the test binary.
func gleProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "GLE_RUN_MAIN=1")
	return cmd
}

// epochLines returns the epoch records of a metrics file without their
// timings, and fails on any line that is not whole JSON.
func epochLines(t *testing.T, path string) []string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: a line that is not a whole record: %q", path, sc.Text())
		}
		delete(r, "seconds")
		b, _ := json.Marshal(r)
		out = append(out, string(b))
	}
	return out
}

// TestKilledTrainingResumes is the fault-injection test: gle train is
// stopped at random moments by SIGTERM (graceful: exit 143, checkpoint and
// metrics written) or SIGKILL (nothing written at all), then resumed with
// --resume until it finishes. Every run must end with exactly the outputs,
// learned spec and metrics of an uninterrupted run — bit for bit, each
// epoch once.
func TestKilledTrainingResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dozen processes")
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	data := delayedSine(t, dir)
	const epochs = 40
	train := func(run string, extra ...string) *exec.Cmd {
		return gleProcess(t, append([]string{"train", "--spec", spec, "--data", data, "--epochs", fmt.Sprint(epochs),
			"--log-every", "100", "--run-dir", filepath.Join(dir, run)}, extra...)...)
	}
	start := time.Now()
	if out, err := train("clean").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	full := time.Since(start)
	var signals, interrupted, resumes int
	for seed := range 8 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		sig := syscall.SIGTERM
		if seed%2 == 1 {
			sig = syscall.SIGKILL
		}
		run := fmt.Sprintf("run%d", seed)
		cmd := train(run)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration((0.1 + 0.7*rng.Float64()) * float64(full)))
		cmd.Process.Signal(sig)
		signals++
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil: // finished before the signal arrived
		case sig == syscall.SIGTERM && errors.As(err, &exit) && exit.ExitCode() == 143:
			interrupted++
			if !strings.Contains(stderr.String(), "stopped by SIGTERM") {
				t.Errorf("seed %d: SIGTERM message %q", seed, stderr.String())
			}
		case sig == syscall.SIGKILL && errors.As(err, &exit):
			interrupted++
		default:
			t.Fatalf("seed %d: %v after %v (%s)", seed, err, sig, stderr.String())
		}
		out, err := train(run, "--resume").CombinedOutput()
		resumes++
		if err != nil {
			t.Fatalf("seed %d: the resume failed: %v\n%s", seed, err, out)
		}
		sameAsClean(t, dir, run)
	}
	t.Logf("%d signals sent, %d runs interrupted, %d resumes; every run bit-identical to the uninterrupted one (%v)", signals, interrupted, resumes, full)
	if interrupted < signals/2 {
		t.Errorf("only %d of %d runs were interrupted: the signals came too late to test anything", interrupted, signals)
	}
}

// TestStopWithinEpoch: a SIGTERM in the middle of a run's only epoch
// stops it after the current step with a checkpoint of the steps taken;
// --resume continues at that step and ends exactly as the uninterrupted
// run.
func TestStopWithinEpoch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	train := wideTrainer(t, dir, "--data", sineSeries(t, filepath.Join(dir, "long.npz"), 20000), "--log-every", "500")
	if out, err := train("clean").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	stdout, _, err := interrupt(t, train("stopped"), filepath.Join(dir, "stopped", "metrics.jsonl"), 0, 1)
	if err == nil {
		t.Fatal("the run finished before the signal: make its sequence longer")
	}
	if !strings.Contains(stdout, "stopped at step") || !strings.Contains(stdout, "of 20000 of epoch 1") {
		t.Fatalf("no checkpoint within the epoch:\n%s", stdout)
	}
	// The saved sums are for --log-every 500: another value is refused.
	if out, err := train("stopped", "--resume", "--log-every", "400").CombinedOutput(); err == nil || !strings.Contains(string(out), "log_every = 400: the run of") || !strings.Contains(string(out), "logging every 500 steps: resume it with the same interval") {
		t.Errorf("resume with another --log-every: %v\n%s", err, out)
	}
	if out, err := train("stopped", "--resume").CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	sameAsClean(t, dir, "stopped")

	// Two signals in a row: the second exits at once, leaves no temporary
	// file, and the run resumes from what was saved before it.
	_, stderr, err := interrupt(t, train("twice"), filepath.Join(dir, "twice", "metrics.jsonl"), 0, 2)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 143 {
		t.Fatalf("two SIGTERMs: %v, want exit 143\n%s", err, stderr)
	}
	t.Logf("two SIGTERMs: %s", strings.TrimSpace(stderr))
	if tmp, _ := filepath.Glob(filepath.Join(dir, "twice", ".*tmp*")); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
	if out, err := train("twice", "--resume").CombinedOutput(); err != nil {
		t.Fatalf("resume after two signals: %v\n%s", err, out)
	}
	sameAsClean(t, dir, "twice")
}

// TestStopDuringValidation: a stop while --val-data is evaluated after an
// epoch keeps the epoch's training (the resume only validates), and a
// resume that would end the run before the stopped epoch is refused.
func TestStopDuringValidation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := t.TempDir()
	train := wideTrainer(t, dir, "--data", sineSeries(t, filepath.Join(dir, "short.npz"), 200),
		"--val-data", sineSeries(t, filepath.Join(dir, "val.npz"), 60000), "--epochs", "3")
	if out, err := train("clean").CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	// The first epoch's metrics line, then 20 ms: in the second epoch's
	// validation (its training takes 200 of its 60,200 steps).
	stdout, _, err := interrupt(t, train("stopped"), filepath.Join(dir, "stopped", "metrics.jsonl"), 20*time.Millisecond, 1)
	if err == nil {
		t.Fatal("the run finished before the signal")
	}
	if !strings.Contains(stdout, "stopped at the validation evaluation after epoch 2") {
		t.Fatalf("not stopped in the second epoch's validation:\n%s", stdout)
	}
	if out, err := train("stopped", "--resume", "--epochs", "1").CombinedOutput(); err == nil || !strings.Contains(string(out), "epochs = 1: the run of") || !strings.Contains(string(out), "stopped within epoch 2: fewer epochs would end it before that epoch") {
		t.Errorf("resume with fewer epochs: %v\n%s", err, out)
	}
	out, err := train("stopped", "--resume").CombinedOutput()
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "epoch 2/3") {
		t.Errorf("the resume did not finish epoch 2:\n%s", out)
	}
	sameAsClean(t, dir, "stopped")
}

const wideSpec = `
dt: 0.1
loss: mse
seed: 4
optimizer: {kind: adam, lr: 0.001}
layers:
  - {in: 1, out: 300, phi: tanh, tau_m: 0.5, tau_r: 0.1}
  - {in: 300, out: 1, tau_m: 0.5, tau_r: 0.5}
`

// wideTrainer writes wideSpec into dir and returns a builder of gle train
// commands with it, args, and the run folder dir/run.
func wideTrainer(t *testing.T, dir string, args ...string) func(run string, extra ...string) *exec.Cmd {
	spec := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(spec, []byte(wideSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(run string, extra ...string) *exec.Cmd {
		all := append([]string{"train", "--spec", spec, "--run-dir", filepath.Join(dir, run)}, args...)
		return gleProcess(t, append(all, extra...)...)
	}
}

// sineSeries writes a one-sample series of steps frames to path: a sine
// and, as the target, half of it delayed by 5 steps.
func sineSeries(t *testing.T, path string, steps int) string {
	t.Helper()
	x, y := make([]float64, steps), make([]float64, steps)
	for i := range steps {
		x[i], y[i] = sinAt(i, 0), 0.5*sinAt(i-5, 0)
	}
	if err := npy.WriteNPZ(path, npy.Named{Name: "x", Array: &npy.Array{Shape: []int{steps, 1, 1}, Float: x}},
		npy.Named{Name: "y", Array: &npy.Array{Shape: []int{steps, 1, 1}, Float: y}}); err != nil {
		t.Fatal(err)
	}
	return path
}

// interrupt starts cmd, waits for the first line of its metrics file and
// then for delay, sends it n SIGTERMs a millisecond apart, and returns its
// output and exit error.
func interrupt(t *testing.T, cmd *exec.Cmd, metrics string, delay time.Duration, n int) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if b, _ := os.ReadFile(metrics); len(b) > 0 {
			break
		}
	}
	time.Sleep(delay)
	for range n {
		cmd.Process.Signal(syscall.SIGTERM)
		time.Sleep(time.Millisecond)
	}
	err := cmd.Wait()
	return stdout.String(), stderr.String(), err
}

// sameAsClean compares the metrics (without timings), learned spec and
// out.npz arrays of run with those of the run "clean" in dir.
func sameAsClean(t *testing.T, dir, run string) {
	t.Helper()
	if got, want := epochLines(t, filepath.Join(dir, run, "metrics.jsonl")), epochLines(t, filepath.Join(dir, "clean", "metrics.jsonl")); !slices.Equal(got, want) {
		t.Errorf("%s: metrics after the resume:\n%s\nwant\n%s", run, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	a, _ := os.ReadFile(filepath.Join(dir, "clean", "learned.json"))
	if b, _ := os.ReadFile(filepath.Join(dir, run, "learned.json")); len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("%s: the learned spec differs from the uninterrupted run's", run)
	}
	want, err := npy.ReadNPZ(filepath.Join(dir, "clean", "out.npz"), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := npy.ReadNPZ(filepath.Join(dir, run, "out.npz"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range want {
		if b := got[name]; b == nil || !slices.Equal(a.Float, b.Float) {
			t.Errorf("%s: out.npz %s differs from the uninterrupted run's", run, name)
		}
	}
}

// TestResumeRefusesChanges: resuming with another spec or learning rate is
// refused, naming what differs; resuming a finished run says so and
// touches nothing.
func TestResumeRefusesChanges(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	data := delayedSine(t, dir)
	run := filepath.Join(dir, "run")
	if code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "2", "--run-dir", run); code != 0 {
		t.Fatalf("train: %d\n%s%s", code, out, errs)
	}
	before := map[string][]byte{}
	for _, f := range []string{"out.npz", "summary.json", "metrics.jsonl", "checkpoint.gob", "learned.json"} {
		before[f], _ = os.ReadFile(filepath.Join(run, f))
	}
	code, out, _ := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "2", "--run-dir", run, "--resume")
	if code != 0 || !strings.Contains(out, "already finished") {
		t.Errorf("resume of a finished run: exit %d, %s", code, out)
	}
	for f, b := range before {
		if now, _ := os.ReadFile(filepath.Join(run, f)); !bytes.Equal(now, b) {
			t.Errorf("resuming the finished run changed %s", f)
		}
	}
	changed := filepath.Join(dir, "changed.yaml")
	os.WriteFile(changed, []byte(strings.Replace(cliSpec, "lr: 0.001", "lr: 0.002", 1)), 0o644)
	if code, _, errs := runCLI(t, "train", "--spec", changed, "--data", data, "--epochs", "4", "--run-dir", run, "--resume"); code != 1 || !strings.Contains(errs, "checkpoint of another run: spec.optimizer.lr: checkpoint 0.001, now 0.002") {
		t.Errorf("resume with another lr: exit %d, %s", code, errs)
	}
	// A mistyped --checkpoint does not start the run over in its folder.
	if code, _, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "4", "--run-dir", run, "--resume", "--checkpoint", filepath.Join(dir, "typo.gob")); code != 1 || !strings.Contains(errs, "no checkpoint") {
		t.Errorf("resume from a missing checkpoint: exit %d, %s", code, errs)
	}
	for f, b := range before {
		if now, _ := os.ReadFile(filepath.Join(run, f)); !bytes.Equal(now, b) {
			t.Errorf("resuming from a missing checkpoint changed %s", f)
		}
	}
	if code, _, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "4", "--run-dir", run, "--resume", "--reset"); code != 1 || !strings.Contains(errs, "reset") {
		t.Errorf("resume with --reset: exit %d, %s", code, errs)
	}
	if code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "4", "--run-dir", run, "--resume"); code != 0 || !strings.Contains(out, "epoch 4/4") {
		t.Errorf("resume with more epochs: exit %d, %s%s", code, out, errs)
	}
	// A run stopped after an epoch's checkpoint and before its metrics
	// line: the resume restores the line from the checkpoint, both for a
	// finished run and for one that continues.
	metrics := filepath.Join(run, "metrics.jsonl")
	whole, _ := os.ReadFile(metrics)
	four := epochLines(t, metrics)
	lines := strings.SplitAfter(strings.TrimSuffix(string(whole), "\n"), "\n")
	os.WriteFile(metrics, []byte(strings.Join(lines[:len(lines)-1], "")), 0o644)
	if code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "4", "--run-dir", run, "--resume"); code != 0 || !strings.Contains(out, "already finished") {
		t.Errorf("resume of a finished run without its last metrics line: exit %d, %s%s", code, out, errs)
	}
	if now, _ := os.ReadFile(metrics); !bytes.Equal(now, whole) {
		t.Errorf("metrics after the resume:\n%s\nwant\n%s", now, whole)
	}
	os.WriteFile(metrics, []byte(strings.Join(lines[:len(lines)-1], "")), 0o644)
	if code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "5", "--run-dir", run, "--resume"); code != 0 || !strings.Contains(out, "epoch 5/5") {
		t.Errorf("resume without the last metrics line: exit %d, %s%s", code, out, errs)
	}
	if got := epochLines(t, metrics); len(got) != 5 || !slices.Equal(got[:4], four) {
		t.Errorf("metrics after the resume: %q", got)
	}
}

// TestNothingOverwritten: outputs that exist are kept unless --force, the
// input is never overwritten, --save-spec keeps the format of its
// extension, and an unwritable output is reported before training.
func TestNothingOverwritten(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	data := delayedSine(t, dir)
	if code, _, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--out", data, "--run-dir", filepath.Join(dir, "a")); code != 1 || !strings.Contains(errs, "is an input") {
		t.Errorf("--out = --data: exit %d, %s", code, errs)
	}
	kept := filepath.Join(dir, "kept.npz")
	os.WriteFile(kept, []byte("mine"), 0o644)
	if code, _, errs := runCLI(t, "simulate", "--spec", spec, "--data", data, "--out", kept); code != 1 || !strings.Contains(errs, "--force") {
		t.Errorf("existing --out: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--save-spec", filepath.Join(dir, "learned.txt"), "--run-dir", filepath.Join(dir, "b")); code != 2 || !strings.Contains(errs, "want a .json, .yaml, .yml or .safetensors file") {
		t.Errorf("--save-spec .txt: exit %d, %s", code, errs)
	}
	folder := filepath.Join(dir, "folder.npz")
	os.Mkdir(folder, 0o755)
	if code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--out", folder, "--force", "--run-dir", filepath.Join(dir, "c")); code != 1 || !strings.Contains(errs, "is a folder") || strings.Contains(out, "epoch") {
		t.Errorf("--out a folder: exit %d, %s%s", code, out, errs)
	}
	if b, _ := os.ReadFile(kept); string(b) != "mine" {
		t.Error("an existing output was overwritten")
	}
	if code, _, errs := runCLI(t, "simulate", "--spec", spec, "--data", data, "--out", kept, "--force"); code != 0 {
		t.Errorf("--force: exit %d, %s", code, errs)
	}
	yml := filepath.Join(dir, "learned.yaml")
	if code, _, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--save-spec", yml, "--run-dir", filepath.Join(dir, "b")); code != 0 {
		t.Fatalf("train: %d %s", code, errs)
	}
	if b, _ := os.ReadFile(yml); bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) || !bytes.Contains(b, []byte("layers:")) {
		t.Errorf("--save-spec .yaml wrote %q", b[:min(len(b), 40)])
	}
	start := time.Now()
	if code, _, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "50", "--out", filepath.Join(dir, "no", "such", "o.npz"), "--run-dir", filepath.Join(dir, "c")); code != 1 || !strings.Contains(errs, filepath.Join(dir, "no", "such", "o.npz")) || strings.Contains(errs, ".tmp") {
		t.Errorf("unwritable --out: exit %d, %s", code, errs)
	}
	if m, _ := os.ReadFile(filepath.Join(dir, "c", "metrics.jsonl")); len(m) > 0 || time.Since(start) > 5*time.Second {
		t.Error("training ran before the unwritable output was found")
	}
}

// TestTauMStaysValid: learning τm with a large learning rate keeps every
// τm ≥ dt (tau_m_min defaults to dt) and the run's own spec reloads; a
// tau_m_min below dt is refused.
func TestTauMStaysValid(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	learn := strings.Replace(strings.Replace(cliSpec, "lr: 0.001", "lr: 0.05", 1), "tau_m: 0.5,", "tau_m: 0.5, learn_tau_m: true,", -1)
	os.WriteFile(spec, []byte(learn), 0o644)
	data := delayedSine(t, dir)
	run := filepath.Join(dir, "run")
	code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "10", "--run-dir", run)
	if code != 0 {
		t.Fatalf("train: %d\n%s%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "simulate", "--spec", filepath.Join(run, "learned.json"), "--data", data); code != 0 {
		t.Errorf("the learned spec does not reload: %s", errs)
	}
	if !strings.Contains(readFile(t, filepath.Join(run, "metrics.jsonl")), `"tau_m":{`) {
		t.Error("no τm statistics in the metrics")
	}
	low := filepath.Join(dir, "low.yaml")
	os.WriteFile(low, []byte("tau_m_min: 0.01\n"+learn), 0o644)
	if code, _, errs := runCLI(t, "train", "--spec", low, "--data", data, "--run-dir", filepath.Join(dir, "r2")); code != 1 || !strings.Contains(errs, "tau_m_min = 0.01") {
		t.Errorf("tau_m_min below dt: exit %d, %s", code, errs)
	}
}

// FuzzCLI feeds fuzzed spec files and data to gle simulate and gle train:
// whatever the bytes, the command exits with a code (0, 1 or 2), never a
// panic.
func FuzzCLI(f *testing.F) {
	f.Add([]byte(cliSpec), 3, 1.5, uint8(0))
	f.Add([]byte(cliGraphSpec), 5, -0.5, uint8(1))
	f.Add([]byte(`{"dt": 0.1, "layers": [{"in": 2, "out": 1, "tau_m": 1, "tau_r": 1}]}`), 2, 0.0, uint8(2))
	f.Fuzz(func(t *testing.T, spec []byte, steps int, v float64, layout uint8) {
		dir := t.TempDir()
		sp := filepath.Join(dir, "s.yaml")
		os.WriteFile(sp, spec, 0o644)
		steps = 1 + (steps%50+50)%50
		x, y := make([]float64, steps), make([]float64, steps)
		for i := range x {
			x[i], y[i] = v*float64(i%7), -v
		}
		dp := filepath.Join(dir, "d.npz")
		npy.WriteNPZ(dp, npy.Named{Name: "x", Array: &npy.Array{Shape: []int{steps, 1}, Float: x}},
			npy.Named{Name: "y", Array: &npy.Array{Shape: []int{steps, 1}, Float: y}})
		extra := []string{}
		if layout%2 == 1 {
			extra = append(extra, "--batch-major")
		}
		for _, args := range [][]string{
			append([]string{"simulate", "--spec", sp, "--data", dp, "--max-memory", "64M"}, extra...),
			append([]string{"train", "--spec", sp, "--data", dp, "--epochs", "2", "--run-dir", filepath.Join(dir, "r"), "--max-memory", "64M", "--figures=false"}, extra...),
		} {
			if code, _, _ := runCLI(t, args...); code < 0 || code > 2 {
				t.Fatalf("%v: exit %d", args, code)
			}
		}
	})
}
