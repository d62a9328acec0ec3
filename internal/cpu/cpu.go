// Package cpu reports the processor features the assembly kernels of gle
// need (internal/kernel, internal/vmath).
package cpu

// HasAVX2FMA reports whether the processor and the operating system
// support AVX2 and FMA3 (always false off amd64).
var HasAVX2FMA = detectAVX2FMA()
