// Package kernel holds the dense products of the per-step hot path of a
// GLE layer. All matrices are row-major flat slices; every function writes
// into a destination owned by the caller and allocates nothing.
//
// On amd64 processors with AVX2 and FMA3 the products run on assembly
// micro-kernels (blocks of 4 rows × 1–3 vectors of the result kept in
// registers while the inner dimension streams through; masked kernels for
// the last columns that do not fill a vector); elsewhere, and for the
// narrow tails of small products, plain Go loops compute the same sums.
// The two paths round differently (fused multiply-adds), by a few ulps.
// The per-neuron Euler step and the Adam update are here too.
//
// Every kernel is generic over the element type: float64 (the conformance
// path) and float32 (twice the lanes per vector; the optional fast
// engine). The float32 assembly is generated from the float64 one
// (TestAsm32Generated; regenerate with go generate).
package kernel

import (
	"sync"
	"unsafe"

	"github.com/gle-go/gle/internal/cpu"
)

// Float is the element type of the kernels.
type Float interface{ float32 | float64 }

// lanes returns the number of T in a 256-bit vector: 4 or 8.
func lanes[T Float]() int {
	var z T
	return 32 / int(unsafe.Sizeof(z))
}

// GemmAcc adds A·B to C: C[i][j] += Σ_p A[i·aRow + p·aCol] · B[p·ldb + j]
// for i < m, j < n, p < k. A is addressed through strides, so a
// transposed operand costs nothing; rows of B and C are contiguous. It
// runs on the calling goroutine; GemmRange computes a block of C, for
// callers that split a product over cores.
func GemmAcc[T Float](m, n, k int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	GemmRange(m, n, k, a, aRow, aCol, b, ldb, c, ldc, 0, m, 0, n)
}

// RowAlign and ColAlign are the cuts at which GemmRange may split C: the
// register blocks of rows (8 rows in the masked kernels, 4 in the
// others) and the cache panels of columns.
const (
	RowAlign = 8
	ColAlign = gemmNC
)

// GemmRange is GemmAcc on the block of rows i0…i1−1 and columns j0…j1−1
// of C only. When i0 and i1 are multiples of RowAlign (or m) and j0 and
// j1 multiples of ColAlign (or n), each element of the block gets the
// very operations GemmAcc gives it — every path is chosen from the whole
// product's shape, and every element sums over p in order — so any split
// of C into such blocks, computed on any goroutines, equals GemmAcc bit
// for bit (TestGemmRangeBitIdentical).
func GemmRange[T Float](m, n, k int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int, i0, i1, j0, j1 int) {
	if m == 0 || n == 0 || k == 0 || i0 >= i1 || j0 >= j1 {
		return
	}
	// Bounds: the last element of each operand the block touches (only
	// the block's: other goroutines may be writing the rest of A and C).
	_ = a[(i1-1)*aRow+(k-1)*aCol]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(i1-1)*ldc+j1-1]
	mi := i1 - i0
	ab, cb := a[i0*aRow:], c[i0*ldc:]
	L := lanes[T]()
	if !useAsm || (n < L && m*k < gemmSmall) {
		gemmGo(mi, n, k, ab, aRow, aCol, b, ldb, cb, ldc, j0, j1)
		return
	}
	// Cache blocking: a kc×nc panel of B (≤ 128 KiB) stays in L2 while
	// every 4-row block of A streams past it.
	nv := n &^ (L - 1) // columns the vector kernels cover
	if (packs[T](ldb) && mi >= 16 || packs[T](aCol) && k >= 16) && j0 < nv {
		h, bp, ap := getPack[T]()
		gemmPanels(mi, n, k, nv, ab, aRow, aCol, b, ldb, cb, ldc, j0, j1, bp, ap)
		putPack(h)
	} else {
		gemmPanels(mi, n, k, nv, ab, aRow, aCol, b, ldb, cb, ldc, j0, j1, nil, nil)
	}
	if nv < n && j1 > nv {
		if m*k < gemmSmall {
			gemmTailGo(mi, n, k, nv, ab, aRow, aCol, b, ldb, cb, ldc)
		} else {
			gemmTail(mi, n, k, nv, ab, aRow, aCol, b, ldb, cb, ldc)
		}
	}
}

// gemmPanels runs gemmPanel on every panel of columns j0…min(j1, nv)−1
// and of the inner dimension (bp, ap: the copy buffers, or nil).
func gemmPanels[T Float](mi, n, k, nv int, ab []T, aRow, aCol int, b []T, ldb int, cb []T, ldc int, j0, j1 int, bp, ap []T) {
	for jb := j0; jb < min(j1, nv); jb += gemmNC {
		je := min(jb+gemmNC, nv)
		for pb := 0; pb < k; pb += gemmKC {
			kc := min(gemmKC, k-pb)
			gemmPanel(mi, jb, je, kc, ab[pb*aCol:], aRow, aCol, b[pb*ldb:], ldb, cb, ldc, bp, ap)
		}
	}
}

// gemmSmall is the size m·k below which columns that do not fill a vector
// are cheaper in plain Go loops than through the masked kernels' calls.
const gemmSmall = 512

// Panel sizes of GemmAcc's cache blocking: gemmNC a multiple of three
// vectors of either type (24 float32, 12 float64), so that every panel
// is covered by the widest kernels (a 128-wide panel left 8 float32
// columns to the 4×8 kernel, which keeps only four FMA chains in flight).
const gemmNC, gemmKC = 120, 256

// gemmPanel adds A[:, 0:kc] · B[0:kc, jb:je] to C[:, jb:je] with the
// register-blocked kernels (je − jb a multiple of the vector width L):
// blocks of 4 rows × 3, 2 or 1 vectors, then single rows of 2 or 1
// vectors.
//
// When the panel's rows of B lie far apart (packs(ldb)) and enough row
// blocks share it, the panel is first copied into bp, its rows side by
// side, so that the kernels read it from a few consecutive pages instead
// of a new page every row or two; an A read down columns as far apart
// (the weight gradient's êᵀ) is copied per 4-row block into four
// interleaved columns. The copies change no value and no order of
// operations (TestPackedPanelsBitIdentical).
func gemmPanel[T Float](m, jb, je, kc int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int, bp, ap []T) {
	L := lanes[T]()
	packB := bp != nil && packs[T](ldb) && m >= 16
	packA := ap != nil && packs[T](aCol) && kc >= 16
	pw := je - jb
	if packB {
		for p := range kc {
			copy(bp[p*pw:p*pw+pw], b[p*ldb+jb:p*ldb+je])
		}
	}
	i := 0
	for ; i+4 <= m; i += 4 {
		ai, aRowI, aColI := &a[i*aRow], aRow, aCol
		if packA {
			a0, a1, a2, a3 := a[i*aRow:], a[(i+1)*aRow:], a[(i+2)*aRow:], a[(i+3)*aRow:]
			for p := range kc {
				q := p * aCol
				ap[4*p], ap[4*p+1], ap[4*p+2], ap[4*p+3] = a0[q], a1[q], a2[q], a3[q]
			}
			ai, aRowI, aColI = &ap[0], 1, 4
		}
		// The strips of 3, 2, then 1 vectors, from the copy or in place.
		bj, ld := b[jb:], ldb
		if packB {
			bj, ld = bp, pw
		}
		j := jb
		for ; j+3*L <= je; j += 3 * L {
			micro4(3, kc, ai, aRowI, aColI, &bj[j-jb], ld, &c[i*ldc+j], ldc)
		}
		for ; j+2*L <= je; j += 2 * L {
			micro4(2, kc, ai, aRowI, aColI, &bj[j-jb], ld, &c[i*ldc+j], ldc)
		}
		if j+L <= je {
			micro4(1, kc, ai, aRowI, aColI, &bj[j-jb], ld, &c[i*ldc+j], ldc)
		}
	}
	for ; i < m; i++ {
		j := jb
		for ; j+2*L <= je; j += 2 * L {
			micro1(2, kc, &a[i*aRow], aCol, &b[j], ldb, &c[i*ldc+j])
		}
		if j+L <= je {
			micro1(1, kc, &a[i*aRow], aCol, &b[j], ldb, &c[i*ldc+j])
		}
	}
}

// packMinBytes is the distance between rows of B (or columns of A) from
// which gemmPanel copies them: rows ≥ 2.5 KiB apart fall on another page
// every row or two, and the panel's rows outnumber the TLB's first level.
var packMinBytes = 2560 // a variable: tests switch the copies on and off

// FarApart reports whether the rows of a matrix of T with the given
// stride lie far enough apart that a product reads them faster from a
// copy (the weight gradient's êᵀ, transposed once, then read along
// rows).
func FarApart[T Float](stride int) bool { return packs[T](stride) }

// packs reports whether rows of a operand stride elements of T apart
// are far enough apart to be worth copying side by side (measured:
// float64 rows of 2 KiB lose 3–6 % by the copy, of 6 KiB gain 6–17 %;
// float32 rows of 3 KiB gain 13 % on the GSC step).
func packs[T Float](stride int) bool {
	var z T
	return stride*int(unsafe.Sizeof(z)) >= packMinBytes
}

// packBuf is gemmPanel's copy of a panel of B and of a 4-row block of A.
type packBuf[T Float] struct {
	b [gemmKC * gemmNC]T
	a [4 * gemmKC]T
}

// The panel buffers in use at once are at most the goroutines running
// products; free ones wait on a list (not a sync.Pool: a garbage
// collection would drop them, and a 256 KiB allocation per product
// would bring the next collection closer).
var (
	packMu         sync.Mutex
	pack32, pack64 []unsafe.Pointer
)

// getPack returns panel buffers for T (putPack returns them).
func getPack[T Float]() (h *T, b, a []T) {
	var z T
	is32 := unsafe.Sizeof(z) == 4
	packMu.Lock()
	list := &pack64
	if is32 {
		list = &pack32
	}
	var p unsafe.Pointer
	if n := len(*list); n > 0 {
		p, *list = (*list)[n-1], (*list)[:n-1]
	}
	packMu.Unlock()
	if p == nil {
		if is32 {
			p = unsafe.Pointer(new(packBuf[float32]))
		} else {
			p = unsafe.Pointer(new(packBuf[float64]))
		}
	}
	buf := (*packBuf[T])(p)
	return (*T)(p), buf.b[:], buf.a[:]
}

func putPack[T Float](h *T) {
	var z T
	packMu.Lock()
	if unsafe.Sizeof(z) == 4 {
		pack32 = append(pack32, unsafe.Pointer(h))
	} else {
		pack64 = append(pack64, unsafe.Pointer(h))
	}
	packMu.Unlock()
}

// micro4 runs the assembly kernel for a block of 4 rows × vecs vectors of C.
func micro4[T Float](vecs, k int, a *T, aRow, aCol int, b *T, ldb int, c *T, ldc int) {
	switch a := any(a).(type) {
	case *float64:
		b, c := any(b).(*float64), any(c).(*float64)
		switch vecs {
		case 3:
			gemm4x12(k, a, aRow, aCol, b, ldb, c, ldc)
		case 2:
			gemm4x8(k, a, aRow, aCol, b, ldb, c, ldc)
		default:
			gemm4x4(k, a, aRow, aCol, b, ldb, c, ldc)
		}
	case *float32:
		b, c := any(b).(*float32), any(c).(*float32)
		switch vecs {
		case 3:
			gemm4x24f32(k, a, aRow, aCol, b, ldb, c, ldc)
		case 2:
			gemm4x16f32(k, a, aRow, aCol, b, ldb, c, ldc)
		default:
			gemm4x8f32(k, a, aRow, aCol, b, ldb, c, ldc)
		}
	}
}

// micro1 runs the assembly kernel for one row × vecs (1 or 2) vectors of C.
func micro1[T Float](vecs, k int, a *T, aCol int, b *T, ldb int, c *T) {
	switch a := any(a).(type) {
	case *float64:
		b, c := any(b).(*float64), any(c).(*float64)
		if vecs == 2 {
			gemm1x8(k, a, aCol, b, ldb, c)
		} else {
			gemm1x4(k, a, aCol, b, ldb, c)
		}
	case *float32:
		b, c := any(b).(*float32), any(c).(*float32)
		if vecs == 2 {
			gemm1x16f32(k, a, aCol, b, ldb, c)
		} else {
			gemm1x8f32(k, a, aCol, b, ldb, c)
		}
	}
}

// laneMasks64 and laneMasks32 hold, from index L − w, the mask of a
// vector's first w lanes (w < L) for the masked kernels.
var (
	laneMasks64 = [8]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	laneMasks32 = [16]uint32{^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0)}
)

// gemmTail computes the last w = n − j0 (< L) columns with the masked
// one-vector kernels, which write only those columns of C but read whole
// vectors of B: rows p of B with p·ldb + j0 + L ≤ len(b) in place, the last
// few (whose vectors would run past b; at most L − 1) from a zero-padded
// copy, after them, so every element still sums over p in order.
func gemmTail[T Float](m, n, k, j0 int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	L := lanes[T]()
	w := n - j0
	if packs[T](ldb) && m >= 16 {
		gemmTailPacked(m, n, k, j0, a, aRow, aCol, b, ldb, c, ldc)
		return
	}
	kv := k
	for kv > 0 && (kv-1)*ldb+j0+L > len(b) {
		kv--
	}
	gemmTailRows(m, w, kv, a, aRow, aCol, b[j0:], ldb, c[j0:], ldc)
	if kv < k {
		var bt [8 * 8]T
		for p := kv; p < k; p++ {
			copy(bt[(p-kv)*L:(p-kv)*L+w], b[p*ldb+j0:p*ldb+n])
		}
		gemmTailRows(m, w, k-kv, a[kv*aCol:], aRow, aCol, bt[:], L, c[j0:], ldc)
	}
}

// gemmTailPacked is gemmTail for a B whose rows lie far apart: the last
// columns of gemmKC rows of B at a time are copied side by side (a
// vector per row), so that the masked kernels read consecutive vectors
// instead of a cache line of another page per row. Each element still
// sums over p in order (C is stored and reloaded between the blocks of
// rows, exactly).
func gemmTailPacked[T Float](m, n, k, j0 int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	L := lanes[T]()
	w := n - j0
	var bt [gemmKC * 8]T // lanes beyond w stay as they are: the kernels do not store them
	for pb := 0; pb < k; pb += gemmKC {
		kc := min(gemmKC, k-pb)
		for p := range kc {
			copy(bt[p*L:p*L+w], b[(pb+p)*ldb+j0:(pb+p)*ldb+n])
		}
		gemmTailRows(m, w, kc, a[pb*aCol:], aRow, aCol, bt[:], L, c[j0:], ldc)
	}
}

// gemmTailRows adds A[:, 0:k] · B[0:k, 0:w] to C[:, 0:w] with the masked
// kernels (B's rows hold whole vectors).
func gemmTailRows[T Float](m, w, k int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	if k == 0 {
		return
	}
	i := 0
	for ; i+8 <= m; i += 8 {
		microMask(w, 8, k, &a[i*aRow], aRow, aCol, &b[0], ldb, &c[i*ldc], ldc)
	}
	for ; i+4 <= m; i += 4 {
		microMask(w, 4, k, &a[i*aRow], aRow, aCol, &b[0], ldb, &c[i*ldc], ldc)
	}
	for ; i < m; i++ {
		microMask(w, 1, k, &a[i*aRow], aRow, aCol, &b[0], ldb, &c[i*ldc], ldc)
	}
}

// microMask runs the masked kernel for rows (8, 4 or 1) rows × the first
// w columns of one vector.
func microMask[T Float](w, rows, k int, a *T, aRow, aCol int, b *T, ldb int, c *T, ldc int) {
	switch a := any(a).(type) {
	case *float64:
		b, c, mask := any(b).(*float64), any(c).(*float64), &laneMasks64[4-w]
		switch rows {
		case 8:
			gemm8x4mask(k, a, aRow, aCol, b, ldb, c, ldc, mask)
		case 4:
			gemm4x4mask(k, a, aRow, aCol, b, ldb, c, ldc, mask)
		default:
			gemm1x4mask(k, a, aCol, b, ldb, c, mask)
		}
	case *float32:
		b, c, mask := any(b).(*float32), any(c).(*float32), &laneMasks32[8-w]
		switch rows {
		case 8:
			gemm8x8maskf32(k, a, aRow, aCol, b, ldb, c, ldc, mask)
		case 4:
			gemm4x8maskf32(k, a, aRow, aCol, b, ldb, c, ldc, mask)
		default:
			gemm1x8maskf32(k, a, aCol, b, ldb, c, mask)
		}
	}
}

// gemmTailGo computes the last n − j0 columns with plain loops, one dot
// product per element.
func gemmTailGo[T Float](m, n, k, j0 int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	for i := range m {
		for j := j0; j < n; j++ {
			s := c[i*ldc+j]
			for p := range k {
				s += a[i*aRow+p*aCol] * b[p*ldb+j]
			}
			c[i*ldc+j] = s
		}
	}
}

// gemmGo is the portable GemmAcc, on columns j0…j1−1 of C.
func gemmGo[T Float](m, n, k int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int, j0, j1 int) {
	if n == 1 { // a matrix-vector product: one dot per row
		gemmTailGo(m, n, k, 0, a, aRow, aCol, b, ldb, c, ldc)
		return
	}
	for i := range m {
		ci := c[i*ldc+j0 : i*ldc+j1]
		for p := range k {
			Axpy(ci, a[i*aRow+p*aCol], b[p*ldb+j0:p*ldb+j1])
		}
	}
}

// useAsm selects the assembly kernels; tests switch it to compare paths.
var useAsm = cpu.HasAVX2FMA

// MulABt sets dst (m×n) = a (m×k) · bᵀ, with b stored n×k; bt (k·n
// values) is scratch for bᵀ. It computes s = r Wᵀ for a batch r (B×In)
// and weights W (Out×In).
func MulABt[T Float](dst, a, b []T, m, k, n int, bt []T) {
	Transpose(bt, b, n, k)
	MulAB(dst, a, bt, m, k, n)
}

// Transpose sets dst (cols×rows) = srcᵀ for src (rows×cols), four rows
// of src at a time: each column of the strip becomes four consecutive
// values of dst, so both sides move in runs (3× faster than 32×32 tiles
// on 53×53, 6× on 750×750).
func Transpose[T Float](dst, src []T, rows, cols int) {
	TransposeRows(dst, nil, src, rows, cols, 0, rows)
}

// TransposeRows is Transpose for rows r0…r1−1 of src only (r0 a multiple
// of 4), converting to D; when cp is not nil it also receives those rows
// of src converted (cp = D(src), in src's layout), in the same pass: the
// float32 engine's weights and their transpose from the float64 network.
func TransposeRows[D, S Float](dst, cp []D, src []S, rows, cols, r0, r1 int) {
	if rows*cols == 0 || r0 >= r1 {
		return
	}
	_ = dst[rows*cols-1]
	_ = src[rows*cols-1]
	if cp != nil {
		_ = cp[rows*cols-1]
	}
	i := r0
	if useAsm && (r1-r0)*cols >= 256 {
		i = transposeAsm(dst, cp, src, rows, cols, r0, r1)
	}
	for ; i+4 <= r1; i += 4 {
		s0 := src[i*cols : (i+1)*cols]
		s1 := src[(i+1)*cols : (i+2)*cols][:len(s0)]
		s2 := src[(i+2)*cols : (i+3)*cols][:len(s0)]
		s3 := src[(i+3)*cols : (i+4)*cols][:len(s0)]
		if cp == nil {
			for j, v := range s0 {
				d := dst[j*rows+i : j*rows+i+4]
				d[0], d[1], d[2], d[3] = D(v), D(s1[j]), D(s2[j]), D(s3[j])
			}
			continue
		}
		c0 := cp[i*cols : (i+1)*cols][:len(s0)]
		c1 := cp[(i+1)*cols : (i+2)*cols][:len(s0)]
		c2 := cp[(i+2)*cols : (i+3)*cols][:len(s0)]
		c3 := cp[(i+3)*cols : (i+4)*cols][:len(s0)]
		for j, v := range s0 {
			x0, x1, x2, x3 := D(v), D(s1[j]), D(s2[j]), D(s3[j])
			c0[j], c1[j], c2[j], c3[j] = x0, x1, x2, x3
			d := dst[j*rows+i : j*rows+i+4]
			d[0], d[1], d[2], d[3] = x0, x1, x2, x3
		}
	}
	for ; i < r1; i++ {
		for j, v := range src[i*cols : (i+1)*cols] {
			x := D(v)
			dst[j*rows+i] = x
			if cp != nil {
				cp[i*cols+j] = x
			}
		}
	}
}

// transposeAsm moves strips of rows r0… of src with the vector kernels
// where they apply (float64 without a copy by 4×4 blocks, float64 to
// float32 with the copy by 8×8), the strips' last columns in Go, and
// returns the first row it left to the caller.
func transposeAsm[D, S Float](dst, cp []D, src []S, rows, cols, r0, r1 int) int {
	i := r0
	if r1-r0 < 4 || cols < 8 {
		return i
	}
	s, ok := any(&src[0]).(*float64)
	if !ok {
		return i
	}
	s64 := unsafe.Slice(s, len(src))
	switch d := any(&dst[0]).(type) {
	case *float64:
		if cp != nil {
			return i
		}
		d64 := unsafe.Slice(d, len(dst))
		cv := cols &^ 3
		for ; i+4 <= r1; i += 4 {
			transpose4x4f64(&s64[i*cols], cols, &d64[i], rows, cv/4)
			transposeTail(d64, nil, s64, rows, cols, i, i+4, cv)
		}
	case *float32:
		if cp == nil || r1-r0 < 8 {
			return i
		}
		d32 := unsafe.Slice(d, len(dst))
		c32 := unsafe.Slice((*float32)(unsafe.Pointer(&cp[0])), len(cp))
		cv := cols &^ 7
		for ; i+8 <= r1; i += 8 {
			transpose8x8f64to32(&s64[i*cols], cols, &d32[i], rows, &c32[i*cols], cols, cv/8)
			transposeTail(d32, c32, s64, rows, cols, i, i+8, cv)
		}
	}
	return i
}

// TransposeBlock sets dst[j·rows + i] = src[i·cols + j] (dst = srcᵀ,
// src rows×cols) for the rows i of r0…r1−1 and the columns j of
// c0…c1−1 only: a block of Wᵀ, or of êᵀ for the rows of a weight
// gradient, on any goroutine. With AVX2, 8×8 (float32) or 4×4 (float64)
// blocks go through vector kernels.
func TransposeBlock[T Float](dst, src []T, rows, cols, r0, r1, c0, c1 int) {
	if r0 >= r1 || c0 >= c1 {
		return
	}
	_ = dst[(c1-1)*rows+r1-1]
	_ = src[(r1-1)*cols+c1-1]
	L := lanes[T]() // the block side: 8 float32, 4 float64
	i := r0
	if useAsm && c1-c0 >= L {
		cv := c0 + (c1-c0)/L*L
		for ; i+L <= r1; i += L {
			switch d := any(&dst[0]).(type) {
			case *float32:
				s := unsafe.Slice((*float32)(unsafe.Pointer(&src[0])), len(src))
				d32 := unsafe.Slice(d, len(dst))
				transpose8x8f32(&s[i*cols+c0], cols, &d32[c0*rows+i], rows, (cv-c0)/8)
			case *float64:
				s := unsafe.Slice((*float64)(unsafe.Pointer(&src[0])), len(src))
				d64 := unsafe.Slice(d, len(dst))
				transpose4x4f64(&s[i*cols+c0], cols, &d64[c0*rows+i], rows, (cv-c0)/4)
			}
			for r := i; r < i+L; r++ {
				for j := cv; j < c1; j++ {
					dst[j*rows+r] = src[r*cols+j]
				}
			}
		}
	}
	for ; i < r1; i++ {
		for j := c0; j < c1; j++ {
			dst[j*rows+i] = src[i*cols+j]
		}
	}
}

// transposeTail moves columns j0…cols−1 of rows r0…r1−1 of src.
func transposeTail[D, S Float](dst, cp []D, src []S, rows, cols, r0, r1, j0 int) {
	for i := r0; i < r1; i++ {
		for j := j0; j < cols; j++ {
			x := D(src[i*cols+j])
			dst[j*rows+i] = x
			if cp != nil {
				cp[i*cols+j] = x
			}
		}
	}
}

// ScaleFinite sets x[i] *= alpha and reports whether every result is
// finite (no NaN, no ±Inf), in one pass; with AVX2 a vector at a time,
// with the same products.
func ScaleFinite[T Float](x []T, alpha T) bool {
	n := len(x)
	i, ok := 0, true
	if useAsm && n >= 16 {
		switch v := any(&x[0]).(type) {
		case *float64:
			i = n &^ 7
			ok = scaleFinite64(v, i, float64(alpha))
		case *float32:
			i = n &^ 15
			ok = scaleFinite32(v, i, float32(alpha))
		}
	}
	var z T
	for ; i < n; i++ {
		x[i] *= alpha
		z += x[i] * 0
	}
	return ok && z == 0
}

// Finite reports whether every value of x is finite.
func Finite[T Float](x []T) bool {
	// Four independent sums, so that the adds do not wait on each other.
	var z0, z1, z2, z3 T
	i := 0
	for ; i+4 <= len(x); i += 4 {
		z0 += x[i] * 0
		z1 += x[i+1] * 0
		z2 += x[i+2] * 0
		z3 += x[i+3] * 0
	}
	for ; i < len(x); i++ {
		z0 += x[i] * 0
	}
	return z0+z1+z2+z3 == 0
}

// MulAB sets dst (m×n) = a (m×k) · b (k×n).
// It computes e_bottom = ê W for errors ê (B×Out) and W (Out×In).
func MulAB[T Float](dst, a, b []T, m, k, n int) {
	clear(dst[:m*n])
	GemmAcc(m, n, k, a, k, 1, b, n, dst, n)
}

// MulAtB sets dst (k×n) = alpha · aᵀ · b, with a (m×k) and b (m×n).
// It computes the batch-mean weight gradient −(1/B) êᵀ r.
func MulAtB[T Float](dst []T, alpha T, a, b []T, m, k, n int) {
	clear(dst[:k*n])
	GemmAcc(k, n, m, a, 1, k, b, n, dst, n)
	if alpha != 1 {
		for i := range dst[:k*n] {
			dst[i] *= alpha
		}
	}
}

// AddAtB adds aᵀ · b to dst (k×n), with a (m×k) and b (m×n).
func AddAtB[T Float](dst []T, a, b []T, m, k, n int) {
	GemmAcc(k, n, m, a, 1, k, b, n, dst, n)
}

// Dot returns Σ x[i]·y[i]; len(y) must be ≥ len(x).
func Dot[T Float](x, y []T) T {
	y = y[:len(x)]
	var s T
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// Axpy sets dst[i] += alpha·x[i]; len(x) must be ≥ len(dst).
func Axpy[T Float](dst []T, alpha T, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += alpha * v
	}
}
