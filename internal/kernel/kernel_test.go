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

// TestAdam checks the vector and scalar Adam paths bit for bit against
// each other and against the textbook formula, for every length mod 4.
func TestAdam(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	rng := rand.New(rand.NewPCG(3, 4))
	c := AdamParams{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3 / (1 - 0.9*0.9), SqrtBC2: math.Sqrt(1 - 0.999*0.999), Eps: 1e-8}
	for _, n := range []int{1, 4, 7, 53, 1030} {
		p0, g, m0, v0 := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		var got [2][3][]float64
		for path, asm := range []bool{false, cpu.HasAVX2FMA} {
			useAsm = asm
			p, m, v := append([]float64(nil), p0...), append([]float64(nil), m0...), append([]float64(nil), v0...)
			Adam(p, g, m, v, c)
			got[path] = [3][]float64{p, m, v}
		}
		for i := range n {
			mi := c.Beta1*m0[i] + (1-c.Beta1)*g[i]
			vi := c.Beta2*v0[i] + (1-c.Beta2)*g[i]*g[i]
			pi := p0[i] - c.StepSize*mi/(math.Sqrt(vi)/c.SqrtBC2+c.Eps)
			for k, want := range []float64{pi, mi, vi} {
				if got[0][k][i] != got[1][k][i] {
					t.Fatalf("n=%d i=%d: Go and vector paths differ: %v vs %v", n, i, got[0][k][i], got[1][k][i])
				}
				if math.Abs(got[0][k][i]-want) > 1e-15*max(1, math.Abs(want)) {
					t.Fatalf("n=%d i=%d var %d: %v, want %v", n, i, k, got[0][k][i], want)
				}
			}
		}
	}
}

// TestEuler checks the vector and scalar Euler paths bit for bit against
// each other and against the equations, for several population sizes.
func TestEuler(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, N := range []int{1, 3, 4, 5, 8, 53} {
		for _, prospective := range []bool{false, true} {
			const batch = 7
			n := batch * N
			pos := func(k int) []float64 {
				x := randSlice(rng, k)
				for i := range x {
					x[i] = 0.1 + math.Abs(x[i])
				}
				return x
			}
			p := EulerParams{Dt: 0.1, Gamma: 0.7, Prospective: prospective,
				TauM: pos(N), TauR: pos(N), InvTauM: make([]float64, N), InvTauR: make([]float64, N), Bias: randSlice(rng, N),
				E: randSlice(rng, n), RPrime: randSlice(rng, n), S: randSlice(rng, n), U: randSlice(rng, n), V: randSlice(rng, n)}
			for o := range N {
				p.InvTauM[o], p.InvTauR[o] = 1/p.TauM[o], 1/p.TauR[o]
			}
			var out [2][5][]float64
			for path, asm := range []bool{false, cpu.HasAVX2FMA} {
				useAsm = asm
				p.NextU, p.NextV, p.EHat, p.UDot, p.UBreve = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
				Euler(&p)
				out[path] = [5][]float64{p.NextU, p.NextV, p.EHat, p.UDot, p.UBreve}
			}
			for i := range n {
				o := i % N
				inst := p.E[i] * p.RPrime[i]
				nv, ehat := inst, inst
				if prospective {
					vdot := (inst - p.V[i]) / p.TauR[o]
					nv, ehat = p.V[i]+p.Dt*vdot, p.V[i]+p.TauM[o]*vdot
				}
				udot := (p.S[i] + p.Bias[o] + p.Gamma*ehat - p.U[i]) / p.TauM[o]
				want := [5]float64{p.U[i] + p.Dt*udot, nv, ehat, udot, p.U[i] + p.TauR[o]*udot}
				for k := range want {
					if out[0][k][i] != out[1][k][i] {
						t.Fatalf("N=%d prospective=%v i=%d output %d: Go %v, vector %v", N, prospective, i, k, out[0][k][i], out[1][k][i])
					}
					if math.Abs(out[0][k][i]-want[k]) > 1e-12*max(1, math.Abs(want[k])) {
						t.Fatalf("N=%d prospective=%v i=%d output %d: %v, want %v", N, prospective, i, k, out[0][k][i], want[k])
					}
				}
			}
		}
	}
}

// TestThreadsBitIdentical: splitting a product over goroutines changes no
// bit of the result (each element sums in the same order).
func TestThreadsBitIdentical(t *testing.T) {
	defer SetThreads(Threads())
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{256, 750, 750}, {101, 300, 203}, {750, 256, 750}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, b := randSlice(rng, m*k), randSlice(rng, k*n)
		var got [3][]float64
		for i, th := range []int{1, 2, 3} {
			SetThreads(th)
			got[i] = randSlice(rand.New(rand.NewPCG(9, 9)), m*n) // same C for each
			GemmAcc(m, n, k, a, k, 1, b, n, got[i], n)
		}
		for i := range got[0] {
			if got[0][i] != got[1][i] || got[0][i] != got[2][i] {
				t.Fatalf("%v: element %d differs: %v, %v, %v", sz, i, got[0][i], got[1][i], got[2][i])
			}
		}
	}
}
