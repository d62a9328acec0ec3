package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gle-go/gle/internal/cpu"
)

func randSlice(rng *rand.Rand, n int) []float64 { return randOf[float64](rng, n) }

func randOf[T Float](rng *rand.Rand, n int) []T {
	x := make([]T, n)
	for i := range x {
		x[i] = T(rng.NormFloat64())
	}
	return x
}

// tol is the relative tolerance of T's sums against float64 ones: a few
// ulps of the sum of the terms' magnitudes.
func tol[T Float]() float64 {
	if lanes[T]() == 8 {
		return 1e-5
	}
	return 1e-12
}

// TestProducts compares the three products, in both precisions and on
// both paths, with the textbook triple loop in float64.
func TestProducts(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	for _, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		testProducts[float64](t)
		testProducts[float32](t)
	}
}

func testProducts[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 2}, {17, 9, 33}, {100, 53, 53}, {5, 1, 12}, {8, 3, 8}, {4, 0, 4}, {9, 16, 7},
		{37, 300, 261}, {6, 700, 9}, {13, 40, 31}, {5, 17, 47}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, bt, b := randOf[T](rng, m*k), randOf[T](rng, n*k), randOf[T](rng, k*n)
		c := randOf[T](rng, m*n)
		got := make([]T, m*n)
		MulABt(got, a, bt, m, k, n, make([]T, n*k))
		check(t, "MulABt", got, func(i, j int) (s, mag float64) {
			for p := range k {
				s += float64(a[i*k+p]) * float64(bt[j*k+p])
				mag += math.Abs(float64(a[i*k+p]) * float64(bt[j*k+p]))
			}
			return s, mag
		}, m, n)
		MulAB(got, a, b, m, k, n)
		check(t, "MulAB", got, func(i, j int) (s, mag float64) {
			for p := range k {
				s += float64(a[i*k+p]) * float64(b[p*n+j])
				mag += math.Abs(float64(a[i*k+p]) * float64(b[p*n+j]))
			}
			return s, mag
		}, m, n)
		gotT := make([]T, k*n)
		MulAtB(gotT, -0.5, a, c, m, k, n)
		check(t, "MulAtB", gotT, func(p, j int) (s, mag float64) {
			for i := range m {
				s += float64(a[i*k+p]) * float64(c[i*n+j])
				mag += math.Abs(float64(a[i*k+p]) * float64(c[i*n+j]))
			}
			return -0.5 * s, 0.5 * mag
		}, k, n)
	}
}

// check compares got with want(i, j), the exact value and the sum of its
// terms' magnitudes, within T's tolerance.
func check[T Float](t *testing.T, name string, got []T, want func(i, j int) (float64, float64), rows, cols int) {
	t.Helper()
	for i := range rows {
		for j := range cols {
			w, mag := want(i, j)
			if !(math.Abs(float64(got[i*cols+j])-w) <= tol[T]()*max(1, mag)) { // NaN fails too
				t.Fatalf("%T %s %dx%d: [%d,%d] = %g, want %g", got[0], name, rows, cols, i, j, got[i*cols+j], w)
			}
		}
	}
}

// BenchmarkGemm times C += A·B on square matrices and on the MNIST-1D
// layer shapes, in both precisions, reporting GFLOP/s.
func BenchmarkGemm(b *testing.B) {
	b.Run("float64", benchmarkGemm[float64])
	b.Run("float32", benchmarkGemm[float32])
}

func benchmarkGemm[T Float](b *testing.B) {
	for _, sz := range [][3]int{{100, 53, 53}, {100, 52, 52}, {256, 256, 256}, {256, 750, 750}} {
		m, n, k := sz[0], sz[1], sz[2]
		rng := rand.New(rand.NewPCG(1, 1))
		a, bb, c := randOf[T](rng, m*k), randOf[T](rng, k*n), make([]T, m*n)
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

// TestAdam checks Adam against closed forms of PyTorch's update (docs/model.md
// §5), on both paths, which must also agree bit for bit, for every length
// mod 4. Under a constant gradient g the moments after t steps are
// m = g (1 − β1ᵗ) and v = g² (1 − β2ᵗ), so with the step's scalars
// StepSize = lr/(1 − β1ᵗ) and SqrtBC2 = √(1 − β2ᵗ) every step moves p by
// lr·g/(|g| + ε): by lr/2 when |g| = ε, not at all when g = 0. After the
// gradients g, −g the moments are m = −(1 − β1)² g and v = (1 − β2²) g²,
// and the second step moves p by +lr·(1 − β1)/(1 + β1)·g/(|g| + ε).
func TestAdam(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	const lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
	params := func(step int) AdamParams {
		return AdamParams{Beta1: b1, Beta2: b2, StepSize: lr / (1 - math.Pow(b1, float64(step))),
			SqrtBC2: math.Sqrt(1 - math.Pow(b2, float64(step))), Eps: eps}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 4, 7, 53, 1030} {
		g := randSlice(rng, n)
		for i := range g {
			g[i] *= math.Pow(10, float64(rng.IntN(12)-8)) // 1e-8 … 1e3
		}
		g[0] = eps
		if n > 3 {
			g[3] = 0
		}
		var got [2][3][]float64
		for path, asm := range []bool{false, cpu.HasAVX2FMA} {
			useAsm = asm
			p, m, v := make([]float64, n), make([]float64, n), make([]float64, n)
			for step := 1; step <= 20; step++ {
				Adam(p, g, m, v, params(step))
				for i, gi := range g {
					want := [3]float64{-float64(step) * lr * gi / (math.Abs(gi) + eps), gi * (1 - math.Pow(b1, float64(step))), gi * gi * (1 - math.Pow(b2, float64(step)))}
					for k, x := range [3]float64{p[i], m[i], v[i]} {
						if !(math.Abs(x-want[k]) <= 1e-12*math.Abs(want[k])) {
							t.Fatalf("asm %v n=%d step %d g=%g: %s = %.17g, want %.17g", asm, n, step, gi, [3]string{"p", "m", "v"}[k], x, want[k])
						}
					}
				}
			}
			if math.Abs(p[0]+10*lr) > 1e-15 {
				t.Fatalf("asm %v: |g| = ε: p = %g after 20 steps, want %g", asm, p[0], -10*lr)
			}
			// g then −g.
			q, m2, v2 := make([]float64, n), make([]float64, n), make([]float64, n)
			Adam(q, g, m2, v2, params(1))
			neg := make([]float64, n)
			for i := range g {
				neg[i] = -g[i]
			}
			Adam(q, neg, m2, v2, params(2))
			for i, gi := range g {
				step := lr * gi / (math.Abs(gi) + eps)
				want := [3]float64{-step + (1-b1)/(1+b1)*step, -(1 - b1) * (1 - b1) * gi, (1 - b2*b2) * gi * gi}
				for k, x := range [3]float64{q[i], m2[i], v2[i]} {
					if !(math.Abs(x-want[k]) <= 1e-12*math.Abs(want[k])) {
						t.Fatalf("asm %v n=%d g, −g with g=%g: %s = %.17g, want %.17g", asm, n, gi, [3]string{"p", "m", "v"}[k], x, want[k])
					}
				}
			}
			got[path] = [3][]float64{append(p, q...), append(m, m2...), append(v, v2...)}
		}
		for k := range got[0] {
			for i := range got[0][k] {
				if got[0][k][i] != got[1][k][i] {
					t.Fatalf("n=%d i=%d: Go and vector paths differ: %v vs %v", n, i, got[0][k][i], got[1][k][i])
				}
			}
		}
	}
}

// TestEuler checks one Euler step (docs/model.md §3) against values worked
// out by hand, exact in binary, on both paths (which must agree bit for
// bit), for several population sizes, in both precisions. With dt = 0.5,
// γ = 0.5, e = 3, r′ = 2, v = 1, s = 1, b = 0.5, u = 2:
//
//	τm, τr   prospective: v′, ê, u̇, u′, ŭ       instantaneous: v′ = ê, u̇, u′, ŭ
//	2, 1     3.5, 11, 2.5, 3.25, 4.5          6, 1.25, 2.625, 3.25
//	4, 0.5   6, 41, 5, 4.5, 4.5               6, 0.625, 2.3125, 2.3125
//
// Neurons alternate between the two pairs of time constants; neuron o
// has e, v, s, b, u scaled by 2^(o mod 5 − 2), which scales every output
// by the same power (the step is linear in them), and batch row k has e
// scaled by 2^(k mod 3 − 1) and r′ by its inverse (the same e ⊙ r′).
func TestEuler(t *testing.T) {
	testEuler[float64](t)
	testEuler[float32](t)
}

func testEuler[T Float](t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	type row struct{ v, ehat, udot, u, ub float64 }
	want := map[[2]bool]row{ // {second τ pair, prospective}
		{false, true}: {3.5, 11, 2.5, 3.25, 4.5}, {false, false}: {6, 6, 1.25, 2.625, 3.25},
		{true, true}: {6, 41, 5, 4.5, 4.5}, {true, false}: {6, 6, 0.625, 2.3125, 2.3125},
	}
	for _, N := range []int{1, 3, 4, 5, 8, 9, 17, 53} {
		for _, prospective := range []bool{false, true} {
			const batch = 7
			n := batch * N
			p := EulerParams[T]{Dt: 0.5, Gamma: 0.5, Prospective: prospective,
				TauM: make([]T, N), TauR: make([]T, N), InvTauM: make([]T, N), InvTauR: make([]T, N), Bias: make([]T, N),
				E: make([]T, n), RPrime: make([]T, n), S: make([]T, n), U: make([]T, n), V: make([]T, n)}
			second := func(o int) bool { return (o+o/4)%2 == 1 }
			scale := func(o int) float64 { return math.Ldexp(1, o%5-2) }
			for o := range N {
				p.TauM[o], p.TauR[o] = 2, 1
				if second(o) {
					p.TauM[o], p.TauR[o] = 4, 0.5
				}
				p.Bias[o] = T(0.5 * scale(o))
			}
			for i := range n {
				o, k := i%N, i/N
				c, f := scale(o), math.Ldexp(1, k%3-1)
				p.E[i], p.RPrime[i] = T(3*c*f), T(2/f)
				p.V[i], p.S[i], p.U[i] = T(c), T(c), T(2*c)
			}
			var out [2][5][]T
			for path, asm := range []bool{false, cpu.HasAVX2FMA} {
				useAsm = asm
				p.NextU, p.NextV, p.EHat, p.UDot, p.UBreve = make([]T, n), make([]T, n), make([]T, n), make([]T, n), make([]T, n)
				Euler(&p)
				out[path] = [5][]T{p.NextU, p.NextV, p.EHat, p.UDot, p.UBreve}
			}
			for i := range n {
				o := i % N
				w, c := want[[2]bool{second(o), prospective}], scale(o)
				for k, x := range [5]float64{w.u, w.v, w.ehat, w.udot, w.ub} {
					name := [5]string{"u′", "v′", "ê", "u̇", "ŭ"}[k]
					if out[0][k][i] != out[1][k][i] {
						t.Fatalf("%T N=%d prospective=%v i=%d %s: Go %v, vector %v", p.Dt, N, prospective, i, name, out[0][k][i], out[1][k][i])
					}
					if got := float64(out[0][k][i]); got != x*c {
						t.Fatalf("%T N=%d prospective=%v i=%d (τm %v) %s = %v, want %v", p.Dt, N, prospective, i, p.TauM[o], name, got, x*c)
					}
				}
			}
		}
	}
}

// TestGemmRangeBitIdentical: any split of C into blocks cut at RowAlign
// and ColAlign, computed in any order, equals GemmAcc bit for bit, on
// both paths, in both precisions, for shapes that take every kernel
// (panels, single rows, masked and Go tails, the Go path).
func TestGemmRangeBitIdentical(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	for _, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		testGemmRange[float64](t)
		testGemmRange[float32](t)
	}
}

func testGemmRange[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{256, 750, 750}, {101, 300, 203}, {750, 256, 750}, {100, 53, 53}, {1, 100, 750},
		{53, 100, 53}, {9, 5, 3}, {100, 1, 53}, {37, 17, 250}, {23, 3, 7}} {
		m, k, n := sz[0], sz[1], sz[2]
		a, b := randOf[T](rng, m*k), randOf[T](rng, k*n)
		c0 := randOf[T](rng, m*n)
		want := append([]T(nil), c0...)
		GemmAcc(m, n, k, a, k, 1, b, n, want, n)
		for _, parts := range [][2]int{{2, 1}, {3, 1}, {1, 2}, {5, 3}, {8, 8}} {
			rows := splitAt(m, parts[0], RowAlign)
			cols := splitAt(n, parts[1], ColAlign)
			got := append([]T(nil), c0...)
			// The blocks in reverse order: the order does not matter.
			for ri := len(rows) - 2; ri >= 0; ri-- {
				for ci := len(cols) - 2; ci >= 0; ci-- {
					GemmRange(m, n, k, a, k, 1, b, n, got, n, rows[ri], rows[ri+1], cols[ci], cols[ci+1])
				}
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%T asm=%v %v split %v×%v: element %d = %v, GemmAcc %v", got[0], useAsm, sz, rows, cols, i, got[i], want[i])
				}
			}
		}
	}
}

// TestPackedPanelsBitIdentical: the copied panels of B, the copied
// blocks of a strided A and the copied tail columns change no bit, for
// A read along rows and down columns, in both precisions.
func TestPackedPanelsBitIdentical(t *testing.T) {
	if !useAsm {
		t.Skip("no vector kernels")
	}
	testPacked[float64](t)
	testPacked[float32](t)
}

func testPacked[T Float](t *testing.T) {
	defer func(v int) { packMinBytes = v }(packMinBytes)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sz := range [][3]int{{256, 750, 750}, {750, 750, 256}, {61, 300, 517}, {300, 270, 40}} {
		m, n, k := sz[0], sz[1], sz[2]
		b := randOf[T](rng, k*n)
		for _, transA := range []bool{false, true} {
			a := randOf[T](rng, m*k)
			aRow, aCol := k, 1
			if transA {
				aRow, aCol = 1, m
			}
			c0 := randOf[T](rng, m*n)
			var got [2][]T
			for i, min := range []int{0, 1 << 30} {
				packMinBytes = min
				got[i] = append([]T(nil), c0...)
				GemmAcc(m, n, k, a, aRow, aCol, b, n, got[i], n)
			}
			for i := range got[0] {
				if got[0][i] != got[1][i] {
					t.Fatalf("%T %v transA=%v: element %d packed %v, not packed %v", got[0][0], sz, transA, i, got[0][i], got[1][i])
				}
			}
			if transA { // the transpose made explicit, read along rows
				at := make([]T, m*k)
				TransposeBlock(at, a, k, m, 0, k, 0, m)
				c := append([]T(nil), c0...)
				GemmAcc(m, n, k, at, k, 1, b, n, c, n)
				for i := range c {
					if c[i] != got[1][i] {
						t.Fatalf("%T %v: element %d with Aᵀ copied %v, through strides %v", c[0], sz, i, c[i], got[1][i])
					}
				}
			}
		}
	}
}

// splitAt cuts 0…n into parts ranges at multiples of align.
func splitAt(n, parts, align int) []int {
	cuts := []int{0}
	for i := 1; i < parts; i++ {
		if c := i * n / parts / align * align; c > cuts[len(cuts)-1] && c < n {
			cuts = append(cuts, c)
		}
	}
	return append(cuts, n)
}

// TestTransposeRows: strips of rows, with and without the converted
// copy, on both paths, give Transpose and Convert.
func TestTransposeRows(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	for _, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		for _, sz := range [][2]int{{1, 1}, {3, 70}, {70, 3}, {33, 65}, {64, 64}, {53, 53}, {750, 32}, {12, 750}, {9, 17}} {
			r, c := sz[0], sz[1]
			src := randSlice(rand.New(rand.NewPCG(5, 5)), r*c)
			for _, parts := range []int{1, 3} {
				dst, cp, d64 := make([]float32, r*c), make([]float32, r*c), make([]float64, r*c)
				cuts := splitAt(r, parts, 8)
				for i := len(cuts) - 2; i >= 0; i-- {
					TransposeRows(dst, cp, src, r, c, cuts[i], cuts[i+1])
					TransposeRows(d64, nil, src, r, c, cuts[i], cuts[i+1])
				}
				for i := range r {
					for j := range c {
						if w := float32(src[i*c+j]); dst[j*r+i] != w || cp[i*c+j] != w || d64[j*r+i] != src[i*c+j] {
							t.Fatalf("asm=%v %dx%d: [%d][%d]: transposed %g, copy %g, float64 %g, want %g", asm, r, c, i, j, dst[j*r+i], cp[i*c+j], d64[j*r+i], w)
						}
					}
				}
			}
		}
	}
}

// TestTransposeBlock: blocks of any rows and columns, on both paths, in
// both precisions, give the transpose.
func TestTransposeBlock(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	for _, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		testTransposeBlock[float32](t)
		testTransposeBlock[float64](t)
	}
}

func testTransposeBlock[T Float](t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {9, 17}, {256, 750}, {100, 53}, {37, 8}} {
		r, c := sz[0], sz[1]
		src := randOf[T](rand.New(rand.NewPCG(5, 6)), r*c)
		for _, cut := range [][2]int{{1, 1}, {3, 2}, {2, 5}} {
			dst := make([]T, r*c)
			rows, cols := splitAt(r, cut[0], 1), splitAt(c, cut[1], 1)
			for a := range len(rows) - 1 {
				for b := range len(cols) - 1 {
					TransposeBlock(dst, src, r, c, rows[a], rows[a+1], cols[b], cols[b+1])
				}
			}
			for i := range r {
				for j := range c {
					if dst[j*r+i] != src[i*c+j] {
						t.Fatalf("%T asm=%v %dx%d cut %v: [%d][%d] = %v, want %v", src[0], useAsm, r, c, cut, i, j, dst[j*r+i], src[i*c+j])
					}
				}
			}
		}
	}
}

// TestScaleFinite: the products are Go's, and any NaN or ±Inf anywhere
// is found, on both paths, in both precisions.
func TestScaleFinite(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	for _, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		testScaleFinite[float64](t)
		testScaleFinite[float32](t)
	}
}

func testScaleFinite[T Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{0, 1, 15, 16, 37, 64, 1001} {
		x := randOf[T](rng, n)
		want := make([]T, n)
		for i, v := range x {
			want[i] = v * T(-0.25)
		}
		y := append([]T(nil), x...)
		if !ScaleFinite(y, -0.25) || !Finite(y) {
			t.Fatalf("%T asm=%v n=%d: finite values reported non-finite", x, useAsm, n)
		}
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("%T asm=%v n=%d: [%d] = %v, want %v", x, useAsm, n, i, y[i], want[i])
			}
		}
		for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
			for _, at := range []int{0, n / 2, n - 1} {
				if n == 0 {
					continue
				}
				y := append([]T(nil), x...)
				y[at] = T(bad)
				if Finite(y) {
					t.Fatalf("%T n=%d: %v at %d not found by Finite", x, n, bad, at)
				}
				if ScaleFinite(y, 2) {
					t.Fatalf("%T asm=%v n=%d: %v at %d not found", x, useAsm, n, bad, at)
				}
			}
		}
		if n > 0 {
			y := append([]T(nil), x...)
			y[n-1] = T(math.MaxFloat32)
			if ScaleFinite(y, 4) { // overflows to +Inf in float32, not in float64
				if _, is32 := any(y[0]).(float32); is32 {
					t.Fatalf("asm=%v n=%d: an overflow to ±Inf not found", useAsm, n)
				}
			}
		}
	}
}

// TestAdam32 checks the vector and scalar Adam32 paths bit for bit
// against each other and against the formula in float32 arithmetic, for
// every length mod 8.
func TestAdam32(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	rng := rand.New(rand.NewPCG(3, 5))
	c := AdamParams{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3 / (1 - 0.9*0.9), SqrtBC2: math.Sqrt(1 - 0.999*0.999), Eps: 1e-8}.Float32()
	for _, n := range []int{1, 8, 13, 53, 1031} {
		p0, g, m0, v0 := randSlice(rng, n), randOf[float32](rng, n), randOf[float32](rng, n), randOf[float32](rng, n)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		var gotP [2][]float64
		var gotM, gotV [2][]float32
		for path, asm := range []bool{false, cpu.HasAVX2FMA} {
			useAsm = asm
			p, m, v := append([]float64(nil), p0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
			Adam32(p, g, m, v, c)
			gotP[path], gotM[path], gotV[path] = p, m, v
		}
		for i := range n {
			if gotP[0][i] != gotP[1][i] || gotM[0][i] != gotM[1][i] || gotV[0][i] != gotV[1][i] {
				t.Fatalf("n=%d i=%d: Go and vector paths differ: p %v/%v m %v/%v v %v/%v", n, i, gotP[0][i], gotP[1][i], gotM[0][i], gotM[1][i], gotV[0][i], gotV[1][i])
			}
			if float64(float32(gotP[0][i])) != gotP[0][i] {
				t.Fatalf("n=%d i=%d: p = %v is not a float32 value", n, i, gotP[0][i])
			}
			mi := float64(c.Beta1)*float64(m0[i]) + float64(c.OneMinusBeta1)*float64(g[i])
			vi := float64(c.Beta2)*float64(v0[i]) + float64(c.OneMinusBeta2)*float64(g[i])*float64(g[i])
			pi := float64(float32(p0[i])) + float64(c.NegStepSize)*mi/(math.Sqrt(vi)/float64(c.SqrtBC2)+float64(c.Eps))
			for k, x := range [][2]float64{{gotP[0][i], pi}, {float64(gotM[0][i]), mi}, {float64(gotV[0][i]), vi}} {
				if math.Abs(x[0]-x[1]) > 1e-6*max(1, math.Abs(x[1])) {
					t.Fatalf("n=%d i=%d var %d: %v, want %v", n, i, k, x[0], x[1])
				}
			}
		}
	}
}

// TestConvert: the vector conversions equal Go's, bit for bit, both ways,
// for every length mod 8, special values included.
func TestConvert(t *testing.T) {
	defer func(v bool) { useAsm = v }(useAsm)
	rng := rand.New(rand.NewPCG(11, 12))
	x64 := randSlice(rng, 61)
	for i := range x64 {
		x64[i] *= math.Pow(10, float64(rng.IntN(80)-40))
	}
	x64 = append(x64, 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1e300, -1e-300, 3e-39, math.MaxFloat32, 0x1.000001p0)
	for _, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		for n := len(x64) - 8; n <= len(x64); n++ {
			d32 := make([]float32, n)
			Convert(d32, x64)
			d64 := make([]float64, n)
			Convert(d64, d32)
			for i := range n {
				if w := float32(x64[i]); math.Float32bits(d32[i]) != math.Float32bits(w) && !(w != w && d32[i] != d32[i]) {
					t.Fatalf("asm=%v n=%d: float32(%g) = %g, want %g", asm, n, x64[i], d32[i], w)
				}
				if w := float64(d32[i]); math.Float64bits(d64[i]) != math.Float64bits(w) && !(w != w && d64[i] != d64[i]) {
					t.Fatalf("asm=%v n=%d: float64(%g) = %g, want %g", asm, n, d32[i], d64[i], w)
				}
			}
		}
	}
}

// BenchmarkStepProducts times the three products of a 750-wide GSC layer
// step (batch 256) in float32: s = r Wᵀ, the error sent back ê W, and the
// weight gradient êᵀ r, with A transposed through strides and (as the
// engine computes it) with êᵀ copied first, the copy included.
func BenchmarkStepProducts(b *testing.B) {
	const B, N = 256, 750
	rng := rand.New(rand.NewPCG(1, 1))
	r, wt, w, e := randOf[float32](rng, B*N), randOf[float32](rng, N*N), randOf[float32](rng, N*N), randOf[float32](rng, B*N)
	c, et := make([]float32, max(B*N, N*N)), make([]float32, B*N)
	for _, p := range []struct {
		name string
		f    func()
	}{
		{"s=r·Wt", func() { GemmAcc(B, N, N, r, N, 1, wt, N, c, N) }},
		{"eb=e·W", func() { GemmAcc(B, N, N, e, N, 1, w, N, c, N) }},
		{"gW=eT·r", func() { GemmAcc(N, N, B, e, 1, N, r, N, c, N) }},
		{"gW=(eT copied)·r", func() { TransposeBlock(et, e, B, N, 0, B, 0, N); GemmAcc(N, N, B, et, B, 1, r, N, c, N) }},
	} {
		b.Run(p.name, func(b *testing.B) {
			for range b.N {
				p.f()
			}
			b.ReportMetric(2*float64(B*N*N)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkAdam32 times the float32 Adam update of the GSC network's
// 1.16 M parameters (36 bytes a parameter: the streaming rate).
func BenchmarkAdam32(b *testing.B) {
	const n = 1160262
	rng := rand.New(rand.NewPCG(2, 2))
	p, g, m, v := randSlice(rng, n), randOf[float32](rng, n), randOf[float32](rng, n), randOf[float32](rng, n)
	for i := range v {
		v[i] *= v[i]
	}
	c := AdamParams{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3, SqrtBC2: 0.5, Eps: 1e-8}.Float32()
	for range b.N {
		Adam32(p, g, m, v, c)
	}
	b.ReportMetric(36*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}
