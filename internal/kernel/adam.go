package kernel

import "math"

// AdamParams are the per-step scalars of an Adam update (PyTorch's order of
// operations): the moment decays β₁, β₂, the step size lr/(1 − β₁ᵗ), the
// square root of the second bias correction 1 − β₂ᵗ, and ε.
type AdamParams struct {
	Beta1, Beta2, StepSize, SqrtBC2, Eps float64
}

// Adam updates the parameters p in place from the gradients g and the
// moments m, v (all the same length), element-wise:
//
//	m ← β₁ m + (1 − β₁) g
//	v ← β₂ v + (1 − β₂) g g
//	p ← p + (−StepSize) · m / (√v / SqrtBC2 + ε)
//
// On AVX2 processors four elements go at a time, with the same roundings
// (no fused operations), so both paths agree bit for bit.
func Adam(p, g, m, v []float64, c AdamParams) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	i := 0
	if useAsm && n >= 4 {
		i = n &^ 3
		adam4(&p[0], &g[0], &m[0], &v[0], i, &c)
	}
	for ; i < n; i++ {
		// float64(…) rounds each product, as the vector kernel does.
		mi := float64(c.Beta1*m[i]) + float64((1-c.Beta1)*g[i])
		vi := float64(c.Beta2*v[i]) + float64(float64((1-c.Beta2)*g[i])*g[i])
		m[i], v[i] = mi, vi
		p[i] += float64(-c.StepSize * (mi / (math.Sqrt(vi)/c.SqrtBC2 + c.Eps)))
	}
}

// Adam32Params are AdamParams rounded to float32 for Adam32 (the field
// order is used by the assembly): β₁, 1 − β₁, β₂, 1 − β₂ (each difference
// taken in float64 and rounded once, as PyTorch passes a Python float to
// a float32 tensor), −StepSize, SqrtBC2, ε.
type Adam32Params struct {
	Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, NegStepSize, SqrtBC2, Eps float32
}

// Float32 returns c rounded for Adam32.
func (c AdamParams) Float32() Adam32Params {
	return Adam32Params{Beta1: float32(c.Beta1), OneMinusBeta1: float32(1 - c.Beta1), Beta2: float32(c.Beta2),
		OneMinusBeta2: float32(1 - c.Beta2), NegStepSize: float32(-c.StepSize), SqrtBC2: float32(c.SqrtBC2), Eps: float32(c.Eps)}
}

// Adam32 is Adam in float32 arithmetic: float32 gradients g and moments
// m, v, and parameters that are float32 values held in float64 (the
// network's arrays: p is read as float32(p), updated in float32 and
// written back exactly), element-wise with the same operations as Adam:
//
//	m ← β₁ m + (1 − β₁) g
//	v ← β₂ v + (1 − β₂) g g
//	p ← p + (−StepSize) · m / (√v / SqrtBC2 + ε)
//
// On AVX2 processors eight elements go at a time, with the same roundings
// (no fused operations), so both paths agree bit for bit.
func Adam32(p []float64, g, m, v []float32, c Adam32Params) {
	n := len(p)
	g, m, v = g[:n], m[:n], v[:n]
	i := 0
	if useAsm && n >= 8 {
		i = n &^ 7
		adam8f32(&p[0], &g[0], &m[0], &v[0], i, &c)
	}
	for ; i < n; i++ {
		// float32(…) rounds each product, as the vector kernel does.
		mi := float32(c.Beta1*m[i]) + float32(c.OneMinusBeta1*g[i])
		vi := float32(c.Beta2*v[i]) + float32(float32(c.OneMinusBeta2*g[i])*g[i])
		m[i], v[i] = mi, vi
		d := float32(float32(math.Sqrt(float64(vi)))/c.SqrtBC2) + c.Eps
		p[i] = float64(float32(p[i]) + float32(c.NegStepSize*float32(mi/d)))
	}
}
