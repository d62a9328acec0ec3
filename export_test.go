package gle

// SetMinParallelFlops sets the work below which a step stays on one
// thread (0: every network is split) and returns a function restoring it.
func SetMinParallelFlops(f float64) (restore func()) {
	old := minParallelFlops
	minParallelFlops = f
	return func() { minParallelFlops = old }
}
