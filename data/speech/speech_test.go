package speech

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/audio"
)

// TestLoadTreeMatchesReference lays the fixture's file list out as empty
// files (names are all Load reads), with things the reference's glob
// skips beside them, and checks Load's split against the reference's.
func TestLoadTreeMatchesReference(t *testing.T) {
	f := readSplitFixture(t)
	root := t.TempDir()
	for _, name := range append(slices.Clone(f.Files),
		BackgroundNoiseDir+"/white_noise.wav", // noise, not a clip
		BackgroundNoiseDir+"/x_nohash_0.wav",  // noise too, whatever its name
		"yes/README.md", "yes/.hidden_nohash_0.wav", "yes/nohash.wav", ".cache/a_nohash_0.wav") {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := DefaultOptions()
	o.Seed = f.Seed
	d, err := Load(root, o)
	if err != nil {
		t.Fatal(err)
	}
	checkSplit(t, d.SplitFile(), f)
	if want := []string{filepath.Join(root, BackgroundNoiseDir, "white_noise.wav"), filepath.Join(root, BackgroundNoiseDir, "x_nohash_0.wav")}; !slices.Equal(d.Noises, want) {
		t.Errorf("noises %v, want %v", d.Noises, want)
	}
	if c := d.Splits[Train][0]; c.Path != filepath.Join(root, "right", "77cdee61_nohash_2.wav") || c.Rel != f.Training[0] || d.Labels[c.Label] != "right" {
		t.Errorf("first training clip %+v (label %q)", c, d.Labels[c.Label])
	}
	// The silence clips close each split.
	for s := range d.Splits {
		n := len(d.Splits[s])
		for i, c := range d.Splits[s] {
			if c.IsSilence() != (i >= n-d.Silence[s]) || c.IsSilence() && d.Labels[c.Label] != SilenceLabel {
				t.Fatalf("%v[%d] = %+v with %d silence clips of %d", Split(s), i, c, d.Silence[s], n)
			}
		}
	}
}

// TestClassCountsAndWeights: the counts add up to the split, and the
// class-balanced weights N / count give every present class the same
// total weight N.
func TestClassCountsAndWeights(t *testing.T) {
	f := readSplitFixture(t)
	o := DefaultOptions()
	o.Seed = f.Seed
	d, err := FromFiles("r", f.Files, o)
	if err != nil {
		t.Fatal(err)
	}
	counts := d.ClassCounts(Train)
	if counts[0] != 68 || counts[1] != f.SilenceAdded["training"] {
		t.Errorf("unknown %d, silence %d: want 68 (ceil(680 keywords × 10 %%)) and %d", counts[0], counts[1], f.SilenceAdded["training"])
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != len(d.Splits[Train]) {
		t.Fatalf("counts %v sum to %d of %d clips", counts, total, len(d.Splits[Train]))
	}
	w := d.SampleWeights(Train)
	perClass := make([]float64, len(d.Labels))
	for i, c := range d.Splits[Train] {
		perClass[c.Label] += w[i]
	}
	for l, s := range perClass {
		if counts[l] > 0 && math.Abs(s-float64(total)) > 1e-9*float64(total) {
			t.Errorf("class %s: total weight %g, want %d", d.Labels[l], s, total)
		}
	}
}

// TestListSplitAndOptions: the list split as an option (validation wins
// over testing for a file on both lists; the rest trains), words35's
// labels, a hash split used whole, and bad options named with their
// values.
func TestListSplitAndOptions(t *testing.T) {
	files := []string{"bed/a_nohash_0.wav", "go/a_nohash_0.wav", "go/b_nohash_0.wav", "no/c_nohash_0.wav", "yes/a_nohash_0.wav", "yes/b_nohash_0.wav", "yes/c_nohash_0.wav"}
	o := DefaultOptions()
	o.ListSplit, o.UnknownPercent, o.SilencePercent = true, 100, 0
	o.ValidationList = []string{"yes/a_nohash_0.wav", "go/b_nohash_0.wav"}
	o.TestingList = []string{"yes/b_nohash_0.wav", "go/b_nohash_0.wav"}
	d, err := FromFiles("r", files, o)
	if err != nil {
		t.Fatal(err)
	}
	got := d.SplitFile()
	sorted := func(l []string) []string { l = slices.Clone(l); slices.Sort(l); return l }
	if v, te, tr := sorted(got.Validation), sorted(got.Testing), sorted(got.Training); !slices.Equal(v, []string{"go/b_nohash_0.wav", "yes/a_nohash_0.wav"}) ||
		!slices.Equal(te, []string{"yes/b_nohash_0.wav"}) || !slices.Equal(tr, []string{"bed/a_nohash_0.wav", "go/a_nohash_0.wav", "no/c_nohash_0.wav", "yes/c_nohash_0.wav"}) {
		t.Errorf("list split: %+v", got)
	}
	o = DefaultOptions()
	o.Task, o.ValidationPercent, o.TestPercent = "words35", 0, 0
	o.ListSplit = true // with empty lists: everything trains; the others are empty
	if _, err := FromFiles("r", files, o); err == nil || !strings.Contains(err.Error(), "validation split of r is empty") {
		t.Errorf("empty splits: %v", err)
	}
	o.ValidationList, o.TestingList = files[:1], files[1:2]
	d, err = FromFiles("r", files, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"bed", "go", "no", "yes", SilenceLabel}; !slices.Equal(d.Labels, want) {
		t.Errorf("words35 labels %v, want %v", d.Labels, want)
	}
	// A hash split asked for no validation and no test share: every file
	// trains (a corpus used whole, for evaluation).
	o = DefaultOptions()
	o.Task, o.ValidationPercent, o.TestPercent, o.SilencePercent = "words35", 0, 0, 0
	if d, err = FromFiles("r", files, o); err != nil || len(d.Splits[Train]) != len(files) || len(d.Splits[Validation])+len(d.Splits[Test]) != 0 {
		t.Errorf("hash split 0 %% / 0 %%: %v, want every file training (%d), got %v", err, len(files), d)
	}
	for _, c := range []struct {
		edit func(*Options)
		want string
	}{
		{func(o *Options) { o.Task = "kw10" }, `speech.task = "kw10"`},
		{func(o *Options) { o.UnknownPercent = 101 }, "speech.unknown_percent = 101"},
		{func(o *Options) { o.SilencePercent = math.NaN() }, "speech.silence_percent = NaN"},
		{func(o *Options) { o.ValidationPercent, o.TestPercent = 60, 50 }, "speech.validation_percent+test_percent = 110"},
	} {
		o := DefaultOptions()
		c.edit(&o)
		if _, err := FromFiles("r", files, o); !errors.Is(err, gle.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want invalid naming %q", err, c.want)
		}
	}
	if _, err := FromFiles("r", []string{"noslash.wav"}, DefaultOptions()); err == nil || !strings.Contains(err.Error(), `speech.files = "noslash.wav"`) {
		t.Errorf("a file without a word folder: %v", err)
	}
	if _, err := FromFiles("r", []string{"_silence_/a_nohash_0.wav"}, DefaultOptions()); err == nil || !strings.Contains(err.Error(), `speech.files = "_silence_/a_nohash_0.wav"`) {
		t.Errorf("a folder named like a label: %v", err)
	}
	if _, err := Load(t.TempDir(), DefaultOptions()); err == nil || !strings.Contains(err.Error(), "no word/*_nohash_*.wav") {
		t.Errorf("an empty folder: %v", err)
	}
}

// TestShiftAndMix checks the two augmentations on small vectors.
func TestShiftAndMix(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct {
		s    int
		want []float64
	}{{0, []float64{1, 2, 3, 4, 5}}, {2, []float64{0, 0, 1, 2, 3}}, {-1, []float64{2, 3, 4, 5, 0}}, {4, []float64{0, 0, 0, 0, 1}}} {
		y := slices.Clone(x)
		if err := Shift(y, c.s); err != nil || !slices.Equal(y, c.want) {
			t.Errorf("shift %d: %v %v, want %v", c.s, y, err, c.want)
		}
	}
	if err := Shift(slices.Clone(x), -5); err == nil || !strings.Contains(err.Error(), "augmentation.shift = -5") {
		t.Errorf("shift −5 of 5 samples: %v", err)
	}
	// clip (3, 4), ‖·‖ = 5; noise (0, 2), ‖·‖ = 2; 10 dB: snr = e,
	// scale = 2e/5.
	clip := []float64{3, 4}
	if err := Mix(clip, []float64{0, 2}, 10); err != nil {
		t.Fatal(err)
	}
	s := 2 * math.E / 5
	if want := []float64{3 * s / 2, (4*s + 2) / 2}; math.Abs(clip[0]-want[0]) > 1e-15 || math.Abs(clip[1]-want[1]) > 1e-15 {
		t.Errorf("mix: %v, want %v", clip, want)
	}
	for _, c := range []struct {
		clip, seg []float64
		db        float64
		want      string
	}{
		{[]float64{0, 0}, []float64{1, 1}, 3, "clip norm = 0"},
		{[]float64{1, 1}, []float64{1}, 3, "noise segment = 1"},
		{[]float64{1, 1}, []float64{1, 1}, math.Inf(1), "augmentation.snr_db = +Inf"},
	} {
		if err := Mix(c.clip, c.seg, c.db); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("mix %v %v %g: %v, want an error naming %q", c.clip, c.seg, c.db, err, c.want)
		}
	}
	if _, err := Augment(make([]float64, 10), make([]float64, 12), Augmentation{Mix: true, NoiseStart: 3, SNRdB: 3}); err == nil ||
		!strings.Contains(err.Error(), "augmentation.noise_start = 3") {
		t.Errorf("a segment past the noise's end: %v", err)
	}
}

// TestInterpolate: PyTorch's interpolate([0, 1, 2], scale_factor=2,
// mode="linear") is [0, 0.25, 0.75, 1.25, 1.75, 2] (positions clamped at
// 0 and the last frame repeated).
func TestInterpolate(t *testing.T) {
	got := Interpolate(nil, []float64{0, 1, 2, 10, 10, 10}, 2, 3, 2)
	want := []float64{0, 0.25, 0.75, 1.25, 1.75, 2, 10, 10, 10, 10, 10, 10}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestDrawAugmentation: the draws' ranges and frequencies (mix ≈ 80 %,
// every SNR, shifts over the whole range), recordings shorter than the
// clip never chosen, and no mixing without a long enough recording.
func TestDrawAugmentation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	lens := []int{20000, 15000, 48000}
	mixes, snr, lo, hi := 0, map[float64]int{}, 0, 0
	const n = 4000
	for range n {
		a := DrawAugmentation(rng, 16000, lens)
		if a.Shift < -MaxShift || a.Shift > MaxShift {
			t.Fatalf("shift %d", a.Shift)
		}
		lo, hi = min(lo, a.Shift), max(hi, a.Shift)
		if !a.Mix {
			continue
		}
		mixes++
		snr[a.SNRdB]++
		if a.Noise == 1 || a.NoiseStart < 0 || a.NoiseStart > lens[a.Noise]-16000 {
			t.Fatalf("%+v", a)
		}
	}
	if f := float64(mixes) / n; f < 0.77 || f > 0.83 || len(snr) != 3 || lo > -1500 || hi < 1500 {
		t.Errorf("mix fraction %.3f, SNRs %v, shifts %d…%d", f, snr, lo, hi)
	}
	for range 100 {
		if a := DrawAugmentation(rng, 16000, []int{100}); a.Mix {
			t.Fatal("mixed with a recording shorter than the clip")
		}
		if a := DrawAugmentation(rng, 600, nil); a.Shift < -599 || a.Shift > 599 {
			t.Fatalf("shift %d of a 600-sample clip", a.Shift)
		}
	}
}

// writeCorpus writes a small Speech Commands folder: for each speaker,
// a tone per word (PCM16, 16 kHz; one 0.7-s clip, the rest 1 s), two
// noise recordings, and the two list files (speaker 0 validates,
// speaker 1 tests).
func writeCorpus(t testing.TB, words []string, speakers int) string {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	write := func(rel string, n int, freq, amp float64) {
		x := make([]float64, n)
		for i := range x {
			x[i] = amp*math.Sin(2*math.Pi*freq*float64(i)/16000) + 0.01*rng.NormFloat64()
		}
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := audio.WriteWAV16File(p, x, 16000); err != nil {
			t.Fatal(err)
		}
	}
	var lists [2][]string
	for s := range speakers {
		for w, word := range words {
			rel := fmt.Sprintf("%s/%08x_nohash_0.wav", word, s*7919+1)
			n := 16000
			if s == 0 && w == 0 {
				n = 11200
			}
			write(rel, n, 200+150*float64(w)+10*float64(s), 0.3)
			if s < 2 {
				lists[s] = append(lists[s], rel)
			}
		}
	}
	write(BackgroundNoiseDir+"/a.wav", 40000, 3000, 0.2)
	write(BackgroundNoiseDir+"/b.wav", 30000, 5000, 0.1)
	os.WriteFile(filepath.Join(root, "validation_list.txt"), []byte(strings.Join(lists[0], "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(root, "testing_list.txt"), []byte(strings.Join(lists[1], "\n")+"\n"), 0o644)
	return root
}

// TestDatasetFeatures goes through the dataset's per-clip building
// blocks: clean features (cached, identical when read back), silence,
// an unpadded short clip, training draws replayed from their choices,
// and errors naming the clip or the field.
func TestDatasetFeatures(t *testing.T) {
	root := writeCorpus(t, []string{"yes", "no", "bed"}, 4)
	o := DefaultOptions()
	o.ListSplit, o.UnknownPercent, o.SilencePercent = true, 50, 50
	d, err := Load(root, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Noises) != 2 {
		t.Fatalf("noises %v", d.Noises)
	}
	var short Clip
	for _, c := range d.Splits[Validation] {
		if strings.HasSuffix(c.Rel, "00000001_nohash_0.wav") && strings.HasPrefix(c.Rel, "yes/") {
			short = c
		}
	}
	if short.Path == "" {
		t.Fatalf("the short clip is not in validation: %+v", d.Splits[Validation])
	}
	s, err := d.Features(short, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mels != 32 || s.Steps != 20*(1+11200/400) {
		t.Fatalf("short clip: %d×%d, want 32×%d", s.Mels, s.Steps, 20*29)
	}
	x, err := d.Waveform(short)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := ClipFeatures(x, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.Features(short, nil) // from the cache
	if err != nil || !slices.Equal(again.X, s.X) || !slices.Equal(direct.X, s.X) {
		t.Fatalf("cached or direct features differ (%v)", err)
	}
	step := make([]float64, s.Mels)
	s.Step(step, 5)
	if step[3] != s.X[3*s.Steps+5] {
		t.Error("Step reads another column")
	}
	sil := d.Splits[Train][len(d.Splits[Train])-1]
	if !sil.IsSilence() {
		t.Fatalf("the last training clip %+v is not silence", sil)
	}
	if s, err := d.Features(sil, nil); err != nil || s.Steps != 820 {
		t.Fatalf("silence: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	mixed := 0
	for _, c := range d.Splits[Train] {
		s, a, err := d.DrawFeatures(rng, c)
		if err != nil {
			t.Fatal(err)
		}
		if a.Mix {
			mixed++
		}
		replay, err := d.Features(c, &a)
		if err != nil || !slices.Equal(replay.X, s.X) {
			t.Fatalf("%+v: the replayed draw differs (%v)", a, err)
		}
		clean, _ := d.Features(c, nil)
		if (a.Mix || a.Shift != 0) && slices.Equal(clean.X, s.X) {
			t.Fatalf("%+v changed nothing", a)
		}
	}
	if mixed == 0 {
		t.Error("no draw mixed noise")
	}
	c := d.Splits[Train][0]
	for _, e := range []struct {
		a    Augmentation
		want string
	}{
		{Augmentation{Mix: true, Noise: 2}, "augmentation.noise = 2"},
		{Augmentation{Mix: true, Noise: 1, NoiseStart: 20000}, "augmentation.noise_start = 20000"},
		{Augmentation{Shift: 16000}, "augmentation.shift = 16000"},
	} {
		if _, err := d.Features(c, &e.a); err == nil || !strings.Contains(err.Error(), e.want) || !strings.Contains(err.Error(), c.Path) {
			t.Errorf("%+v: %v, want an error naming %s and %q", e.a, err, c.Path, e.want)
		}
	}
	// A clip at another rate is refused naming it.
	bad := filepath.Join(root, "yes", "zz_nohash_0.wav")
	if err := audio.WriteWAV16File(bad, make([]float64, 8000), 8000); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Features(Clip{Path: bad}, nil); err == nil || !strings.Contains(err.Error(), "8000 Hz") {
		t.Errorf("an 8-kHz clip: %v", err)
	}
}

// BenchmarkClipFeatures is the frontend's cost for one 1-s clip as
// training draws it (noise mixed, shifted): augmentation, log-mel,
// normalisation, interpolation to 32 × 820.
func BenchmarkClipFeatures(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	clip, noise := make([]float64, 16000), make([]float64, 48000)
	for i := range clip {
		clip[i] = 0.3*math.Sin(float64(i)*0.07) + 0.01*rng.NormFloat64()
	}
	for i := range noise {
		noise[i] = 0.1 * rng.NormFloat64()
	}
	a := &Augmentation{Mix: true, NoiseStart: 1234, SNRdB: 10, Shift: -321}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ClipFeatures(clip, noise, a); err != nil {
			b.Fatal(err)
		}
	}
}
