// Package optim implements the optimizers and learning-rate schedules of
// SPEC §5 with PyTorch's exact semantics, so trajectories match the
// reference: SGD, Adam (bias-corrected, ε outside the square root) and
// ReduceLROnPlateau.
//
// Optimizers work on aligned lists of parameter and gradient slices
// (gle.Pairs) and do not know whether the gradients come from GLE's local
// rule or from BPTT.
package optim
