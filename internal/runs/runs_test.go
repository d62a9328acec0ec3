package runs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDirExclusive: runs started in the same second get distinct folders,
// and a named folder with files in it is refused unless reused.
func TestDirExclusive(t *testing.T) {
	t.Chdir(t.TempDir())
	seen := map[string]bool{}
	for range 5 {
		d, err := Dir("", "train", false)
		if err != nil {
			t.Fatal(err)
		}
		if seen[d] {
			t.Fatalf("folder %s handed out twice", d)
		}
		seen[d] = true
	}
	named := filepath.Join(t.TempDir(), "r")
	if _, err := Dir(named, "x", false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(named, "f"), nil, 0o644)
	if _, err := Dir(named, "x", false); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("non-empty folder: %v", err)
	}
	if _, err := Dir(named, "x", true); err != nil {
		t.Errorf("reuse: %v", err)
	}
}

func TestCheckOutputs(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "d.npz"), filepath.Join(dir, "o.npz")
	os.WriteFile(in, []byte("x"), 0o644)
	if err := CheckOutputs(true, []string{in}, filepath.Join(dir, ".", "d.npz")); err == nil || !strings.Contains(err.Error(), "is an input") {
		t.Errorf("output = input: %v", err)
	}
	if err := CheckOutputs(false, []string{in}, out); err != nil {
		t.Errorf("new output: %v", err)
	}
	os.WriteFile(out, []byte("y"), 0o644)
	if err := CheckOutputs(false, nil, out); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), out) {
		t.Errorf("existing output: %v", err)
	}
	if err := CheckOutputs(true, nil, out, "", filepath.Join(dir, "missing", "x")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unwritable folder: %v", err)
	}
}

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{"8G": 8 << 30, "512M": 512 << 20, "1.5KiB": 1536, "100": 100, "2TB": 2 << 40} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("%s: %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "-1G", "lots", "0"} {
		if _, err := ParseBytes(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestMetricsRestart: a metrics file is restarted from exactly the records
// given (a half-written last line of a killed run disappears), then
// appended to, one whole line per record.
func TestMetricsRestart(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.jsonl")
	os.WriteFile(p, []byte("{\"epoch\":1}\n{\"epoch\":2}\n{\"ep"), 0o644)
	m, err := OpenMetrics(p, []map[string]int{{"epoch": 1}, {"epoch": 2}})
	if err != nil {
		t.Fatal(err)
	}
	m.Write(map[string]int{"epoch": 3})
	m.Close()
	b, _ := os.ReadFile(p)
	if string(b) != "{\"epoch\":1}\n{\"epoch\":2}\n{\"epoch\":3}\n" {
		t.Errorf("metrics %q", b)
	}
}

func TestFanOut(t *testing.T) {
	var order []int
	err := FanOut(5, 1, func(i int) error {
		order = append(order, i)
		if i%2 == 1 {
			return fmt.Errorf("job %d", i)
		}
		return nil
	})
	if !slices.Equal(order, []int{0, 1, 2, 3, 4}) || err == nil || !strings.Contains(err.Error(), "job 1") || !strings.Contains(err.Error(), "job 3") {
		t.Errorf("order %v, error %v", order, err)
	}
	seeds, err := ParseSeeds("1-3,7")
	if err != nil || !slices.Equal(seeds, []uint64{1, 2, 3, 7}) {
		t.Errorf("seeds %v, %v", seeds, err)
	}
	for _, s := range []string{"3-1", "x", "1-"} {
		if _, err := ParseSeeds(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestYAMLUsesJSONKeys: the config snapshot writes the keys of the JSON
// form (a spec's own schema), not Go field names.
func TestYAMLUsesJSONKeys(t *testing.T) {
	type spec struct {
		TauM []float64 `json:"tau_m"`
		Seed uint64    `json:"seed"`
	}
	b, err := YAML(map[string]any{"spec": spec{TauM: []float64{0.5}, Seed: 3}})
	if err != nil || !strings.Contains(string(b), "tau_m:") || strings.Contains(string(b), "taum") || !strings.Contains(string(b), "seed: 3") {
		t.Errorf("YAML %s, %v", b, err)
	}
}

// TestKeepIdentity: a resumed run with the same configuration passes; a
// changed one is refused, naming the fields.
func TestKeepIdentity(t *testing.T) {
	dir := t.TempDir()
	type cfg struct {
		Trials int       `json:"trials"`
		Gaps   []float64 `json:"gaps"`
		Inner  struct {
			LR float64 `json:"lr"`
		} `json:"inner"`
	}
	a := cfg{Trials: 10, Gaps: []float64{1, 2}}
	a.Inner.LR = 0.1
	id, err := Identity(a)
	if err != nil {
		t.Fatal(err)
	}
	if id["inner.lr"] != "0.1" || id["gaps"] != "[1,2]" {
		t.Errorf("identity %v", id)
	}
	if err := KeepIdentity(dir, id, false); err != nil {
		t.Fatal(err)
	}
	if err := KeepIdentity(dir, id, true); err != nil {
		t.Errorf("same configuration: %v", err)
	}
	b := a
	b.Inner.LR, b.Trials = 0.2, 11
	id2, _ := Identity(b)
	err = KeepIdentity(dir, id2, true)
	if !errors.Is(err, ErrChangedRun) || !strings.Contains(err.Error(), "inner.lr: was 0.1, now 0.2") || !strings.Contains(err.Error(), "trials: was 10, now 11") {
		t.Errorf("changed configuration: %v", err)
	}
	if err := KeepIdentity(t.TempDir(), id, true); err == nil {
		t.Error("resuming a folder without identity.json passed")
	}
}

// TestGitRevisionIsTheProjects: without a build stamp (tests have none)
// the revision is the checkout the sources came from, not the working
// directory's repository.
func TestGitRevisionIsTheProjects(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	want, err := exec.Command("git", "rev-parse", "HEAD").Output() // the test runs in the package folder
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	other := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "a user's repository"}} {
		if out, err := exec.Command("git", append([]string{"-C", other}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	theirs, _ := exec.Command("git", "-C", other, "rev-parse", "HEAD").Output()
	t.Chdir(other)
	got := GitRevision()
	if strings.HasPrefix(got, strings.TrimSpace(string(theirs))) || !strings.HasPrefix(got, strings.TrimSpace(string(want))) {
		t.Errorf("GitRevision() = %s from a user's repository at %s; want the project's %s", got, strings.TrimSpace(string(theirs)), strings.TrimSpace(string(want)))
	}
}
