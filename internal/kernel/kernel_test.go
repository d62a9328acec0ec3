package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
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
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 2}, {17, 9, 33}, {100, 53, 53}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, bt, b := randSlice(rng, m*k), randSlice(rng, n*k), randSlice(rng, k*n)
		c := randSlice(rng, m*n)
		got := make([]float64, m*n)
		MulABt(got, a, bt, m, k, n)
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
