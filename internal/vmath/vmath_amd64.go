package vmath

//go:generate go test -run TestAsm32Generated -update-asm32

//go:noescape
func tanhAsm(phi, dphi, x *float64, n int, _ float64)

//go:noescape
func sigmoidAsm(phi, dphi, x *float64, n int, _ float64)

//go:noescape
func softplusAsm(phi, dphi, x *float64, n int, threshold float64)

//go:noescape
func expNegAsm(dst, y *float64, n int)

// The float32 twins of σ and softplus (vmath32_amd64.s, generated from
// vmath_amd64.s): load with VCVTPS2PD, compute in float64, store with
// VCVTPD2PS.

//go:noescape
func sigmoid32Asm(phi, dphi, x *float32, n int, _ float64)

//go:noescape
func softplus32Asm(phi, dphi, x *float32, n int, threshold float64)

// tanhf32_amd64.s

//go:noescape
func tanhF32Asm(phi, dphi, x *float32, n int)
