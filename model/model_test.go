package model

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
