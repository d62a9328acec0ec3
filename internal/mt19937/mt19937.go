// Package mt19937 is the Mersenne Twister core (Matsumoto & Nishimura,
// 1998) shared by the project's bit-compatible generators: NumPy's legacy
// RandomState (data/mnist1d) and Python's random module
// (internal/pyrandom). It holds the 624-word state, both published seeding
// routines and the tempered 32-bit draw; each user adds its own
// conversions on top.
package mt19937

const (
	n        = 624
	mid      = 397
	upper    = 0x80000000
	lower    = 0x7fffffff
	matrixA  = 0x9908b0df
	initMult = 1812433253
)

// State is an MT19937 generator. The zero value is not seeded: call
// InitGenrand or InitByArray first.
type State struct {
	key [n]uint32
	pos int
}

// InitGenrand seeds the state from one 32-bit word (the reference's
// init_genrand, Knuth's multiplier 1812433253): key[0] = s,
// key[i] = 1812433253·(key[i−1] ⊕ key[i−1]>>30) + i.
func (m *State) InitGenrand(s uint32) {
	for i := range m.key {
		m.key[i] = s
		s = initMult*(s^(s>>30)) + uint32(i) + 1
	}
	m.pos = n
}

// InitByArray seeds the state from an array of 32-bit words (the
// reference's init_by_array): init_genrand(19650218), then max(624, len)
// rounds mixing in key[j] + j with multiplier 1664525, then 623 rounds
// with 1566083941 subtracting the index, and key[0] = 2³¹. An empty array
// is taken as {0}, the array Python's random.seed(0) passes.
func (m *State) InitByArray(words []uint32) {
	if len(words) == 0 {
		words = []uint32{0}
	}
	m.InitGenrand(19650218)
	k := &m.key
	i, j := 1, 0
	for c := max(n, len(words)); c > 0; c-- {
		k[i] = (k[i] ^ ((k[i-1] ^ k[i-1]>>30) * 1664525)) + words[j] + uint32(j)
		i++
		j++
		if i >= n {
			k[0] = k[n-1]
			i = 1
		}
		if j >= len(words) {
			j = 0
		}
	}
	for c := n - 1; c > 0; c-- {
		k[i] = (k[i] ^ ((k[i-1] ^ k[i-1]>>30) * 1566083941)) - uint32(i)
		i++
		if i >= n {
			k[0] = k[n-1]
			i = 1
		}
	}
	k[0] = upper
	m.pos = n
}

// generate refills the state (the twist).
func (m *State) generate() {
	k := &m.key
	for i := range n {
		y := k[i]&upper | k[(i+1)%n]&lower
		v := k[(i+mid)%n] ^ y>>1
		if y&1 != 0 {
			v ^= matrixA
		}
		k[i] = v
	}
	m.pos = 0
}

// Uint32 returns the next 32 random bits (genrand_int32, tempered).
func (m *State) Uint32() uint32 {
	if m.pos >= n {
		m.generate()
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}
