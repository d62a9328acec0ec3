package mnist1d

import (
	"math"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/errs"
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

// Validate checks the arguments, naming the argument (as the mnist1d
// package spells it) and its value, and refuses a dataset whose arrays
// would need more memory than gle.MemoryLimit (ErrTooLarge).
func (a *Args) Validate() error {
	bad := func(field string, v any, format string, args ...any) error {
		return errs.Field(errs.ErrInvalid, "mnist1d."+field, v, format, args...)
	}
	// One if per argument (not a switch): coverage tools see the
	// conditions as covered code, so mutation testing exercises them.
	if a.NumSamples < 10 || a.NumSamples > maxSize {
		return bad("num_samples", a.NumSamples, "want 10…%d (one per class at least)", maxSize)
	}
	if !(a.TrainSplit > 0 && a.TrainSplit < 1) {
		return bad("train_split", a.TrainSplit, "want in (0, 1)")
	}
	if a.TemplateLen != 12 {
		return bad("template_len", a.TemplateLen, "the templates have 12 points")
	}
	if a.Padding[0] < 0 || a.Padding[1] < a.Padding[0] || a.Padding[1] > maxSize {
		return bad("padding", a.Padding, "want 0 ≤ low ≤ high ≤ %d", maxSize)
	}
	if a.MaxTranslation < 1 || a.MaxTranslation > a.TemplateLen+a.Padding[1] {
		return bad("max_translation", a.MaxTranslation, "want 1…%d", a.TemplateLen+a.Padding[1])
	}
	if a.FinalSeqLength < 2 || a.FinalSeqLength > maxSize {
		return bad("final_seq_length", a.FinalSeqLength, "want 2…%d", maxSize)
	}
	for _, v := range []struct {
		name  string
		value float64
	}{{"scale_coeff", a.ScaleCoeff}, {"corr_noise_scale", a.CorrNoiseScale}, {"iid_noise_scale", a.IIDNoiseScale}, {"shear_scale", a.ShearScale}} {
		if math.IsNaN(v.value) || math.IsInf(v.value, 0) {
			return errs.Field(errs.ErrNonFinite, "mnist1d."+v.name, v.value, "must be finite")
		}
	}
	return gle.CheckMemory("mnist1d.num_samples", a.NumSamples, a.Bytes())
}

// maxSize bounds every count and length of Args (2²⁴), so that their
// products stay far from overflow; memory is checked separately.
const maxSize = 1 << 24

// Bytes estimates the memory Generate needs: the samples twice (generated,
// then permuted) and each sample's working arrays.
func (a *Args) Bytes() float64 {
	return 8 * (2*float64(a.NumSamples)*float64(a.FinalSeqLength+1) + 8*float64(a.TemplateLen+a.Padding[1]+a.FinalSeqLength))
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
