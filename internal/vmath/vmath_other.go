//go:build !amd64

package vmath

// Never called: useAsm is false without amd64.

func tanhAsm(phi, dphi, x *float64, n int, _ float64)               { panic("unreachable") }
func sigmoidAsm(phi, dphi, x *float64, n int, _ float64)            { panic("unreachable") }
func softplusAsm(phi, dphi, x *float64, n int, threshold float64)   { panic("unreachable") }
func tanhF32Asm(phi, dphi, x *float32, n int)                       { panic("unreachable") }
func sigmoid32Asm(phi, dphi, x *float32, n int, _ float64)          { panic("unreachable") }
func softplus32Asm(phi, dphi, x *float32, n int, threshold float64) { panic("unreachable") }
func expNegAsm(dst, y *float64, n int)                              { panic("unreachable") }
