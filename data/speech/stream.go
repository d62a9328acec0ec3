package speech

import (
	"fmt"
	"math"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/internal/errs"
)

// Stream is the frontend of a continuous audio stream: the features
// training saw on clips (SPEC §9: log-mel, normalised, ×Upsample linear
// interpolation), computed frame by frame as samples arrive, in constant
// memory whatever the stream's length.
//
//   - Frames: frame f covers the samples [f·hop − n_fft/2, f·hop +
//     n_fft/2), as in a clip (the stream's first half window reflected, as
//     a clip's is); it is computed once its last sample has arrived, so
//     features lag the sound by n_fft/2 samples (32 ms).
//   - Normalisation: a clip is normalised over all its values, which a
//     stream cannot wait for. The stream normalises each frame with a
//     running mean and variance of the frame values: the plain average of
//     every frame so far over the first Window frames — exactly a clip's
//     statistics when the stream is a clip of that length — then an
//     exponential average with time constant Window frames (1 s by
//     default: a clip's span), so that level changes are followed.
//   - Interpolation: step j reads the source position (j + 0.5)/Upsample −
//     0.5 between frames ⌊·⌋ and ⌊·⌋ + 1, as Interpolate does; the steps
//     between frames f − 1 and f are emitted when frame f is ready, so the
//     steps lag the frames by half a frame.
type Stream struct {
	plan     *audio.MelPlan
	upsample int
	window   float64 // frames of the running normalisation

	buf      []float64 // samples not yet consumed, from the next frame's first
	n        int       // samples pushed
	frames   int       // frames computed
	mean, sq float64   // running mean of the frame values and of their squares
	lm       []float64 // this frame's log-mel
	prev     []float64 // the previous frame, normalised
	cur      []float64 // this frame, normalised
	step     []float64
	started  bool // the reflected start is in buf
}

// DefaultStreamWindow is the running normalisation's window: 40 frames,
// a 1-s clip's 41 frames less one.
const DefaultStreamWindow = 40

// NewStream returns the frontend of a stream with the speech
// experiment's parameters (audio.GSCMel, Upsample steps per frame) and a
// running normalisation over window frames.
func NewStream(window float64) (*Stream, error) {
	if !(window >= 1) || math.IsInf(window, 0) {
		return nil, errs.Field(errs.ErrInvalid, "normalisation window", window, "want at least one frame")
	}
	plan, err := audio.NewMelPlan(audio.GSCMel())
	if err != nil {
		return nil, err
	}
	m := plan.Params().NMels
	return &Stream{plan: plan, upsample: Upsample, window: window, lm: make([]float64, m), prev: make([]float64, m),
		cur: make([]float64, m), step: make([]float64, m)}, nil
}

// Mels returns the features per step.
func (s *Stream) Mels() int { return len(s.step) }

// Steps returns the feature steps emitted so far.
func (s *Stream) Steps() int {
	if s.frames == 0 {
		return 0
	}
	return s.upsample*s.frames - s.upsample/2
}

// Push feeds samples (16 kHz, int16/32768 for PCM16) and calls emit with
// every feature step (Mels values, valid during the call) they complete.
func (s *Stream) Push(samples []float64, emit func(step []float64)) error {
	p := s.plan.Params()
	half := p.NFFT / 2
	for i, v := range samples {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errs.Field(errs.ErrNonFinite, fmt.Sprintf("samples[%d]", s.n+i), v, "must be finite")
		}
	}
	s.n += len(samples)
	s.buf = append(s.buf, samples...)
	if !s.started {
		if len(s.buf) <= half {
			return nil
		}
		// The reflected start of a clip: x[half] … x[1] before x[0].
		pad := make([]float64, half, half+len(s.buf))
		for i := range half {
			pad[half-1-i] = s.buf[i+1]
		}
		s.buf, s.started = append(pad, s.buf...), true
	}
	for len(s.buf) >= p.NFFT {
		if err := s.plan.Frame(s.lm, s.buf[:p.NFFT]); err != nil {
			return err
		}
		s.normalise()
		s.emitFrame(emit)
		// Keep the samples from the next frame's first on (compacting).
		s.buf = s.buf[:copy(s.buf, s.buf[p.Hop:])]
	}
	return nil
}

// normalise updates the running statistics with this frame's values and
// writes the frame, normalised, to cur.
func (s *Stream) normalise() {
	var mean, sq float64
	for _, v := range s.lm {
		mean += v
		sq += v * v
	}
	mean /= float64(len(s.lm))
	sq /= float64(len(s.lm))
	a := max(1/float64(s.frames+1), 1/s.window)
	s.mean += a * (mean - s.mean)
	s.sq += a * (sq - s.sq)
	std := math.Sqrt(max(s.sq-s.mean*s.mean, 0))
	if std < 1e-6 {
		std = 1e-6 // a constant start (digital silence): no scale to take yet
	}
	for m, v := range s.lm {
		s.cur[m] = (v - s.mean) / std
	}
}

// emitFrame emits the steps that interpolate between the previous frame
// and this one (the first frame: the steps before its centre).
func (s *Stream) emitFrame(emit func([]float64)) {
	F := s.upsample
	f := s.frames
	s.frames++
	if f == 0 {
		for range F / 2 { // source positions below 0 read frame 0
			emit(s.cur)
		}
		copy(s.prev, s.cur)
		return
	}
	first := F*(f-1) + F/2 // the first step whose source position lies in [f−1, f)
	for j := first; j < first+F; j++ {
		x := (float64(j)+0.5)/float64(F) - 0.5
		l1 := x - float64(f-1)
		for m := range s.step {
			s.step[m] = (1-l1)*s.prev[m] + l1*s.cur[m]
		}
		emit(s.step)
	}
	copy(s.prev, s.cur)
}

// Reset starts a new stream.
func (s *Stream) Reset() {
	s.buf, s.n, s.frames, s.mean, s.sq, s.started = s.buf[:0], 0, 0, 0, 0, false
}
