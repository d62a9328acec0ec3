package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gle-go/gle/internal/cpu"
)

func randSlice(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// TestProducts compares the three products with the textbook triple loop.
func TestProducts(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	for _, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		testProducts(t)
	}
}

func testProducts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 2}, {17, 9, 33}, {100, 53, 53}, {5, 1, 12}, {8, 3, 8}, {4, 0, 4}, {9, 16, 7}, {37, 300, 261}, {6, 700, 9}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, bt, b := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, k*n)
		c := randSlice(rng, m*n)
		got := make([]float64, m*n)
		MulABt(got, a, bt, m, k, n, make([]float64, n*k))
		check(t, "MulABt", got, func(i, j int) float64 {
			var s float64
			for p := range k {
				s += a[i*k+p] * bt[j*k+p]
			}
			return s
		}, m, n)
		MulAB(got, a, b, m, k, n)
		check(t, "MulAB", got, func(i, j int) float64 {
			var s float64
			for p := range k {
				s += a[i*k+p] * b[p*n+j]
			}
			return s
		}, m, n)
		gotT := make([]float64, k*n)
		MulAtB(gotT, -0.5, a, c, m, k, n)
		check(t, "MulAtB", gotT, func(p, j int) float64 {
			var s float64
			for i := range m {
				s += a[i*k+p] * c[i*n+j]
			}
			return -0.5 * s
		}, k, n)
	}
}

func check(t *testing.T, name string, got []float64, want func(i, j int) float64, rows, cols int) {
	t.Helper()
	for i := range rows {
		for j := range cols {
			w := want(i, j)
			if math.Abs(got[i*cols+j]-w) > 1e-12*max(1, math.Abs(w)) {
				t.Fatalf("%s %dx%d: [%d,%d] = %g, want %g", name, rows, cols, i, j, got[i*cols+j], w)
			}
		}
	}
}

// BenchmarkGemm times C += A·B on square matrices and on the MNIST-1D
// layer shapes, reporting GFLOP/s.
func BenchmarkGemm(b *testing.B) {
	for _, sz := range [][3]int{{100, 53, 53}, {100, 52, 52}, {256, 256, 256}, {256, 750, 750}} {
		m, n, k := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float64, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for range b.N {
				GemmAcc(m, n, k, a, k, 1, bb, n, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestTranspose(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 70}, {70, 3}, {33, 65}, {64, 64}} {
		r, c := sz[0], sz[1]
		src := make([]float64, r*c)
		for i := range src {
			src[i] = float64(i)
		}
		dst := make([]float64, r*c)
		Transpose(dst, src, r, c)
		for i := range r {
			for j := range c {
				if dst[j*r+i] != src[i*c+j] {
					t.Fatalf("%dx%d: dst[%d][%d] = %g, want %g", r, c, j, i, dst[j*r+i], src[i*c+j])
				}
			}
		}
	}
}
