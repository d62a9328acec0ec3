package data

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/npy"
)

func TestLoadLayouts(t *testing.T) {
	dir := t.TempDir()
	// Batch-major 2-D x: 2 samples × 3 steps, one feature; CE labels per sample.
	bm := filepath.Join(dir, "bm.npz")
	if err := npy.WriteNPZ(bm,
		npy.Named{Name: "x", Array: &npy.Array{Shape: []int{2, 3}, Float: []float64{1, 2, 3, 4, 5, 6}}},
		npy.Named{Name: "y", Array: &npy.Array{Shape: []int{2}, Int: []int64{1, 0}}}); err != nil {
		t.Fatal(err)
	}
	s, err := Load(bm, BatchMajor, gle.CE, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps != 3 || s.Batch != 2 || !slices.Equal(s.X, []float64{1, 4, 2, 5, 3, 6}) {
		t.Errorf("batch-major: %d steps %d batch X %v", s.Steps, s.Batch, s.X)
	}
	if !slices.Equal(s.Frame(2), []float64{3, 6}) || !slices.Equal(s.Targets[2].Classes, []int{1, 0}) {
		t.Errorf("frame 2 %v, labels %v", s.Frame(2), s.Targets[2].Classes)
	}
	// Time-major JSON with MSE targets.
	js := filepath.Join(dir, "d.json")
	os.WriteFile(js, []byte(`{"x": [[[1],[2]],[[3],[4]]], "y": [[[0.5],[0.25]],[[1],[2]]]}`), 0o644)
	s, err = Load(js, TimeMajor, gle.MSE, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps != 2 || s.Batch != 2 || !slices.Equal(s.Targets[1].Values, []float64{1, 2}) {
		t.Errorf("json: %+v", s)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	nan := filepath.Join(dir, "nan.npy")
	npy.WriteFile(nan, &npy.Array{Shape: []int{2, 1, 1}, Float: []float64{0, 0 / zero()}})
	for _, tc := range []struct {
		name, path string
		loss       gle.Loss
		want       error
	}{
		{"ragged", write("r.json", `{"x": [[[1],[2]],[[3]]]}`), gle.MSE, gle.ErrShape},
		{"no x", write("nx.json", `{"y": [1]}`), gle.MSE, gle.ErrShape},
		{"features", write("f.json", `{"x": [[[1,2]]]}`), gle.MSE, gle.ErrShape},
		{"label range", write("l.json", `{"x": [[[1]]], "y": [5]}`), gle.CE, gle.ErrInvalid},
		{"fraction label", write("fl.json", `{"x": [[[1]]], "y": [0.5]}`), gle.CE, npy.ErrFormat},
		{"targets without loss", write("t.json", `{"x": [[[1]]], "y": [[[1]]]}`), gle.NoLoss, gle.ErrInvalid},
		{"NaN", nan, gle.MSE, gle.ErrNonFinite},
		{"truncated npz", write("t.npz", "PK\x03\x04garbage"), gle.MSE, npy.ErrFormat},
	} {
		_, err := Load(tc.path, TimeMajor, tc.loss, 1, 2)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func zero() float64 { return 0 }
