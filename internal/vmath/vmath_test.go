package vmath

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/gle-go/gle/internal/cpu"
)

// samples returns a dense grid over [−40, 40], random values on a
// logarithmic scale (4e-18 … 1e9) of both signs, and special values.
func samples() []float64 {
	var xs []float64
	for i := -40000; i <= 40000; i++ {
		xs = append(xs, float64(i)/1000)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		x := math.Exp(rng.Float64()*60 - 40)
		if rng.IntN(2) == 0 {
			x = -x
		}
		xs = append(xs, x)
	}
	return append(xs, 0, math.Copysign(0, -1), 1e-300, -1e-300, 707.9, -707.9, 708.1, -708.1,
		745, -745, 1e300, -1e300, math.Inf(1), math.Inf(-1))
}

// relErr is |got − want| / |want|, relative to 1e-292 below it: e^y is
// flushed to 0 below y = −708 (3e-308), by design.
func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / max(math.Abs(want), 1e-292)
}

// eval runs f over xs on the current path.
func eval(f func(phi, dphi, x []float64), xs []float64) (phi, dphi []float64) {
	phi, dphi = make([]float64, len(xs)), make([]float64, len(xs))
	f(phi, dphi, xs)
	return phi, dphi
}

const threshold = 20

func softplus(phi, dphi, x []float64) { Softplus(phi, dphi, x, threshold) }

func softplus32(phi, dphi, x []float32) { Softplus(phi, dphi, x, threshold) }

func TestTanh(t *testing.T) {
	xs := samples()
	phi, dphi := eval(Tanh[float64], xs)
	worstPhi, worstDphi := 0.0, 0.0
	for i, x := range xs {
		want := math.Tanh(x)
		worstPhi = max(worstPhi, relErr(phi[i], want))
		// 1 − t² loses relative precision as |t| → 1; compare absolutely.
		worstDphi = max(worstDphi, math.Abs(dphi[i]-(1-want*want)))
		if math.Signbit(phi[i]) != math.Signbit(x) {
			t.Fatalf("tanh(%g) = %g: wrong sign", x, phi[i])
		}
	}
	if !(worstPhi <= 5e-16 && worstDphi <= 5e-16) { // NaN fails too
		t.Errorf("tanh: max relative error %.3g, derivative max abs error %.3g", worstPhi, worstDphi)
	}
	t.Logf("tanh: max relative error %.3g, derivative %.3g (absolute)", worstPhi, worstDphi)
}

func TestSigmoid(t *testing.T) {
	xs := samples()
	phi, dphi := eval(Sigmoid[float64], xs)
	worstPhi, worstDphi := 0.0, 0.0
	for i, x := range xs {
		want := 1 / (1 + math.Exp(-x))
		if x < 0 {
			e := math.Exp(x)
			want = e / (1 + e)
		}
		worstPhi = max(worstPhi, relErr(phi[i], want))
		// σ(1 − σ) cancels as σ → 1 (as the reference's does); absolute.
		worstDphi = max(worstDphi, math.Abs(dphi[i]-want*(1-want)))
	}
	if !(worstPhi <= 5e-16 && worstDphi <= 3e-16) { // NaN fails too
		t.Errorf("sigmoid: max relative error %.3g, derivative max abs error %.3g", worstPhi, worstDphi)
	}
	t.Logf("sigmoid: max relative error %.3g, derivative %.3g (absolute)", worstPhi, worstDphi)
}

func TestSoftplus(t *testing.T) {
	xs := samples()
	phi, dphi := eval(softplus, xs)
	worstPhi, worstDphi := 0.0, 0.0
	for i, x := range xs {
		e := math.Exp(-math.Abs(x))
		want, wantD := math.Log1p(e), e/(1+e)
		if x > 0 {
			want, wantD = x+want, 1/(1+e)
		}
		if x > threshold {
			want = x
		}
		worstPhi = max(worstPhi, relErr(phi[i], want))
		worstDphi = max(worstDphi, relErr(dphi[i], wantD))
	}
	if !(worstPhi <= 5e-16 && worstDphi <= 5e-16) { // NaN fails too
		t.Errorf("softplus: max relative error %.3g, derivative %.3g", worstPhi, worstDphi)
	}
	t.Logf("softplus: max relative error %.3g, derivative %.3g", worstPhi, worstDphi)
}

// TestPathsAgree checks that the assembly kernels and the plain-Go
// versions give bit-identical results, for every slice length mod 4.
func TestPathsAgree(t *testing.T) {
	if !cpu.HasAVX2FMA {
		t.Log("no AVX2/FMA on this processor: only the Go path runs")
	}
	xs := append(samples(), math.NaN(), 0.5, -0.5)
	defer func(v bool) { useAsm = v }(useAsm)
	for name, f := range map[string]func(phi, dphi, x []float64){
		"tanh": Tanh[float64], "sigmoid": Sigmoid[float64], "softplus": softplus,
	} {
		for _, n := range []int{len(xs), len(xs) - 1, len(xs) - 2, len(xs) - 3} {
			useAsm = false
			phiGo, dphiGo := eval(f, xs[:n])
			useAsm = cpu.HasAVX2FMA
			phiAsm, dphiAsm := eval(f, xs[:n])
			for i := range n {
				if !same(phiGo[i], phiAsm[i]) || !same(dphiGo[i], dphiAsm[i]) {
					t.Fatalf("%s(%g): Go %g, %g; assembly %g, %g", name, xs[i],
						phiGo[i], dphiGo[i], phiAsm[i], dphiAsm[i])
				}
			}
		}
	}
}

// TestFloat32 checks the float32 σ and softplus bit for bit against
// evaluating in float64 and rounding once, on both paths, for every length
// mod 4.
func TestFloat32(t *testing.T) {
	var xs []float32
	for _, x := range append(samples(), math.NaN(), 0.5, -0.5) {
		xs = append(xs, float32(x))
	}
	defer func(v bool) { useAsm = v }(useAsm)
	for name, f := range map[string][2]any{
		"sigmoid":  {Sigmoid[float32], Sigmoid[float64]},
		"softplus": {softplus32, softplus},
	} {
		f32, f64 := f[0].(func(phi, dphi, x []float32)), f[1].(func(phi, dphi, x []float64))
		for _, asm := range []bool{false, cpu.HasAVX2FMA} {
			useAsm = asm
			for _, n := range []int{len(xs), len(xs) - 1, len(xs) - 2, len(xs) - 3} {
				phi, dphi := make([]float32, n), make([]float32, n)
				f32(phi, dphi, xs[:n])
				x64 := make([]float64, n)
				for i := range x64 {
					x64[i] = float64(xs[i])
				}
				p64, d64 := eval(f64, x64)
				for i := range n {
					if !same(float64(phi[i]), float64(float32(p64[i]))) || !same(float64(dphi[i]), float64(float32(d64[i]))) {
						t.Fatalf("%s asm=%v (%g): %g, %g; want %g, %g", name, asm, xs[i], phi[i], dphi[i], float32(p64[i]), float32(d64[i]))
					}
				}
			}
		}
	}
}

// TestTanhF32: the float32 tanh is within 4 ulps of the correctly rounded
// value (its derivative 1 − t² within 5e-7 absolute: 2|t| times the error
// of t, ulps of 1 where t → ±1), keeps the special
// values, and its assembly and Go paths agree bit for bit for every length
// mod 8.
func TestTanhF32(t *testing.T) {
	var xs []float32
	for x := float32(1e-30); x < 30; x *= 1.0002 {
		xs = append(xs, x, -x)
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, nan, inf, -inf, 20, -20, 1e30)
	defer func(v bool) { useAsm = v }(useAsm)
	var got [2][2][]float32
	for path, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		got[path] = [2][]float32{make([]float32, len(xs)), make([]float32, len(xs))}
		Tanh(got[path][0], got[path][1], xs)
		for cut := 1; cut < 8; cut++ { // every length mod 8
			n := len(xs) - cut
			phi, dphi := make([]float32, n), make([]float32, n)
			Tanh(phi, dphi, xs[:n])
			for i := range n {
				if !same(float64(phi[i]), float64(got[path][0][i])) || !same(float64(dphi[i]), float64(got[path][1][i])) {
					t.Fatalf("asm=%v length %d: tanh(%g) = %g, %g; full length %g, %g", asm, n, xs[i], phi[i], dphi[i], got[path][0][i], got[path][1][i])
				}
			}
		}
	}
	var worstULP, worstD float64
	for i, x := range xs {
		phi, dphi := got[0][0][i], got[0][1][i]
		if !same(float64(phi), float64(got[1][0][i])) || !same(float64(dphi), float64(got[1][1][i])) {
			t.Fatalf("tanh(%g): Go %g, %g; assembly %g, %g", x, phi, dphi, got[1][0][i], got[1][1][i])
		}
		want := math.Tanh(float64(x))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(phi)) || !math.IsNaN(float64(dphi)) {
				t.Errorf("tanh(NaN) = %g, %g", phi, dphi)
			}
			continue
		}
		if math.Signbit(float64(phi)) != math.Signbit(want) {
			t.Errorf("tanh(%g) = %g: wrong sign", x, phi)
		}
		ulp := math.Abs(float64(math.Nextafter32(float32(math.Abs(want)), 2)) - float64(float32(math.Abs(want))))
		worstULP = max(worstULP, math.Abs(float64(phi)-want)/ulp)
		worstD = max(worstD, math.Abs(float64(dphi)-(1-want*want)))
	}
	t.Logf("tanh float32: max error %.2f ulp, derivative %.3g absolute, over %d values", worstULP, worstD, len(xs))
	if !(worstULP <= 4 && worstD <= 5e-7) { // NaN fails too
		t.Errorf("max error %.2f ulp (want ≤ 4), derivative %.3g (want ≤ 5e-7)", worstULP, worstD)
	}
}

// same reports bit equality, treating all NaNs alike.
func same(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

func TestSpecialValues(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name      string
		f         func(phi, dphi, x []float64)
		x         float64
		phi, dphi float64
	}{
		{"tanh", Tanh[float64], nan, nan, nan},
		{"sigmoid", Sigmoid[float64], nan, nan, nan},
		{"softplus", softplus, nan, nan, nan},
		{"tanh", Tanh[float64], -inf, -1, 0},
		{"tanh", Tanh[float64], inf, 1, 0},
		{"tanh", Tanh[float64], 0, 0, 1},
		{"sigmoid", Sigmoid[float64], -inf, 0, 0},
		{"sigmoid", Sigmoid[float64], inf, 1, 0},
		{"softplus", softplus, -inf, 0, 0},
		{"softplus", softplus, inf, inf, 1},
		{"softplus", softplus, 0, math.Ln2, 0.5},
	} {
		// Four copies run the vector path, one the scalar path.
		for _, n := range []int{4, 1} {
			xs := []float64{tc.x, tc.x, tc.x, tc.x}[:n]
			phi, dphi := eval(tc.f, xs)
			if !same(phi[0], tc.phi) || !same(dphi[0], tc.dphi) {
				t.Errorf("%s(%g) = %g, %g; want %g, %g (n = %d)", tc.name, tc.x, phi[0], dphi[0], tc.phi, tc.dphi, n)
			}
		}
	}
}

func benchmark[T Float](b *testing.B, f func(phi, dphi, x []T)) {
	xs := make([]T, 1024)
	for i := range xs {
		xs[i] = T(float64(i)/128 - 4)
	}
	phi, dphi := make([]T, len(xs)), make([]T, len(xs))
	b.SetBytes(int64(unsafe.Sizeof(xs[0])) * int64(len(xs)))
	for range b.N {
		f(phi, dphi, xs)
	}
}

// The float32 kernels: tanh of its own, softplus through float64.
func BenchmarkTanhF32(b *testing.B)     { benchmark(b, Tanh[float32]) }
func BenchmarkSoftplusF32(b *testing.B) { benchmark(b, softplus32) }

// The Math variants compose the standard library's functions, for scale.
func BenchmarkTanh(b *testing.B)     { benchmark(b, Tanh[float64]) }
func BenchmarkSigmoid(b *testing.B)  { benchmark(b, Sigmoid[float64]) }
func BenchmarkSoftplus(b *testing.B) { benchmark(b, softplus) }
func BenchmarkMathTanh(b *testing.B) {
	benchmark(b, func(phi, dphi, x []float64) {
		for i, v := range x {
			t := math.Tanh(v)
			phi[i], dphi[i] = t, 1-t*t
		}
	})
}
func BenchmarkMathSoftplus(b *testing.B) {
	benchmark(b, func(phi, dphi, x []float64) {
		for i, v := range x {
			e := math.Exp(v)
			phi[i], dphi[i] = math.Log1p(e), e/(1+e)
		}
	})
}

// TestExpNeg: within 2 ulps of math.Exp on y ≤ 0, 0 below −708, NaN kept,
// both paths bit-identical for every length mod 4.
func TestExpNeg(t *testing.T) {
	var ys []float64
	for y := -750.0; y <= 0; y += 0.0137 {
		ys = append(ys, y)
	}
	ys = append(ys, 0, -1e-300, math.Inf(-1), math.NaN(), -708, -707.9)
	defer func(v bool) { useAsm = v }(useAsm)
	var got [2][]float64
	for path, asm := range []bool{false, cpu.HasAVX2FMA} {
		useAsm = asm
		got[path] = make([]float64, len(ys))
		ExpNeg(got[path], ys)
		for cut := 1; cut < 4; cut++ {
			d := make([]float64, len(ys)-cut)
			ExpNeg(d, ys[:len(d)])
			for i := range d {
				if !same(d[i], got[path][i]) {
					t.Fatalf("length %d: e^%g = %g, full length %g", len(d), ys[i], d[i], got[path][i])
				}
			}
		}
	}
	var worst float64
	for i, y := range ys {
		if !same(got[0][i], got[1][i]) {
			t.Fatalf("e^%g: Go %g, assembly %g", y, got[0][i], got[1][i])
		}
		want := math.Exp(y)
		switch {
		case math.IsNaN(y):
			if !math.IsNaN(got[0][i]) {
				t.Errorf("e^NaN = %g", got[0][i])
			}
		case y < -708:
			if got[0][i] != 0 {
				t.Errorf("e^%g = %g, want 0", y, got[0][i])
			}
		default:
			worst = max(worst, math.Abs(got[0][i]-want)/want)
		}
	}
	t.Logf("e^y: max relative error %.3g", worst)
	if !(worst <= 4.5e-16) { // NaN fails too
		t.Errorf("max relative error %.3g > 4.5e-16 (2 ulps)", worst)
	}
}
