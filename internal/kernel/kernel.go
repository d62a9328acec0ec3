// Package kernel holds the dense products of the per-step hot path of a
// GLE layer. All matrices are row-major flat slices; every function writes
// into a destination owned by the caller and allocates nothing.
package kernel

// MulABt sets dst (m×n) = a (m×k) · bᵀ, with b stored n×k.
// It computes s = r Wᵀ for a batch r (B×In) and weights W (Out×In).
func MulABt(dst, a, b []float64, m, k, n int) {
	for i := range m {
		ai := a[i*k : i*k+k]
		di := dst[i*n : i*n+n]
		for j := range n {
			di[j] = Dot(ai, b[j*k:j*k+k])
		}
	}
}

// MulAB sets dst (m×n) = a (m×k) · b (k×n).
// It computes e_bottom = ê W for errors ê (B×Out) and W (Out×In).
func MulAB(dst, a, b []float64, m, k, n int) {
	for i := range m {
		di := dst[i*n : i*n+n]
		clear(di)
		ai := a[i*k : i*k+k]
		for p, av := range ai {
			Axpy(di, av, b[p*n:p*n+n])
		}
	}
}

// MulAtB sets dst (k×n) = alpha · aᵀ · b, with a (m×k) and b (m×n).
// It computes the batch-mean weight gradient −(1/B) êᵀ r.
func MulAtB(dst []float64, alpha float64, a, b []float64, m, k, n int) {
	clear(dst[:k*n])
	AddAtB(dst, alpha, a, b, m, k, n)
}

// AddAtB adds alpha · aᵀ · b to dst (k×n), with a (m×k) and b (m×n).
func AddAtB(dst []float64, alpha float64, a, b []float64, m, k, n int) {
	for i := range m {
		ai := a[i*k : i*k+k]
		bi := b[i*n : i*n+n]
		for p, av := range ai {
			Axpy(dst[p*n:p*n+n], alpha*av, bi)
		}
	}
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
