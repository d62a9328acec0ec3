// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// ReferenceDir returns the golden data folder the tests read: the copy
// kept in the repository, testdata/reference at the module's root, so
// that a clone tests itself with nothing beside it (GLE_REFERENCE
// overrides it, e.g. with the project's shared/reference). It fails the
// test when the folder is missing: the conformance checks must not
// silently pass.
func ReferenceDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("GLE_REFERENCE"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			ref := filepath.Join(dir, "testdata", "reference")
			if _, err := os.Stat(ref); err != nil {
				t.Fatalf("golden data not found at %s (set GLE_REFERENCE): %v", ref, err)
			}
			return ref
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// Generated checks that the committed file dst is gen applied to the file
// src (both in the test's folder), first rewriting dst when update is set,
// and returns the generated text. regen names the command that refreshes
// dst, for the failure message.
func Generated(t testing.TB, src, dst string, gen func(string) string, update bool, regen string) string {
	t.Helper()
	in, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	want := gen(string(in))
	if update {
		if err := os.WriteFile(dst, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date: run %s", dst, regen)
	}
	return want
}
