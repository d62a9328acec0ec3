package npy

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/gle-go/gle/internal/atomicfile"
)

// ReadNPZ reads every array of an .npz archive, keyed by name without the
// ".npy" suffix (as np.load does). limit bounds the memory (bytes) all the
// arrays may take together (0: no limit): an archive whose headers claim
// more is refused before the data is read, however well it compresses.
func ReadNPZ(path string, limit int64) (map[string]*Array, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err // the os error names the path
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: not a .npz (zip) archive: %v", path, ErrFormat, err)
	}
	defer zr.Close()
	out := make(map[string]*Array, len(zr.File))
	var used int64 // bytes of the arrays read so far
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		left := int64(0)
		if limit > 0 {
			left = max(1, limit-used)
		}
		a, err := Read(rc, left)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		used += a.Bytes()
		out[strings.TrimSuffix(f.Name, ".npy")] = a
	}
	return out, nil
}

// ReadFile reads a .npy file; limit as for Read.
func ReadFile(path string, limit int64) (*Array, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	a, err := Read(fh, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Named is an array with its name inside an .npz archive.
type Named struct {
	Name  string
	Array *Array
}

// WriteNPZ writes the arrays, in the given order, as an uncompressed .npz
// archive at path. The file appears atomically: it is written to a
// temporary file in the same folder, synced, then renamed.
func WriteNPZ(path string, arrays ...Named) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, a := range arrays {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := Write(w, a.Array); err != nil {
			return fmt.Errorf("%s: %w", a.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}

// WriteFile writes one array as a .npy file, atomically.
func WriteFile(path string, a *Array) error {
	var buf bytes.Buffer
	if err := Write(&buf, a); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}
