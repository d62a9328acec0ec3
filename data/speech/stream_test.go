package speech

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gle-go/gle/data/audio"
)

// TestStreamMatchesClipFeatures: fed a 1-s clip in pieces of any size,
// the stream's steps are the clip's log-mel frames, each normalised by
// the statistics of the frames up to it (computed here directly: the
// mean and population variance of every value of frames 0…f), then
// interpolated as Interpolate does — as far as the stream has emitted.
func TestStreamMatchesClipFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, ClipSamples)
	for i := range x {
		x[i] = 0.3*math.Sin(2*math.Pi*440*float64(i)/16000)*math.Exp(-float64(i)/8000) + 0.01*rng.NormFloat64()
	}
	p := audio.GSCMel()
	lm, err := p.LogMel(x)
	if err != nil {
		t.Fatal(err)
	}
	M, frames := p.NMels, p.Frames(len(x))
	// Causal normalisation, frame by frame, from all values so far.
	norm := make([]float64, M*frames)
	var sum, sq, n float64
	for f := range frames {
		for m := range M {
			v := lm[m*frames+f]
			sum, sq, n = sum+v, sq+v*v, n+1
		}
		mean := sum / n
		std := math.Sqrt(sq/n - mean*mean)
		for m := range M {
			norm[m*frames+f] = (lm[m*frames+f] - mean) / std
		}
	}
	// The stream sees the clip without its end: the frames whose window
	// reaches past the last sample are the clip's reflected end.
	want := Interpolate(nil, norm, M, frames, Upsample)
	for _, piece := range []int{1, 160, 400, 1023, 16000} {
		s, err := NewStream(1000) // the window holds every frame: plain averages
		if err != nil {
			t.Fatal(err)
		}
		var got [][]float64
		for i := 0; i < len(x); i += piece {
			if err := s.Push(x[i:min(i+piece, len(x))], func(step []float64) { got = append(got, append([]float64(nil), step...)) }); err != nil {
				t.Fatal(err)
			}
		}
		if len(got) != s.Steps() || len(got) < 700 {
			t.Fatalf("piece %d: %d steps emitted, Steps() = %d", piece, len(got), s.Steps())
		}
		var worst float64
		for j, step := range got {
			for m, v := range step {
				worst = max(worst, math.Abs(v-want[m*frames*Upsample+j]))
			}
		}
		if !(worst <= 1e-12) { // NaN fails too
			t.Errorf("piece %d: steps differ from the clip's by up to %g", piece, worst)
		}
	}
}

// TestStreamFollowsLevel: after the window, the running normalisation
// forgets: a stream whose level drops tenfold (a shift of log2 10 of
// every log-mel value) has, seven windows later, the mean and spread of
// features it had at the first level.
func TestStreamFollowsLevel(t *testing.T) {
	s, err := NewStream(DefaultStreamWindow)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var first, last []float64
	for sec := range 9 {
		amp := 0.5
		if sec >= 2 {
			amp = 0.05
		}
		x := make([]float64, 16000)
		for i := range x {
			x[i] = amp * rng.NormFloat64()
		}
		last = last[:0]
		s.Push(x, func(step []float64) { last = append(last, step...) })
		if sec == 1 {
			first = append(first, last...)
		}
	}
	stats := func(x []float64) (mean, std float64) {
		var sq float64
		for _, v := range x {
			mean += v
			sq += v * v
		}
		mean /= float64(len(x))
		return mean, math.Sqrt(sq/float64(len(x)) - mean*mean)
	}
	m0, s0 := stats(first)
	m1, s1 := stats(last)
	if !(math.Abs(m1-m0) <= 0.05 && math.Abs(s1/s0-1) <= 0.05) { // NaN fails too
		t.Errorf("7 s after a level change: mean %.3f, std %.3f; at the first level %.3f, %.3f", m1, s1, m0, s0)
	}
	if err := s.Push([]float64{math.NaN()}, func([]float64) {}); err == nil {
		t.Error("a NaN sample was accepted")
	}
}
