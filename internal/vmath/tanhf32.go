package vmath

import "math"

// Constants of tanhF32 (float32): e^y for −20 ≤ y ≤ 0 as 2^k (1 + p), k =
// round(y/ln2), r = y − k ln2 (Cody–Waite: ln2Hi32 has 9 significant
// bits, so k·ln2Hi32 is exact for |k| ≤ 29), p = e^r − 1 by a degree-7
// Taylor polynomial (truncation < 2⁻²⁶ relative on |r| ≤ ln2/2).
const (
	tanhMin32  float32 = -20 // below, tanh rounds to ±1 in float32
	invLn2f32  float32 = 1 / math.Ln2
	magic32    float32 = 0x1.8p23
	ln2Hi32    float32 = 0.693359375
	ln2Lo32    float32 = -2.12194440e-4
	c2f32      float32 = 1.0 / 2
	c3f32      float32 = 1.0 / 6
	c4f32      float32 = 1.0 / 24
	c5f32      float32 = 1.0 / 120
	c6f32      float32 = 1.0 / 720
	c7f32      float32 = 1.0 / 5040
	signBit32  uint32  = 1 << 31
	expBias32  uint32  = 127
	mantBits32         = 23
)

// tanhF32 is tanh and 1 − tanh² in float32 arithmetic: tanh|x| = −m/(2 +
// m) with m = e^{−2|x|} − 1 = 2^k p + (2^k − 1), no cancellation near 0.
// Every operation rounds to float32 on its own (float32(…) stops the
// compiler from fusing), as tanhF32Asm does.
func tanhF32(x float32) (phi, dphi float32) {
	bits := math.Float32bits(x)
	a := math.Float32frombits(bits &^ signBit32)
	y := math.Float32frombits(math.Float32bits(a+a) ^ signBit32)
	if y < tanhMin32 { // NaN stays
		y = tanhMin32
	}
	t := float32(y*invLn2f32) + magic32
	kf := t - magic32
	r := (y - float32(kf*ln2Hi32)) - float32(kf*ln2Lo32)
	q := float32(c7f32*r) + c6f32
	q = float32(q*r) + c5f32
	q = float32(q*r) + c4f32
	q = float32(q*r) + c3f32
	q = float32(q*r) + c2f32
	p := float32(float32(r*r)*q) + r
	twoK := math.Float32frombits((math.Float32bits(t) + expBias32) << mantBits32)
	m := float32(twoK*p) + (twoK - 1)
	th := math.Float32frombits(math.Float32bits(-m/(2+m))&^signBit32 | bits&signBit32)
	return th, 1 - float32(th*th)
}
