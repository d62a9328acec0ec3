// Package expt holds the published experiments, one file each: a Config
// with the paper's defaults and a Run function over the library. The CLI
// and the tests call them; a test may run a shortened Config.
package expt

import (
	"math/rand/v2"
	"slices"

	"github.com/gle-go/gle"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6c65)) }

// tauGroup returns n copies of the time constant v: a group of neurons.
func tauGroup(n int, v float64) gle.Taus { return slices.Repeat(gle.Taus{v}, n) }
