package mnist1d

import (
	"math"

	"github.com/gle-go/gle/internal/numpyx"
)

// The numerical helpers below follow NumPy and SciPy's order of
// operations, so the generated arrays match the canonical ones to the
// last bit or nearly.

// pairwiseSum is NumPy's pairwise summation of doubles: plain below 8
// elements, eight interleaved accumulators up to 128, halves (rounded
// down to a multiple of 8) above.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	if n < 8 {
		var s float64
		for _, v := range a {
			s += v
		}
		return s
	}
	if n <= 128 {
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for k := range 8 {
				r[k] += a[i+k]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
}

// sum is np.sum of a contiguous array: the reduction starts from the
// first element and adds the pairwise sum of the rest.
func sum(a []float64) float64 {
	if len(a) == 0 {
		return 0
	}
	return pairwiseSum(a)
}

// meanStd returns np.mean(a) and np.std(a) (population, ddof = 0).
func meanStd(a []float64) (mean, std float64) {
	n := float64(len(a))
	mean = sum(a) / n
	sq := make([]float64, len(a))
	for i, v := range a {
		d := v - mean
		sq[i] = d * d
	}
	return mean, math.Sqrt(sum(sq) / n)
}

// interpolate is scipy's interp1d(numpyx.Linspace(0,1,len(x)), x, kind="linear")
// evaluated at numpyx.Linspace(0, 1, n), which delegates to np.interp: with
// xs[j] ≤ v < xs[j+1], the value is x[j] where v = xs[j] (and at the last
// point), else slope·(v − xs[j]) + x[j].
func interpolate(x []float64, n int) []float64 {
	xs, xn := numpyx.Linspace(0, 1, len(x)), numpyx.Linspace(0, 1, n)
	out := make([]float64, n)
	j := 0
	for i, v := range xn { // xn is increasing: the search moves forward
		for j < len(xs)-1 && xs[j+1] <= v {
			j++
		}
		if j == len(xs)-1 || xs[j] == v {
			out[i] = x[j]
			continue
		}
		slope := (x[j+1] - x[j]) / (xs[j+1] - xs[j])
		out[i] = slope*(v-xs[j]) + x[j]
	}
	return out
}

// gaussianFilter is scipy.ndimage.gaussian_filter1d(x, sigma) with mode
// "reflect" (d c b a | a b c d | d c b a) and truncate 4: weights
// exp(−x²/(2σ²)) on [−r, r], r = int(4σ + 0.5), normalised; the symmetric
// correlation adds the centre term, then (x[i−k] + x[i+k])·w[k] from the
// farthest k inwards.
func gaussianFilter(x []float64, sigma float64) []float64 {
	r := int(4*sigma + 0.5)
	w := make([]float64, 2*r+1)
	for i := range w {
		d := float64(i - r)
		w[i] = math.Exp(-0.5 / (sigma * sigma) * (d * d))
	}
	z := sum(w)
	for i := range w {
		w[i] /= z
	}
	n := len(x)
	at := func(i int) float64 { // reflect
		for i < 0 || i >= n {
			if i < 0 {
				i = -i - 1
			} else {
				i = 2*n - i - 1
			}
		}
		return x[i]
	}
	out := make([]float64, n)
	for i := range out {
		s := x[i] * w[r]
		for k := r; k >= 1; k-- {
			s += (at(i-k) + at(i+k)) * w[r-k]
		}
		out[i] = s
	}
	return out
}
