// Package gradient computes the gradients of GLE networks of any topology
// — exact ones, and the approximations of the online-learning literature —
// and compares GLE's local, real-time updates with them:
//
//   - BPTT: discrete backpropagation through time through the Euler map
//     of docs/model.md §3 with errors switched off (no nudging), over a
//     window (truncated) or a whole sequence (Full), on an
//     allocation-free tape linear in the window;
//   - Adjoint: the continuous adjoint of docs/vle.md §2 (λ integrated
//     backwards, gradients from it), and LambdaTrace, the λ traces in the
//     reference's LagNet discretisation for plotting against GLE's ê;
//   - Align: cosine and norm ratio of the local updates against the exact
//     gradient, per tensor and per window;
//   - GradCheck: the exact gradient against finite differences, aware of
//     the kinks of piecewise-linear activations (CheckGrads and
//     FiniteDifferences check any given gradient the same way);
//   - RTRL (Forward, mode RTRL): exact real-time recurrent learning,
//     forward in time, with the sensitivities ∂state/∂θ carried per step;
//     its approximations SnAp-2 and SnAp-1 (sparse sensitivities) and
//     e-prop (eligibility traces paired with a learning signal sent back
//     in real time) (docs/online.md);
//   - Gradient: any of these by name (bptt, tbptt:N, adjoint, rtrl,
//     snap2, snap1, eprop, gle), per tensor;
//   - Rule and Online: truncated and full BPTT, and the forward-mode
//     rules, as learning rules of gle.Trainer.
//
// The discrete forward map of population q at step t (R and U are the
// states before step t; the input lines count as a population) is
//
//	u̇      = (Σ_p W_p R_from(p)[t] + b − U[t]) / τm
//	U[t+1] = U[t] + dt u̇
//	Ŭ      = U[t] + τr u̇
//	R[t+1] = φ(Ŭ)
//
// and the loss of step t is L_t(R_out[t]) (the one-step output lag). The
// reverse sweep (docs/gradients.md derives it) carries g_R = ∂J/∂R[t+1]
// and g_U = ∂J/∂U[t+1] of every population backwards:
//
//	g_Ŭ = g_R ⊙ φ′(Ŭ)
//	g_u̇ = dt g_U + τr g_Ŭ
//	g_s = g_u̇ / τm                 → ∂W_p += g_s r_fromᵀ, ∂b += g_s
//	∂τm += −g_s ⊙ u̇,  ∂τr += g_Ŭ ⊙ u̇
//	g_U ← g_U + g_Ŭ − g_s
//	g_R,f[t] = Σ_{p: f→q} g_s,q W_p  (+ ∂L_t/∂R_out[t] for the output)
package gradient
