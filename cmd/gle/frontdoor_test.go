package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/npy"
)

// writeNPZ writes named float arrays (and int64 label arrays) to path.
func writeNPZ(t *testing.T, path string, arrs ...npy.Named) string {
	t.Helper()
	if err := npy.WriteNPZ(path, arrs...); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMethodsNeedTargets: gle grad and gle align on data without targets
// are refused naming y, before any file is written (they used to write
// zero gradients, and a file of nulls with a plotting failure); a window
// longer than the data is refused naming it.
func TestMethodsNeedTargets(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	x := make([]float64, 100)
	for i := range x {
		x[i] = math.Sin(0.1 * float64(i))
	}
	xOnly := writeNPZ(t, filepath.Join(dir, "x.npz"), npy.Named{Name: "x", Array: &npy.Array{Shape: []int{100, 1, 1}, Float: x}})
	out := filepath.Join(dir, "g.npz")
	if code, _, errs := runCLI(t, "grad", "--spec", spec, "--data", xOnly, "--method", "bptt", "--out", out); code != 1 || !strings.Contains(errs, "y = none: a gradient needs targets") {
		t.Errorf("grad without targets: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("grad without targets wrote a file")
	}
	al := filepath.Join(dir, "align")
	if code, _, errs := runCLI(t, "align", "--spec", spec, "--data", xOnly, "--out", al); code != 1 || !strings.Contains(errs, "a gradient needs targets") {
		t.Errorf("align without targets: exit %d, %s", code, errs)
	}
	if entries, _ := os.ReadDir(al); len(entries) > 0 {
		t.Errorf("align without targets left %d files", len(entries))
	}
	data := delayedSine(t, dir)
	if code, _, errs := runCLI(t, "align", "--spec", spec, "--data", data, "--window", "5000", "--out", filepath.Join(dir, "a2")); code != 1 || !strings.Contains(errs, "window = 5000: want 1…400 steps") {
		t.Errorf("align --window 5000 on 400 steps: exit %d, %s", code, errs)
	}
}

// TestTrainClassifier: gle train on class labels reports the training and
// validation accuracy in the console and the metrics, draws the curves and
// the confusion matrix, prints real epoch times, and gle report reads the
// folder.
func TestTrainClassifier(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "ce.yaml")
	os.WriteFile(spec, []byte(`
dt: 0.1
loss: ce
seed: 2
optimizer: {kind: adam, lr: 0.01}
layers:
  - {in: 1, out: 8, phi: tanh, tau_m: 0.5, tau_r: 0.5}
  - {in: 8, out: 2, tau_m: 0.5, tau_r: 0.5}
`), 0o644)
	// Two classes: a positive or a negative input.
	const steps, batch = 50, 8
	x := make([]float64, steps*batch)
	y := make([]int64, batch)
	for b := range batch {
		y[b] = int64(b % 2)
		for tt := range steps {
			x[tt*batch+b] = float64(2*y[b]-1) * 0.5
		}
	}
	data := writeNPZ(t, filepath.Join(dir, "d.npz"), npy.Named{Name: "x", Array: &npy.Array{Shape: []int{steps, batch, 1}, Float: x}},
		npy.Named{Name: "y", Array: &npy.Array{Shape: []int{batch}, Int: y}})
	run := filepath.Join(dir, "run")
	code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--val-data", data, "--epochs", "20", "--run-dir", run)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "train loss") || !strings.Contains(out, "acc 100.00%") || !strings.Contains(out, "validation loss") {
		t.Errorf("no accuracies in the console:\n%s", out)
	}
	if strings.Contains(out, "(0.00s)") || !strings.Contains(out, " µs)") && !strings.Contains(out, " ms)") {
		t.Errorf("epoch times not shown at their scale:\n%s", out)
	}
	lines := strings.Split(strings.TrimSpace(readFile(t, filepath.Join(run, "metrics.jsonl"))), "\n")
	var last struct {
		TrainAcc *float64 `json:"train_acc"`
		ValAcc   *float64 `json:"val_acc"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last.TrainAcc == nil || last.ValAcc == nil || *last.ValAcc != 1 {
		t.Errorf("last metrics line %s: want train_acc and val_acc = 1", lines[len(lines)-1])
	}
	if _, err := os.Stat(filepath.Join(run, "curves.png")); err != nil {
		t.Error(err)
	}
	code, out, errs = runCLI(t, "report", run)
	if code != 0 || !strings.Contains(out, "| run | validation | 1 | 20 | 100.00 ± 0.00 |") {
		t.Errorf("report of a gle train folder: exit %d\n%s%s", code, out, errs)
	}
}

// TestLargeNetworkLearnedAsSafetensors: a network beyond 262,144
// parameters leaves its learned parameters as safetensors (a JSON spec of
// it would be tens of megabytes), which --spec reads back.
func TestLargeNetworkLearnedAsSafetensors(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "big.yaml")
	os.WriteFile(spec, []byte(`
dt: 0.1
loss: mse
optimizer: {kind: sgd, lr: 0.001}
layers:
  - {in: 1, out: 520, phi: tanh, tau_m: 1, tau_r: 1}
  - {in: 520, out: 520, phi: tanh, tau_m: 1, tau_r: 1}
  - {in: 520, out: 1, tau_m: 1, tau_r: 1}
`), 0o644)
	x := []float64{0.1, 0.2, 0.3}
	data := writeNPZ(t, filepath.Join(dir, "d.npz"), npy.Named{Name: "x", Array: &npy.Array{Shape: []int{3, 1, 1}, Float: x}},
		npy.Named{Name: "y", Array: &npy.Array{Shape: []int{3, 1, 1}, Float: x}})
	run := filepath.Join(dir, "run")
	if code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--run-dir", run, "--figures=false"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	learned := filepath.Join(run, "learned.safetensors")
	st, err := os.Stat(learned)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 3<<20 { // 272,041 float64 parameters and a small header
		t.Errorf("learned.safetensors has %d bytes", st.Size())
	}
	if _, err := os.Stat(filepath.Join(run, "learned.json")); err == nil {
		t.Error("a learned.json was written too")
	}
	if code, out, errs := runCLI(t, "simulate", "--spec", learned, "--data", data); code != 0 || !strings.Contains(out, "simulated 3 steps") {
		t.Errorf("simulate the learned network: exit %d\n%s%s", code, out, errs)
	}
}

// TestTraceOnALoopSaysWhatItWrote: on a network with a loop there are no
// λ traces; the message says so in the user's words and the summary line
// does not claim them.
func TestTraceOnALoopSaysWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "loop.yaml")
	os.WriteFile(spec, []byte(`
dt: 0.1
loss: mse
inputs: 1
output: out
populations:
  - {name: h, size: 3, phi: tanh, tau_m: 1, tau_r: 0.5}
  - {name: out, size: 1, tau_m: 1, tau_r: 1}
projections:
  - {from: input, to: h}
  - {from: h, to: h}
  - {from: h, to: out}
`), 0o644)
	code, out, errs := runCLI(t, "trace", "--spec", spec, "--data", delayedSine(t, dir), "--out", filepath.Join(dir, "tr"))
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out, "Adjoint") || !strings.Contains(out, "wrote trace.npz (u, r and ê of every population)") {
		t.Errorf("trace on a loop:\n%s", out)
	}
}

// TestThreadsFlag: --threads splits every step over that many threads;
// the run is bit-identical whatever the number, and a bad value is a
// usage error naming the flag.
func TestThreadsFlag(t *testing.T) {
	t.Cleanup(func() { gle.SetThreads(0) }) // the setting is the process's
	dir := t.TempDir()
	spec := filepath.Join(dir, "net.yaml")
	os.WriteFile(spec, []byte(cliSpec), 0o644)
	data := delayedSine(t, dir)
	var outs [][]byte
	for _, n := range []string{"1", "3"} {
		run := filepath.Join(dir, "r"+n)
		if code, out, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--epochs", "3", "--threads", n, "--run-dir", run, "--figures=false"); code != 0 {
			t.Fatalf("--threads %s: exit %d\n%s%s", n, code, out, errs)
		}
		b, err := os.ReadFile(filepath.Join(run, "learned.json"))
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, b)
	}
	if string(outs[0]) != string(outs[1]) {
		t.Error("the learned parameters differ between --threads 1 and 3")
	}
	if code, _, errs := runCLI(t, "train", "--spec", spec, "--data", data, "--threads", "0", "--run-dir", filepath.Join(dir, "bad")); code != 2 || !strings.Contains(errs, "threads") {
		t.Errorf("--threads 0: exit %d, %s", code, errs)
	}
}
