//go:build !amd64

package kernel

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
func adam4(p, grad, m, v *float64, n int, c *AdamParams)                   { panic("unreachable") }
func euler4(a *eulerArgs)                                                  { panic("unreachable") }
