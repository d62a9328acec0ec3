// Package vmath evaluates the exponential-based rate functions of gle —
// tanh, the logistic sigmoid and softplus — with their derivatives, over
// slices, accurate to about one unit in the last place and several times
// faster than composing math.Exp, math.Log and math.Tanh.
//
// All three rest on one range reduction of the exponential, for y ≤ 0:
//
//	e^y = 2^k (1 + p),   k = round(y / ln 2),   r = y − k ln 2 ∈ [−ln2/2, ln2/2],
//	p   = expm1(r)       (Taylor polynomial of degree 13, error < 1e-17 relative),
//
// with k ln 2 split into a high part exact in floating point and a low
// correction (Cody–Waite). Because p is e^r − 1 itself, not e^r, both
// e^y = 2^k p + 2^k and e^y − 1 = 2^k p + (2^k − 1) come out without
// cancellation, which keeps tanh and softplus accurate near zero. Below
// y = −708 (where 2^k would leave the normal range) e^y is taken as 0.
//
// Every operation is branch-free, so on amd64 processors with AVX2 and FMA3
// an assembly kernel evaluates four values per instruction; elsewhere plain
// Go performs the same operations in the same order with math.FMA, so both
// paths give bit-identical results (tested). NaN propagates. For float32
// slices, σ and softplus are evaluated in float64 and rounded once, by
// kernels generated from the float64 ones (TestAsm32Generated); tanh has a
// float32 kernel of its own (tanhF32, eight values per instruction).
package vmath

import (
	"math"
	"unsafe"

	"github.com/gle-go/gle/internal/cpu"
)

const (
	invLn2 = 1 / math.Ln2
	// ln2Hi has its low bits zero, so k·ln2Hi is exact for |k| < 2¹¹;
	// ln2Hi + ln2Lo = ln 2 to about 2⁻¹⁰⁴ (the fdlibm split).
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
	// roundMagic: y/ln2 + 1.5·2⁵² rounds to an integer k (ties to even)
	// and holds k in the low bits of its representation.
	roundMagic = 0x1.8p52
	// expMin is the smallest y whose 2^k is a normal number.
	expMin = -708
	// tanhMin: below it, e^y < 2⁻⁵⁷ and tanh rounds to ±1.
	tanhMin = -40
	// sqrt2m1 = √2 − 1 splits the argument range of log1p.
	sqrt2m1 = math.Sqrt2 - 1
)

// Coefficients 1/n! of the expm1 polynomial, n = 2…13.
const (
	c2  = 1.0 / 2
	c3  = 1.0 / 6
	c4  = 1.0 / 24
	c5  = 1.0 / 120
	c6  = 1.0 / 720
	c7  = 1.0 / 5040
	c8  = 1.0 / 40320
	c9  = 1.0 / 362880
	c10 = 1.0 / 3628800
	c11 = 1.0 / 39916800
	c12 = 1.0 / 479001600
	c13 = 1.0 / 6227020800
)

// R(z) = Σ lgᵢ zⁱ with z = s² approximates (log1p(f) − 2s)/s for
// s = f/(2+f), |s| ≤ 3 − 2√2, with error below 2⁻⁵⁸ (the fdlibm log
// coefficients).
const (
	lg1 = 6.666666666666735130e-01
	lg2 = 3.999999999940941908e-01
	lg3 = 2.857142874366239149e-01
	lg4 = 2.222219843214978396e-01
	lg5 = 1.818357216161805012e-01
	lg6 = 1.531383769920937332e-01
	lg7 = 1.479819860511658591e-01
)

// useAsm selects the assembly kernels; tests switch it to compare paths.
var useAsm = cpu.HasAVX2FMA

// Float is the element type of the slice functions.
type Float interface{ float32 | float64 }

// function is one rate function's kernels: the float64 vector kernel and
// its scalar twin, and for float32 a vector kernel of lanes32 values per
// step with its scalar twin.
type function struct {
	vec64    func(phi, dphi, x *float64, n int, c float64)
	scalar64 func(x, c float64) (float64, float64)
	vec32    func(phi, dphi, x *float32, n int, c float64)
	lanes32  int
	scalar32 func(x float32, c float64) (float32, float32)
}

var (
	// tanh has a float32 kernel of its own (tanhF32, a few ulps of float32).
	tanhFunc = &function{tanhAsm, tanh1, func(phi, dphi, x *float32, n int, _ float64) { tanhF32Asm(phi, dphi, x, n) }, 8,
		func(x float32, _ float64) (float32, float32) { return tanhF32(x) }}
	// σ and softplus evaluate float32 values in float64 and round once
	// (vmath32_amd64.s converts on load and store).
	sigmoidFunc  = &function{sigmoidAsm, sigmoid1, sigmoid32Asm, 4, via64(sigmoid1)}
	softplusFunc = &function{softplusAsm, softplus1, softplus32Asm, 4, via64(softplus1)}
)

// via64 evaluates a float32 value with the float64 scalar function.
func via64(f func(x, c float64) (float64, float64)) func(x float32, c float64) (float32, float32) {
	return func(x float32, c float64) (float32, float32) {
		p, d := f(float64(x), c)
		return float32(p), float32(d)
	}
}

// Tanh writes tanh(x) to phi and its derivative 1 − tanh²(x) to dphi.
// The three slices must have the same length. float32 values get tanhF32:
// float32 arithmetic, within 4 ulps (TestTanhF32).
func Tanh[T Float](phi, dphi, x []T) { apply(phi, dphi, x, 0, tanhFunc) }

// Sigmoid writes σ(x) = 1/(1 + e^{−x}) to phi and σ(x)(1 − σ(x)) to dphi.
func Sigmoid[T Float](phi, dphi, x []T) { apply(phi, dphi, x, 0, sigmoidFunc) }

// Softplus writes log(1 + eˣ) to phi (x itself where x > threshold) and
// its derivative σ(x) to dphi.
func Softplus[T Float](phi, dphi, x []T, threshold float64) {
	apply(phi, dphi, x, threshold, softplusFunc)
}

// ExpNeg writes e^y to dst for y ≤ 0 (0 below −708, where e^y is not a
// normal number; NaN stays NaN): the exponential of softmax and
// log-sum-exp after the maximum is subtracted. dst and y have the same
// length and may be the same slice.
func ExpNeg(dst, y []float64) {
	n := len(y)
	dst = dst[:n]
	i := 0
	if useAsm && n >= 4 {
		i = n &^ 3
		expNegAsm(&dst[0], &y[0], i)
	}
	for ; i < n; i++ {
		dst[i], _, _ = expNeg(y[i])
	}
}

// TanhAt is Tanh for one value, rounding exactly as the slice function.
func TanhAt(x float64) (phi, dphi float64) { return tanh1(x, 0) }

// SigmoidAt is Sigmoid for one value, rounding exactly as the slice function.
func SigmoidAt(x float64) (phi, dphi float64) { return sigmoid1(x, 0) }

// SoftplusAt is Softplus for one value, rounding exactly as the slice function.
func SoftplusAt(x, threshold float64) (phi, dphi float64) { return softplus1(x, threshold) }

// apply runs f's vector kernel over whole vectors and its scalar twin,
// which rounds identically, over the rest.
func apply[T Float](phi, dphi, x []T, c float64, f *function) {
	n := len(x)
	phi, dphi = phi[:n], dphi[:n]
	var z T
	if unsafe.Sizeof(z) == 8 {
		run(as[float64](phi), as[float64](dphi), as[float64](x), c, f.vec64, 4, f.scalar64)
	} else {
		run(as[float32](phi), as[float32](dphi), as[float32](x), c, f.vec32, f.lanes32, f.scalar32)
	}
}

// run is apply for one element type.
func run[T Float](phi, dphi, x []T, c float64, vec func(phi, dphi, x *T, n int, c float64), lanes int, scalar func(x T, c float64) (T, T)) {
	n := len(x)
	i := 0
	if useAsm && n >= lanes {
		i = n - n%lanes
		vec(&phi[0], &dphi[0], &x[0], i, c)
	}
	for ; i < n; i++ {
		phi[i], dphi[i] = scalar(x[i], c)
	}
}

// as returns x as a slice of D (the same memory; D and S have one size).
func as[D, S Float](x []S) []D {
	return unsafe.Slice((*D)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// expReduced returns 2^k and p = e^r − 1 with e^y = 2^k (1 + p), for
// expMin ≤ y ≤ 0.
func expReduced(y float64) (twoK, p float64) {
	t := math.FMA(y, invLn2, roundMagic)
	kf := t - roundMagic
	r := math.FMA(-kf, ln2Hi, y)
	r = math.FMA(-kf, ln2Lo, r)
	// expm1(r) = r + r²·Σ_{n=2}^{13} rⁿ⁻²/n!, Horner form.
	q := math.FMA(c13, r, c12)
	q = math.FMA(q, r, c11)
	q = math.FMA(q, r, c10)
	q = math.FMA(q, r, c9)
	q = math.FMA(q, r, c8)
	q = math.FMA(q, r, c7)
	q = math.FMA(q, r, c6)
	q = math.FMA(q, r, c5)
	q = math.FMA(q, r, c4)
	q = math.FMA(q, r, c3)
	q = math.FMA(q, r, c2)
	p = math.FMA(float64(r*r), q, r)
	// The low bits of t hold k: 2^k has exponent field k + 1023.
	twoK = math.Float64frombits((math.Float64bits(t) + 1023) << 52)
	return twoK, p
}

// expNeg returns e^y for y ≤ 0 (0 below expMin) with 2^k and p of
// expReduced, so that callers can also form e^y − 1.
func expNeg(y float64) (e, twoK, p float64) {
	yc := y
	if yc < expMin { // false for NaN, which propagates
		yc = expMin
	}
	twoK, p = expReduced(yc)
	e = math.FMA(twoK, p, twoK)
	if y < expMin {
		e = 0
	}
	return e, twoK, p
}

// tanh1: tanh|x| = −m/(2 + m) with m = e^{−2|x|} − 1, then x's sign.
func tanh1(x, _ float64) (phi, dphi float64) {
	y := -2 * math.Abs(x)
	if y < tanhMin {
		y = tanhMin
	}
	twoK, p := expReduced(y)
	m := math.FMA(twoK, p, twoK-1)
	t := math.Copysign(math.Abs(-m/(2+m)), x)
	return t, math.FMA(-t, t, 1)
}

// sigmoid1: σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0, e = e^{−|x|}.
func sigmoid1(x, _ float64) (phi, dphi float64) {
	e, _, _ := expNeg(-math.Abs(x))
	num := e
	if x >= 0 {
		num = 1
	}
	s := num / (1 + e)
	return s, s * (1 - s)
}

// softplus1, with e = e^{−|x|} ∈ [0, 1]:
//
//	softplus(x) = max(x, 0) + log1p(e)
//	log1p(e)    = k ln 2 + log1p(f),  f = e, k = 0 if e < √2 − 1; f = (e − 1)/2, k = 1 otherwise
//	log1p(f)    = f − (f²/2 − s (f²/2 + R(s²))),  s = f/(2 + f)
//	σ(x)        = 1/(1 + e) for x ≥ 0, e/(1 + e) for x < 0.
func softplus1(x, threshold float64) (phi, dphi float64) {
	e, twoK, p := expNeg(-math.Abs(x))
	f, kHi, kLo := e, 0.0, 0.0
	if e >= sqrt2m1 {
		f, kHi, kLo = float64(0.5*math.FMA(twoK, p, twoK-1)), ln2Hi, ln2Lo
	}
	s := f / (2 + f)
	z := float64(s * s)
	R := math.FMA(lg7, z, lg6)
	R = math.FMA(R, z, lg5)
	R = math.FMA(R, z, lg4)
	R = math.FMA(R, z, lg3)
	R = math.FMA(R, z, lg2)
	R = math.FMA(R, z, lg1)
	R = float64(R * z)
	hfsq := float64(0.5 * f * f)
	l := kHi + (f - (hfsq - math.FMA(s, hfsq+R, kLo)))
	phi = max(x, 0) + l
	if x > threshold {
		phi = x
	}
	num := e
	if x >= 0 {
		num = 1
	}
	return phi, num / (1 + e)
}
