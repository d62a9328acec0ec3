//go:build !amd64

package vmath

func tanhAsm(phi, dphi, x *float64, n int, _ float64)             { panic("unreachable") }
func sigmoidAsm(phi, dphi, x *float64, n int, _ float64)          { panic("unreachable") }
func softplusAsm(phi, dphi, x *float64, n int, threshold float64) { panic("unreachable") }
