//go:build !amd64

package cpu

func detectAVX2FMA() bool { return false }
