package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPowerSpectrum compares |rfft|² with a direct DFT (in float64,
// angles reduced exactly mod n) for the packed radix-2 path (powers of
// two) and the fallback (other even sizes), to 1e-12 of the spectrum's
// largest value.
func TestPowerSpectrum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{4, 8, 16, 64, 1024, 2, 6, 400} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		got := make([]float64, n/2+1)
		newPowerSpectrum(n).compute(got, x)
		var worst, peak float64
		for k := range n/2 + 1 {
			var re, im float64
			for j, v := range x {
				a := 2 * math.Pi * float64(j*k%n) / float64(n)
				re += v * math.Cos(a)
				im -= v * math.Sin(a)
			}
			want := re*re + im*im
			peak = math.Max(peak, want)
			worst = math.Max(worst, math.Abs(got[k]-want))
		}
		if !(worst <= 1e-12*peak) { // NaN fails too
			t.Errorf("n = %d: max error %.3g of a peak %.3g", n, worst, peak)
		}
	}
}

// BenchmarkLogMelGSC is one 1-s clip through the speech frontend's
// log-mel (n_fft 1024, hop 400, 32 bands: 41 frames) with a reused plan.
func BenchmarkLogMelGSC(b *testing.B) {
	q, err := NewMelPlan(GSCMel())
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float64, 16000)
	for i := range x {
		x[i] = math.Sin(float64(i) * 0.05)
	}
	var out []float64
	b.ReportAllocs()
	for b.Loop() {
		out, _ = q.LogMel(out, x)
	}
}
