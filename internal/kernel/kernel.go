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
	"sync/atomic"
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

// threads is the number of goroutines a large product is split over.
var threads atomic.Int32

func init() { threads.Store(1) }

// SetThreads sets how many goroutines GemmAcc splits a large product over
// (by blocks of rows of C; 1, the default, keeps everything on the calling
// goroutine). Every element of C is summed in the same order whatever the
// split, so results do not depend on it.
func SetThreads(n int) { threads.Store(int32(max(1, n))) }

// Threads returns the current SetThreads value.
func Threads() int { return int(threads.Load()) }

// parallelMinFlops is the size 2mnk below which a product stays on one
// goroutine (the hand-off costs a few microseconds).
const parallelMinFlops = 1 << 22

// GemmAcc adds A·B to C: C[i][j] += Σ_p A[i·aRow + p·aCol] · B[p·ldb + j]
// for i < m, j < n, p < k. A is addressed through strides, so a
// transposed operand costs nothing; rows of B and C are contiguous.
func GemmAcc[T Float](m, n, k int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Bounds: the last element each operand touches.
	_ = a[(m-1)*aRow+(k-1)*aCol]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	t := Threads()
	if t == 1 || 2*m*n*k < parallelMinFlops || m < 8*t {
		gemmSerial(m, n, k, a, aRow, aCol, b, ldb, c, ldc)
		return
	}
	// Row blocks of C, multiples of 4 rows, one per goroutine.
	rows := (m/t + 3) &^ 3
	var wg sync.WaitGroup
	for i0 := 0; i0 < m; i0 += rows {
		mi := min(rows, m-i0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			gemmSerial(mi, n, k, a[i0*aRow:], aRow, aCol, b, ldb, c[i0*ldc:], ldc)
		}()
	}
	wg.Wait()
}

// gemmSerial is GemmAcc on the calling goroutine.
func gemmSerial[T Float](m, n, k int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	L := lanes[T]()
	if !useAsm || (n < L && m*k < gemmSmall) {
		gemmGo(m, n, k, a, aRow, aCol, b, ldb, c, ldc)
		return
	}
	// Cache blocking: a kc×nc panel of B (≤ 256 KiB) stays in L2 while
	// every 4-row block of A streams past it.
	nv := n &^ (L - 1) // columns the vector kernels cover
	for jb := 0; jb < nv; jb += gemmNC {
		je := min(jb+gemmNC, nv)
		for pb := 0; pb < k; pb += gemmKC {
			kc := min(gemmKC, k-pb)
			gemmPanel(m, jb, je, kc, a[pb*aCol:], aRow, aCol, b[pb*ldb:], ldb, c, ldc)
		}
	}
	if nv < n {
		if m*k < gemmSmall {
			gemmTailGo(m, n, k, nv, a, aRow, aCol, b, ldb, c, ldc)
		} else {
			gemmTail(m, n, k, nv, a, aRow, aCol, b, ldb, c, ldc)
		}
	}
}

// gemmSmall is the size m·k below which columns that do not fill a vector
// are cheaper in plain Go loops than through the masked kernels' calls.
const gemmSmall = 512

// Panel sizes of GemmAcc's cache blocking (gemmNC a multiple of the
// vector width of either type).
const gemmNC, gemmKC = 128, 256

// gemmPanel adds A[:, 0:kc] · B[0:kc, jb:je] to C[:, jb:je] with the
// register-blocked kernels (je − jb a multiple of the vector width L):
// blocks of 4 rows × 3, 2 or 1 vectors, then single rows of 2 or 1
// vectors.
func gemmPanel[T Float](m, jb, je, kc int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	L := lanes[T]()
	i := 0
	for ; i+4 <= m; i += 4 {
		ai := &a[i*aRow]
		j := jb
		for ; j+3*L <= je; j += 3 * L {
			micro4(3, kc, ai, aRow, aCol, &b[j], ldb, &c[i*ldc+j], ldc)
		}
		for ; j+2*L <= je; j += 2 * L {
			micro4(2, kc, ai, aRow, aCol, &b[j], ldb, &c[i*ldc+j], ldc)
		}
		if j+L <= je {
			micro4(1, kc, ai, aRow, aCol, &b[j], ldb, &c[i*ldc+j], ldc)
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

// gemmGo is the portable GemmAcc.
func gemmGo[T Float](m, n, k int, a []T, aRow, aCol int, b []T, ldb int, c []T, ldc int) {
	if n == 1 { // a matrix-vector product: one dot per row
		gemmTailGo(m, n, k, 0, a, aRow, aCol, b, ldb, c, ldc)
		return
	}
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for p := range k {
			Axpy(ci, a[i*aRow+p*aCol], b[p*ldb:p*ldb+n])
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
	if rows*cols == 0 {
		return
	}
	_ = dst[rows*cols-1]
	i := 0
	for ; i+4 <= rows; i += 4 {
		r0 := src[i*cols : (i+1)*cols]
		r1 := src[(i+1)*cols : (i+2)*cols][:len(r0)]
		r2 := src[(i+2)*cols : (i+3)*cols][:len(r0)]
		r3 := src[(i+3)*cols : (i+4)*cols][:len(r0)]
		for j, v := range r0 {
			d := dst[j*rows+i : j*rows+i+4]
			d[0], d[1], d[2], d[3] = v, r1[j], r2[j], r3[j]
		}
	}
	for ; i < rows; i++ {
		for j, v := range src[i*cols : (i+1)*cols] {
			dst[j*rows+i] = v
		}
	}
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
