package speech

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/internal/errs"
)

// readWAV16k decodes a 16-kHz WAV file (PCM16 gives int16/32768).
func readWAV16k(path string) ([]float64, error) {
	w, err := audio.ReadWAVFile(path)
	if err != nil {
		return nil, err
	}
	if w.SampleRate != 16000 {
		return nil, fmt.Errorf("speech: %s is %d Hz, want 16000 (resample it first)", path, w.SampleRate)
	}
	return w.Samples, nil
}

// ClipSamples is the length of a 1-s clip at 16 kHz (the silence clip's).
const ClipSamples = 16000

// silenceClip returns the reference's silence clip: ClipSamples samples
// of SilenceValue.
func silenceClip() []float64 {
	x := make([]float64, ClipSamples)
	for i := range x {
		x[i] = SilenceValue
	}
	return x
}

// waveform returns the clip's samples without padding: the file's, the
// reference's silence clip, or the older silence cut from noise.
func (c Clip) waveform() ([]float64, error) {
	if !c.IsSilence() {
		return readWAV16k(c.Path)
	}
	if c.Noise == "" {
		return silenceClip(), nil
	}
	noise, err := readWAV16k(c.Noise)
	if err != nil {
		return nil, err
	}
	return noiseSilence(c, noise)
}

func noiseSilence(c Clip, noise []float64) ([]float64, error) {
	if c.Offset < 0 || c.Offset > len(noise)-ClipSamples {
		return nil, errs.Field(errs.ErrInvalid, "clip.offset", c.Offset, "%s has %d samples", c.Noise, len(noise))
	}
	x := make([]float64, ClipSamples)
	for i := range x {
		x[i] = noise[c.Offset+i] * c.Volume
	}
	return x, nil
}

// cache keeps deterministic data (decoded noise recordings, unaugmented
// features) up to a byte budget, first come first kept; nil keeps
// nothing.
type cache struct {
	mu          sync.Mutex
	limit, used int64
	m           map[string][]float64
}

func newCache(limit int64) *cache {
	if limit <= 0 {
		return nil
	}
	return &cache{limit: limit, m: map[string][]float64{}}
}

func (c *cache) get(key string) ([]float64, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	return v, ok
}

func (c *cache) put(key string, v []float64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok || c.used+8*int64(len(v)) > c.limit {
		return
	}
	c.m[key] = v
	c.used += 8 * int64(len(v))
}

// Noise returns background-noise recording i (Dataset.Noises[i]),
// decoded once and cached. The returned slice is shared: do not change
// it.
func (d *Dataset) Noise(i int) ([]float64, error) {
	if i < 0 || i >= len(d.Noises) {
		return nil, errs.Field(errs.ErrInvalid, "augmentation.noise", i, "the dataset has %d noise recordings", len(d.Noises))
	}
	key := "noise\x00" + d.Noises[i]
	if v, ok := d.cache.get(key); ok {
		return v, nil
	}
	v, err := readWAV16k(d.Noises[i])
	if err != nil {
		return nil, err
	}
	d.cache.put(key, v)
	return v, nil
}

// NoiseLengths returns the number of samples of each noise recording.
func (d *Dataset) NoiseLengths() ([]int, error) {
	lens := make([]int, len(d.Noises))
	for i := range d.Noises {
		v, err := d.Noise(i)
		if err != nil {
			return nil, err
		}
		lens[i] = len(v)
	}
	return lens, nil
}

// Waveform returns the clip's samples, unpadded: the WAV file decoded
// (int16/32768; 16 kHz required), or for a silence clip ClipSamples
// samples of SilenceValue (or the older cut from noise). Clip files are
// not cached: the system's page cache holds them, and decoding one costs
// microseconds next to the milliseconds of its features' training steps.
func (d *Dataset) Waveform(c Clip) ([]float64, error) {
	if c.IsSilence() && c.Noise != "" {
		for i, n := range d.Noises {
			if n == c.Noise {
				noise, err := d.Noise(i)
				if err != nil {
					return nil, err
				}
				return noiseSilence(c, noise)
			}
		}
	}
	return c.waveform()
}

// Features returns the features training or evaluation sees for clip c
// (SPEC §9, a clip's features): its Waveform, augmented by a when a is
// not nil (Augment, with the recording a.Noise), then the GSC frontend
// (log-mel, per-clip normalisation, ×Upsample interpolation): Mels × Steps
// with Steps = Upsample · (1 + ⌊samples/400⌋). The unaugmented features
// (a nil: validation and test clips) are cached before interpolation.
// Safe for concurrent use.
func (d *Dataset) Features(c Clip, a *Augmentation) (*Sequence, error) {
	if a == nil {
		return d.clean(c)
	}
	x, err := d.Waveform(c)
	if err != nil {
		return nil, err
	}
	s, err := d.augmented(x, *a)
	if err != nil {
		return nil, fmt.Errorf("speech: %s: %w", c.name(), err)
	}
	return s, nil
}

func (d *Dataset) augmented(x []float64, a Augmentation) (*Sequence, error) {
	var noise []float64
	if a.Mix {
		var err error
		if noise, err = d.Noise(a.Noise); err != nil {
			return nil, err
		}
	}
	return ClipFeatures(x, noise, &a)
}

// clean returns the unaugmented features, through the cache.
func (d *Dataset) clean(c Clip) (*Sequence, error) {
	key := fmt.Sprintf("mel\x00%s\x00%s\x00%d\x00%v", c.Path, c.Noise, c.Offset, c.Volume)
	f := gscPool.Get().(*Frontend)
	defer gscPool.Put(f)
	if lm, ok := d.cache.get(key); ok {
		return f.upsampled(lm), nil
	}
	x, err := d.Waveform(c)
	if err != nil {
		return nil, err
	}
	lm, err := f.Normalized(nil, x)
	if err != nil {
		return nil, fmt.Errorf("speech: %s: %w", c.name(), err)
	}
	d.cache.put(key, lm)
	return f.upsampled(lm), nil
}

// name names the clip in errors.
func (c Clip) name() string {
	if c.IsSilence() {
		return "silence clip"
	}
	return c.Path
}

// DrawFeatures is one training draw of clip c: its Waveform, the
// choices DrawAugmentation makes with rng for its length and the noise
// recordings, and the features under them. It returns the choices too.
func (d *Dataset) DrawFeatures(rng *rand.Rand, c Clip) (*Sequence, Augmentation, error) {
	x, err := d.Waveform(c)
	if err != nil {
		return nil, Augmentation{}, err
	}
	lens, err := d.NoiseLengths()
	if err != nil {
		return nil, Augmentation{}, err
	}
	a := DrawAugmentation(rng, len(x), lens)
	s, err := d.augmented(x, a)
	if err != nil {
		return nil, a, fmt.Errorf("speech: %s under %+v: %w", c.name(), a, err)
	}
	return s, a, nil
}
