package gle

import "unsafe"

// Float is the element type of an engine's state and arithmetic: float64,
// the conformance path that matches the reference to 1e-9, or float32, the
// optional fast path (twice the lanes per vector, half the memory traffic).
// Parameters, gradients and optimizers stay in float64 whatever the
// engine's type ("master weights"): a float32 engine reads the weights
// rounded to float32 at every step and returns float64 gradients.
type Float interface{ float32 | float64 }

// is64 reports whether T is float64.
func is64[T Float]() bool {
	var z T
	return unsafe.Sizeof(z) == 8
}

// as64 returns x as a []float64 (the same array); T must be float64.
func as64[T Float](x []T) []float64 {
	return unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
}

// view returns x itself when T is float64 and scratch otherwise: where a
// float64 engine reads or writes a float64 array in place, a float32 one
// works on a converted copy.
func view[T Float](x []float64, scratch []T) []T {
	if is64[T]() {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
	}
	return scratch
}
