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
