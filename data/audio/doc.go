// Package audio reads and writes WAV files and computes the log-mel
// spectrogram of the GLE speech experiments (docs/model.md §10), matching
// torchaudio's MelSpectrogram as the reference configures it.
package audio
