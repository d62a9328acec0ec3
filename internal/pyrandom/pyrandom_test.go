package pyrandom

import (
	"slices"
	"testing"
)

// The expected values are CPython 3.11's: random.seed(115) then the
// draws named in each case.

func TestGetRandBits(t *testing.T) {
	r := New(115)
	for i, want := range []uint64{3847871410, 1216531253, 845829365} {
		if got := r.GetRandBits(32); got != want {
			t.Errorf("getrandbits(32) #%d = %d, want %d", i, got, want)
		}
	}
	// random.getrandbits(5), (40), (64), (0) in a row.
	r.Seed(115)
	for _, c := range []struct {
		k    int
		want uint64
	}{{5, 28}, {40, 215964896053}, {64, 2091466634870039509}, {0, 0}} {
		if got := r.GetRandBits(c.k); got != c.want {
			t.Errorf("getrandbits(%d) = %d, want %d", c.k, got, c.want)
		}
	}
}

// TestSeedWords covers the seeding's word split: 0 is {0}; 2³² and
// 2⁶⁴ − 1 take two words.
func TestSeedWords(t *testing.T) {
	for _, c := range []struct{ seed, want uint64 }{
		{0, 3626764237}, {7, 1390851128}, {1 << 32, 485306839}, {1<<64 - 1, 93740670},
	} {
		if got := New(c.seed).GetRandBits(32); got != c.want {
			t.Errorf("seed(%d): getrandbits(32) = %d, want %d", c.seed, got, c.want)
		}
	}
}

// TestShuffleAndRandBelow: random.seed(115); x = list(range(20));
// random.shuffle(x); then _randbelow of 1, 2, 3, 5, 7, 1000, 2³¹+5 and
// 2⁴⁰+3 (rejections included).
func TestShuffleAndRandBelow(t *testing.T) {
	r := New(115)
	x := make([]int, 20)
	for i := range x {
		x[i] = i
	}
	r.Shuffle(len(x), func(i, j int) { x[i], x[j] = x[j], x[i] })
	if want := []int{16, 2, 18, 1, 14, 19, 0, 7, 5, 11, 15, 4, 8, 13, 12, 10, 17, 3, 6, 9}; !slices.Equal(x, want) {
		t.Errorf("shuffle: %v\nwant      %v", x, want)
	}
	for i, c := range []struct{ n, want uint64 }{
		{1, 0}, {2, 0}, {3, 1}, {5, 4}, {7, 1}, {1000, 169}, {1<<31 + 5, 786487487}, {1<<40 + 3, 321559757119},
	} {
		if got := r.RandBelow(c.n); got != c.want {
			t.Errorf("#%d: randbelow(%d) = %d, want %d", i, c.n, got, c.want)
		}
	}
}
