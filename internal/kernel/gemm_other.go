//go:build !amd64

package kernel

// Never called: useAsm is false without amd64.

func gemm4x8(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int) {
	panic("unreachable")
}
func gemm4x12(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int) {
	panic("unreachable")
}
func gemm4x4(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int) {
	panic("unreachable")
}
func gemm1x8(k int, a *float64, aCol int, b *float64, ldb int, c *float64) { panic("unreachable") }
func gemm1x4(k int, a *float64, aCol int, b *float64, ldb int, c *float64) { panic("unreachable") }
func euler4(a *eulerArgs[float64])                                         { panic("unreachable") }
func gemm4x16f32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int) {
	panic("unreachable")
}
func gemm4x24f32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int) {
	panic("unreachable")
}
func gemm4x8f32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int) {
	panic("unreachable")
}
func gemm1x16f32(k int, a *float32, aCol int, b *float32, ldb int, c *float32) { panic("unreachable") }
func gemm1x8f32(k int, a *float32, aCol int, b *float32, ldb int, c *float32)  { panic("unreachable") }
func euler8f32(a *eulerArgs[float32])                                          { panic("unreachable") }
func gemm4x4mask(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int, mask *uint64) {
	panic("unreachable")
}
func gemm8x4mask(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int, mask *uint64) {
	panic("unreachable")
}
func gemm8x8maskf32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int, mask *uint32) {
	panic("unreachable")
}
func gemm1x4mask(k int, a *float64, aCol int, b *float64, ldb int, c *float64, mask *uint64) {
	panic("unreachable")
}
func gemm4x8maskf32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int, mask *uint32) {
	panic("unreachable")
}
func gemm1x8maskf32(k int, a *float32, aCol int, b *float32, ldb int, c *float32, mask *uint32) {
	panic("unreachable")
}
func cvt64to32(dst *float32, src *float64, n int)                         { panic("unreachable") }
func cvt32to64(dst *float64, src *float32, n int)                         { panic("unreachable") }
func adam4(p, grad, m, v *float64, n int, c *AdamParams)                  { panic("unreachable") }
func adam8f32(p *float64, grad, m, v *float32, n int, c *Adam32Params)    { panic("unreachable") }
func transpose4x4f64(src *float64, lds int, dst *float64, ldd int, n int) { panic("unreachable") }
func transpose8x8f64to32(src *float64, lds int, dst *float32, ldd int, cp *float32, ldc int, n int) {
	panic("unreachable")
}
func scaleFinite64(x *float64, n int, alpha float64) (ok bool)            { panic("unreachable") }
func scaleFinite32(x *float32, n int, alpha float32) (ok bool)            { panic("unreachable") }
func transpose8x8f32(src *float32, lds int, dst *float32, ldd int, n int) { panic("unreachable") }
