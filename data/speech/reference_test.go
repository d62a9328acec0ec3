package speech

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/internal/testutil"
	"github.com/gle-go/gle/npy"
)

// splitFixture is gsc_yes_split.json: the reference's TF1 split of a
// synthetic file list.
type splitFixture struct {
	Seed                          uint64            `json:"seed"`
	UnknownPercentage             float64           `json:"unknown_percentage"`
	ValidationPercentage          float64           `json:"validation_percentage"`
	TestingPercentage             float64           `json:"testing_percentage"`
	WantedWords                   []string          `json:"wanted_words"`
	Files                         []string          `json:"files"`
	WhichSet                      map[string]string `json:"which_set"`
	Training, Validation, Testing []string
	SilenceAdded                  map[string]int `json:"silence_added"`
}

func readSplitFixture(t testing.TB) *splitFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testutil.ReferenceDir(t), "gsc_yes_split.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f splitFixture
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Files) == 0 || len(f.WhichSet) != len(f.Files) || !slices.Equal(f.WantedWords, Keywords) {
		t.Fatalf("gsc_yes_split.json: %d files, %d which_set entries, wanted words %v", len(f.Files), len(f.WhichSet), f.WantedWords)
	}
	return &f
}

// TestWhichSetKnownValues checks TF1's which_set on every name of the
// fixture (1632 names): reading the SHA-1's last four bytes little-endian
// instead of big-endian moves most of them.
func TestWhichSetKnownValues(t *testing.T) {
	f := readSplitFixture(t)
	var count [3]int
	wrong := 0
	for _, name := range f.Files {
		got := HashSplitOf(name, f.ValidationPercentage, f.TestingPercentage)
		count[got]++
		if got.String() != f.WhichSet[name] {
			if wrong++; wrong <= 5 {
				t.Errorf("%s: %v, reference %s", name, got, f.WhichSet[name])
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d files in another split than the reference's", wrong, len(f.Files))
	}
	// Every split occurs, so the check covers all three branches.
	if count[Train] == 0 || count[Validation] == 0 || count[Test] == 0 {
		t.Errorf("split sizes %v: the fixture should exercise every split", count)
	}
}

// TestSplitMatchesReference: the unknown-word choice, the shuffles
// (Python's random seeded with the fixture's seed) and the silence counts
// give the reference's lists, file for file, in order.
func TestSplitMatchesReference(t *testing.T) {
	f := readSplitFixture(t)
	o := DefaultOptions()
	o.Seed = f.Seed
	o.UnknownPercent, o.ValidationPercent, o.TestPercent = f.UnknownPercentage, f.ValidationPercentage, f.TestingPercentage
	// FromFiles sorts the names itself: give them reversed.
	reversed := slices.Clone(f.Files)
	slices.Reverse(reversed)
	d, err := FromFiles("root", reversed, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSplit(t, d.SplitFile(), f)
	// Another seed gives other orders (the seed is used).
	o.Seed++
	d2, err := FromFiles("root", f.Files, o)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(d2.SplitFile().Training, f.Training) {
		t.Error("seed + 1 gives the same training order")
	}
}

func checkSplit(t *testing.T, got SplitFile, f *splitFixture) {
	t.Helper()
	for _, c := range []struct {
		name      string
		got, want []string
	}{{"training", got.Training, f.Training}, {"validation", got.Validation, f.Validation}, {"testing", got.Testing, f.Testing}} {
		if len(c.got) != len(c.want) {
			t.Errorf("%s: %d files, reference %d", c.name, len(c.got), len(c.want))
		}
		for i := range min(len(c.got), len(c.want)) {
			if c.got[i] != c.want[i] {
				t.Errorf("%s[%d] = %s, reference %s (first difference)", c.name, i, c.got[i], c.want[i])
				break
			}
		}
		if got.Silence[c.name] != f.SilenceAdded[c.name] {
			t.Errorf("%s: %d silence clips, reference %d", c.name, got.Silence[c.name], f.SilenceAdded[c.name])
		}
	}
}

// featureFixture is gsc_yes_features.npz with yes_16k.wav.
type featureFixture struct {
	arrays map[string]*npy.Array
	clip   []float64
}

func readFeatureFixture(t testing.TB) *featureFixture {
	t.Helper()
	ref := testutil.ReferenceDir(t)
	arrays, err := npy.ReadNPZ(filepath.Join(ref, "gsc_yes_features.npz"), 0)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audio.ReadWAVFile(filepath.Join(ref, "yes_16k.wav"))
	if err != nil {
		t.Fatal(err)
	}
	return &featureFixture{arrays: arrays, clip: w.Samples}
}

func (f *featureFixture) array(t testing.TB, name string) *npy.Array {
	t.Helper()
	a := f.arrays[name]
	if a == nil {
		t.Fatalf("gsc_yes_features.npz has no %s", name)
	}
	return a
}

func (f *featureFixture) int(t testing.TB, name string) int {
	t.Helper()
	v, err := f.array(t, name).Int64s()
	if err != nil || len(v) != 1 {
		t.Fatalf("%s: %v %v", name, v, err)
	}
	return int(v[0])
}

// maxAbsDiff compares a mels × steps Sequence with a reference array of
// that shape, returning the largest absolute difference (+Inf when the
// shapes differ).
func maxAbsDiff(got *Sequence, want *npy.Array) float64 {
	if len(want.Shape) != 2 || got.Mels != want.Shape[0] || got.Steps != want.Shape[1] {
		return math.Inf(1)
	}
	var worst float64
	for i, w := range want.Float64s() {
		worst = math.Max(worst, math.Abs(got.X[i]-w))
	}
	return worst
}

// TestFeaturesMatchReference replays every case of gsc_yes_features.npz
// with its random choices fixed: the clean clip, a short one (unpadded:
// fewer steps), the silence clip, noise mixed at an SNR, then shifted
// forwards, and the clean clip shifted backwards. Every array to 1e-9
// absolute (features_silence 1e-8).
func TestFeaturesMatchReference(t *testing.T) {
	f := readFeatureFixture(t)
	if w := f.array(t, "waveform").Float64s(); !slices.Equal(w, f.clip) {
		t.Fatal("yes_16k.wav decodes to another waveform than the fixture's")
	}
	noise := f.array(t, "noise").Float64s()
	start, snr := f.int(t, "noise_start"), float64(f.int(t, "snr_db"))
	shiftPos, shiftNeg, short := f.int(t, "shift_pos"), f.int(t, "shift_neg"), f.int(t, "short_len")
	mixed := &Augmentation{Mix: true, NoiseStart: start, SNRdB: snr}
	cases := []struct {
		name  string
		clip  []float64
		aug   *Augmentation
		noise []float64
		tol   float64
	}{
		{"features", f.clip, nil, nil, 1e-9},
		{"features_short", f.clip[:short], nil, nil, 1e-9},
		{"features_silence", silenceClip(), nil, nil, 1e-8},
		{"features_noise", f.clip, mixed, noise, 1e-9},
		{"features_noise_shift_pos", f.clip, &Augmentation{Mix: true, NoiseStart: start, SNRdB: snr, Shift: shiftPos}, noise, 1e-9},
		{"features_shift_neg", f.clip, &Augmentation{Shift: shiftNeg}, nil, 1e-9},
	}
	for _, c := range cases {
		got, err := ClipFeatures(c.clip, c.noise, c.aug)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		d := maxAbsDiff(got, f.array(t, c.name))
		t.Logf("%-25s %d×%d  max |error| %.3g", c.name, got.Mels, got.Steps, d)
		if !(d <= c.tol) {
			t.Errorf("%s: max |error| %.3g > %g (shape %d×%d, reference %v)", c.name, d, c.tol, got.Mels, got.Steps, f.array(t, c.name).Shape)
		}
	}
	// The mixed waveform itself.
	x, err := Augment(f.clip, noise, *mixed)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, w := range f.array(t, "waveform_noise").Float64s() {
		worst = math.Max(worst, math.Abs(x[i]-w))
	}
	t.Logf("%-25s max |error| %.3g", "waveform_noise", worst)
	if !(worst <= 1e-12) || len(x) != f.array(t, "waveform_noise").Len() {
		t.Errorf("waveform_noise: max |error| %.3g > 1e-12", worst)
	}
}
