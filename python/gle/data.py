"""Datasets and frontends of the GLE experiments, computed by the Go library.

mnist1d reproduces the canonical MNIST-1D generator bit for bit (NumPy's
legacy MT19937 streams); logmel is the speech experiment's log-mel
frontend, log2(mel + 1e-9) of a periodic-Hann power spectrogram.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

import numpy as np

from ._native import bundle, call, cstr, ptr

__all__ = ["mnist1d", "logmel"]


def mnist1d(seed: int = 42, length: int = 40, samples: int = 5000, train_split: float = 0.8) -> dict[str, np.ndarray]:
    """MNIST-1D with the canonical arguments (template_len 12, padding
    [36, 60], scale_coeff 0.4, max_translation 48, corr_noise_scale 0.25,
    iid_noise_scale 2e-2, shear_scale 0.75) and the given final_seq_length,
    num_samples, train_split and seed. Returns x [train, length], y
    [train] (int64), x_test, y_test, t [length], templates_x [10, 12],
    templates_t [12] — the arrays of the canonical generator."""
    h = ctypes.c_int64()
    call("gle_mnist1d", int(seed), int(length), int(samples), float(train_split), ctypes.byref(h))
    return bundle(h.value)


def logmel(wav: str | os.PathLike | Any, *, sample_rate: int = 16000, n_fft: int = 1024, hop: int = 400,
           n_mels: int = 32, f_min: float = 0.0, f_max: float = 0.0) -> np.ndarray:
    """The log-mel spectrogram [n_mels, frames] of a WAV file (PCM16; its
    own sample rate) or of an array of samples in [−1, 1] at sample_rate:
    log2(mel + 1e-9), HTK mel scale, no area normalisation, centred frames
    with reflect padding (f_max 0: half the sample rate)."""
    path, x = b"", None
    if isinstance(wav, (str, os.PathLike)):
        path = cstr(wav)
    else:
        x = np.ascontiguousarray(np.asarray(wav, dtype=np.float64).ravel())
    h = ctypes.c_int64()
    call("gle_logmel", ptr(x), 0 if x is None else x.size, path, int(sample_rate), int(n_fft), int(hop), int(n_mels),
         float(f_min), float(f_max), ctypes.byref(h))
    return bundle(h.value)["logmel"]
