package kernel

//go:noescape
func gemm4x8(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int)

//go:noescape
func gemm4x12(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int)

//go:noescape
func gemm4x4(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int)

//go:noescape
func gemm1x8(k int, a *float64, aCol int, b *float64, ldb int, c *float64)

//go:noescape
func gemm1x4(k int, a *float64, aCol int, b *float64, ldb int, c *float64)

//go:noescape
func adam4(p, grad, m, v *float64, n int, c *AdamParams)

//go:noescape
func euler4(a *eulerArgs)
