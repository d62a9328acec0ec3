// Package gle simulates and trains networks of Generalized Latent
// Equilibrium (GLE) neurons: continuous-time neurons whose prospective
// rates and errors give fully local, real-time spatio-temporal credit
// assignment (Ellenberger et al., "Backpropagation through space, time,
// and the brain"), on any connectivity (the groundwork of Variational
// Latent Equilibrium).
//
// # One network model
//
// A Network is a set of populations of neurons joined by projections: a
// projection p from population f (or the input lines) to population g
// adds W_p r_f to g's synaptic input, and errors travel back along it
// through its feedback matrix (W_p itself, or a random or learned B_p).
// A layered network — the layers form of a Spec — is the chain in which
// population l has exactly one projection, from l − 1; the populations form
// declares any graph (skip, lateral, recurrent projections). Both forms
// build the same Network, share every field and default, and run on the
// same engine.
//
// # Neuron model
//
// Each neuron has a membrane potential u, a membrane time constant τm and
// a prospective time constant τr. With D⁺_τ[x] = x + τẋ:
//
//	τm u̇ = −u + Σ_p W_p r_p + b + γ ê      leaky integration + error nudging
//	r    = φ(ŭ),   ŭ = u + τr u̇            prospective rate D⁺_τr[u]
//	ê    = D⁺_τm I⁻_τr [φ′(ŭ) ⊙ Σ_p M_pᵀ ê_p]
//	Ẇ ∝ ê r_fromᵀ,  ḃ ∝ ê,  τ̇m ∝ −ê ⊙ u̇
//
// τm = τr gives a Latent-Equilibrium neuron, which maps input to output
// instantaneously; τr < τm gives a low-pass "lagged" neuron.
//
// # Discrete semantics
//
// EngineOf.Step implements forward Euler with step dt and a synchronous
// update (docs/model.md §3): every population reads only previous-step
// values of its neighbours, then all are committed together. All state
// starts at zero, including r′, so no error reaches a population on the
// first step. The network output at step t is the output population's
// rate before the step's commit, the one computed in the previous step.
// These are exactly the semantics of the reference implementation;
// package trajectory replays its recordings to 1e-9.
//
// # Using the package
//
// A Spec (JSON or YAML, docs/spec.md) declares a network; NewNetwork builds
// it; NewEngine runs it; NewTrainerFromSpec builds network, optimizer and
// Trainer from a spec and trains it online with GLE's local rule — or,
// with a Rule from package gradient, truncated or full BPTT, on the same
// optimizer. State is kept across calls to Step and across mini-batches,
// as in the reference; Engine.Reset starts from rest and Engine.SetBatch
// changes the batch size while keeping the state. Step allocates nothing.
// Trainer.Save and LoadTrainer checkpoint a run so that it continues bit
// for bit; LoopGains measures the stability of the real-time errors on the
// loops of a graph (docs/vle.md §4).
//
// # Precision
//
// Engine and Trainer compute in float64, the precision the reference
// fixtures are matched in. EngineOf, StateOf and TrainerOf are generic
// over Float; their float32 instances Engine32 and Trainer32 run the same
// step with float32 state and products, about twice as fast, while
// parameters, gradients and optimizers stay float64. They agree with
// float64 within float32 rounding (docs/performance.md); ConvertState
// moves a state between the two.
package gle
