// Package bptt computes exact gradients of GLE networks: discrete
// backpropagation through time through the forward Euler update of SPEC
// §3 with errors switched off (no target nudging, γ ê = 0), the
// continuous adjoint λ of SPEC §7, and diagnostics that compare GLE's
// local updates with them.
//
// The discrete forward map of layer l at step t (input I = x_t for l = 0,
// else R_{l−1}[t]; R and U are the states before step t) is
//
//	u̇    = (W I + b − U[t]) / τm
//	U[t+1] = U[t] + dt u̇
//	Ŭ    = U[t] + τr u̇
//	R[t+1] = φ(Ŭ)
//
// and the loss of step t is L_t(R_L[t]) (the one-step output lag). The
// reverse sweep (docs/gradients.md derives it) carries g_R = ∂J/∂R[t+1]
// and g_U = ∂J/∂U[t+1] of each layer backwards:
//
//	g_Ŭ = g_R ⊙ φ′(Ŭ)
//	g_u̇ = dt g_U + τr g_Ŭ
//	g_s = g_u̇ / τm                 → ∂W += g_s Iᵀ, ∂b += g_s, g_I = Wᵀ g_s
//	∂τm += −g_u̇ ⊙ u̇ / τm,  ∂τr += g_Ŭ ⊙ u̇
//	g_U ← g_U + g_Ŭ − g_u̇ / τm
//
// with g_R of the layer below set to g_I and g_R of the top layer to
// ∂L_t/∂R_L[t] for the next (earlier) step.
package bptt
