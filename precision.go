package gle

import "unsafe"

// Float is the element type of an engine's state and arithmetic: float64,
// the conformance path that matches the reference to 1e-9, or float32, the
// optional fast path (twice the lanes per vector, half the memory traffic).
// A float32 trainer is float32 end to end, as the reference's float32
// runs: state, products, gradients, the optimizer's moments and its
// update. The parameters stay in the Network's float64 arrays, where a
// float32 trainer's updates leave float32 values (exactly); its engine
// reads them as float32 at every step, in the pass that transposes the
// weights for the products, so that a change made to the network between
// steps (by any code) is seen.
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

// as32 returns x as a []float32 (the same array); T must be float32.
func as32[T Float](x []T) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
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
