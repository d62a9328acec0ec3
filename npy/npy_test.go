package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle/internal/errs"
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

// TestConversions: Float64s converts integers (and returns float data
// as it is); Int64s converts floats only when every element is an integer
// NumPy's int64 can hold exactly (|v| ≤ 2⁵³), naming the first that is
// not; Bytes is 8 bytes per element.
func TestConversions(t *testing.T) {
	ints := &Array{Shape: []int{3}, Int: []int64{-2, 0, 1 << 40}}
	if got := ints.Float64s(); !slices.Equal(got, []float64{-2, 0, 1 << 40}) {
		t.Errorf("Float64s of ints: %v", got)
	}
	if got, err := ints.Int64s(); err != nil || !slices.Equal(got, ints.Int) {
		t.Errorf("Int64s of ints: %v, %v", got, err)
	}
	floats := &Array{Shape: []int{4}, Float: []float64{3, -7, 0, 1 << 53}}
	if got := floats.Float64s(); !slices.Equal(got, floats.Float) {
		t.Errorf("Float64s of floats: %v", got)
	}
	if got, err := floats.Int64s(); err != nil || !slices.Equal(got, []int64{3, -7, 0, 1 << 53}) {
		t.Errorf("Int64s of integral floats: %v, %v", got, err)
	}
	for _, c := range []struct {
		x    []float64
		want string
	}{{[]float64{1, 2.5}, "element 1 = 2.5"}, {[]float64{-(1 << 54)}, "element 0 = -1.8014398509481984e+16"}, {[]float64{0, 0, math.NaN()}, "element 2 = NaN"}} {
		if _, err := (&Array{Shape: []int{len(c.x)}, Float: c.x}).Int64s(); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Int64s(%v): %v, want ErrFormat naming %q", c.x, err, c.want)
		}
	}
	if b := floats.Bytes(); b != 32 {
		t.Errorf("Bytes of 4 elements: %d, want 32", b)
	}
}

// TestReadVersions: format versions 2.0 and 3.0 carry a 4-byte header
// length; a length beyond 1 MiB is refused.
func TestReadVersions(t *testing.T) {
	h := "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n"
	data := make([]byte, 16)
	binary.LittleEndian.PutUint64(data[8:], math.Float64bits(-1.5))
	for _, v := range []byte{2, 3} {
		b := []byte(magic + string([]byte{v, 0}))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
		b = append(append(b, h...), data...)
		a, err := Read(bytes.NewReader(b), 0)
		if err != nil || !slices.Equal(a.Float, []float64{0, -1.5}) {
			t.Errorf("version %d.0: %v, %v", v, a, err)
		}
	}
	b := binary.LittleEndian.AppendUint32([]byte(magic+"\x02\x00"), 1<<20+1)
	if _, err := Read(bytes.NewReader(b), 0); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "implausible") {
		t.Errorf("header length 2²⁰+1: %v", err)
	}
}

// TestReadLimit: limit bounds the data as read plus as decoded (8 bytes
// per element): 4 float64 need 32 + 32 = 64 bytes, 8 uint8 need 8 + 64 =
// 72; one byte less is refused before the data is read.
func TestReadLimit(t *testing.T) {
	for _, c := range []struct {
		descr string
		n     int
		size  int
		need  int64
	}{{"<f8", 4, 8, 64}, {"|u1", 8, 1, 72}} {
		file := header(c.descr, false, fmt.Sprintf("(%d,)", c.n), make([]byte, c.n*c.size))
		if _, err := Read(bytes.NewReader(file), c.need); err != nil {
			t.Errorf("%s × %d under a limit of %d: %v", c.descr, c.n, c.need, err)
		}
		if _, err := Read(bytes.NewReader(file), c.need-1); !errors.Is(err, errs.ErrTooLarge) {
			t.Errorf("%s × %d under a limit of %d: %v, want ErrTooLarge", c.descr, c.n, c.need-1, err)
		}
	}
}

// TestReadNPZLimit: the limit of ReadNPZ holds for all arrays together:
// two arrays of 4 float64 need 64 bytes each to read, the first leaves
// 32 bytes (its values) taken, so 96 bytes suffice and 95 do not.
func TestReadNPZLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.npz")
	a := &Array{Shape: []int{4}, Float: []float64{1, 2, 3, 4}}
	if err := WriteNPZ(path, Named{"a", a}, Named{"b", a}); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadNPZ(path, 96); err != nil || len(got) != 2 {
		t.Errorf("limit 96: %v (%d arrays)", err, len(got))
	}
	if _, err := ReadNPZ(path, 95); !errors.Is(err, errs.ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Errorf("limit 95: %v, want ErrTooLarge naming %s", err, path)
	}
	if _, err := ReadNPZ(filepath.Join(t.TempDir(), "none.npz"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing archive: %v", err)
	}
	notZip := filepath.Join(t.TempDir(), "x.npz")
	os.WriteFile(notZip, []byte("not a zip"), 0o644)
	if _, err := ReadNPZ(notZip, 0); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), notZip) {
		t.Errorf("not a zip: %v", err)
	}
}

// TestShapes: empty dimensions are valid (NumPy writes them); a shape of
// more than 2³¹ elements is refused from the header alone, one of exactly
// 2³¹ only because the file does not hold its data.
func TestShapes(t *testing.T) {
	for _, shape := range []string{"(0,)", "(3, 0)", "(0, 5, 2)"} {
		a, err := Read(bytes.NewReader(header("<f8", false, shape, nil)), 0)
		if err != nil || a.Len() != 0 {
			t.Errorf("shape %s: %v", shape, err)
		}
	}
	for _, c := range []struct{ shape, want string }{
		{"(2147483648,)", "the file holds"}, {"(65536, 32768)", "the file holds"},
		{"(2147483649,)", "too many elements"}, {"(65536, 32769)", "too many elements"},
	} {
		if _, err := Read(bytes.NewReader(header("|u1", false, c.shape, []byte{1})), 0); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("shape %s: %v, want %q", c.shape, err, c.want)
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, &Array{Shape: []int{2, 0}, Float: []float64{}}); err != nil {
		t.Fatal(err)
	}
	if a, err := Read(&buf, 0); err != nil || !slices.Equal(a.Shape, []int{2, 0}) {
		t.Errorf("empty array round trip: %v, %v", a, err)
	}
}

// TestWriteAlignment: Write pads the header as NumPy does, so that the
// data start at a multiple of 64 bytes, and ends it with a newline; the
// header length field says so.
func TestWriteAlignment(t *testing.T) {
	for _, shape := range [][]int{{1}, {7}, {12345, 3}, {2, 3, 4, 5, 6, 7, 8}, {}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		var buf bytes.Buffer
		if err := Write(&buf, &Array{Shape: shape, Float: make([]float64, n)}); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		hlen := int(binary.LittleEndian.Uint16(b[8:10]))
		start := len(magic) + 4 + hlen
		if start%64 != 0 || b[start-1] != '\n' || len(b) != start+8*n {
			t.Errorf("shape %v: data at %d (mod 64 = %d), header ends %q, %d bytes for %d values", shape, start, start%64, b[start-1], len(b)-start, n)
		}
	}
}

// TestFiles: ReadFile and WriteFile name the path in their errors; a
// header length of exactly 1 MiB is plausible (the file is then merely
// truncated), one byte more is not; big-endian float64 and float32 data
// decode.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.npy")
	if err := WriteFile(p, &Array{Shape: []int{3}, Float: []float64{1, 2}}); !errors.Is(err, ErrFormat) {
		t.Errorf("shape 3 with 2 values: %v, want ErrFormat", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused array left a file (%v)", err)
	}
	if err := WriteFile(p, &Array{Shape: []int{2}, Float: []float64{1, 2}}); err != nil {
		t.Fatal(err)
	}
	if a, err := ReadFile(p, 0); err != nil || !slices.Equal(a.Float, []float64{1, 2}) {
		t.Errorf("ReadFile: %v, %v", a, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none.npy"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(p, []byte("garbage"), 0o644)
	if _, err := ReadFile(p, 0); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), p) {
		t.Errorf("garbage: %v, want ErrFormat naming %s", err, p)
	}
	for _, c := range []struct {
		hlen uint32
		want string
	}{{1 << 20, "header truncated"}, {1<<20 + 1, "implausible"}} {
		b := binary.LittleEndian.AppendUint32([]byte(magic+"\x02\x00"), c.hlen)
		if _, err := Read(bytes.NewReader(b), 0); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("header length %d: %v, want %q", c.hlen, err, c.want)
		}
	}
	be := binary.BigEndian.AppendUint64(nil, math.Float64bits(-0.75))
	be = binary.BigEndian.AppendUint32(be, math.Float32bits(3.5))
	for _, c := range []struct {
		descr string
		data  []byte
		want  float64
	}{{">f8", be[:8], -0.75}, {">f4", be[8:], 3.5}} {
		a, err := Read(bytes.NewReader(header(c.descr, false, "(1,)", c.data)), 0)
		if err != nil || len(a.Float) != 1 || a.Float[0] != c.want {
			t.Errorf("%s: %v, %v; want %g", c.descr, a, err, c.want)
		}
	}
}
