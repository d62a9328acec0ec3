// Package kernel holds the dense products of the per-step hot path of a
// GLE layer. All matrices are row-major flat slices; every function writes
// into a destination owned by the caller and allocates nothing.
//
// On amd64 processors with AVX2 and FMA3 the products run on assembly
// micro-kernels (4×8 and 4×4 blocks of the result kept in registers while
// the inner dimension streams through); elsewhere, and for the last
// columns that do not fill a vector, plain Go loops compute the same sums.
// The two paths round differently (fused multiply-adds), by a few ulps.
package kernel

import (
	"sync"
	"sync/atomic"

	"github.com/gle-go/gle/internal/cpu"
)

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
func GemmAcc(m, n, k int, a []float64, aRow, aCol int, b []float64, ldb int, c []float64, ldc int) {
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
func gemmSerial(m, n, k int, a []float64, aRow, aCol int, b []float64, ldb int, c []float64, ldc int) {
	if !useAsm || (n < 4 && m*k < gemmSmall) {
		gemmGo(m, n, k, a, aRow, aCol, b, ldb, c, ldc)
		return
	}
	// Cache blocking: a kc×nc panel of B (≤ 256 KiB) stays in L2 while
	// every 4-row block of A streams past it.
	nv := n &^ 3 // columns the vector kernels cover
	for jb := 0; jb < nv; jb += gemmNC {
		je := min(jb+gemmNC, nv)
		for pb := 0; pb < k; pb += gemmKC {
			kc := min(gemmKC, k-pb)
			gemmPanel(m, jb, je, kc, a[pb*aCol:], aRow, aCol, b[pb*ldb:], ldb, c, ldc)
		}
	}
	if j0 := n &^ 3; j0 < n {
		if m*k < gemmSmall {
			gemmTailGo(m, n, k, j0, a, aRow, aCol, b, ldb, c, ldc)
		} else {
			gemmTail(m, n, k, j0, a, aRow, aCol, b, ldb, c, ldc)
		}
	}
}

// gemmSmall is the size m·k below which columns that do not fill a vector
// are cheaper in plain Go than through gemmTail's padded copies.
const gemmSmall = 512

// Panel sizes of GemmAcc's cache blocking (gemmNC a multiple of 8).
const gemmNC, gemmKC = 128, 256

// gemmPanel adds A[:, 0:kc] · B[0:kc, jb:je] to C[:, jb:je] with the
// register-blocked kernels (je − jb a multiple of 4).
func gemmPanel(m, jb, je, kc int, a []float64, aRow, aCol int, b []float64, ldb int, c []float64, ldc int) {
	i := 0
	for ; i+4 <= m; i += 4 {
		ai := &a[i*aRow]
		j := jb
		for ; j+12 <= je; j += 12 {
			gemm4x12(kc, ai, aRow, aCol, &b[j], ldb, &c[i*ldc+j], ldc)
		}
		for ; j+8 <= je; j += 8 {
			gemm4x8(kc, ai, aRow, aCol, &b[j], ldb, &c[i*ldc+j], ldc)
		}
		if j+4 <= je {
			gemm4x4(kc, ai, aRow, aCol, &b[j], ldb, &c[i*ldc+j], ldc)
		}
	}
	for ; i < m; i++ {
		j := jb
		for ; j+8 <= je; j += 8 {
			gemm1x8(kc, &a[i*aRow], aCol, &b[j], ldb, &c[i*ldc+j])
		}
		if j+4 <= je {
			gemm1x4(kc, &a[i*aRow], aCol, &b[j], ldb, &c[i*ldc+j])
		}
	}
}

// tailChunk is the part of the inner dimension whose last columns of B
// gemmTail copies at a time into a zero-padded block on the stack.
const tailChunk = 256

// gemmTail computes the last n − j0 (< 4) columns with the 4-wide
// kernels: those columns of B are copied, zero-padded to 4, into a
// stack block, and each 4-row block of C accumulates into a 4×4 block.
func gemmTail(m, n, k, j0 int, a []float64, aRow, aCol int, b []float64, ldb int, c []float64, ldc int) {
	w := n - j0
	var bt [tailChunk * 4]float64
	for p0 := 0; p0 < k; p0 += tailChunk {
		kc := min(tailChunk, k-p0)
		for p := range kc {
			row := b[(p0+p)*ldb+j0 : (p0+p)*ldb+n]
			copy(bt[p*4:p*4+w], row)
			clear(bt[p*4+w : p*4+4])
		}
		for i := 0; i < m; i += 4 {
			var ct [16]float64
			rows := min(4, m-i)
			if rows == 4 {
				gemm4x4(kc, &a[i*aRow+p0*aCol], aRow, aCol, &bt[0], 4, &ct[0], 4)
			} else {
				for r := range rows {
					gemm1x4(kc, &a[(i+r)*aRow+p0*aCol], aCol, &bt[0], 4, &ct[r*4])
				}
			}
			for r := range rows {
				for j := range w {
					c[(i+r)*ldc+j0+j] += ct[r*4+j]
				}
			}
		}
	}
}

// gemmTailGo computes the last n − j0 columns with plain loops, one dot
// product per element.
func gemmTailGo(m, n, k, j0 int, a []float64, aRow, aCol int, b []float64, ldb int, c []float64, ldc int) {
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
func gemmGo(m, n, k int, a []float64, aRow, aCol int, b []float64, ldb int, c []float64, ldc int) {
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
func MulABt(dst, a, b []float64, m, k, n int, bt []float64) {
	Transpose(bt, b, n, k)
	MulAB(dst, a, bt, m, k, n)
}

// transposeBlock is the tile edge of Transpose: a tile of the source and
// one of the destination fit in L1 together.
const transposeBlock = 32

// Transpose sets dst (cols×rows) = srcᵀ for src (rows×cols), tile by
// tile, so that both sides are read and written in cache-line-sized runs.
func Transpose(dst, src []float64, rows, cols int) {
	if rows*cols == 0 {
		return
	}
	_ = dst[rows*cols-1]
	_ = src[rows*cols-1]
	for i0 := 0; i0 < rows; i0 += transposeBlock {
		i1 := min(i0+transposeBlock, rows)
		for j0 := 0; j0 < cols; j0 += transposeBlock {
			j1 := min(j0+transposeBlock, cols)
			for i := i0; i < i1; i++ {
				row := src[i*cols+j0 : i*cols+j1]
				for j, v := range row {
					dst[(j0+j)*rows+i] = v
				}
			}
		}
	}
}

// MulAB sets dst (m×n) = a (m×k) · b (k×n).
// It computes e_bottom = ê W for errors ê (B×Out) and W (Out×In).
func MulAB(dst, a, b []float64, m, k, n int) {
	clear(dst[:m*n])
	GemmAcc(m, n, k, a, k, 1, b, n, dst, n)
}

// MulAtB sets dst (k×n) = alpha · aᵀ · b, with a (m×k) and b (m×n).
// It computes the batch-mean weight gradient −(1/B) êᵀ r.
func MulAtB(dst []float64, alpha float64, a, b []float64, m, k, n int) {
	clear(dst[:k*n])
	GemmAcc(k, n, m, a, 1, k, b, n, dst, n)
	if alpha != 1 {
		for i := range dst[:k*n] {
			dst[i] *= alpha
		}
	}
}

// AddAtB adds aᵀ · b to dst (k×n), with a (m×k) and b (m×n).
func AddAtB(dst []float64, a, b []float64, m, k, n int) {
	GemmAcc(k, n, m, a, 1, k, b, n, dst, n)
}

// Dot returns Σ x[i]·y[i]; len(y) must be ≥ len(x).
func Dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// Axpy sets dst[i] += alpha·x[i]; len(x) must be ≥ len(dst).
func Axpy(dst []float64, alpha float64, x []float64) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += alpha * v
	}
}
