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
