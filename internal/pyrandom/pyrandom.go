// Package pyrandom reproduces the integer draws of Python's random module
// bit for bit (CPython 3, random.Random with the default version-2
// seeding): seed(int), getrandbits(k), _randbelow(n) and shuffle. The
// speech experiment's TF1 split uses it for the reference's unknown-word
// choice and shuffles (SPEC §9). Written from the algorithms' description
// in CPython's documentation; the generator core is internal/mt19937's.
package pyrandom

import (
	"math/bits"

	"github.com/gle-go/gle/internal/mt19937"
)

// Random is Python's random.Random restricted to its integer draws.
type Random struct {
	mt mt19937.State
}

// New returns a generator seeded as random.seed(seed) seeds Python's.
func New(seed uint64) *Random {
	r := &Random{}
	r.Seed(seed)
	return r
}

// Seed is random.seed(a) for a non-negative integer a (Python seeds with
// |a|): MT19937's init_by_array with a's 32-bit words, least significant
// first, as many as a's bit length needs (one, {0}, for a = 0).
func (r *Random) Seed(a uint64) {
	words := []uint32{uint32(a)}
	if a>>32 != 0 {
		words = append(words, uint32(a>>32))
	}
	r.mt.InitByArray(words)
}

// GetRandBits is getrandbits(k) for 0 ≤ k ≤ 64: k ≤ 32 takes the top k
// bits of one 32-bit draw; larger k fills 32-bit words from the least
// significant one up, the last word keeping the top bits of its draw.
// It panics for k outside 0…64 (a programming error: callers derive k
// from a bit length).
func (r *Random) GetRandBits(k int) uint64 {
	switch {
	case k < 0 || k > 64:
		panic("pyrandom: getrandbits needs 0 ≤ k ≤ 64")
	case k == 0:
		return 0
	case k <= 32:
		return uint64(r.mt.Uint32() >> (32 - k))
	}
	lo := uint64(r.mt.Uint32())
	hi := uint64(r.mt.Uint32() >> (64 - k))
	return hi<<32 | lo
}

// RandBelow is _randbelow(n) for n ≥ 1 (_randbelow_with_getrandbits):
// k = n's bit length, then getrandbits(k) until the draw is below n.
// n = 0 returns 0 without drawing (Python would raise; callers never
// ask).
func (r *Random) RandBelow(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	k := bits.Len64(n)
	v := r.GetRandBits(k)
	for v >= n {
		v = r.GetRandBits(k)
	}
	return v
}

// Shuffle is random.shuffle of a list of n items: for i from n−1 down to
// 1, swap items i and j = _randbelow(i + 1).
func (r *Random) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, int(r.RandBelow(uint64(i)+1)))
	}
}
