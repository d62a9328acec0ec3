package speech

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/internal/errs"
)

// The constants of a clip's features (SPEC §9).
const (
	// SilenceValue is every sample of the reference's silence clip
	// (ClipSamples of them).
	SilenceValue = 1e-9
	// MixProbability is the chance that a training draw mixes in noise.
	MixProbability = 0.8
	// MaxShift bounds the training draws' time shift: uniform in
	// [−MaxShift, MaxShift] samples.
	MaxShift = 1600
	// Upsample is the number of dt steps per log-mel frame (1/dt = 20):
	// a 1-s clip's 41 frames give 820 steps.
	Upsample = 20
)

// SNRsDB are the training draws' signal-to-noise ratios, in dB as the
// reference names them (it takes exp(dB/10): see Mix).
var SNRsDB = []float64{20, 10, 3}

// Augmentation is the random choices of one training draw of a clip,
// explicit so that a draw can be replayed (`gle mel --gsc` fixes them).
// The zero value is no augmentation.
type Augmentation struct {
	Mix        bool    // mix in background noise
	Noise      int     // which recording (an index of Dataset.Noises)
	NoiseStart int     // the noise segment's first sample
	SNRdB      float64 // the signal-to-noise ratio's nominal dB
	Shift      int     // samples to shift the clip by (after mixing)
}

// DrawAugmentation draws a training clip's choices from rng (ours, not
// the reference's generator: the draws are i.i.d. in law, not in value):
// mix with probability MixProbability when some recording is at least as
// long as the clip — then a recording uniform among those, a start
// uniform in [0, len(noise) − clipLen] (the clip stays inside the
// recording) and an SNR uniform in SNRsDB — and always a shift uniform
// in [−MaxShift, MaxShift], limited to |shift| < clipLen.
func DrawAugmentation(rng *rand.Rand, clipLen int, noiseLens []int) Augmentation {
	var a Augmentation
	var fit []int
	for i, n := range noiseLens {
		if n >= clipLen {
			fit = append(fit, i)
		}
	}
	if rng.Float64() < MixProbability && len(fit) > 0 {
		a.Mix = true
		a.Noise = fit[rng.IntN(len(fit))]
		a.NoiseStart = rng.IntN(noiseLens[a.Noise] - clipLen + 1)
		a.SNRdB = SNRsDB[rng.IntN(len(SNRsDB))]
	}
	limit := max(0, min(MaxShift, clipLen-1))
	a.Shift = rng.IntN(2*limit+1) - limit
	return a
}

// Augment returns the augmented copy of clip (clip is not changed):
// Mix(clip, noise[NoiseStart : NoiseStart+len(clip)], SNRdB) when a.Mix,
// then Shift by a.Shift. noise is the whole recording a.Noise names
// (unused without a.Mix).
func Augment(clip, noise []float64, a Augmentation) ([]float64, error) {
	out := make([]float64, len(clip))
	copy(out, clip)
	if a.Mix {
		if a.NoiseStart < 0 || a.NoiseStart > len(noise)-len(clip) {
			return nil, errs.Field(errs.ErrInvalid, "augmentation.noise_start", a.NoiseStart,
				"the clip's %d samples must fit in the noise's %d (start 0…%d)", len(clip), len(noise), len(noise)-len(clip))
		}
		if err := Mix(out, noise[a.NoiseStart:a.NoiseStart+len(clip)], a.SNRdB); err != nil {
			return nil, err
		}
	}
	if err := Shift(out, a.Shift); err != nil {
		return nil, err
	}
	return out, nil
}

// Mix mixes the noise segment seg (len(clip) samples) into clip in
// place, as the reference does: snr = exp(dB/10) (sic: not 10^(dB/10)),
// scale = snr · ‖seg‖₂ / ‖clip‖₂, clip ← (scale · clip + seg) / 2.
func Mix(clip, seg []float64, snrDB float64) error {
	if len(seg) != len(clip) {
		return errs.Field(errs.ErrShape, "noise segment", len(seg), "want the clip's %d samples", len(clip))
	}
	if math.IsNaN(snrDB) || math.IsInf(snrDB, 0) || math.Abs(snrDB) > 1000 {
		return errs.Field(errs.ErrInvalid, "augmentation.snr_db", snrDB, "want a finite SNR in −1000…1000 dB")
	}
	var cc, ss float64
	for i, v := range clip {
		cc += v * v
		ss += seg[i] * seg[i]
	}
	if !(cc > 0) || math.IsInf(cc, 0) || math.IsNaN(ss) || math.IsInf(ss, 0) {
		return errs.Field(errs.ErrInvalid, "clip norm", math.Sqrt(cc), "mixing at an SNR needs a clip of finite, nonzero energy and finite noise")
	}
	scale := math.Exp(snrDB/10) * math.Sqrt(ss) / math.Sqrt(cc)
	for i := range clip {
		clip[i] = (scale*clip[i] + seg[i]) / 2
	}
	return nil
}

// Shift shifts x in place by s samples as the reference does: roll by s
// (x[i] moves to i + s), then zero the |s| samples that wrapped round (the
// first s for s > 0, the last −s for s < 0). |s| must be below len(x).
func Shift(x []float64, s int) error {
	n := len(x)
	switch {
	case s == 0:
		return nil
	case s >= n || -s >= n:
		return errs.Field(errs.ErrInvalid, "augmentation.shift", s, "want |shift| < the clip's %d samples", n)
	case s > 0:
		copy(x[s:], x[:n-s])
		clear(x[:s])
	default:
		copy(x, x[-s:])
		clear(x[n+s:])
	}
	return nil
}

// Sequence is a clip's features: Mels values per step, Steps steps,
// X[m·Steps + t] (mels × steps, row-major, as `gle mel --gsc` writes
// them).
type Sequence struct {
	Mels, Steps int
	X           []float64
}

// Step copies step t's Mels values to dst.
func (s *Sequence) Step(dst []float64, t int) {
	for m := range s.Mels {
		dst[m] = s.X[m*s.Steps+t]
	}
}

// Frontend turns waveforms into features: the log-mel of SPEC §10
// (through a reused audio.MelPlan), normalised per clip, interpolated
// along time. It reuses its buffers and is not safe for concurrent use
// (Dataset.Features keeps a pool of them).
type Frontend struct {
	plan     *audio.MelPlan
	upsample int
	mel      []float64
}

// NewFrontend returns a frontend for log-mel parameters p, interpolated
// by upsample steps per frame.
func NewFrontend(p audio.MelParams, upsample int) (*Frontend, error) {
	if upsample < 1 || upsample > 1<<16 {
		return nil, errs.Field(errs.ErrInvalid, "upsample", upsample, "want 1…65536 steps per frame")
	}
	plan, err := audio.NewMelPlan(p)
	if err != nil {
		return nil, err
	}
	return &Frontend{plan: plan, upsample: upsample}, nil
}

// NewGSCFrontend returns the speech experiment's frontend: audio.GSCMel
// (n_fft 1024, hop 400, 32 mels, 0–8000 Hz at 16 kHz), Upsample steps
// per frame.
func NewGSCFrontend() *Frontend {
	f, err := NewFrontend(audio.GSCMel(), Upsample)
	if err != nil {
		panic(err) // constant parameters
	}
	return f
}

// Mels returns the number of mel bands.
func (f *Frontend) Mels() int { return f.plan.Params().NMels }

// Normalized returns the clip's log-mel (mels × frames, frames =
// 1 + ⌊len/hop⌋: no padding to 1 s) normalised over all its values:
// (v − mean) / std with the unbiased (n − 1) standard deviation. dst is
// reused when large enough.
func (f *Frontend) Normalized(dst, x []float64) ([]float64, error) {
	lm, err := f.plan.LogMel(dst, x)
	if err != nil {
		return nil, err
	}
	// The mean is corrected by a second pass over the residuals: a clip
	// whose values sit close together (silence: all within 3e-5 of −29.9)
	// would otherwise lose the differences to the sum's rounding, which
	// the division by the small std amplifies.
	n := float64(len(lm))
	var sum float64
	for _, v := range lm {
		sum += v
	}
	mean := sum / n
	var res float64
	for _, v := range lm {
		res += v - mean
	}
	mean += res / n
	var ss float64
	for _, v := range lm {
		ss += (v - mean) * (v - mean)
	}
	std := math.Sqrt(ss / (n - 1))
	if !(std > 0) || math.IsInf(std, 0) {
		return nil, errs.Field(errs.ErrInvalid, "log-mel std", std, "a clip whose %d log-mel values are all equal cannot be normalised", len(lm))
	}
	for i, v := range lm {
		lm[i] = (v - mean) / std
	}
	return lm, nil
}

// Interpolate resamples src (mels × frames) to mels × frames·factor
// along time as PyTorch's interpolate(mode="linear",
// align_corners=False, scale_factor=factor): output step j reads source
// position x = max(0, (j + 0.5)/factor − 0.5), i0 = ⌊x⌋,
// i1 = min(i0 + 1, frames − 1), λ = x − i0, value (1 − λ)·src[i0] +
// λ·src[i1]. dst is reused when large enough.
func Interpolate(dst, src []float64, mels, frames, factor int) []float64 {
	steps := frames * factor
	if cap(dst) < mels*steps {
		dst = make([]float64, mels*steps)
	}
	dst = dst[:mels*steps]
	scale := 1 / float64(factor)
	for j := range steps {
		x := max(0, scale*(float64(j)+0.5)-0.5)
		i0 := int(x)
		i1 := min(i0+1, frames-1)
		l1 := x - float64(i0)
		l0 := 1 - l1
		for m := range mels {
			row := src[m*frames : (m+1)*frames]
			dst[m*steps+j] = l0*row[i0] + l1*row[i1]
		}
	}
	return dst
}

// Features returns the features of waveform x: Normalized, then
// Interpolate by the frontend's upsample factor.
func (f *Frontend) Features(x []float64) (*Sequence, error) {
	lm, err := f.Normalized(f.mel, x)
	if err != nil {
		return nil, err
	}
	f.mel = lm
	return f.upsampled(lm), nil
}

func (f *Frontend) upsampled(lm []float64) *Sequence {
	mels := f.Mels()
	frames := len(lm) / mels
	return &Sequence{Mels: mels, Steps: frames * f.upsample, X: Interpolate(nil, lm, mels, frames, f.upsample)}
}

// gscPool holds speech frontends for ClipFeatures.
var gscPool = sync.Pool{New: func() any { return NewGSCFrontend() }}

// ClipFeatures returns the speech experiment's features of a waveform
// (16 kHz, int16/32768 for a PCM16 file) under augmentation a (nil: none;
// noise is the recording a.Noise names): Augment, then the GSC frontend's
// Features.
func ClipFeatures(clip, noise []float64, a *Augmentation) (*Sequence, error) {
	x := clip
	if a != nil {
		var err error
		if x, err = Augment(clip, noise, *a); err != nil {
			return nil, err
		}
	}
	f := gscPool.Get().(*Frontend)
	defer gscPool.Put(f)
	return f.Features(x)
}
