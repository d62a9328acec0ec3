package mnist1d

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/npy"
)

// maxDiff returns the largest |a − b| over the first n values.
func maxDiff(a, b []float64, n int) float64 {
	var m float64
	for i := range n {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

func ints(a []int) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}

// TestMatchesCanonical compares the generator with the canonical arrays:
// the whole default dataset (length 40) and the first 64 train and test
// samples at length 360.
func TestMatchesCanonical(t *testing.T) {
	ref := testutil.ReferenceDir(t)
	for _, tc := range []struct {
		file   string
		length int
		head   int // samples compared (0: all)
	}{{"mnist1d_len40_seed42.npz", 40, 0}, {"mnist1d_len360_seed42_head.npz", 360, 64}} {
		t.Run(tc.file, func(t *testing.T) {
			want, err := npy.ReadNPZ(filepath.Join(ref, tc.file), 0)
			if err != nil {
				t.Fatal(err)
			}
			a := DefaultArgs()
			a.FinalSeqLength = tc.length
			got, err := Generate(a)
			if err != nil {
				t.Fatal(err)
			}
			for name, g := range map[string][]float64{
				"x": got.X, "x_test": got.XTest, "y": ints(got.Y), "y_test": ints(got.YTest),
				"t": got.T, "templates_x": got.TemplatesX, "templates_t": got.TemplatesT,
			} {
				w, ok := want[name]
				if !ok {
					continue
				}
				wv := w.Float64s()
				n := len(wv)
				if len(g) < n {
					t.Errorf("%s: %d values, reference has %d", name, len(g), n)
					continue
				}
				d := maxDiff(g, wv, n)
				t.Logf("%s %v: max |Δ| = %.3g", name, w.Shape, d)
				if !(d <= 1e-12) { // NaN fails too
					t.Errorf("%s differs by %.3g", name, d)
				}
			}
		})
	}
}

func TestMT19937(t *testing.T) {
	// The reference MT19937 with init_genrand(5489) starts 3499211612,
	// 581869302, 3890346734 (Matsumoto & Nishimura).
	m := NewMT19937(5489)
	for i, want := range []uint32{3499211612, 581869302, 3890346734} {
		if got := m.Uint32(); got != want {
			t.Fatalf("draw %d: %d, want %d", i, got, want)
		}
	}
}

// TestArgsErrors: every bad argument is refused naming the argument and
// its value, and a dataset larger than the memory limit is refused before
// anything is allocated.
func TestArgsErrors(t *testing.T) {
	for _, c := range []struct {
		edit     func(*Args)
		sentinel error
		want     string
	}{
		{func(a *Args) { a.NumSamples = 5 }, gle.ErrInvalid, "mnist1d.num_samples = 5"},
		{func(a *Args) { a.NumSamples = 1 << 40 }, gle.ErrInvalid, "mnist1d.num_samples = 1099511627776"},
		{func(a *Args) { a.TrainSplit = 1 }, gle.ErrInvalid, "mnist1d.train_split = 1"},
		{func(a *Args) { a.FinalSeqLength = 1 }, gle.ErrInvalid, "mnist1d.final_seq_length = 1"},
		{func(a *Args) { a.ShearScale = math.NaN() }, gle.ErrNonFinite, "mnist1d.shear_scale = NaN"},
		{func(a *Args) { a.NumSamples, a.FinalSeqLength = 1<<24, 1<<24 }, gle.ErrTooLarge, "mnist1d.num_samples = 16777216: needs ≈"},
	} {
		a := DefaultArgs()
		c.edit(&a)
		_, err := Generate(a)
		if !errors.Is(err, c.sentinel) || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("got %v, want %v naming %q", err, c.sentinel, c.want)
		}
	}
}

// TestArgsValidate: every argument is checked at both ends of its range,
// naming the argument and its value.
func TestArgsValidate(t *testing.T) {
	const big = 1 << 24
	for _, c := range []struct {
		edit func(*Args)
		want string // "" for valid
	}{
		{func(a *Args) {}, ""},
		{func(a *Args) { a.NumSamples = 10 }, ""},
		{func(a *Args) { a.NumSamples = 9 }, "mnist1d.num_samples = 9"},
		{func(a *Args) { a.NumSamples = big + 1 }, "mnist1d.num_samples = 16777217"},
		{func(a *Args) { a.TrainSplit = 0 }, "mnist1d.train_split = 0"},
		{func(a *Args) { a.TrainSplit = 0.999 }, ""},
		{func(a *Args) { a.TemplateLen = 13 }, "mnist1d.template_len = 13"},
		{func(a *Args) { a.Padding, a.MaxTranslation = [2]int{0, 0}, 12 }, ""},
		{func(a *Args) { a.Padding = [2]int{-1, 60} }, "mnist1d.padding = [-1 60]"},
		{func(a *Args) { a.Padding = [2]int{36, 35} }, "mnist1d.padding = [36 35]"},
		{func(a *Args) { a.Padding = [2]int{36, 36} }, ""},
		{func(a *Args) { a.Padding = [2]int{36, big} }, ""},
		{func(a *Args) { a.Padding = [2]int{36, big + 1} }, "mnist1d.padding = [36 16777217]"},
		{func(a *Args) { a.MaxTranslation = 0 }, "mnist1d.max_translation = 0"},
		{func(a *Args) { a.MaxTranslation = 1 }, ""},
		{func(a *Args) { a.MaxTranslation = 72 }, ""},
		{func(a *Args) { a.MaxTranslation = 73 }, "mnist1d.max_translation = 73: want 1…72"},
		{func(a *Args) { a.FinalSeqLength = 2 }, ""},
		{func(a *Args) { a.FinalSeqLength = big + 1 }, "mnist1d.final_seq_length = 16777217"},
		{func(a *Args) { a.ScaleCoeff = math.Inf(1) }, "mnist1d.scale_coeff = +Inf"},
		{func(a *Args) { a.CorrNoiseScale = math.NaN() }, "mnist1d.corr_noise_scale = NaN"},
		{func(a *Args) { a.IIDNoiseScale = math.Inf(-1) }, "mnist1d.iid_noise_scale = -Inf"},
	} {
		a := DefaultArgs()
		c.edit(&a)
		err := a.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v, want valid", a, err)
		case c.want != "" && !strings.Contains(fmt.Sprint(err), c.want):
			t.Errorf("%+v: %v, want an error naming %q", a, err, c.want)
		}
	}
}

// TestSplitCounts: NumSamples is rounded down to whole classes (57 → 50);
// the first int(n·train_split) shuffled samples train, the rest test, and
// the counts and arrays agree.
func TestSplitCounts(t *testing.T) {
	a := DefaultArgs()
	a.NumSamples, a.TrainSplit = 57, 0.75
	d, err := Generate(a)
	if err != nil {
		t.Fatal(err)
	}
	L := a.FinalSeqLength
	if d.NumTrain != 37 || d.NumTest != 13 || len(d.Y) != 37 || len(d.YTest) != 13 || len(d.X) != 37*L || len(d.XTest) != 13*L || d.Length != L {
		t.Errorf("train %d (%d labels, %d values), test %d (%d labels, %d values); want 37 and 13 of %d values", d.NumTrain, len(d.Y), len(d.X), d.NumTest, len(d.YTest), len(d.XTest), L)
	}
	count := make([]int, 10)
	for _, y := range append(append([]int(nil), d.Y...), d.YTest...) {
		count[y]++
	}
	for c, n := range count {
		if n != 5 {
			t.Errorf("class %d: %d samples, want 5", c, n)
		}
	}
}

// TestIntervalDraws: the legacy random_interval draws 32 bits at a time
// for max ≤ 2³² − 1 (so Interval(2³² − 1), whose mask keeps every bit,
// is exactly the next 32-bit draw) and 64 bits (high word first) above.
func TestIntervalDraws(t *testing.T) {
	a, b := NewMT19937(7), NewMT19937(7)
	for range 3 {
		if got, want := a.Interval(math.MaxUint32), uint64(b.Uint32()); got != want {
			t.Fatalf("Interval(2³² − 1) = %d, want the next draw %d", got, want)
		}
	}
	const max = 1<<33 - 1 // mask 2³³ − 1: every value is accepted
	for range 3 {
		hi, lo := uint64(b.Uint32()), uint64(b.Uint32())
		if got, want := a.Interval(max), (hi<<32|lo)&max; got != want {
			t.Fatalf("Interval(2³³ − 1) = %d, want %d", got, want)
		}
	}
	if a.Interval(0) != 0 || a.Uint32() != b.Uint32() {
		t.Error("Interval(0) drew a number")
	}
}

// TestPairwiseSum: NumPy's summation order, on values where the order
// shows: 1 followed by ε = 2⁻⁵³ (half an ulp of 1, so 1 + ε rounds back to
// 1, ties to even). Worked by hand from NumPy's pairwise_sum: below 8
// values a plain loop (1); up to 128 eight accumulators r[k] = Σ a[k + 8j],
// combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the
// tail added in order (8 values: 1 + 3u, u = 2⁻⁵²; 16: 1 + 7u; 19: the
// three tail values take 1 + 7u to 1 + 8u); above 128 the halves, split at
// n/2 rounded down to a multiple of 8 (130: 1 + 28u from the first 64,
// 33u from the other 66). A plain loop would give 1 throughout, the
// correctly rounded sum 1 + 8u for 16 values.
func TestPairwiseSum(t *testing.T) {
	eps, u := math.Ldexp(1, -53), math.Ldexp(1, -52)
	for _, c := range []struct {
		n    int
		want float64
	}{{4, 1}, {8, 1 + 3*u}, {16, 1 + 7*u}, {19, 1 + 8*u}, {128, 1 + 56*u}, {130, 1 + 61*u}} {
		a := make([]float64, c.n)
		a[0] = 1
		for i := 1; i < c.n; i++ {
			a[i] = eps
		}
		if got := pairwiseSum(a); got != c.want {
			t.Errorf("%d values: 1 + %g u, want 1 + %g u", c.n, (got-1)/u, (c.want-1)/u)
		}
	}
	if sum(nil) != 0 {
		t.Error("the sum of nothing is not 0")
	}
}
