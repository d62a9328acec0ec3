package mnist1d

import (
	"fmt"
	"math"

	"github.com/gle-go/gle/internal/numpyx"
)

// Args are the generator's arguments, named as in the mnist1d package.
type Args struct {
	NumSamples     int
	TrainSplit     float64
	TemplateLen    int
	Padding        [2]int
	ScaleCoeff     float64
	MaxTranslation int
	CorrNoiseScale float64
	IIDNoiseScale  float64
	ShearScale     float64
	FinalSeqLength int
	Seed           uint32
}

// DefaultArgs returns the canonical arguments (final_seq_length 40,
// seed 42).
func DefaultArgs() Args {
	return Args{
		NumSamples: 5000, TrainSplit: 0.8, TemplateLen: 12, Padding: [2]int{36, 60},
		ScaleCoeff: 0.4, MaxTranslation: 48, CorrNoiseScale: 0.25, IIDNoiseScale: 2e-2,
		ShearScale: 0.75, FinalSeqLength: 40, Seed: 42,
	}
}

// Validate checks the arguments.
func (a *Args) Validate() error {
	switch {
	case a.NumSamples < 10:
		return fmt.Errorf("mnist1d: num_samples = %d, want ≥ 10 (one per class at least)", a.NumSamples)
	case !(a.TrainSplit > 0 && a.TrainSplit < 1):
		return fmt.Errorf("mnist1d: train_split = %g, want in (0, 1)", a.TrainSplit)
	case a.TemplateLen != 12:
		return fmt.Errorf("mnist1d: template_len = %d, the templates have 12 points", a.TemplateLen)
	case a.Padding[0] < 0 || a.Padding[1] < a.Padding[0]:
		return fmt.Errorf("mnist1d: padding = %v, want 0 ≤ low ≤ high", a.Padding)
	case a.MaxTranslation < 1 || a.MaxTranslation > a.TemplateLen+a.Padding[1]:
		return fmt.Errorf("mnist1d: max_translation = %d, want 1…%d", a.MaxTranslation, a.TemplateLen+a.Padding[1])
	case a.FinalSeqLength < 2:
		return fmt.Errorf("mnist1d: final_seq_length = %d, want ≥ 2", a.FinalSeqLength)
	}
	for _, v := range []float64{a.ScaleCoeff, a.CorrNoiseScale, a.IIDNoiseScale, a.ShearScale} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("mnist1d: scale arguments must be finite, have %v", v)
		}
	}
	return nil
}

// Dataset is a generated MNIST-1D dataset. X and XTest are row-major,
// one sample of FinalSeqLength values per row.
type Dataset struct {
	X, XTest          []float64
	Y, YTest          []int
	T                 []float64 // the time axis, FinalSeqLength values
	TemplatesX        []float64 // 10 × 12
	TemplatesT        []float64 // 12
	Length            int       // values per sample
	NumTrain, NumTest int
}

// Templates returns the ten whitened templates (10 × 12, row-major) and
// their time axis.
func Templates() (x, t []float64) {
	raw := [10][12]float64{
		{5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5},
		{5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5},
		{5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5},
		{5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5},
		{5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5},
		{5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5},
		{5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5},
		{5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5},
		{5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5},
		{5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5},
	}
	x = make([]float64, 0, 120)
	for _, row := range raw {
		r := row[:]
		mean, _ := meanStd(r)
		for i := range r {
			r[i] -= mean
		}
		_, std := meanStd(r)
		for i := range r {
			r[i] /= std
		}
		first := r[0]
		for i := range r {
			r[i] = (r[i] - first) / 6
		}
		x = append(x, r...)
	}
	t = numpyx.Linspace(-5, 5, 12)
	for i := range t {
		t[i] /= 6
	}
	return x, t
}

// Generate makes the dataset.
func Generate(a Args) (*Dataset, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	tx, tt := Templates()
	rng := NewMT19937(a.Seed)
	perClass := a.NumSamples / 10
	n, L := perClass*10, a.FinalSeqLength
	xs := make([]float64, 0, n*L)
	ys := make([]int, 0, n)
	var newT []float64
	for label := range 10 {
		for range perClass {
			x, t := transform(rng, tx[label*12:(label+1)*12], tt, &a)
			xs = append(xs, x...)
			ys = append(ys, label)
			newT = t
		}
	}
	perm := rng.Permutation(n)
	px := make([]float64, n*L)
	py := make([]int, n)
	for i, p := range perm {
		copy(px[i*L:(i+1)*L], xs[p*L:(p+1)*L])
		py[i] = ys[p]
	}
	mean, std := meanStd(px)
	for i := range newT {
		newT[i] /= std
	}
	for i := range px {
		px[i] = (px[i] - mean) / std
	}
	split := int(float64(n) * a.TrainSplit)
	return &Dataset{
		X: px[:split*L], XTest: px[split*L:], Y: py[:split], YTest: py[split:],
		T: newT, TemplatesX: tx, TemplatesT: tt, Length: L, NumTrain: split, NumTest: n - split,
	}, nil
}

// transform makes one sample from template x with time axis t.
func transform(rng *MT19937, x, t []float64, a *Args) (newX, newT []float64) {
	const eps = 1e-8
	lo, hi := a.Padding[0], a.Padding[1]
	p := lo + int(rng.Float64()*float64(hi-lo+1)) // pad
	padded := make([]float64, len(x)+p)
	for i, v := range x {
		padded[i] = v + eps
	}
	L := a.TemplateLen + hi
	newX = interpolate(padded, L) // dilate
	newT = interpolate(t, L)
	scale := 1 + a.ScaleCoeff*(rng.Float64()-0.5) // scale
	for i := range newX {
		newX[i] *= scale
	}
	k := rng.IntN(a.MaxTranslation) // translate: roll right by k
	rolled := make([]float64, L)
	for i := range newX {
		rolled[(i+k)%L] = newX[i]
	}
	newX = rolled
	noise := make([]float64, L) // correlated noise in the padding
	for i := range noise {
		noise[i] = a.CorrNoiseScale * rng.Gauss()
	}
	noise = gaussianFilter(noise, 2)
	for i, v := range newX {
		if v == 0 {
			newX[i] = noise[i]
		}
	}
	for i := range newX { // i.i.d. noise
		newX[i] += a.IIDNoiseScale * rng.Gauss()
	}
	coeff := a.ShearScale * (rng.Float64() - 0.5) // shear
	ramp := numpyx.Linspace(-0.5, 0.5, L)
	for i := range newX {
		newX[i] -= coeff * ramp[i]
	}
	return interpolate(newX, a.FinalSeqLength), interpolate(newT, a.FinalSeqLength)
}
