package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// file builds a safetensors file from a header and a body by hand.
func file(t *testing.T, header string, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(body)
	return b.Bytes()
}

// TestEncodedLayout: the data starts 8-byte aligned (the header padded
// with spaces, as the reference writer does), no metadata key without
// metadata, and an empty file round-trips.
func TestEncodedLayout(t *testing.T) {
	for _, ts := range []map[string]Tensor{
		{},
		{"w": {Shape: []int{3}, Data: []float64{1, 2, 3}}},
		{"a": {Shape: []int{1}, Data: []float64{1}}, "bb": {Shape: []int{2, 1}, Data: []float64{2, 3}}},
	} {
		b, err := EncodeSafetensors(ts, nil)
		if err != nil {
			t.Fatal(err)
		}
		hl := binary.LittleEndian.Uint64(b)
		if hl%8 != 0 {
			t.Errorf("%d tensors: header of %d bytes: the data is not 8-byte aligned", len(ts), hl)
		}
		var h map[string]any
		if err := json.Unmarshal(b[8:8+hl], &h); err != nil {
			t.Fatal(err)
		}
		if _, ok := h["__metadata__"]; ok {
			t.Errorf("%d tensors, no metadata: the header has __metadata__: %s", len(ts), b[8:8+hl])
		}
		back, err := DecodeSafetensors(b)
		if err != nil {
			t.Fatalf("%d tensors: %v", len(ts), err)
		}
		if len(back) != len(ts) || (len(ts) > 0 && !reflect.DeepEqual(back, ts)) {
			t.Errorf("round trip: %v, want %v", back, ts)
		}
	}
}

// TestDecodeHandMade: files written by other writers — F32 data,
// zero-size tensors — decode; truncated, overflowing and misplaced ones
// are refused with ErrFormat, never a panic.
func TestDecodeHandMade(t *testing.T) {
	f32 := make([]byte, 8)
	binary.LittleEndian.PutUint32(f32, math.Float32bits(1.5))
	binary.LittleEndian.PutUint32(f32[4:], math.Float32bits(-2))
	got, err := DecodeSafetensors(file(t, `{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32))
	if err != nil || !reflect.DeepEqual(got["x"], Tensor{Shape: []int{2}, Data: []float64{1.5, -2}}) {
		t.Errorf("F32 tensor: %v, %v; want [1.5 -2]", got, err)
	}
	got, err = DecodeSafetensors(file(t, `{"e":{"dtype":"F64","shape":[0],"data_offsets":[0,0]},"m":{"dtype":"F64","shape":[2,0],"data_offsets":[0,0]}}`, nil))
	if err != nil || len(got["e"].Data) != 0 || !reflect.DeepEqual(got["m"].Shape, []int{2, 0}) {
		t.Errorf("zero-size tensors: %v, %v", got, err)
	}
	for name, data := range map[string][]byte{
		"7 bytes":                 make([]byte, 7),
		"header past the end":     {4, 0, 0, 0, 0, 0, 0, 0, '{', '}'},
		"shape overflowing int":   file(t, `{"x":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil),
		"negative dimension":      file(t, `{"x":{"dtype":"F64","shape":[-1],"data_offsets":[0,0]}}`, nil),
		"offsets past the data":   file(t, `{"x":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, nil),
		"offsets the wrong size":  file(t, `{"x":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 16)),
		"end before the start":    file(t, `{"x":{"dtype":"F64","shape":[0],"data_offsets":[8,0]}}`, make([]byte, 8)),
		"another dtype":           file(t, `{"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		"not JSON":                file(t, `{"x":`, nil),
		"metadata not of strings": file(t, `{"__metadata__":{"a":1}}`, nil),
	} {
		if _, err := DecodeSafetensors(data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// TestLoadSpecBothKinds: LoadSpec reads a saved network's spec (its
// structure and parameters) and a spec file, and names a missing file.
func TestLoadSpecBothKinds(t *testing.T) {
	n, s := testNet(t, 4)
	dir := t.TempDir()
	path := filepath.Join(dir, "net.safetensors")
	if err := Save(path, n, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := n.ToSpec(s); !reflect.DeepEqual(got, want) {
		t.Errorf("LoadSpec of a saved network: %+v, want %+v", got, want)
	}
	js := filepath.Join(dir, "net.json")
	if err := os.WriteFile(js, []byte(`{"dt": 0.1, "layers": [{"in": 2, "out": 1, "tau_m": 1, "tau_r": 1}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if sp, err := LoadSpec(js); err != nil || sp.Dt != 0.1 || len(sp.Layers) != 1 {
		t.Errorf("LoadSpec of a spec file: %+v, %v", sp, err)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	if _, err := LoadSpec(missing); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want a not-exist error", err)
	}
}
