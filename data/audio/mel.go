package audio

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/errs"
	"github.com/gle-go/gle/internal/numpyx"
)

// MelParams configure the log-mel spectrogram. The zero values of FMax
// means SampleRate/2.
type MelParams struct {
	SampleRate int
	NFFT       int // FFT size and window length
	Hop        int
	NMels      int
	FMin, FMax float64
}

// GSCMel returns the speech experiment's frontend: 32 bands, FFT 1024,
// hop 400 at 16 kHz (40 frames per second).
func GSCMel() MelParams {
	return MelParams{SampleRate: 16000, NFFT: 1024, Hop: 400, NMels: 32, FMin: 0, FMax: 8000}
}

// Validate checks the parameters, naming the parameter and its value.
func (p *MelParams) Validate() error {
	bad := func(field string, v any, format string, args ...any) error {
		return errs.Field(errs.ErrInvalid, "mel."+field, v, format, args...)
	}
	// One if per parameter (not a switch): coverage tools see the
	// conditions as covered code, so mutation testing exercises them.
	fmax := p.fmax()
	if p.SampleRate <= 0 || p.SampleRate > maxSize {
		return bad("sample_rate", p.SampleRate, "want 1…%d", maxSize)
	}
	if p.NFFT < 2 || p.NFFT%2 != 0 || p.NFFT > maxSize {
		return bad("n_fft", p.NFFT, "must be even and in 2…%d", maxSize)
	}
	if p.Hop <= 0 || p.Hop > maxSize {
		return bad("hop", p.Hop, "want 1…%d", maxSize)
	}
	if p.NMels <= 0 || p.NMels > maxSize {
		return bad("n_mels", p.NMels, "want 1…%d", maxSize)
	}
	if !(p.FMin >= 0 && p.FMin < fmax && fmax <= float64(p.SampleRate)/2) {
		return bad("f_min/f_max", fmt.Sprintf("%g/%g", p.FMin, fmax), "need 0 ≤ f_min < f_max ≤ sample_rate/2 = %g", float64(p.SampleRate)/2)
	}
	return nil
}

// maxSize bounds the sizes of MelParams (2²⁴), so that their products stay
// far from overflow; memory is checked separately (Bytes).
const maxSize = 1 << 24

// Bytes estimates the memory LogMel needs for n samples (TestMelBytes:
// within 25 % of what it allocates): the padded signal, the filterbank,
// the spectrogram and six n_fft-sized buffers (window, frame, spectrum,
// power, bin frequencies and the FFT's work space of 2 n_fft).
func (p *MelParams) Bytes(n int) float64 {
	return 8 * (float64(n+p.NFFT) + float64(p.NFFT/2+1)*float64(p.NMels) + float64(p.NMels)*float64(p.Frames(n)) + 6*float64(p.NFFT))
}

func (p *MelParams) fmax() float64 {
	if p.FMax == 0 {
		return float64(p.SampleRate) / 2
	}
	return p.FMax
}

// Frames returns the number of frames of a signal of n samples:
// 1 + n/hop with the centred padding.
func (p *MelParams) Frames(n int) int { return 1 + (n+2*(p.NFFT/2)-p.NFFT)/p.Hop }

func hzToMel(f float64) float64 { return 2595 * math.Log10(1+f/700) }
func melToHz(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }

// Filterbank returns the HTK-scale triangular filters, NFFT/2+1 × NMels
// (row per frequency bin), without area normalisation: n_mels + 2 points
// evenly spaced in mel from mel(f_min) to mel(f_max), triangles evaluated
// at the bin frequencies linspace(0, sr/2, n_fft/2 + 1) as
// max(0, min(rising, falling)).
func (p *MelParams) Filterbank() []float64 {
	nBins := p.NFFT/2 + 1
	freqs := numpyx.Linspace(0, float64(p.SampleRate)/2, nBins)
	mPts := numpyx.Linspace(hzToMel(p.FMin), hzToMel(p.fmax()), p.NMels+2)
	fPts := make([]float64, len(mPts))
	for i, m := range mPts {
		fPts[i] = melToHz(m)
	}
	fb := make([]float64, nBins*p.NMels)
	for b, f := range freqs {
		for m := range p.NMels {
			down := -(fPts[m] - f) / (fPts[m+1] - fPts[m])
			up := (fPts[m+2] - f) / (fPts[m+2] - fPts[m+1])
			fb[b*p.NMels+m] = math.Max(0, math.Min(down, up))
		}
	}
	return fb
}

// LogMel returns log2(mel + 1e-9) of the signal, NMels × frames
// (row-major): periodic Hann window of NFFT, power 2, frames centred by
// reflect-padding NFFT/2 on both sides, |rfft|² of each windowed frame,
// then the mel filterbank. It builds a MelPlan for the call; reuse one
// (NewMelPlan) to transform many signals.
func (p *MelParams) LogMel(x []float64) ([]float64, error) {
	q, err := NewMelPlan(*p)
	if err != nil {
		return nil, err
	}
	return q.LogMel(nil, x)
}

// MelPlan computes log-mel spectrograms of one parameter set with
// everything that depends only on the parameters precomputed (the
// window, the filterbank as each band's nonzero bins, the real FFT's
// twiddles) and its buffers reused, so that a call allocates nothing but
// a larger output or padding buffer than the last. The filterbank sums
// skip only exact zeros, so the result equals the dense product's. A
// plan is not safe for concurrent use: give each goroutine its own.
type MelPlan struct {
	p      MelParams
	window []float64
	// Band m sums weights[m] · power[lo[m] : lo[m]+len(weights[m])].
	lo      []int
	weights [][]float64
	ps      *powerSpectrum
	padded  []float64
	seg     []float64
	power   []float64
}

// NewMelPlan validates p and precomputes its plan.
func NewMelPlan(p MelParams) (*MelPlan, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := gle.CheckMemory("mel.n_mels", p.NMels, 8*(float64(p.NFFT/2+1)*float64(p.NMels)+6*float64(p.NFFT))); err != nil {
		return nil, err
	}
	q := &MelPlan{p: p, window: make([]float64, p.NFFT), seg: make([]float64, p.NFFT), power: make([]float64, p.NFFT/2+1),
		lo: make([]int, p.NMels), weights: make([][]float64, p.NMels), ps: newPowerSpectrum(p.NFFT)}
	for i := range q.window {
		q.window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(p.NFFT))
	}
	fb, nBins := p.Filterbank(), p.NFFT/2+1
	for m := range p.NMels {
		lo, hi := nBins, 0
		for b := range nBins {
			if fb[b*p.NMels+m] != 0 {
				lo, hi = min(lo, b), b+1
			}
		}
		if hi <= lo {
			lo, hi = 0, 0
		}
		q.lo[m] = lo
		q.weights[m] = make([]float64, hi-lo)
		for b := lo; b < hi; b++ {
			q.weights[m][b-lo] = fb[b*p.NMels+m]
		}
	}
	return q, nil
}

// Params returns the plan's parameters.
func (q *MelPlan) Params() MelParams { return q.p }

// LogMel writes log2(mel + 1e-9) of x to dst (reused when its capacity
// suffices) and returns it, NMels × frames row-major (MelParams.LogMel
// describes the computation).
func (q *MelPlan) LogMel(dst, x []float64) ([]float64, error) {
	p := &q.p
	half := p.NFFT / 2
	if len(x) <= half {
		return nil, errs.Field(errs.ErrShape, "samples", len(x), "reflect padding needs more than n_fft/2 = %d", half)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errs.Field(errs.ErrNonFinite, fmt.Sprintf("samples[%d]", i), v, "must be finite")
		}
	}
	frames := p.Frames(len(x))
	// The memory check reads the system's free memory: only a call that
	// needs larger buffers makes it.
	if cap(q.padded) < len(x)+2*half || cap(dst) < p.NMels*frames {
		if err := gle.CheckMemory("mel.n_mels", p.NMels, p.Bytes(len(x))); err != nil {
			return nil, err
		}
	}
	if need := len(x) + 2*half; cap(q.padded) < need {
		q.padded = make([]float64, need)
	}
	padded := q.padded[:len(x)+2*half]
	copy(padded[half:], x)
	for i := range half { // reflect: x[half−i] … x[1] | x | x[n−2] …
		padded[half-1-i] = x[i+1]
		padded[half+len(x)+i] = x[len(x)-2-i]
	}
	if cap(dst) < p.NMels*frames {
		dst = make([]float64, p.NMels*frames)
	}
	out := dst[:p.NMels*frames]
	for f := range frames {
		q.frame(out[f:], frames, padded[f*p.Hop:f*p.Hop+p.NFFT])
	}
	return out, nil
}

// Frame writes the log-mel of one frame — NFFT samples, windowed here —
// to dst (NMels values): a column of LogMel, for streams that arrive a
// frame at a time.
func (q *MelPlan) Frame(dst, samples []float64) error {
	if len(samples) != q.p.NFFT || len(dst) != q.p.NMels {
		return errs.Field(errs.ErrShape, "frame", fmt.Sprintf("%d samples, %d outputs", len(samples), len(dst)), "want n_fft = %d samples and n_mels = %d outputs", q.p.NFFT, q.p.NMels)
	}
	q.frame(dst, 1, samples)
	return nil
}

// frame writes log2(mel + 1e-9) of the windowed samples to dst[m·stride]
// for every band m.
func (q *MelPlan) frame(dst []float64, stride int, samples []float64) {
	seg, power := q.seg, q.power
	for i, w := range q.window {
		seg[i] = samples[i] * w
	}
	q.ps.compute(power, seg)
	for m, w := range q.weights {
		var s float64
		for b, pw := range power[q.lo[m] : q.lo[m]+len(w)] {
			s += w[b] * pw
		}
		dst[m*stride] = math.Log2(s + 1e-9)
	}
}
