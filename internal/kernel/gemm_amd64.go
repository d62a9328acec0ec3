package kernel

//go:generate go test -run TestAsm32Generated -update-asm32

// The float64 kernels (gemm_amd64.s).

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
func gemm4x4mask(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int, mask *uint64)

//go:noescape
func gemm8x4mask(k int, a *float64, aRow, aCol int, b *float64, ldb int, c *float64, ldc int, mask *uint64)

//go:noescape
func gemm1x4mask(k int, a *float64, aCol int, b *float64, ldb int, c *float64, mask *uint64)

//go:noescape
func euler4(a *eulerArgs[float64])

// The float32 kernels (gemm32_amd64.s, generated from gemm_amd64.s): the
// same code with twice the lanes per vector.

//go:noescape
func gemm4x16f32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func gemm4x24f32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func gemm4x8f32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func gemm1x16f32(k int, a *float32, aCol int, b *float32, ldb int, c *float32)

//go:noescape
func gemm1x8f32(k int, a *float32, aCol int, b *float32, ldb int, c *float32)

//go:noescape
func gemm4x8maskf32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int, mask *uint32)

//go:noescape
func gemm8x8maskf32(k int, a *float32, aRow, aCol int, b *float32, ldb int, c *float32, ldc int, mask *uint32)

//go:noescape
func gemm1x8maskf32(k int, a *float32, aCol int, b *float32, ldb int, c *float32, mask *uint32)

//go:noescape
func euler8f32(a *eulerArgs[float32])

// convert_amd64.s

//go:noescape
func cvt64to32(dst *float32, src *float64, n int)

//go:noescape
func cvt32to64(dst *float64, src *float32, n int)

// adam_amd64.s

//go:noescape
func adam4(p, grad, m, v *float64, n int, c *AdamParams)

//go:noescape
func adam8f32(p *float64, grad, m, v *float32, n int, c *Adam32Params)

//go:noescape
func transpose4x4f64(src *float64, lds int, dst *float64, ldd int, n int)

//go:noescape
func transpose8x8f64to32(src *float64, lds int, dst *float32, ldd int, cp *float32, ldc int, n int)

//go:noescape
func scaleFinite64(x *float64, n int, alpha float64) (ok bool)

//go:noescape
func scaleFinite32(x *float32, n int, alpha float32) (ok bool)

//go:noescape
func transpose8x8f32(src *float32, lds int, dst *float32, ldd int, n int)
