// Package numpyx holds NumPy functions the project needs with NumPy's
// exact order of operations.
package numpyx

// Linspace is np.linspace(start, stop, n): i·step + start, the last
// element exactly stop.
func Linspace(start, stop float64, n int) []float64 {
	out := make([]float64, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (stop - start) / float64(n-1)
	for i := range out {
		out[i] = float64(i)*step + start
	}
	out[n-1] = stop
	return out
}
