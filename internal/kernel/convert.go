package kernel

import "unsafe"

// Convert sets dst[i] = D(src[i]) for every i < len(dst) (src at least as
// long), with Go's rounding (to nearest even; float32 → float64 is exact).
// It does nothing when dst and src are the same array. With AVX2,
// float32 ↔ float64 conversions go eight values at a time.
func Convert[D, S Float](dst []D, src []S) {
	n := len(dst)
	if n == 0 {
		return
	}
	src = src[:n]
	if unsafe.Pointer(&dst[0]) == unsafe.Pointer(&src[0]) {
		return
	}
	i := 0
	if useAsm && n >= 8 {
		i = n &^ 7
		switch d := any(&dst[0]).(type) {
		case *float32:
			if s, ok := any(&src[0]).(*float64); ok {
				cvt64to32(d, s, i)
			} else {
				i = 0
			}
		case *float64:
			if s, ok := any(&src[0]).(*float32); ok {
				cvt32to64(d, s, i)
			} else {
				i = 0
			}
		}
	}
	for ; i < n; i++ {
		dst[i] = D(src[i])
	}
}
