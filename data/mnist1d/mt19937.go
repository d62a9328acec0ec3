package mnist1d

import (
	"math"

	"github.com/gle-go/gle/internal/mt19937"
)

// MT19937 is the Mersenne Twister as NumPy's legacy RandomState uses it,
// with the legacy draws MNIST-1D needs. Every method reproduces NumPy's
// stream exactly. The generator core (state, seeding, tempered 32-bit
// draws) is internal/mt19937's, shared with Python's random
// (internal/pyrandom).
type MT19937 struct {
	mt19937.State
	hasGauss bool
	gauss    float64
}

// NewMT19937 seeds the generator as np.random.seed(seed) does (Knuth's
// initialisation, init_genrand).
func NewMT19937(seed uint32) *MT19937 {
	m := &MT19937{}
	m.InitGenrand(seed)
	return m
}

// Float64 returns a uniform double in [0, 1) with 53 random bits, as
// np.random.rand / random_sample: (a·2²⁶ + b) / 2⁵³ from a = 27 and b = 26
// bits of two draws.
func (m *MT19937) Float64() float64 {
	a, b := m.Uint32()>>5, m.Uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// Gauss returns a standard normal deviate by the legacy polar method,
// which makes two per round: it returns f·x2 and keeps f·x1 for the next
// call (np.random.randn).
func (m *MT19937) Gauss() float64 {
	if m.hasGauss {
		m.hasGauss = false
		g := m.gauss
		m.gauss = 0
		return g
	}
	var x1, x2, r2 float64
	for {
		x1 = 2*m.Float64() - 1
		x2 = 2*m.Float64() - 1
		r2 = x1*x1 + x2*x2
		if r2 < 1 && r2 != 0 {
			break
		}
	}
	f := math.Sqrt(-2 * math.Log(r2) / r2)
	m.gauss, m.hasGauss = f*x1, true
	return f * x2
}

// mask returns the smallest all-ones bit mask ≥ max.
func mask(max uint64) uint64 {
	for s := uint(1); s < 64; s <<= 1 {
		max |= max >> s
	}
	return max
}

// Interval returns a uniform integer in [0, max] by masked rejection, as
// the legacy shuffle's random_interval (32-bit draws for max < 2³²).
func (m *MT19937) Interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	mk := mask(max)
	for {
		var v uint64
		if max <= math.MaxUint32 {
			v = uint64(m.Uint32()) & mk
		} else {
			v = (uint64(m.Uint32())<<32 | uint64(m.Uint32())) & mk
		}
		if v <= max {
			return v
		}
	}
}

// IntN returns a uniform integer in [0, n) as the legacy randint(0, n)
// and choice(n) do (masked rejection on 32-bit draws); n must be in
// [1, 2³²].
func (m *MT19937) IntN(n int) int {
	rng := uint64(n - 1)
	if rng == 0 {
		return 0
	}
	mk := mask(rng)
	for {
		if v := uint64(m.Uint32()) & mk; v <= rng {
			return int(v)
		}
	}
}

// Permutation returns a random permutation of 0…n−1 as
// np.random.permutation(n): arange(n) shuffled by Fisher–Yates from the
// end, j = Interval(i) for i = n−1 … 1.
func (m *MT19937) Permutation(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := m.Interval(uint64(i))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
