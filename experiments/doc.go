// Package experiments holds the published experiments, one file each: a Config
// with the paper's defaults and a Run function over the library. The CLI
// and the tests call them; a test may run a shortened Config.
package experiments

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gle-go/gle"
)

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6c65)) }

// tauGroup returns n copies of the time constant v: a group of neurons.
func tauGroup(n int, v float64) gle.Taus { return slices.Repeat(gle.Taus{v}, n) }

// Stats summarises a quantity over seeds.
type Stats struct {
	N         int
	Mean      float64
	Std       float64 // population standard deviation (numpy's default, the paper's ±)
	SampleStd float64 // sample standard deviation (n − 1); 0 for one value
	Min, Max  float64
}

// Summarize returns the mean, both standard deviations and the range of x.
func Summarize(x []float64) Stats {
	s := Stats{N: len(x)}
	if len(x) == 0 {
		return s
	}
	s.Min, s.Max = x[0], x[0]
	for _, v := range x {
		s.Mean += v
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
	}
	s.Mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - s.Mean) * (v - s.Mean)
	}
	s.Std = math.Sqrt(ss / float64(len(x)))
	if len(x) > 1 {
		s.SampleStd = math.Sqrt(ss / float64(len(x)-1))
	}
	return s
}

// stepsIn is the number of dt steps in a span of time: round(time/dt).
func stepsIn(time, dt float64) int { return int(math.Round(time / dt)) }
