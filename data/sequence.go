package data

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/npy"
)

// Sequence is a batch of time series in time-major order: frame t holds
// Batch samples of In values each.
type Sequence struct {
	Steps, Batch, In int
	X                []float64 // Steps × Batch × In
	// Targets has one entry per step; the zero Target means none.
	Targets []gle.Target
	// Labels holds each sample's class when the targets are one class
	// label per sample (CE labels of shape [batch]); nil otherwise.
	Labels []int
	// Outputs is the network outputs the targets were checked against.
	Outputs int
}

// A Sequence is a Source of Batch samples (its columns) of Steps steps
// each, in order: a run that takes the whole source as one batch, in
// order, feeds it exactly as it is.

// Len implements Source: the samples of the batch.
func (s *Sequence) Len() int { return s.Batch }

// Features implements Source.
func (s *Sequence) Features() int { return s.In }

// Sample implements Source: sample i's frames and targets.
func (s *Sequence) Sample(dst *Sample, i int, _ *rand.Rand) error {
	if i < 0 || i >= s.Batch {
		return &gle.FieldError{Field: "sample", Value: i, Why: fmt.Sprintf("want 0…%d", s.Batch-1), Err: gle.ErrInvalid}
	}
	dst.Steps = s.Steps
	dst.X = dst.X[:0]
	for t := range s.Steps {
		f := s.Frame(t)
		dst.X = append(dst.X, f[i*s.In:(i+1)*s.In]...)
	}
	switch tg := s.Targets[0]; {
	case s.Labels != nil:
		dst.Label = s.Labels[i]
	case tg.Classes != nil:
		for t := range s.Steps {
			dst.Labels = append(dst.Labels, s.Targets[t].Classes[i])
		}
	case tg.Values != nil:
		k := len(tg.Values) / s.Batch
		for t := range s.Steps {
			dst.Values = append(dst.Values, s.Targets[t].Values[i*k:(i+1)*k]...)
		}
	}
	return nil
}

// Label implements Labeler (for one label per sample; -1 otherwise).
func (s *Sequence) Label(i int) int {
	if s.Labels == nil {
		return -1
	}
	return s.Labels[i]
}

// Classes implements Labeler.
func (s *Sequence) Classes() int { return s.Outputs }

// Frame returns the inputs of step t (Batch × In), aliasing X.
func (s *Sequence) Frame(t int) []float64 {
	n := s.Batch * s.In
	return s.X[t*n : (t+1)*n]
}

// Frames returns the first n input frames (all of them when n ≤ 0 or
// n > Steps), sharing memory with the sequence.
func (s *Sequence) Frames(n int) [][]float64 {
	if n <= 0 || n > s.Steps {
		n = s.Steps
	}
	xs := make([][]float64, n)
	for t := range xs {
		xs[t] = s.Frame(t)
	}
	return xs
}

// Layout says how the arrays of a file are ordered.
type Layout int

const (
	// TimeMajor arrays are [steps][batch][features]; a 2-D array is
	// [steps][features] with one sample.
	TimeMajor Layout = iota
	// BatchMajor arrays are [batch][steps][features]; a 2-D array is
	// [batch][steps] with one feature.
	BatchMajor
)

// Load reads inputs x and optional targets y from a file: an .npz with
// arrays "x" and "y", an .npy with x alone, or a JSON object {"x", "y"}
// of nested lists. Targets are real values for loss MSE (same layout as
// x, with nOut features) and class indices for CE: either one label per
// sample for every step ([batch]) or one per step ([steps][batch], or
// [batch][steps] batch-major). Errors name the file and the array.
func Load(path string, layout Layout, loss gle.Loss, nIn, nOut int) (*Sequence, error) {
	x, y, err := readXY(path)
	if err != nil {
		if strings.Contains(err.Error(), path) {
			return nil, err // already names the file
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, err := build(x, y, layout, loss, nIn, nOut)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func readXY(path string) (x, y *npy.Array, err error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		arrs, err := npy.ReadNPZ(path, gle.MemoryLimit())
		if err != nil {
			return nil, nil, err
		}
		if arrs["x"] == nil {
			return nil, nil, fmt.Errorf("%w: no array named \"x\"", gle.ErrShape)
		}
		return arrs["x"], arrs["y"], nil
	case ".npy":
		x, err := npy.ReadFile(path, gle.MemoryLimit())
		return x, nil, err
	case ".json":
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		var obj struct {
			X json.RawMessage `json:"x"`
			Y json.RawMessage `json:"y"`
		}
		if err := json.Unmarshal(data, &obj); err != nil {
			return nil, nil, err
		}
		if obj.X == nil {
			return nil, nil, fmt.Errorf("%w: no field \"x\"", gle.ErrShape)
		}
		if x, err = nested(obj.X, "x"); err != nil {
			return nil, nil, err
		}
		if obj.Y != nil && string(obj.Y) != "null" {
			if y, err = nested(obj.Y, "y"); err != nil {
				return nil, nil, err
			}
		}
		return x, y, nil
	}
	return nil, nil, fmt.Errorf("unknown file type %q (want .npz, .npy or .json)", filepath.Ext(path))
}

// nested converts a JSON number or nested list into an array, checking
// that it is rectangular.
func nested(raw json.RawMessage, name string) (*npy.Array, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var shape []int
	for d := v; ; {
		l, ok := d.([]any)
		if !ok {
			break
		}
		shape = append(shape, len(l))
		if len(l) == 0 {
			break
		}
		d = l[0]
	}
	a := &npy.Array{Shape: shape, Float: []float64{}}
	var walk func(v any, depth int, at string) error
	walk = func(v any, depth int, at string) error {
		if depth == len(shape) {
			f, ok := v.(float64)
			if !ok {
				return fmt.Errorf("%w: %s%s is %T, want a number", gle.ErrShape, name, at, v)
			}
			a.Float = append(a.Float, f)
			return nil
		}
		l, ok := v.([]any)
		if !ok || len(l) != shape[depth] {
			return fmt.Errorf("%w: %s%s is not a list of %d (the array must be rectangular)", gle.ErrShape, name, at, shape[depth])
		}
		for i, e := range l {
			if err := walk(e, depth+1, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return a, walk(v, 0, "")
}

// build arranges x and y time-major and checks them.
func build(x, y *npy.Array, layout Layout, loss gle.Loss, nIn, nOut int) (*Sequence, error) {
	xs, steps, batch, err := timeMajor(x, layout, nIn, "x")
	if err != nil {
		return nil, err
	}
	if i := firstNonFinite(xs); i >= 0 {
		return nil, fmt.Errorf("%w: x element %d (flat, time-major) is %v", gle.ErrNonFinite, i, xs[i])
	}
	s := &Sequence{Steps: steps, Batch: batch, In: nIn, X: xs, Targets: make([]gle.Target, steps), Outputs: nOut}
	if y == nil {
		return s, nil
	}
	switch loss {
	case gle.MSE:
		ys, ySteps, yBatch, err := timeMajor(y, layout, nOut, "y")
		if err != nil {
			return nil, err
		}
		if ySteps != steps || yBatch != batch {
			return nil, fmt.Errorf("%w: y has %d steps × %d samples, x has %d × %d", gle.ErrShape, ySteps, yBatch, steps, batch)
		}
		if i := firstNonFinite(ys); i >= 0 {
			return nil, fmt.Errorf("%w: y element %d (flat, time-major) is %v", gle.ErrNonFinite, i, ys[i])
		}
		n := batch * nOut
		for t := range steps {
			s.Targets[t].Values = ys[t*n : (t+1)*n]
		}
	case gle.CE:
		labels, err := y.Int64s()
		if err != nil {
			return nil, fmt.Errorf("y: %w", err)
		}
		cls := make([]int, len(labels))
		for i, c := range labels {
			if c < 0 || c >= int64(nOut) {
				return nil, fmt.Errorf("%w: y label %d = %d, want 0 ≤ label < %d", gle.ErrInvalid, i, c, nOut)
			}
			cls[i] = int(c)
		}
		switch {
		case len(y.Shape) == 1 && y.Shape[0] == batch:
			for t := range steps {
				s.Targets[t].Classes = cls
			}
			s.Labels = cls
		case len(y.Shape) == 2 && layout == TimeMajor && y.Shape[0] == steps && y.Shape[1] == batch:
			for t := range steps {
				s.Targets[t].Classes = cls[t*batch : (t+1)*batch]
			}
		case len(y.Shape) == 2 && layout == BatchMajor && y.Shape[0] == batch && y.Shape[1] == steps:
			for t := range steps {
				c := make([]int, batch)
				for b := range batch {
					c[b] = cls[b*steps+t]
				}
				s.Targets[t].Classes = c
			}
		default:
			return nil, fmt.Errorf("%w: CE labels y have shape %v; want [%d] (per sample) or one per step and sample", gle.ErrShape, y.Shape, batch)
		}
	default:
		return nil, fmt.Errorf("%w: targets y given, but the spec's loss is %v", gle.ErrInvalid, loss)
	}
	return s, nil
}

// timeMajor returns a's values as steps × batch × features.
func timeMajor(a *npy.Array, layout Layout, features int, name string) ([]float64, int, int, error) {
	v := a.Float64s()
	sh := a.Shape
	var steps, batch, f int
	switch {
	case len(sh) == 3:
		steps, batch, f = sh[0], sh[1], sh[2]
		if layout == BatchMajor {
			steps, batch = sh[1], sh[0]
		}
	case len(sh) == 2 && layout == TimeMajor:
		steps, batch, f = sh[0], 1, sh[1]
	case len(sh) == 2 && layout == BatchMajor:
		steps, batch, f = sh[1], sh[0], 1
	default:
		return nil, 0, 0, fmt.Errorf("%w: %s has shape %v, want 3-D [steps][batch][features] (or 2-D, see the layout)", gle.ErrShape, name, sh)
	}
	if f != features {
		return nil, 0, 0, fmt.Errorf("%w: %s has %d features per frame (shape %v), the network wants %d", gle.ErrShape, name, f, sh, features)
	}
	if steps == 0 || batch == 0 {
		return nil, 0, 0, fmt.Errorf("%w: %s has shape %v: no steps or no samples", gle.ErrShape, name, sh)
	}
	if layout == TimeMajor {
		return v, steps, batch, nil
	}
	out := make([]float64, len(v))
	for b := range batch {
		for t := range steps {
			copy(out[(t*batch+b)*f:(t*batch+b+1)*f], v[(b*steps+t)*f:(b*steps+t+1)*f])
		}
	}
	return out, steps, batch, nil
}

func firstNonFinite(x []float64) int {
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return i
		}
	}
	return -1
}
