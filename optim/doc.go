// Package optim implements the optimizers and learning-rate schedules of
// docs/model.md §5 with PyTorch's exact semantics, so trajectories match the
// reference: SGD, Adam (bias-corrected, ε outside the square root) and
// ReduceLROnPlateau.
//
// Optimizers work on aligned lists of parameter and gradient slices
// (gle.Pairs gives them) and do not know whether the gradients come from GLE's local
// rule or from BPTT. SGD and Adam are Elementwise (a step split over cores
// by ranges of parameters, with the whole step's bits) and Float32 (the
// step in float32 arithmetic on float32 gradients and moments, for a
// float32 trainer). The package depends on no other of the project's
// except its kernels, so that package gle builds optimizers from specs
// (gle.OptimizerSpec.New).
package optim
