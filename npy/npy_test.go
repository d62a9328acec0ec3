package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"github.com/gle-go/gle/internal/errs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle/internal/testutil"
)

func TestReadReferenceNPZ(t *testing.T) {
	arrs, err := ReadNPZ(filepath.Join(testutil.ReferenceDir(t), "mnist1d_len40_seed42.npz"), 0)
	if err != nil {
		t.Fatal(err)
	}
	x, y := arrs["x"], arrs["y"]
	if x == nil || y == nil {
		t.Fatalf("missing x or y; have %v", slices.Sorted(maps.Keys(arrs)))
	}
	if !slices.Equal(x.Shape, []int{4000, 40}) || x.Float == nil {
		t.Errorf("x: shape %v dtype %s, want [4000 40] float", x.Shape, x.DType)
	}
	if !slices.Equal(y.Shape, []int{4000}) || y.Int == nil {
		t.Errorf("y: shape %v dtype %s, want [4000] int", y.Shape, y.DType)
	}
	for _, c := range y.Int {
		if c < 0 || c > 9 {
			t.Fatalf("label %d out of 0..9", c)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f := &Array{Shape: []int{2, 3}, Float: []float64{1, -2.5, 3, 4e-300, 5, 6}}
	i := &Array{Shape: []int{4}, Int: []int64{-1, 0, 7, 1 << 40}}
	path := filepath.Join(dir, "a.npz")
	if err := WriteNPZ(path, Named{"f", f}, Named{"i", i}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got["f"].Float, f.Float) || !slices.Equal(got["f"].Shape, f.Shape) {
		t.Errorf("f: got %+v", got["f"])
	}
	if !slices.Equal(got["i"].Int, i.Int) || !slices.Equal(got["i"].Shape, i.Shape) {
		t.Errorf("i: got %+v", got["i"])
	}
}

// TestReadDTypes decodes hand-built headers of every supported dtype,
// both byte orders and Fortran order.
func TestReadDTypes(t *testing.T) {
	for _, tc := range []struct {
		descr   string
		fortran bool
		shape   string
		data    []byte
		want    []float64
	}{
		{"<i2", false, "(2,)", []byte{0xff, 0xff, 2, 0}, []float64{-1, 2}},
		{">i4", false, "(1,)", []byte{0xff, 0xff, 0xff, 0xfe}, []float64{-2}},
		{"|u1", false, "(3,)", []byte{0, 200, 255}, []float64{0, 200, 255}},
		{"|b1", false, "(2,)", []byte{0, 1}, []float64{0, 1}},
		{"<f4", false, "(1,)", []byte{0, 0, 0xc0, 0x3f}, []float64{1.5}},
		{"|u1", true, "(2, 3)", []byte{1, 4, 2, 5, 3, 6}, []float64{1, 2, 3, 4, 5, 6}},
	} {
		a, err := Read(bytes.NewReader(header(tc.descr, tc.fortran, tc.shape, tc.data)), 0)
		if err != nil {
			t.Errorf("%s: %v", tc.descr, err)
			continue
		}
		if got := a.Float64s(); !slices.Equal(got, tc.want) {
			t.Errorf("%s fortran=%v: got %v, want %v", tc.descr, tc.fortran, got, tc.want)
		}
	}
}

func header(descr string, fortran bool, shape string, data []byte) []byte {
	fo := "False"
	if fortran {
		fo = "True"
	}
	h := "{'descr': '" + descr + "', 'fortran_order': " + fo + ", 'shape': " + shape + ", }\n"
	b := []byte(magic + "\x01\x00")
	b = append(b, byte(len(h)), byte(len(h)>>8))
	b = append(b, h...)
	return append(b, data...)
}

func TestReadErrors(t *testing.T) {
	var good bytes.Buffer
	if err := Write(&good, &Array{Shape: []int{3}, Float: []float64{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":       nil,
		"not npy":     []byte("PK\x03\x04 this is a zip"),
		"truncated":   good.Bytes()[:good.Len()-3],
		"bad dtype":   header("<c16", false, "(1,)", make([]byte, 16)),
		"bad shape":   header("<f8", false, "(-1,)", nil),
		"huge shape":  header("<f8", false, "(100000000000, 100000000000)", nil),
		"no shape":    []byte(magic + "\x01\x00\x05\x00{}  \n"),
		"bad version": []byte(magic + "\x09\x00"),
	} {
		if _, err := Read(bytes.NewReader(data), 0); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: got %v, want ErrFormat", name, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	var good bytes.Buffer
	Write(&good, &Array{Shape: []int{2, 2}, Float: []float64{1, 2, 3, 4}})
	f.Add(good.Bytes())
	f.Add(header("|u1", true, "(2, 3)", []byte{1, 4, 2, 5, 3, 6}))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Read(bytes.NewReader(data), 0)
		if err == nil {
			n := 1
			for _, d := range a.Shape {
				n *= d
			}
			if n != a.Len() {
				t.Fatalf("shape %v but %d elements", a.Shape, a.Len())
			}
		}
	})
}

// TestLyingHeader: a small file whose header claims a huge shape is
// refused without allocating what the header claims.
func TestLyingHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, &Array{Shape: []int{16, 4, 2}, Float: make([]float64, 128)}); err != nil {
		t.Fatal(err)
	}
	lie := bytes.Replace(buf.Bytes(), []byte("(16, 4, 2)"), []byte("(90000000, 4, 2)"), 1)
	if bytes.Equal(lie, buf.Bytes()) {
		t.Fatal("could not forge the header")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(lie), 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "the file holds") {
		t.Errorf("lying header: %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("reading a %d-byte file allocated %d bytes", len(lie), grew)
	}
}

// TestCompressedBomb: a small deflated .npz whose array is real but larger
// than the limit is refused before its data is read.
func TestCompressedBomb(t *testing.T) {
	var npyBuf bytes.Buffer
	if err := Write(&npyBuf, &Array{Shape: []int{1 << 20, 4}, Float: make([]float64, 1<<22)}); err != nil {
		t.Fatal(err)
	}
	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "x.npy", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(npyBuf.Bytes())
	zw.Close()
	path := filepath.Join(t.TempDir(), "bomb.npz")
	if err := os.WriteFile(path, zipBuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = ReadNPZ(path, 16<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errs.ErrTooLarge) || !strings.Contains(err.Error(), "x.npy: shape = [1048576 4]") {
		t.Errorf("%d-byte archive of a 32 MiB array under a 16 MiB limit: %v", zipBuf.Len(), err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("refusing it allocated %d bytes", grew)
	}
	if a, err := ReadNPZ(path, 128<<20); err != nil || a["x"].Len() != 1<<22 {
		t.Errorf("under a 128 MiB limit: %v", err)
	}
}
