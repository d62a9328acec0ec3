package speech

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/npy"
)

// The older pipeline, kept for expt.RunSpeech: every clip padded or
// cropped to 1 s, the first frames of its log-mel, normalised band by
// band over the training set, cached on disk. The reference's pipeline
// is Dataset.Features.

// ClipSamples is the length of a 1-s clip at 16 kHz (the silence clip's
// length, and the older pipeline's padded length).
const ClipSamples = 16000

// Samples returns the clip's waveform padded with zeros or cropped to
// 1 s (the older pipeline; Dataset.Waveform is the reference's unpadded
// one). The files must be 16 kHz.
func (c Clip) Samples() ([]float64, error) {
	x, err := c.waveform()
	if err != nil {
		return nil, err
	}
	out := make([]float64, ClipSamples)
	copy(out, x)
	return out, nil
}

// Features are log-mel features of clips, frame-major: X[(i·Frames + f)·Bands + b].
type Features struct {
	N, Frames, Bands int
	X                []float64
	Y                []int
}

// Frame returns clip i's frame f (Bands values), aliasing X.
func (f *Features) Frame(i, fr int) []float64 {
	off := (i*f.Frames + fr) * f.Bands
	return f.X[off : off+f.Bands]
}

// Featurize computes log-mel features (the first `frames` frames of p's
// spectrogram of each 1-s clip). With a cache folder, the features are
// stored there under a name that hashes the clips and the parameters, and
// read back instead of recomputed next time.
func Featurize(clips []Clip, p audio.MelParams, frames int, cacheDir string) (*Features, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if max := p.Frames(ClipSamples); frames <= 0 || frames > max {
		return nil, fmt.Errorf("speech: %d frames requested, a 1-s clip has %d", frames, max)
	}
	var cache string
	if cacheDir != "" {
		h := sha1.New()
		fmt.Fprintf(h, "%+v %d\n", p, frames)
		for _, c := range clips {
			fmt.Fprintf(h, "%s %d %s %d %v\n", c.Path, c.Label, c.Noise, c.Offset, c.Volume)
		}
		cache = filepath.Join(cacheDir, "features-"+hex.EncodeToString(h.Sum(nil))[:16]+".npz")
		if f, err := readCache(cache, len(clips), frames, p.NMels); err == nil {
			return f, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("speech: feature cache: %w (delete it to recompute)", err)
		}
	}
	f := &Features{N: len(clips), Frames: frames, Bands: p.NMels, X: make([]float64, len(clips)*frames*p.NMels), Y: make([]int, len(clips))}
	all := p.Frames(ClipSamples)
	for i, c := range clips {
		x, err := c.Samples()
		if err != nil {
			return nil, err
		}
		m, err := p.LogMel(x) // NMels × all frames
		if err != nil {
			return nil, err
		}
		for fr := range frames {
			dst := f.Frame(i, fr)
			for b := range p.NMels {
				dst[b] = m[b*all+fr]
			}
		}
		f.Y[i] = c.Label
	}
	if cache != "" {
		if err := os.MkdirAll(cacheDir, 0o755); err != nil {
			return nil, err
		}
		y := make([]int64, len(f.Y))
		for i, v := range f.Y {
			y[i] = int64(v)
		}
		if err := npy.WriteNPZ(cache,
			npy.Named{Name: "x", Array: &npy.Array{Shape: []int{f.N, frames, p.NMels}, Float: f.X}},
			npy.Named{Name: "y", Array: &npy.Array{Shape: []int{f.N}, Int: y}}); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func readCache(path string, n, frames, bands int) (*Features, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	arrs, err := npy.ReadNPZ(path, gle.MemoryLimit())
	if err != nil {
		return nil, err
	}
	x, y := arrs["x"], arrs["y"]
	if x == nil || y == nil || len(x.Shape) != 3 || x.Shape[0] != n || x.Shape[1] != frames || x.Shape[2] != bands || y.Len() != n {
		return nil, fmt.Errorf("%s does not hold %d×%d×%d features", path, n, frames, bands)
	}
	labels, err := y.Int64s()
	if err != nil {
		return nil, err
	}
	f := &Features{N: n, Frames: frames, Bands: bands, X: x.Float64s(), Y: make([]int, n)}
	for i, v := range labels {
		f.Y[i] = int(v)
	}
	return f, nil
}

// Norm standardises features band by band.
type Norm struct {
	Mean, Std []float64
}

// FitNorm returns the per-band mean and standard deviation of f.
func FitNorm(f *Features) Norm {
	n := Norm{Mean: make([]float64, f.Bands), Std: make([]float64, f.Bands)}
	count := float64(f.N * f.Frames)
	for i := range f.N * f.Frames {
		for b, v := range f.X[i*f.Bands : (i+1)*f.Bands] {
			n.Mean[b] += v
		}
	}
	for b := range n.Mean {
		n.Mean[b] /= count
	}
	for i := range f.N * f.Frames {
		for b, v := range f.X[i*f.Bands : (i+1)*f.Bands] {
			d := v - n.Mean[b]
			n.Std[b] += d * d
		}
	}
	for b := range n.Std {
		n.Std[b] = math.Max(math.Sqrt(n.Std[b]/count), 1e-6)
	}
	return n
}

// Apply standardises f in place.
func (n Norm) Apply(f *Features) {
	for i := range f.N * f.Frames {
		row := f.X[i*f.Bands : (i+1)*f.Bands]
		for b := range row {
			row[b] = (row[b] - n.Mean[b]) / n.Std[b]
		}
	}
}
