// Package atomicfile writes files so that readers never see a partial
// one: write a temporary file in the same folder, sync it, rename it.
package atomicfile

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes data to path atomically with permissions 0644: readers
// see the old file or the new one, never a part. Errors name path (not
// the temporary file), and a failed write leaves the old file as it was.
func Write(path string, data []byte) error {
	if err := write(path, data); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &fs.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// wrap lets tests inject a failing writer (a full disk) behind the
// temporary file.
var wrap = func(f *os.File) io.Writer { return f }

func write(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := wrap(tmp).Write(data); err != nil {
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

// CheckWritable reports, before any work is done, whether a file can be
// created at path (its folder exists and is writable), with an error
// naming path.
func CheckWritable(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".check*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &fs.PathError{Op: "create", Path: path, Err: err}
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// WriteGob encodes v with encoding/gob and writes it atomically: the
// form of the project's checkpoints.
func WriteGob(path string, v any) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	return Write(path, buf.Bytes())
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
