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
//	e_p′   = ê_h W_p  for every projection p: g → h  (sent back to g)
//
// where all r, r′, e_p are previous-step values. A chain of populations
// input → p0 → p1 → … with the last one the output is exactly the layered
// GLE network (package gle), to the bit.
//
// BPTT differentiates the errors-off forward map through any such graph,
// recurrent projections included.
package graph
