// Package atomicfile writes files so that readers never see a partial
// one: write a temporary file in the same folder, sync it, rename it.
package atomicfile

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Write writes data to path atomically with permissions 0644: readers
// see the old file or the new one, never a part. Errors name path (not
// the temporary file), and a failed write leaves the old file as it was.
func Write(path string, data []byte) error {
	return WriteFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFunc writes what fill writes to w into path atomically, as Write
// does, without holding the whole file in memory.
func WriteFunc(path string, fill func(w io.Writer) error) error {
	if err := write(path, fill); err != nil {
		return &fs.PathError{Op: "write", Path: path, Err: cause(err)}
	}
	return nil
}

// cause strips the temporary file's name from err (a *fs.PathError of the
// write or a *os.LinkError of the rename), so that messages name only the
// path the caller gave.
func cause(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

// wrap lets tests inject a failing writer (a full disk) behind the
// temporary file.
var wrap = func(f *os.File) io.Writer { return f }

func write(path string, fill func(w io.Writer) error) error {
	tmp, err := createPending(path)
	if err != nil {
		return err
	}
	defer forget(tmp.Name())
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	bw := bufio.NewWriterSize(wrap(tmp), 1<<16)
	if err := fill(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// The temporary files being written, and whether RemovePending was
// called; mu makes creating and registering a temporary file one step.
var (
	mu      sync.Mutex
	pending = map[string]bool{}
	closing bool
)

// errClosing refuses writes after RemovePending.
var errClosing = errors.New("the process is exiting")

// createPending creates path's temporary file and registers it.
func createPending(path string) (*os.File, error) {
	mu.Lock()
	defer mu.Unlock()
	if closing {
		return nil, errClosing
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err == nil {
		pending[tmp.Name()] = true
	}
	return tmp, err
}

func forget(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(pending, name)
}

// RemovePending removes the temporary files of the writes in progress and
// refuses new ones: for a process about to exit at once (a second
// Ctrl-C), which would otherwise leave them behind. The files being
// replaced stay as they were.
func RemovePending() {
	mu.Lock()
	defer mu.Unlock()
	closing = true
	for name := range pending {
		os.Remove(name)
	}
}

// RemoveStale removes the temporary files a process killed while writing
// path (SIGKILL, power loss) left beside it. Call it only where no other
// process writes path at the same time (a run being resumed).
func RemoveStale(path string) error {
	stale, err := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp*"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckWritable reports, before any work is done, whether a file can be
// created at path (its folder exists and is writable), with an error
// naming path.
func CheckWritable(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &fs.PathError{Op: "create", Path: path, Err: errors.New("is a folder: want a file name")}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".check*")
	if err != nil {
		return &fs.PathError{Op: "create", Path: path, Err: cause(err)}
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// WriteGob encodes v with encoding/gob and writes it atomically: the
// form of the project's checkpoints.
func WriteGob(path string, v any) error {
	return WriteFunc(path, func(w io.Writer) error { return gob.NewEncoder(w).Encode(v) })
}

// ReadGob decodes a file written by WriteGob into v. A missing file gives
// an error satisfying errors.Is(err, os.ErrNotExist).
func ReadGob(path string, v any) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if err := gob.NewDecoder(fh).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
