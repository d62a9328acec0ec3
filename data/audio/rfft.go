package audio

import (
	"math"
	"math/bits"

	"gonum.org/v1/gonum/dsp/fourier"
)

// powerSpectrum computes |rfft(x)|² of real frames of one length n: bins
// 0…n/2. For n a power of two (≥ 4) it packs the even and odd samples
// into one complex sequence of n/2 points, transforms it with an
// iterative radix-2 FFT on precomputed twiddles and bit-reversal, and
// separates the two halves (X[k] = E[k] + e^{−2πik/n} O[k]); other sizes
// go through gonum's FFT. It allocates nothing per call and is not safe
// for concurrent use.
type powerSpectrum struct {
	n      int
	re, im []float64 // the packed sequence, transformed in place (n/2)
	rev    []int     // bit-reversal permutation of n/2 points
	// Twiddles of the n/2-point FFT (cos, −sin of 2πj/(n/2), j < n/4)
	// and of the split (cos, −sin of 2πk/n, k ≤ n/2).
	wr, wi   []float64
	sr, si   []float64
	fallback *fourier.FFT
	coef     []complex128
}

func newPowerSpectrum(n int) *powerSpectrum {
	ps := &powerSpectrum{n: n}
	if n < 4 || n&(n-1) != 0 {
		ps.fallback = fourier.NewFFT(n)
		ps.coef = make([]complex128, n/2+1)
		return ps
	}
	m := n / 2
	ps.re, ps.im = make([]float64, m), make([]float64, m)
	ps.rev = make([]int, m)
	shift := 64 - bits.Len(uint(m-1))
	for i := range m {
		ps.rev[i] = int(bits.Reverse64(uint64(i)) >> shift)
	}
	if m == 1 {
		ps.rev[0] = 0
	}
	ps.wr, ps.wi = make([]float64, m/2), make([]float64, m/2)
	for j := range m / 2 {
		a := 2 * math.Pi * float64(j) / float64(m)
		ps.wr[j], ps.wi[j] = math.Cos(a), -math.Sin(a)
	}
	ps.sr, ps.si = make([]float64, m+1), make([]float64, m+1)
	for k := range m + 1 {
		a := 2 * math.Pi * float64(k) / float64(n)
		ps.sr[k], ps.si[k] = math.Cos(a), -math.Sin(a)
	}
	return ps
}

// compute writes |X[k]|² for k = 0…n/2 of the n real samples x to
// power (n/2 + 1 values).
func (ps *powerSpectrum) compute(power, x []float64) {
	if ps.fallback != nil {
		ps.fallback.Coefficients(ps.coef, x)
		for k, c := range ps.coef {
			power[k] = real(c)*real(c) + imag(c)*imag(c)
		}
		return
	}
	m := ps.n / 2
	re, im := ps.re, ps.im
	for i, r := range ps.rev {
		re[r], im[r] = x[2*i], x[2*i+1]
	}
	// Stages of sizes 2 and 4 have the twiddles 1 and −i: no products.
	for a := 0; a+1 < m; a += 2 {
		b := a + 1
		re[a], re[b] = re[a]+re[b], re[a]-re[b]
		im[a], im[b] = im[a]+im[b], im[a]-im[b]
	}
	size := 4
	if m >= 4 {
		for a := 0; a < m; a += 4 {
			r0, i0, r1, i1 := re[a], im[a], re[a+1], im[a+1]
			r2, i2, r3, i3 := re[a+2], im[a+2], im[a+3], -re[a+3] // (−i)·z3
			re[a], im[a] = r0+r2, i0+i2
			re[a+2], im[a+2] = r0-r2, i0-i2
			re[a+1], im[a+1] = r1+r3, i1+i3
			re[a+3], im[a+3] = r1-r3, i1-i3
		}
		size = 8
	}
	for ; size <= m; size <<= 1 {
		half, step := size/2, m/size
		for j := range half {
			wr, wi := ps.wr[j*step], ps.wi[j*step]
			for a := j; a < m; a += size {
				b := a + half
				tr := re[b]*wr - im[b]*wi
				ti := re[b]*wi + im[b]*wr
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a], im[a] = re[a]+tr, im[a]+ti
			}
		}
	}
	// Z = FFT(z), z[j] = x[2j] + i·x[2j+1]: E[k] = (Z[k] + conj(Z[m−k]))/2,
	// O[k] = (Z[k] − conj(Z[m−k]))/(2i), X[k] = E[k] + W^k O[k].
	for k := range m + 1 {
		ar, ai := re[k%m], im[k%m]
		br, bi := re[(m-k)%m], -im[(m-k)%m]
		er, ei := (ar+br)/2, (ai+bi)/2
		// (a − b)/(2i) = (a − b)·(−i)/2
		or, oi := (ai-bi)/2, -(ar-br)/2
		xr := er + ps.sr[k]*or - ps.si[k]*oi
		xi := ei + ps.sr[k]*oi + ps.si[k]*or
		power[k] = xr*xr + xi*xi
	}
}
