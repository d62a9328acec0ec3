package speech

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/internal/errs"
)

// TestAugmentationBounds: a recording exactly a clip long is mixed from
// its start; shifts cover the whole range; the first and last noise
// starts and ±1000 dB are accepted.
func TestAugmentationBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	mixed, shifts := 0, map[int]bool{}
	for range 400 {
		a := DrawAugmentation(rng, 16000, []int{16000})
		if a.Mix {
			mixed++
			if a.NoiseStart != 0 {
				t.Fatalf("a recording as long as the clip: start %d, want 0", a.NoiseStart)
			}
		}
		shifts[DrawAugmentation(rng, 3, nil).Shift] = true
	}
	if mixed < 280 || mixed > 360 {
		t.Errorf("mixed %d of 400 draws, want ≈ %g", mixed, 400*MixProbability)
	}
	for s := -2; s <= 2; s++ {
		if !shifts[s] {
			t.Errorf("a 3-sample clip: shift %d never drawn (%v)", s, shifts)
		}
	}
	clip, noise := make([]float64, 10), make([]float64, 12)
	for i := range clip {
		clip[i], noise[i] = float64(i+1)/10, 0.01*float64(i%3)
	}
	for _, start := range []int{0, 2} {
		if _, err := Augment(clip, noise, Augmentation{Mix: true, NoiseStart: start, SNRdB: 10}); err != nil {
			t.Errorf("noise start %d of 0…2: %v", start, err)
		}
	}
	if _, err := Augment(clip, noise, Augmentation{Mix: true, NoiseStart: 3, SNRdB: 10}); err == nil || !strings.Contains(err.Error(), "start 0…2") {
		t.Errorf("noise start 3: %v, want the range 0…2 named", err)
	}
	for _, db := range []float64{-1000, 1000} {
		if err := Mix(append([]float64(nil), clip...), noise[:10], db); err != nil {
			t.Errorf("Mix at %g dB: %v", db, err)
		}
	}
}

// TestFrontendAndOptionBounds: the upsampling factor's range, 50 % + 50 %
// of validation and test, a stream window of one frame, and a clip whose
// log-mel is constant (nothing to normalise by) refused.
func TestFrontendAndOptionBounds(t *testing.T) {
	for up, ok := range map[int]bool{1: true, 1 << 16: true, 0: false, 1<<16 + 1: false} {
		if _, err := NewFrontend(audio.GSCMel(), up); (err == nil) != ok {
			t.Errorf("NewFrontend upsample %d: %v, want ok %v", up, err, ok)
		}
	}
	o := DefaultOptions()
	o.ValidationPercent, o.TestPercent = 50, 50
	if err := o.validate(); err != nil {
		t.Errorf("50 %% + 50 %%: %v", err)
	}
	if _, err := NewStream(1); err != nil {
		t.Errorf("NewStream(1): %v", err)
	}
	if _, err := NewGSCFrontend().Features(make([]float64, 16000)); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("a silent clip: %v, want ErrInvalid (its log-mel is constant)", err)
	}
}

// TestStreamFramesAndErrors: a frame is emitted as soon as its last
// sample is in, and a bad sample is named by its place in the stream.
func TestStreamFramesAndErrors(t *testing.T) {
	s, err := NewStream(40)
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	count := func([]float64) { steps++ }
	// The first frame needs 512 samples (window [−512, 512) reflected),
	// the second 400 more.
	if err := s.Push(make([]float64, 513), count); err != nil {
		t.Fatal(err)
	}
	first := s.Steps()
	if err := s.Push(make([]float64, 399), count); err != nil {
		t.Fatal(err)
	}
	if s.Steps() <= first {
		t.Errorf("after 912 samples: %d steps, after 513: %d; want the second frame counted", s.Steps(), first)
	}
	err = s.Push([]float64{0, math.NaN()}, count)
	if err == nil || !strings.Contains(err.Error(), "samples[913]") {
		t.Errorf("NaN at sample 913: %v", err)
	}
}

// TestSilenceFromNoise: with the older option every silence clip is a
// 1-s segment of a noise recording scaled by its volume in [0, 1), the
// same for the same seed; without noise files the option is refused.
func TestSilenceFromNoise(t *testing.T) {
	root := writeCorpus(t, []string{"yes", "no", "bed"}, 4)
	o := DefaultOptions()
	o.ListSplit, o.SilencePercent, o.SilenceFromNoise = true, 50, true
	d, err := Load(root, o)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Load(root, o)
	silences := 0
	for _, s := range SplitOrder {
		for i, c := range d.Splits[s] {
			if !c.IsSilence() {
				continue
			}
			silences++
			if c.Noise == "" || !(c.Volume >= 0 && c.Volume < 1) || c.Offset < 0 || c != again.Splits[s][i] {
				t.Fatalf("silence %+v (again %+v)", c, again.Splits[s][i])
			}
			x, err := d.Waveform(c)
			if err != nil {
				t.Fatal(err)
			}
			k := slices.Index(d.Noises, c.Noise)
			noise, err := d.Noise(k)
			if err != nil {
				t.Fatal(err)
			}
			if len(x) != ClipSamples || c.Offset+ClipSamples > len(noise) {
				t.Fatalf("silence of %d samples at %d of a %d-sample recording", len(x), c.Offset, len(noise))
			}
			for j, v := range x {
				if v != noise[c.Offset+j]*c.Volume {
					t.Fatalf("silence sample %d = %g, want the noise's %g × %g", j, v, noise[c.Offset+j], c.Volume)
				}
			}
		}
	}
	if silences == 0 {
		t.Fatal("no silence clips")
	}
	os.RemoveAll(filepath.Join(root, BackgroundNoiseDir))
	if _, err := Load(root, o); err == nil || !strings.Contains(err.Error(), BackgroundNoiseDir) {
		t.Errorf("no noise files: %v", err)
	}
}
