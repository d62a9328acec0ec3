// Package atomicfile writes files so that readers never see a partial
// one, and a crash never leaves an empty or partial file under the final
// name: write a temporary file in the same folder, fsync it, rename it
// over the final name, fsync the folder (so that the rename itself is on
// disk).
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
	"runtime"
	"sync"
	"syscall"
)

// Write writes data to path atomically with permissions 0644: readers
// see the old file or the new one, never a part, and once Write returns
// nil the new file and its name are on disk (fsync of the file before the
// rename, of the folder after it). Errors name path (not the temporary
// file); a write that fails before the rename leaves the old file as it
// was (a failed fsync of the folder is reported with the new file in
// place).
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

// The calls that make a write durable, variables so that tests can record
// their order (TestDurableOrder) and make them fail.
var (
	syncFile = (*os.File).Sync
	rename   = os.Rename
	syncDir  = fsyncDir
)

// fsyncDir flushes a folder's entries (a rename in it) to disk. File
// systems and systems that cannot fsync a folder (EINVAL; Windows cannot
// open one) are let through: there the rename is as durable as they allow.
func fsyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	return errors.Join(err, d.Close())
}

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
	// The data reach the disk before the new name does: a crash after
	// the rename must not leave an empty or partial file under path.
	if err := syncFile(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is an entry of the folder: it is durable once the
	// folder is.
	return syncDir(filepath.Dir(path))
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
