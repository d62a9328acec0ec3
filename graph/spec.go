package graph

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gle-go/gle"
)

// DecodeSpec reads a graph spec from JSON or YAML with gle.DecodeStrict
// (unknown fields are errors). It is not validated; New validates.
func DecodeSpec(data []byte) (*Spec, error) {
	var s Spec
	if err := gle.DecodeStrict(data, &s); err != nil {
		return nil, fmt.Errorf("graph spec: %w", err)
	}
	return &s, nil
}

// LoadSpec reads a graph spec file (.json, .yaml or .yml) and builds its
// network, so that every error names the file and the field.
func LoadSpec(path string) (*Spec, *Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := DecodeSpec(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	n, err := New(s)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return s, n, nil
}

// IsSpec reports whether a spec document declares populations (a graph
// network, this package) rather than layers (gle.Spec).
func IsSpec(data []byte) bool {
	var top map[string]any
	if err := gle.DecodeStrict(data, &top); err != nil {
		return false
	}
	_, ok := top["populations"]
	return ok
}
