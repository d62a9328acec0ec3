// Package gle simulates and trains layered networks of Generalized Latent
// Equilibrium (GLE) neurons: continuous-time neurons whose prospective
// rates and errors give fully local, real-time spatio-temporal credit
// assignment (Ellenberger et al., "Backpropagation through space, time,
// and the brain").
//
// # Neuron model
//
// Each neuron of layer l has a membrane potential u, a membrane time
// constant τm and a prospective time constant τr. With D⁺_τ[x] = x + τẋ:
//
//	τm u̇ = −u + W r_below + b + γ ê        leaky integration + error nudging
//	r    = φ(ŭ),   ŭ = u + τr u̇            prospective rate D⁺_τr[u]
//	ê    = D⁺_τm I⁻_τr [φ′(ŭ) ⊙ Wᵀ_above ê_above]
//	Ẇ ∝ ê r_belowᵀ,  ḃ ∝ ê,  τ̇m ∝ −ê ⊙ u̇
//
// τm = τr gives a Latent-Equilibrium neuron, which maps input to output
// instantaneously; τr < τm gives a low-pass "lagged" neuron.
//
// # Discrete semantics
//
// Engine.Step implements forward Euler with step dt and a synchronous
// update: every layer reads only previous-step values of its neighbours,
// then all layers are committed together. For layer l:
//
//	r_below = x_t (l = 0) or r_{l−1}
//	e       = e_bottom_{l+1}            (hidden layers)
//	        = β (y − r_L) or β (onehot(y) − softmax(r_L))   (top layer; Loss)
//	e      ← e ⊙ r′_l
//	s       = W r_below + b
//	prospective: v̇ = (e − v)/τr,  v′ = v + dt v̇,  ê = v + τm v̇
//	otherwise:   v′ = e,  ê = e
//	u̇ = (s + γ ê − u)/τm,  u′ = u + dt u̇,  ŭ = u + τr u̇
//	e_bottom′ = ê W,  r′ = φ(ŭ),  r_prime′ = φ′(ŭ)
//	∂W = −⟨ê r_belowᵀ⟩,  ∂b = −⟨ê⟩,  ∂τm = ⟨ê ⊙ u̇⟩   (means over the batch)
//
// All state starts at zero, including r′, so no error reaches a layer on
// the first step. The network output at step t is the top layer's rate
// before the step's commit, the one computed in the previous step. A
// Trainer lets its Optimizer step on the gradients after every dt step and
// then clamps τm from below. These are exactly the semantics of the
// reference implementation; package trajectory replays its recordings.
//
// # Using the package
//
// A Spec (JSON or YAML, see docs/spec.md) declares a network; NewNetwork
// builds it; NewEngine runs it; NewTrainer (or optim.NewTrainer, which also
// builds the optimizer a spec names) trains it online. State is kept
// across calls to Step and across mini-batches, as in the reference; call
// Engine.Reset to start from rest and Engine.SetBatch to change the batch
// size while keeping the state. Step allocates nothing.
//
// # Precision
//
// Engine, State and Trainer compute in float64, the precision the
// reference fixtures are matched in (to 1e-9). EngineOf, StateOf and
// TrainerOf are generic over Float; their float32 instances Engine32 and
// Trainer32 (NewEngine32, NewTrainerOf[float32], optim.NewTrainerOf) run
// the same step with float32 state and products, about twice as fast,
// while parameters, gradients and optimizers stay float64. They agree with
// float64 within float32 rounding (docs/performance.md gives the measured
// tolerances); ConvertState moves a state between the two.
package gle
