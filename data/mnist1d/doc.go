// Package mnist1d generates the MNIST-1D dataset (Greydanus, 2020)
// bit-compatibly with the canonical Python generator, for any seed,
// sequence length and sample count, without Python.
//
// # Algorithm
//
// Ten 12-point templates (one per digit) are whitened (zero mean, unit
// standard deviation), shifted to start at 0 and divided by 6; their time
// axis is linspace(−5, 5, 12)/6. np.random.seed(seed) seeds NumPy's legacy
// MT19937. For each label 0…9 in turn, num_samples/10 samples are made
// from that label's template x (+1e-8), drawing in this order:
//
//  1. pad: p = padding[0] + int(U·(padding[1] − padding[0] + 1)) zeros
//     appended; interpolate linearly to template_len + padding[1] points
//     (the time axis too);
//  2. scale: x ·= 1 + scale_coeff·(U − ½);
//  3. translate: k = randint(max_translation), x rolled right by k;
//  4. correlated noise: n = corr_noise_scale·N(0,1)^L smoothed by a
//     Gaussian filter (σ = 2, reflect, truncate 4), put where x is exactly
//     zero (the padding);
//  5. i.i.d. noise: x += iid_noise_scale·N(0,1)^L;
//  6. shear: x −= shear_scale·(U − ½)·linspace(−½, ½, L);
//  7. interpolate to final_seq_length points (the time axis too).
//
// U is random_sample (53-bit), N the legacy polar Gaussian whose second
// value is cached across calls, randint the legacy masked rejection
// sampler. Then the samples are permuted (np.random.permutation: legacy
// Fisher–Yates), standardised with the global mean and standard deviation
// (NumPy's pairwise sums; t is divided by the same deviation) and split:
// the first train_split·num_samples are the training set.
package mnist1d
