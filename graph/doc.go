// Package graph generalises the layered GLE network to arbitrary
// connectivity: populations of neurons joined by projections between any
// two of them (feed-forward, skip, lateral and recurrent, including a
// population onto itself), the groundwork of Variational Latent
// Equilibrium (SPEC §8).
//
// The synchronous semantics of SPEC §3 carry over. At step t every
// population g, from the committed state:
//
//	inst_g = (Σ_{p: g → h} e_p + [g = output] e_target) ⊙ r′_g
//	s_g    = Σ_{p: f → g} W_p r_f + b_g            (r_input = x_t)
//	v̇, ê, u̇, u′, ŭ, r′, r_prime′ as in a GLE layer
//	e_p′   = ê_h M_p  for every projection p: g → h  (sent back to g)
//
// with M_p = W_p (symmetric feedback), or a separate matrix B_p, fixed
// (feedback alignment) or learned (Kolen–Pollack): see Feedback.
//
// where all r, r′, e_p are previous-step values. A chain of populations
// input → p0 → p1 → … with the last one the output is exactly the layered
// GLE network (package gle), to the bit.
//
// Exact gradients: Loss (discrete BPTT, from the zero state or, with
// LossFrom, from a carried state for truncated windows) differentiates the
// errors-off forward map through any such graph, recurrent projections
// included; Adjoint integrates the continuous adjoint backwards and
// converges to it as dt → 0. Align compares the local rule with Loss.
// Trainer runs the local rule online with an optimizer. Real-time errors on
// a loop are stable only while the loop gain ρ(W)·τm/τr stays below 1
// (docs/vle.md §4); PopulationSpec.InstantErrors trades lag compensation for
// stability.
package graph
