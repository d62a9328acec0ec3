// Package expt holds the published experiments, one file each: a Config
// with the paper's defaults and a Run function over the library. The CLI
// and the tests call them; a test may run a shortened Config.
package expt

import "math/rand/v2"

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6c65)) }
