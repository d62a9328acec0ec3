// Package runs is what the commands of gle share about run folders: one
// folder per run (created exclusively, unique even for runs started in
// the same second), its config snapshot (config.yaml, in the schema of
// the files it came from, so that a spec in it reloads), its summary, the
// metrics file (whole JSON lines, rewritten to the checkpoint's epochs on
// resume), and the fan-out of seeds over parallel jobs.
package runs

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/gle-go/gle/internal/par"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gle-go/gle/internal/atomicfile"
)

// Dir returns the run folder: dir when given (created if missing; an
// existing one is used only when it is empty or reuse is set: --resume or
// --force), else a new folder runs/<name>-<date>-<time>[-n] created
// exclusively, unique even for runs started in the same second.
func Dir(dir, name string, reuse bool) (string, error) {
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return dir, os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			return "", err
		}
		if len(entries) > 0 && !reuse {
			return "", fmt.Errorf("run folder %s exists and is not empty: continue it with --resume (where the command has it), overwrite with --force, or name another: %w", dir, fs.ErrExist)
		}
		return dir, nil
	}
	if err := os.MkdirAll("runs", 0o755); err != nil {
		return "", err
	}
	base := filepath.Join("runs", name+"-"+time.Now().Format("20060102-150405"))
	for i := 0; ; i++ {
		d := base
		if i > 0 {
			d = fmt.Sprintf("%s-%d", base, i+1)
		}
		err := os.Mkdir(d, 0o755) // exclusive: fails if another run took it
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
}

// info describes how a run was made.
type info struct {
	Command  string `json:"command"`
	Started  string `json:"started"`
	Go       string `json:"go_version"`
	Revision string `json:"git_revision"`
	Config   any    `json:"config"`
}

// WriteConfig writes DIR/config.yaml: the command line, the resolved
// configuration, the Go version and the git revision of the source. The
// configuration is written through its JSON form, so a spec in it has the
// keys of a spec file and reloads with --spec (gle.DecodeSpec).
func WriteConfig(dir string, config any) error {
	b, err := YAML(info{Command: strings.Join(os.Args, " "), Started: time.Now().UTC().Format(time.RFC3339),
		Go: runtime.Version(), Revision: GitRevision(), Config: config})
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "config.yaml"), b)
}

// YAML writes v as YAML with the keys of its JSON form.
func YAML(v any) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return yaml.Marshal(numbers(tree))
}

// numbers turns json.Number leaves into int64 or float64 for YAML.
func numbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// WriteSummary writes DIR/summary.json atomically.
func WriteSummary(dir string, summary any) error {
	b, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, "summary.json"), append(b, '\n'))
}

// ErrorText is how a summary records a run's error: "" for none, "stopped
// by SIGTERM" for a run whose context a signal cancelled (its cause).
func ErrorText(ctx context.Context, err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, context.Canceled) && context.Cause(ctx) != nil && context.Cause(ctx) != context.Canceled {
		return "stopped by " + context.Cause(ctx).Error()
	}
	return err.Error()
}

// GitRevision returns the commit the running binary was built from (with
// "+dirty" for uncommitted changes), as go build recorded it; for a binary
// without that record (go run, -buildvcs=false, tests), the commit of the
// checkout its sources were compiled from as it is now, marked
// "(unstamped build: …)" since the checkout may have moved on since the
// build — never the working directory's, which may be a user's own
// repository; or "unknown".
func GitRevision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if rev != "" {
			return rev + dirty
		}
	}
	_, file, _, ok := runtime.Caller(0)
	src := filepath.Dir(file)
	if st, err := os.Stat(src); !ok || err != nil || !st.IsDir() { // built with -trimpath, or elsewhere
		return "unknown"
	}
	out, err := exec.Command("git", "-C", src, "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", src, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += "+dirty"
	}
	return rev + " (unstamped build: the source checkout's revision when the run started)"
}

// Metrics is a JSON-lines metrics file written one whole record at a
// time (a record is one write of one line, so a run killed at any moment
// leaves whole lines, at most missing the last).
type Metrics struct {
	mu sync.Mutex
	fh *os.File
}

// OpenMetrics starts the metrics file at path with exactly the records
// given (those of the checkpoint a run resumes from; none for a new run),
// written atomically, then appends.
func OpenMetrics[T any](path string, done []T) (*Metrics, error) {
	if err := atomicfile.RemoveStale(path); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, r := range done {
		line, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		b.Write(append(line, '\n'))
	}
	if err := atomicfile.Write(path, b.Bytes()); err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Metrics{fh: fh}, nil
}

// Write appends one record as one line; a nil Metrics discards it.
func (m *Metrics) Write(record any) error {
	if m == nil {
		return nil
	}
	line, err := json.Marshal(record)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err = m.fh.Write(append(line, '\n'))
	return err
}

// Close closes the file.
func (m *Metrics) Close() error {
	if m == nil {
		return nil
	}
	return m.fh.Close()
}

// ParseSeeds reads "1-10" or "1,4,7" (or a mix).
func ParseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seed", lo)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a || b-a > 1<<20 {
				return nil, fmt.Errorf("%q is not a seed range", part)
			}
		}
		for v := a; v <= b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

// FanOut runs job(i) for i = 0…n−1 with at most jobs running at once and
// returns their errors joined. While it runs, the default threads of a
// network step are the cores divided among the jobs running at once
// (par.SetJobs), so that jobs × threads does not oversubscribe them.
func FanOut(n, jobs int, job func(i int) error) error {
	if k := min(jobs, n); k > 1 {
		defer par.SetJobs(par.SetJobs(k))
	}
	errs := make([]error, n)
	sem := make(chan struct{}, max(1, jobs))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{} // jobs start in order
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = job(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ErrExists marks an output that exists and would be overwritten.
var ErrExists = errors.New("exists (--force overwrites it)")

// CheckOutputs checks, before a command does any work, the files it will
// write: an output that is one of the inputs is refused always, one that
// exists is refused unless overwrite is set (--force, or a resumed run
// rewriting its own files), and every output's folder must be writable.
// Errors name the user's paths. Empty paths are skipped.
func CheckOutputs(overwrite bool, inputs []string, outputs ...string) error {
	var errs []error
	for _, out := range outputs {
		if out == "" {
			continue
		}
		for _, in := range inputs {
			if in != "" && samePath(in, out) {
				errs = append(errs, fmt.Errorf("%s is an input of this command: writing it would destroy it", out))
			}
		}
		if _, err := os.Stat(out); err == nil && !overwrite {
			errs = append(errs, fmt.Errorf("%s %w", out, ErrExists))
			continue
		}
		if err := atomicfile.CheckWritable(out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// samePath reports whether a and b name the same file.
func samePath(a, b string) bool {
	if sa, err := os.Stat(a); err == nil {
		if sb, err := os.Stat(b); err == nil {
			return os.SameFile(sa, sb)
		}
	}
	aa, _ := filepath.Abs(a)
	ab, _ := filepath.Abs(b)
	return aa == ab
}

// ParseBytes reads a memory size: a number of bytes with an optional unit
// K, M, G or T (powers of 1024, an optional "i" and "B" allowed: 8G, 512MiB).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	mult := int64(1)
	for i, u := range "KMGT" {
		if strings.HasSuffix(t, string(u)) {
			mult, t = int64(1)<<(10*(i+1)), strings.TrimSuffix(t, string(u))
			break
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(v > 0) || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a memory size (want e.g. 8G, 512M)", s)
	}
	return int64(v * float64(mult)), nil
}

// Identity flattens the JSON form of a run's configuration into
// "path.to.field" → value: what a resumed run must share with the run it
// continues. Lists of objects are flattened by index (layers[1].out);
// other lists are values, a list of more than 16 numbers (explicit
// weights) a digest of them.
func Identity(config any) (map[string]string, error) {
	b, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(strings.TrimPrefix(prefix+"."+k, "."), e)
			}
		case []any:
			if len(x) > 0 && slices.IndexFunc(x, func(e any) bool { _, ok := e.(map[string]any); return !ok }) < 0 {
				for i, e := range x {
					walk(fmt.Sprintf("%s[%d]", prefix, i), e)
				}
				return
			}
			b, _ := json.Marshal(x)
			if len(x) > 16 {
				sum := sha256.Sum256(b)
				out[prefix] = fmt.Sprintf("%d values, sha256 %x", len(x), sum[:8])
				return
			}
			out[prefix] = string(b)
		default:
			b, _ := json.Marshal(x)
			out[prefix] = string(b)
		}
	}
	walk("", v)
	return out, nil
}

// ErrChangedRun marks a resumed run whose configuration differs from the
// one it continues.
var ErrChangedRun = errors.New("the run was started with another configuration")

// KeepIdentity writes DIR/identity.json for a new run; for a resumed one
// it compares id with the file and refuses, naming every field that
// differs, when they are not the same.
func KeepIdentity(dir string, id map[string]string, resume bool) error {
	path := filepath.Join(dir, "identity.json")
	if !resume {
		b, err := json.MarshalIndent(id, "", "  ")
		if err != nil {
			return err
		}
		return atomicfile.Write(path, append(b, '\n'))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--resume: %w (is %s a run of this command?)", err, dir)
	}
	var was map[string]string
	if err := json.Unmarshal(b, &was); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var diffs []string
	for k := range id {
		if was[k] != id[k] {
			diffs = append(diffs, fmt.Sprintf("%s: was %s, now %s", k, orNone(was[k]), orNone(id[k])))
		}
	}
	for k := range was {
		if _, ok := id[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: was %s, now absent", k, was[k]))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		return fmt.Errorf("%s: %w: %s", dir, ErrChangedRun, strings.Join(diffs, "; "))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// WriteJSONL writes rows as JSON lines, atomically.
func WriteJSONL[T any](path string, rows []T) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, b.Bytes())
}

// ReadJSONL reads the records of a JSON-lines file (none if it does not
// exist); a line that does not parse (a run killed mid-write tears at
// most the last) is dropped, so that its result is computed again.
func ReadJSONL[T any](path string) ([]T, error) {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []T
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			continue
		}
		out = append(out, v)
	}
	return out, sc.Err()
}
