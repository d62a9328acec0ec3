package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
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
