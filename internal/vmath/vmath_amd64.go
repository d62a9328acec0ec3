package vmath

//go:noescape
func tanhAsm(phi, dphi, x *float64, n int, _ float64)

//go:noescape
func sigmoidAsm(phi, dphi, x *float64, n int, _ float64)

//go:noescape
func softplusAsm(phi, dphi, x *float64, n int, threshold float64)
