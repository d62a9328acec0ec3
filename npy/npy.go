// Package npy reads and writes NumPy .npy arrays and .npz archives.
//
// Reading accepts format versions 1–3, little- and big-endian integers
// (int8…int64, uint8…uint64), bool and floats (float32, float64), in C or
// Fortran order; arrays are returned in C (row-major) order. Writing
// produces version 1.0 files of float64 ("<f8") or int64 ("<i8"), which
// NumPy reads with np.load.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/gle-go/gle/internal/errs"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// ErrFormat marks a file that is not a valid .npy/.npz or is truncated.
var ErrFormat = errors.New("npy: bad format")

const magic = "\x93NUMPY"

// maxElements bounds the element count a header may declare (2³¹), so a
// corrupt header cannot ask for an absurd allocation.
const maxElements = 1 << 31

// Array is an n-dimensional array in row-major order. Exactly one of Float
// and Int is set: Float for float dtypes, Int for integer and bool dtypes.
type Array struct {
	Shape []int
	DType string // NumPy descr as read, e.g. "<f8", "|u1"
	Float []float64
	Int   []int64
}

// Len returns the number of elements.
func (a *Array) Len() int { return max(len(a.Float), len(a.Int)) }

// Bytes returns the memory the elements take.
func (a *Array) Bytes() int64 { return 8 * int64(a.Len()) }

// Float64s returns the elements as float64 (integers converted).
func (a *Array) Float64s() []float64 {
	if a.Float != nil || a.Int == nil {
		return a.Float
	}
	out := make([]float64, len(a.Int))
	for i, v := range a.Int {
		out[i] = float64(v)
	}
	return out
}

// Int64s returns the elements as int64; a float array converts only if
// every element is integral.
func (a *Array) Int64s() ([]int64, error) {
	if a.Float == nil {
		return a.Int, nil
	}
	out := make([]int64, len(a.Float))
	for i, v := range a.Float {
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return nil, fmt.Errorf("%w: element %d = %v is not an integer", ErrFormat, i, v)
		}
		out[i] = int64(v)
	}
	return out, nil
}

var (
	descrRE   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	fortranRE = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	shapeRE   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
	dtypeRE   = regexp.MustCompile(`^([<>|=]?)([fiub])(\d+)$`)
)

// Read reads one .npy array from r. limit bounds the memory (bytes) the
// array may take, its data as read and as decoded; 0 means no limit. An
// array whose header claims more is refused (errs.ErrTooLarge) before its
// data is read.
func Read(r io.Reader, limit int64) (*Array, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	if string(pre[:6]) != magic {
		return nil, fmt.Errorf("%w: missing the \\x93NUMPY magic: not a .npy file", ErrFormat)
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("%w: header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
		if hlen > 1<<20 {
			return nil, fmt.Errorf("%w: header length %d is implausible", ErrFormat, hlen)
		}
	default:
		return nil, fmt.Errorf("%w: unsupported version %d.%d", ErrFormat, pre[6], pre[7])
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("%w: header truncated: %v", ErrFormat, err)
	}
	h := string(hb)
	dm, fm, sm := descrRE.FindStringSubmatch(h), fortranRE.FindStringSubmatch(h), shapeRE.FindStringSubmatch(h)
	if dm == nil || fm == nil || sm == nil {
		return nil, fmt.Errorf("%w: header %q lacks descr, fortran_order or shape", ErrFormat, strings.TrimSpace(h))
	}
	tm := dtypeRE.FindStringSubmatch(dm[1])
	if tm == nil {
		return nil, fmt.Errorf("%w: unsupported dtype %q", ErrFormat, dm[1])
	}
	size, _ := strconv.Atoi(tm[3])
	kind := tm[2]
	if !validKind(kind, size) {
		return nil, fmt.Errorf("%w: unsupported dtype %q", ErrFormat, dm[1])
	}
	var order binary.ByteOrder = binary.LittleEndian
	if tm[1] == ">" {
		order = binary.BigEndian
	}
	shape, n, err := parseShape(sm[1])
	if err != nil {
		return nil, err
	}
	// Read what is there before allocating what the header claims: a
	// header that lies about the shape costs the file's size, not the
	// shape's.
	want := int64(n) * int64(size)
	if need := want + 8*int64(n); limit > 0 && need > limit {
		return nil, errs.Field(errs.ErrTooLarge, "shape", shape, "the array needs ≈ %d MiB of memory, above the limit of %d MiB (--max-memory, gle.SetMemoryLimit)", need>>20, limit>>20)
	}
	data, err := io.ReadAll(io.LimitReader(r, want))
	if err != nil {
		return nil, fmt.Errorf("%w: data: %v", ErrFormat, err)
	}
	if int64(len(data)) != want {
		return nil, fmt.Errorf("%w: the header claims shape %v (%d bytes of data) but the file holds %d", ErrFormat, shape, want, len(data))
	}
	a := &Array{Shape: shape, DType: dm[1]}
	if kind == "f" {
		a.Float = make([]float64, n)
	} else {
		a.Int = make([]int64, n)
	}
	for i := range n {
		b := data[i*size : (i+1)*size]
		if kind == "f" && size == 8 {
			a.Float[i] = math.Float64frombits(order.Uint64(b))
		} else if kind == "f" {
			a.Float[i] = float64(math.Float32frombits(order.Uint32(b)))
		} else {
			a.Int[i] = decodeInt(b, kind, order)
		}
	}
	if fm[1] == "True" && len(shape) > 1 {
		a.toCOrder()
	}
	return a, nil
}

func validKind(kind string, size int) bool {
	switch kind {
	case "f":
		return size == 4 || size == 8
	case "b":
		return size == 1
	}
	return size == 1 || size == 2 || size == 4 || size == 8
}

func decodeInt(b []byte, kind string, order binary.ByteOrder) int64 {
	var u uint64
	switch len(b) {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(order.Uint16(b))
	case 4:
		u = uint64(order.Uint32(b))
	case 8:
		u = order.Uint64(b)
	}
	if kind == "i" { // sign-extend
		shift := 64 - 8*len(b)
		return int64(u<<shift) >> shift
	}
	if kind == "b" && u != 0 {
		return 1
	}
	return int64(u)
}

func parseShape(s string) ([]int, int, error) {
	shape := []int{}
	n := 1
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 {
			return nil, 0, fmt.Errorf("%w: bad shape (%s)", ErrFormat, s)
		}
		if d > 0 && n > maxElements/d {
			return nil, 0, fmt.Errorf("%w: shape (%s) has too many elements", ErrFormat, s)
		}
		n *= d
		shape = append(shape, d)
	}
	return shape, n, nil
}

// toCOrder reorders a Fortran-ordered array into C order.
func (a *Array) toCOrder() {
	n := a.Len()
	src := make([]int, n) // C index → Fortran index
	idx := make([]int, len(a.Shape))
	for c := range n {
		f, stride := 0, 1
		for d := range a.Shape {
			f += idx[d] * stride
			stride *= a.Shape[d]
		}
		src[c] = f
		for d := len(a.Shape) - 1; d >= 0; d-- { // advance the C index
			idx[d]++
			if idx[d] < a.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	if a.Float != nil {
		old := append([]float64(nil), a.Float...)
		for c, f := range src {
			a.Float[c] = old[f]
		}
	} else {
		old := append([]int64(nil), a.Int...)
		for c, f := range src {
			a.Int[c] = old[f]
		}
	}
}

// Write writes a as a version 1.0 .npy file: "<f8" if a.Float is set,
// "<i8" otherwise. The product of a.Shape must equal a.Len().
func Write(w io.Writer, a *Array) error {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	if n != a.Len() {
		return fmt.Errorf("%w: shape %v holds %d elements, have %d", ErrFormat, a.Shape, n, a.Len())
	}
	descr := "<i8"
	if a.Float != nil || a.Int == nil {
		descr = "<f8"
	}
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(a.Shape) == 1 {
		shape += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	// Pad with spaces so that magic + 4 + header (ending in \n) is a
	// multiple of 64 bytes, as NumPy does.
	total := len(magic) + 4 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	var buf bytes.Buffer
	buf.WriteString(magic)
	buf.Write([]byte{1, 0})
	binary.Write(&buf, binary.LittleEndian, uint16(len(h)))
	buf.WriteString(h)
	data := make([]byte, 8*n)
	for i := range n {
		if descr == "<f8" {
			binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(a.Float[i]))
		} else {
			binary.LittleEndian.PutUint64(data[8*i:], uint64(a.Int[i]))
		}
	}
	buf.Write(data)
	_, err := w.Write(buf.Bytes())
	return err
}
