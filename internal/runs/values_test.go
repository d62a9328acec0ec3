package runs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gle-go/gle/internal/par"
)

// TestParseSeedsAndBytes: the forms and their bounds.
func TestParseSeedsAndBytes(t *testing.T) {
	for s, want := range map[string][]uint64{"3": {3}, "3-3": {3}, "1-3,7": {1, 2, 3, 7}, "1000000-1000002": {1000000, 1000001, 1000002}} {
		if got, err := ParseSeeds(s); err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseSeeds(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if got, err := ParseSeeds("0-1048576"); err != nil || len(got) != 1<<20+1 {
		t.Errorf("ParseSeeds(0-1048576): %d seeds, %v; want 2^20+1", len(got), err)
	}
	for _, s := range []string{"", "x", "3-1", "0-1048577", "1-x"} {
		if _, err := ParseSeeds(s); err == nil {
			t.Errorf("ParseSeeds(%q) accepted", s)
		}
	}
	for s, want := range map[string]int64{"512": 512, "8G": 8 << 30, "512MiB": 512 << 20, "1.5k": 1536, "4194304T": 1 << 62} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1G", "8388608T", "x", "NaN"} {
		if _, err := ParseBytes(s); err == nil {
			t.Errorf("ParseBytes(%q) accepted", s)
		}
	}
}

// TestErrorText: none, a signal's cancellation by its cause, other errors as they are.
func TestErrorText(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("SIGTERM"))
	plain, stop := context.WithCancel(context.Background())
	stop()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want string
	}{
		{context.Background(), nil, ""},
		{ctx, context.Canceled, "stopped by SIGTERM"},
		{plain, context.Canceled, "context canceled"},
		{context.Background(), errors.New("diverged"), "diverged"},
	} {
		if got := ErrorText(c.ctx, c.err); got != c.want {
			t.Errorf("ErrorText(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestFilesRoundTrip: config.yaml, summary.json and JSON lines read back
// as written; a torn last line is dropped; a nil Metrics closes.
func TestFilesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	type row struct {
		Seed int     `json:"seed"`
		Acc  float64 `json:"acc"`
	}
	rows := []row{{1, 0.5}, {2, 0.75}}
	path := filepath.Join(dir, "rows.jsonl")
	if err := WriteJSONL(path, rows); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadJSONL[row](path); err != nil || !slices.Equal(got, rows) {
		t.Errorf("ReadJSONL = %v, %v; want %v", got, err, rows)
	}
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"seed": 3, "ac`)
	fh.Close()
	if got, err := ReadJSONL[row](path); err != nil || !slices.Equal(got, rows) {
		t.Errorf("with a torn last line: %v, %v; want the whole lines %v", got, err, rows)
	}
	if got, err := ReadJSONL[row](filepath.Join(dir, "none.jsonl")); got != nil || err != nil {
		t.Errorf("a missing file: %v, %v; want none", got, err)
	}
	if err := WriteConfig(dir, map[string]any{"tau_m": []float64{0.5, 2}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"command:", "go_version:", "git_revision:", "started:", "tau_m:", "- 0.5", "- 2"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.yaml has no %q:\n%s", want, b)
		}
	}
	if err := WriteSummary(dir, map[string]float64{"acc": 0.25}); err != nil {
		t.Fatal(err)
	}
	var sum map[string]float64
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err != nil || json.Unmarshal(b, &sum) != nil || sum["acc"] != 0.25 {
		t.Errorf("summary.json: %s, %v", b, err)
	}
	var m *Metrics
	if err := m.Close(); err != nil {
		t.Errorf("nil Metrics: Close = %v", err)
	}
}

// TestDirNames: an empty folder is used as it is; new folders are
// runs/NAME-<date>-<time>, then -2, -3 within the same second.
func TestDirNames(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "empty")
	os.Mkdir(empty, 0o755)
	if d, err := Dir(empty, "x", false); err != nil || d != empty {
		t.Errorf("an empty folder: %q, %v", d, err)
	}
	t.Chdir(t.TempDir())
	for {
		start := time.Now().Format("20060102-150405")
		a, errA := Dir("", "train", false)
		b, errB := Dir("", "train", false)
		if time.Now().Format("20060102-150405") != start {
			continue // the second turned: try again
		}
		want := filepath.Join("runs", "train-"+start)
		if errA != nil || errB != nil || a != want || b != want+"-2" {
			t.Errorf("folders %q, %q (%v, %v); want %q and %q", a, b, errA, errB, want, want+"-2")
		}
		return
	}
}

// TestIdentityForms: lists of objects by index, empty lists kept, up to 16
// numbers as JSON, more as a digest.
func TestIdentityForms(t *testing.T) {
	sixteen := make([]float64, 16)
	seventeen := make([]float64, 17)
	id, err := Identity(map[string]any{"layers": []map[string]int{{"out": 3}, {"out": 4}}, "gaps": []int{}, "w16": sixteen, "w17": seventeen})
	if err != nil {
		t.Fatal(err)
	}
	if id["layers[1].out"] != "4" || id["gaps"] != "[]" || !strings.HasPrefix(id["w16"], "[0,0,") || !strings.HasPrefix(id["w17"], "17 values, sha256 ") {
		t.Errorf("identity %v", id)
	}
}

// TestFanOutShares: two jobs at once each see half the cores.
func TestFanOutShares(t *testing.T) {
	defer par.SetThreads(par.Explicit())
	par.SetThreads(0) // the default: cores divided among the jobs
	var seen [2]int
	if err := FanOut(2, 2, func(i int) error { seen[i] = par.Threads(); return nil }); err != nil {
		t.Fatal(err)
	}
	want := max(1, par.Cores()/2)
	if seen[0] != want || seen[1] != want {
		t.Errorf("threads seen by two jobs at once %v, want %d each", seen, want)
	}
}

// TestOutputIsAnInputByLink: an output that is a symbolic link to an
// input is refused as an input.
func TestOutputIsAnInputByLink(t *testing.T) {
	dir := t.TempDir()
	in, link := filepath.Join(dir, "data.npz"), filepath.Join(dir, "out.npz")
	os.WriteFile(in, []byte("x"), 0o644)
	if err := os.Symlink(in, link); err != nil {
		t.Fatal(err)
	}
	if err := CheckOutputs(true, []string{in}, link); err == nil || !strings.Contains(err.Error(), "is an input") {
		t.Errorf("CheckOutputs of a link to the input: %v", err)
	}
}
