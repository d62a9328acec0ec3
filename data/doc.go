// Package data loads time series for GLE networks: sequences of input
// frames with optional targets, from .npz, .npy or JSON files.
package data
