package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/npy"
)

// float64WAV encodes mono IEEE float64 samples as a WAV file (format 3),
// which carries the silence clip's 1e-9 exactly.
func float64WAV(samples []float64, rate int) []byte {
	le := binary.LittleEndian
	n := 8 * len(samples)
	b := []byte("RIFF")
	b = le.AppendUint32(b, uint32(36+n))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 3) // IEEE float
	b = le.AppendUint16(b, 1)
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(8*rate))
	b = le.AppendUint16(b, 8)
	b = le.AppendUint16(b, 64)
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(n))
	for _, v := range samples {
		b = le.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// TestMelGSCCommand runs `gle mel --gsc` on every case of
// gsc_yes_features.npz, the random choices given as flags: every array
// to 1e-9 absolute (features_silence 1e-8); then its usage errors, each
// naming the flag and its value.
func TestMelGSCCommand(t *testing.T) {
	ref := testutil.ReferenceDir(t)
	fix, err := npy.ReadNPZ(filepath.Join(ref, "gsc_yes_features.npz"), 0)
	if err != nil {
		t.Fatal(err)
	}
	scalar := func(name string) string {
		v, err := fix[name].Int64s()
		if err != nil || len(v) != 1 {
			t.Fatalf("%s: %v %v", name, v, err)
		}
		return fmt.Sprint(v[0])
	}
	dir := t.TempDir()
	wav := filepath.Join(ref, "yes_16k.wav")
	noise := filepath.Join(dir, "noise.npy")
	if err := npy.WriteFile(noise, fix["noise"]); err != nil {
		t.Fatal(err)
	}
	silence := filepath.Join(dir, "silence.wav")
	ones := make([]float64, 16000)
	for i := range ones {
		ones[i] = 1e-9
	}
	os.WriteFile(silence, float64WAV(ones, 16000), 0o644)
	mix := []string{"--noise", noise, "--noise-start", scalar("noise_start"), "--snr-db", scalar("snr_db")}
	for _, c := range []struct {
		name string
		args []string
		tol  float64
	}{
		{"features", []string{wav}, 1e-9},
		{"features_short", []string{wav, "--samples", scalar("short_len")}, 1e-9},
		{"features_silence", []string{silence}, 1e-8},
		{"features_noise", append([]string{wav}, mix...), 1e-9},
		{"features_noise_shift_pos", append([]string{wav, "--shift", scalar("shift_pos")}, mix...), 1e-9},
		{"features_shift_neg", []string{wav, "--shift", scalar("shift_neg")}, 1e-9},
	} {
		out := filepath.Join(dir, c.name+".npy")
		code, stdout, stderr := runCLI(t, append([]string{"mel", "--gsc", "--out", out}, c.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", c.name, code, stdout, stderr)
		}
		got, err := npy.ReadFile(out, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := fix[c.name]
		if !slices.Equal(got.Shape, want.Shape) || got.DType != "<f8" {
			t.Fatalf("%s: %s %v, reference %v", c.name, got.DType, got.Shape, want.Shape)
		}
		var worst float64
		for i, w := range want.Float64s() {
			worst = math.Max(worst, math.Abs(got.Float[i]-w))
		}
		t.Logf("%-25s max |error| %.3g", c.name, worst)
		if !(worst <= c.tol) {
			t.Errorf("%s: max |error| %.3g > %g", c.name, worst, c.tol)
		}
	}
	out := filepath.Join(dir, "features.npy") // exists now
	if code, _, stderr := runCLI(t, "mel", "--gsc", wav, "--out", out); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("overwrite without --force: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "mel", "--gsc", wav, "--out", out, "--force"); code != 0 {
		t.Errorf("--force: exit %d %s", code, stderr)
	}
	fresh := filepath.Join(dir, "x.npy")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--noise-start", "40000", "--noise", noise, "--snr-db", "3"}, "--noise-start = 40000"},
		{[]string{"--noise", noise}, "--noise needs --snr-db"},
		{[]string{"--noise", noise, "--snr-db", "NaN"}, "--snr-db = NaN"},
		{[]string{"--shift", "16000"}, "--shift = 16000"},
		{[]string{"--samples", "20000"}, "--samples = 20000"},
		{[]string{"--samples", "300"}, "--samples = 300"},
		{[]string{"--samples", "0"}, "--samples = 0"},
		{[]string{"--n-fft", "512"}, "--n-fft: --gsc uses"},
	} {
		code, _, stderr := runCLI(t, append([]string{"mel", "--gsc", wav, "--out", fresh}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 naming %q:\n%s", c.args, code, c.want, stderr)
		}
	}
	if code, _, stderr := runCLI(t, "mel", wav, "--out", fresh, "--shift", "3"); code != 2 || !strings.Contains(stderr, "--shift: only with --gsc") {
		t.Errorf("--shift without --gsc: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a refused command wrote its output")
	}
}

// TestSpeechSplitCommand lays the fixture's file list out as empty files
// and checks `gle data speech-split` against the reference's lists, in
// order, and silence counts; then its errors.
func TestSpeechSplitCommand(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testutil.ReferenceDir(t), "gsc_yes_split.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fix struct {
		Seed                          uint64   `json:"seed"`
		Files                         []string `json:"files"`
		Training, Validation, Testing []string
		SilenceAdded                  map[string]int `json:"silence_added"`
	}
	if err := json.Unmarshal(raw, &fix); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range append(fix.Files, "_background_noise_/white_noise.wav") {
		p := filepath.Join(root, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "split.json")
	code, stdout, stderr := runCLI(t, "data", "speech-split", "--data", root, "--seed", fmt.Sprint(fix.Seed), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var got struct {
		Training, Validation, Testing []string
		Silence                       map[string]int
	}
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Training, fix.Training) || !slices.Equal(got.Validation, fix.Validation) || !slices.Equal(got.Testing, fix.Testing) {
		t.Errorf("lists differ from the reference's: %d/%d/%d files, reference %d/%d/%d",
			len(got.Training), len(got.Validation), len(got.Testing), len(fix.Training), len(fix.Validation), len(fix.Testing))
	}
	for _, s := range []string{"training", "validation", "testing"} {
		if got.Silence[s] != fix.SilenceAdded[s] {
			t.Errorf("%s: %d silence clips, reference %d", s, got.Silence[s], fix.SilenceAdded[s])
		}
	}
	if code, _, stderr := runCLI(t, "data", "speech-split", "--data", root, "--seed", "1", "--out", out); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("overwrite without --force: exit %d %s", code, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", root, "--seed", "-1"}, `--seed = "-1"`},
		{[]string{"--data", root, "--seed", "1", "--task", "kw11"}, `--task = "kw11"`},
		{[]string{"--data", filepath.Join(root, "nope"), "--seed", "1"}, "--data = " + filepath.Join(root, "nope")},
		{[]string{"--seed", "1"}, "want --data, --seed and --out"},
	} {
		code, _, stderr := runCLI(t, append([]string{"data", "speech-split", "--out", filepath.Join(root, "x.json")}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 naming %q:\n%s", c.args, code, c.want, stderr)
		}
	}
	code, _, stderr = runCLI(t, "data", "speech-split", "--data", root, "--seed", "1", "--list-split", "--out", filepath.Join(root, "y.json"))
	if code != 1 || !strings.Contains(stderr, "validation_list.txt") {
		t.Errorf("--list-split without the lists: exit %d %s", code, stderr)
	}
}
