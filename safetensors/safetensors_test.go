package safetensors

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gle-go/gle"
)

func testNet(t *testing.T, seed uint64) (*gle.Network, *gle.Spec) {
	s := &gle.Spec{Dt: 0.1, Seed: seed, Layers: []gle.LayerSpec{
		{In: 3, Out: 4, Phi: gle.Tanh, TauM: gle.Taus{1}, TauR: gle.Taus{0.2}},
		{In: 4, Out: 2, TauM: gle.Taus{1}, TauR: gle.Taus{1}, Bias: gle.Bias{Disabled: true}},
	}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	return n, s
}

func TestSaveLoad(t *testing.T) {
	n, s := testNet(t, 1)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(path, n, s); err != nil {
		t.Fatal(err)
	}
	other, _ := testNet(t, 2)
	if err := LoadInto(path, other); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n, other) {
		t.Error("loaded parameters differ from the saved ones")
	}
	// A network of another shape is refused with the tensor named.
	wide, err := gle.NewNetwork(&gle.Spec{Dt: 0.1, Layers: []gle.LayerSpec{{In: 5, Out: 4, TauM: gle.Taus{1}, TauR: gle.Taus{1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadInto(path, wide); !errors.Is(err, ErrFormat) {
		t.Errorf("shape mismatch: %v", err)
	}
	data, _ := os.ReadFile(path)
	for name, bad := range map[string][]byte{"empty": nil, "truncated": data[:len(data)-5], "header": append([]byte{255, 0, 0, 0, 0, 0, 0, 0}, data[8:]...)} {
		if _, err := DecodeSafetensors(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzDecodeSafetensors(f *testing.F) {
	b, _ := EncodeSafetensors(map[string]Tensor{"a": {Shape: []int{2}, Data: []float64{1, 2}}}, nil)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := DecodeSafetensors(data)
		if err != nil {
			return
		}
		for name, tt := range ts {
			n := 1
			for _, d := range tt.Shape {
				n *= d
			}
			if n != len(tt.Data) {
				t.Fatalf("%s: shape %v but %d values", name, tt.Shape, len(tt.Data))
			}
		}
	})
}

// TestSaveLoadGraph: a network of the populations form (recurrent, skip,
// learned feedback) saves and loads from the file alone.
func TestSaveLoadGraph(t *testing.T) {
	s, err := gle.DecodeSpec([]byte(`{"dt": 0.1, "inputs": 2, "output": "out", "seed": 3,
	  "populations": [{"name": "h", "size": 4, "phi": "tanh", "tau_m": 1, "tau_r": 0.2}, {"name": "out", "size": 1, "tau_m": 1, "tau_r": 1, "bias": false}],
	  "projections": [{"from": "input", "to": "h"}, {"from": "h", "to": "h"}, {"from": "h", "to": "out", "feedback": "learned"}, {"from": "input", "to": "out"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	n.Projs[1].W[5] = 0.125 // a change the spec does not know
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := Save(path, n, s); err != nil {
		t.Fatal(err)
	}
	back, spec, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, n) || spec.Output != "out" {
		t.Errorf("loaded network differs:\n%+v\n%+v", back, n)
	}
	names := map[string]bool{}
	for name := range Tensors(n) {
		names[name] = true
	}
	for _, want := range []string{"projections.1.weight", "projections.2.feedback_weight", "populations.h.bias", "populations.out.tau_r"} {
		if !names[want] {
			t.Errorf("no tensor %s in %v", want, names)
		}
	}
	if names["populations.out.bias"] {
		t.Error("a population without bias has a bias tensor")
	}
}
