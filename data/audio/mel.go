package audio

import (
	"fmt"
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/dsp/fourier"

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
// then the mel filterbank.
func (p *MelParams) LogMel(x []float64) ([]float64, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	half := p.NFFT / 2
	if len(x) <= half {
		return nil, errs.Field(errs.ErrShape, "samples", len(x), "reflect padding needs more than n_fft/2 = %d", half)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errs.Field(errs.ErrNonFinite, fmt.Sprintf("samples[%d]", i), v, "must be finite")
		}
	}
	if err := gle.CheckMemory("mel.n_mels", p.NMels, p.Bytes(len(x))); err != nil {
		return nil, err
	}
	padded := make([]float64, len(x)+2*half)
	copy(padded[half:], x)
	for i := range half { // reflect: x[half−i] … x[1] | x | x[n−2] …
		padded[half-1-i] = x[i+1]
		padded[half+len(x)+i] = x[len(x)-2-i]
	}
	window := make([]float64, p.NFFT)
	for i := range window {
		window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(p.NFFT))
	}
	fb := p.Filterbank()
	nBins, frames := half+1, p.Frames(len(x))
	fft := fourier.NewFFT(p.NFFT)
	seg := make([]float64, p.NFFT)
	coef := make([]complex128, nBins)
	power := make([]float64, nBins)
	out := make([]float64, p.NMels*frames)
	for f := range frames {
		for i := range seg {
			seg[i] = padded[f*p.Hop+i] * window[i]
		}
		fft.Coefficients(coef, seg)
		for b, c := range coef {
			a := cmplx.Abs(c)
			power[b] = a * a
		}
		for m := range p.NMels {
			var s float64
			for b := range nBins {
				s += fb[b*p.NMels+m] * power[b]
			}
			out[m*frames+f] = math.Log2(s + 1e-9)
		}
	}
	return out, nil
}
