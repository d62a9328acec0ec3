// Package safetensors reads and writes the safetensors file format
// (a JSON header, then little-endian arrays) and saves and loads trained
// networks of either spec form in it: the parameters as tensors, readable
// by PyTorch users (safetensors.torch.load_file) and by this package,
// with shapes and dtypes checked on load, and the structure of the spec
// (Spec.Structure, as JSON) in the file's metadata, so that Load rebuilds
// the network from the file alone.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/atomicfile"
)

// ErrFormat marks a file that is not valid safetensors or does not fit
// the network.
var ErrFormat = errors.New("model: bad safetensors file")

// tensorInfo is one entry of a safetensors header.
type tensorInfo struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// Tensors returns every parameter of n by its name (gle.Network.Tensors):
// layers.L.weight (out × in), .bias, .tau_m, .tau_r for a layered
// network; projections.K.weight, .feedback_weight and
// populations.NAME.bias, .tau_m, .tau_r for any other.
func Tensors(n *gle.Network) map[string]Tensor {
	out := map[string]Tensor{}
	for _, t := range n.Tensors() {
		out[t.Name] = Tensor{Shape: t.Shape, Data: t.Data}
	}
	return out
}

// Tensor is a float64 array with its shape.
type Tensor struct {
	Shape []int
	Data  []float64
}

// EncodeSafetensors writes tensors (float64, "F64") in the safetensors
// format: an 8-byte little-endian header length, a JSON header, the data.
func EncodeSafetensors(tensors map[string]Tensor, metadata map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		names = append(names, k)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	off := 0
	for _, k := range names {
		t := tensors[k]
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("model: tensor %s: shape %v holds %d values, have %d", k, t.Shape, n, len(t.Data))
		}
		header[k] = tensorInfo{DType: "F64", Shape: t.Shape, DataOffsets: [2]int{off, off + 8*n}}
		off += 8 * n
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(h)%8 != 0 { // align the data to 8 bytes, as the reference writer does
		h = append(h, ' ')
	}
	buf := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	buf = append(buf, h...)
	for _, k := range names {
		for _, v := range tensors[k].Data {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
	}
	return buf, nil
}

// DecodeSafetensors reads a safetensors file of F64 or F32 tensors.
func DecodeSafetensors(data []byte) (map[string]Tensor, error) {
	ts, _, err := decode(data)
	return ts, err
}

// decode reads a safetensors file and its string metadata.
func decode(data []byte) (map[string]Tensor, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("%w: %d bytes, too short for the header length", ErrFormat, len(data))
	}
	hl := binary.LittleEndian.Uint64(data)
	if hl > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("%w: header of %d bytes in a file of %d", ErrFormat, hl, len(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+hl], &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	body := data[8+hl:]
	out := map[string]Tensor{}
	var meta map[string]string
	for name, r := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(r, &meta); err != nil {
				return nil, nil, fmt.Errorf("%w: metadata: %v", ErrFormat, err)
			}
			continue
		}
		var ti tensorInfo
		if err := json.Unmarshal(r, &ti); err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %s: %v", ErrFormat, name, err)
		}
		size := map[string]int{"F64": 8, "F32": 4}[ti.DType]
		if size == 0 {
			return nil, nil, fmt.Errorf("%w: tensor %s has dtype %s, want F64 or F32", ErrFormat, name, ti.DType)
		}
		n := 1
		for _, d := range ti.Shape {
			if d < 0 || (d > 0 && n > math.MaxInt32/d) {
				return nil, nil, fmt.Errorf("%w: tensor %s has shape %v", ErrFormat, name, ti.Shape)
			}
			n *= d
		}
		b, e := ti.DataOffsets[0], ti.DataOffsets[1]
		if b < 0 || e < b || e > len(body) || e-b != n*size {
			return nil, nil, fmt.Errorf("%w: tensor %s: offsets %v do not fit shape %v of %s in %d data bytes", ErrFormat, name, ti.DataOffsets, ti.Shape, ti.DType, len(body))
		}
		t := Tensor{Shape: ti.Shape, Data: make([]float64, n)}
		for i := range n {
			if size == 8 {
				t.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[b+8*i:]))
			} else {
				t.Data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(body[b+4*i:])))
			}
		}
		out[name] = t
	}
	return out, meta, nil
}

// Save writes the network's parameters to path (safetensors), with the
// structure of the spec they came from (Spec.Structure: the tensors hold
// the parameters) in its metadata.
func Save(path string, n *gle.Network, spec *gle.Spec) error { return SaveMeta(path, n, spec, nil) }

// SaveMeta is Save with more metadata entries (the keys format and spec
// are Save's own).
func SaveMeta(path string, n *gle.Network, spec *gle.Spec, extra map[string]string) error {
	meta := map[string]string{}
	for k, v := range extra {
		meta[k] = v
	}
	meta["format"] = "gle-model/1"
	if spec != nil {
		// The structure only: the tensors hold the parameters (a spec with
		// them would be as large as a JSON file of the weights).
		js, err := json.Marshal(n.ToSpec(spec).Structure())
		if err != nil {
			return err
		}
		meta["spec"] = string(js)
	}
	b, err := EncodeSafetensors(Tensors(n), meta)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// Load rebuilds the network a file written by Save holds, from the spec
// in its metadata and the tensors, and returns it with that spec.
func Load(path string) (*gle.Network, *gle.Spec, error) {
	n, spec, _, err := LoadMeta(path)
	return n, spec, err
}

// LoadMeta is Load that returns the file's metadata too.
func LoadMeta(path string) (*gle.Network, *gle.Spec, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	return DecodeNetwork(path, data)
}

// DecodeNetwork is LoadMeta of a file's contents (name names it in
// errors).
func DecodeNetwork(name string, data []byte) (*gle.Network, *gle.Spec, map[string]string, error) {
	ts, meta, err := decode(data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if meta["spec"] == "" {
		return nil, nil, nil, fmt.Errorf("%s: %w: no spec in the metadata (not written by gle); load it into a network with LoadInto", name, ErrFormat)
	}
	spec, err := gle.DecodeSpec([]byte(meta["spec"]))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: metadata spec: %w", name, err)
	}
	n, err := gle.NewNetwork(spec)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: metadata spec: %w", name, err)
	}
	if err := loadTensors(name, ts, n); err != nil {
		return nil, nil, nil, err
	}
	return n, spec, meta, nil
}

// LoadInto reads a safetensors file into n's parameters, checking that
// every parameter is present with the right shape and finite values.
func LoadInto(path string, n *gle.Network) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ts, err := DecodeSafetensors(data)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return loadTensors(path, ts, n)
}

func loadTensors(path string, ts map[string]Tensor, n *gle.Network) error {
	for name, want := range Tensors(n) {
		got, ok := ts[name]
		if !ok {
			return fmt.Errorf("%s: %w: tensor %s is missing", path, ErrFormat, name)
		}
		if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
			return fmt.Errorf("%s: %w: tensor %s has shape %v, the network wants %v", path, ErrFormat, name, got.Shape, want.Shape)
		}
		for i, v := range got.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: %w: tensor %s[%d] is %v", path, gle.ErrNonFinite, name, i, v)
			}
		}
		copy(want.Data, got.Data)
	}
	return n.Check()
}

// LoadSpec reads a network's spec from a spec file (.json, .yaml, .yml:
// gle.LoadSpec) or from a .safetensors file written by Save (the spec of
// its structure and parameters).
func LoadSpec(path string) (*gle.Spec, error) {
	if !strings.EqualFold(filepath.Ext(path), ".safetensors") {
		return gle.LoadSpec(path)
	}
	n, s, err := Load(path)
	if err != nil {
		return nil, err
	}
	return n.ToSpec(s), nil
}
