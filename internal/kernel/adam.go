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
