package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestWriteAndGob(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.txt")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two")); err != nil { // replaces atomically
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files left in the folder, want 1 (no temporaries)", len(entries))
	}
	type ck struct {
		Epoch int
		W     []float64
	}
	g := filepath.Join(dir, "c.gob")
	if err := WriteGob(g, ck{3, []float64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	var back ck
	if err := ReadGob(g, &back); err != nil || back.Epoch != 3 || back.W[1] != 2 {
		t.Fatalf("%+v %v", back, err)
	}
	if err := ReadGob(filepath.Join(dir, "none.gob"), &back); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(g, []byte("garbage"), 0o644)
	if err := ReadGob(g, &back); err == nil {
		t.Error("garbage decoded")
	}
	if err := Write(filepath.Join(dir, "no", "such", "dir"), nil); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

// fullDisk fails every write after the first n bytes, as a full file
// system does.
type fullDisk struct {
	w io.Writer
	n int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) > d.n {
		k, _ := d.w.Write(p[:d.n])
		d.n = 0
		return k, syscall.ENOSPC
	}
	d.n -= len(p)
	return d.w.Write(p)
}

// TestFullDisk: a write that fails half-way (no space left) reports the
// user's path and the cause, and leaves the previous file whole and
// loadable, with no temporary file behind.
func TestFullDisk(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ck.gob")
	if err := WriteGob(p, []float64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	wrap = func(f *os.File) io.Writer { return &fullDisk{w: f, n: 10} }
	defer func() { wrap = func(f *os.File) io.Writer { return f } }()
	err := WriteGob(p, make([]float64, 1000))
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), p) || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("write on a full disk: %v; want ENOSPC naming %s and no temporary file", err, p)
	}
	var back []float64
	if err := ReadGob(p, &back); err != nil || len(back) != 3 {
		t.Errorf("the previous checkpoint does not load: %v, %v", back, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want only the checkpoint", len(entries))
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := CheckWritable(filepath.Join(dir, "out.npz")); err != nil {
		t.Error(err)
	}
	missing := filepath.Join(dir, "no", "such", "out.npz")
	if err := CheckWritable(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing folder: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("CheckWritable left %d files", len(entries))
	}
	// A folder where a file is wanted: refused before any work, and a
	// write over it names the folder, not the temporary file.
	folder := filepath.Join(dir, "ro")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckWritable(folder); err == nil || !strings.Contains(err.Error(), folder+": is a folder") {
		t.Errorf("folder: %v", err)
	}
	if err := Write(folder, []byte("x")); err == nil || strings.Contains(err.Error(), ".tmp") || !strings.Contains(err.Error(), folder) {
		t.Errorf("write over a folder: %v", err)
	}
}

// TestRemoveStale: the temporary files of a killed write of path go; path
// itself and the files of other paths stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"ck.gob", ".other.gob.tmp1", "ck.gob.tmp2"}
	for _, f := range append([]string{".ck.gob.tmp123", ".ck.gob.tmp4"}, keep...) {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := RemoveStale(filepath.Join(dir, "ck.gob")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	slices.Sort(left)
	slices.Sort(keep)
	if !slices.Equal(left, keep) {
		t.Errorf("left %v, want %v", left, keep)
	}
}

// TestDurableOrder records the calls that make a write durable: the
// temporary file is fsynced holding all the data, then renamed over the
// path, then the path's folder is fsynced — in this order, each once. A
// rename before the fsync could leave an empty file under the final name
// after a crash; without the folder's fsync the rename itself may be lost.
func TestDurableOrder(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ck.bin")
	if err := Write(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	data := []byte(strings.Repeat("new data ", 20000)) // beyond the 64 KiB buffer
	var calls []string
	var tmpName string
	restore := record(t, func(f *os.File) error {
		tmpName = f.Name()
		on, err := os.ReadFile(f.Name())
		if err != nil || string(on) != string(data) {
			t.Errorf("fsync of %s holding %d bytes (%v), want all %d", f.Name(), len(on), err, len(data))
		}
		calls = append(calls, "sync file")
		return f.Sync()
	}, func(from, to string) error {
		if from != tmpName || to != p {
			t.Errorf("rename %s → %s, want %s → %s", from, to, tmpName, p)
		}
		calls = append(calls, "rename")
		return os.Rename(from, to)
	}, func(d string) error {
		if d != dir {
			t.Errorf("fsync of folder %s, want %s", d, dir)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != string(data) {
			t.Errorf("folder fsynced before the new file is in place (%v)", err)
		}
		calls = append(calls, "sync folder")
		return fsyncDir(d)
	})
	defer restore()
	if err := Write(p, data); err != nil {
		t.Fatal(err)
	}
	if want := []string{"sync file", "rename", "sync folder"}; !slices.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	if b, _ := os.ReadFile(p); string(b) != string(data) {
		t.Errorf("the file holds %d bytes, want %d", len(b), len(data))
	}
}

// TestSyncFailures: a failed fsync of the temporary file stops the write
// before the rename (the old file stays, no temporary is left); a failed
// fsync of the folder is reported, naming the path.
func TestSyncFailures(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ck.bin")
	if err := Write(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	renamed := false
	restore := record(t, func(*os.File) error { return syscall.EIO },
		func(from, to string) error { renamed = true; return os.Rename(from, to) }, fsyncDir)
	err := Write(p, []byte("new"))
	restore()
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), p) || renamed {
		t.Errorf("failed fsync: %v (renamed %v); want EIO naming %s and no rename", err, renamed, p)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("after a failed fsync the file holds %q, want the old %q", b, "old")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want only the old file", len(entries))
	}
	restore = record(t, (*os.File).Sync, os.Rename, func(string) error { return syscall.EIO })
	err = Write(p, []byte("new"))
	restore()
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), p) {
		t.Errorf("failed fsync of the folder: %v, want EIO naming %s", err, p)
	}
	// The real folder fsync succeeds on the test's folder.
	if err := fsyncDir(dir); err != nil {
		t.Errorf("fsync of %s: %v", dir, err)
	}
}

// record replaces the durable calls and returns a function that restores
// them.
func record(t *testing.T, file func(*os.File) error, ren func(from, to string) error, folder func(string) error) func() {
	t.Helper()
	f, r, d := syncFile, rename, syncDir
	syncFile, rename, syncDir = file, ren, folder
	return func() { syncFile, rename, syncDir = f, r, d }
}

// TestFsyncDirMissing: the folder fsync opens the folder for real: a
// folder that does not exist is an error (fs.ErrNotExist), not silently
// skipped.
func TestFsyncDirMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	if err := fsyncDir(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("fsync of a missing folder: %v, want ErrNotExist", err)
	}
}

// TestRemoveStaleErrors: a stale name that cannot be removed (here a
// non-empty folder) is reported, naming it; the others still go.
func TestRemoveStaleErrors(t *testing.T) {
	dir := t.TempDir()
	stuck := filepath.Join(dir, ".ck.gob.tmp1")
	if err := os.MkdirAll(filepath.Join(stuck, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, ".ck.gob.tmp2")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := RemoveStale(filepath.Join(dir, "ck.gob"))
	if err == nil || !strings.Contains(err.Error(), stuck) {
		t.Errorf("RemoveStale with an unremovable entry: %v, want an error naming %s", err, stuck)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s was not removed (%v)", other, err)
	}
}
