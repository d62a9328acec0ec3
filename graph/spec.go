package graph

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

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

// ToSpec returns base with n's current parameters written in: weights,
// feedback weights, biases and time constants, so that New(ToSpec(base))
// rebuilds n (the learned network, for `gle train --save-spec`).
func (n *Network) ToSpec(base *Spec) *Spec {
	s := *base
	rows := func(w []float64, in int) [][]float64 {
		if w == nil {
			return nil
		}
		m := make([][]float64, len(w)/in)
		for r := range m {
			m[r] = slices.Clone(w[r*in : (r+1)*in])
		}
		return m
	}
	s.Projections = slices.Clone(base.Projections)
	for k := range s.Projections {
		p := &n.Projs[k]
		in := n.fromSize(p)
		s.Projections[k].Weight, s.Projections[k].FeedbackWeight = rows(p.W, in), rows(p.B, in)
	}
	s.Populations = slices.Clone(base.Populations)
	for q := range s.Populations {
		p, ps := &n.Pops[q], &s.Populations[q]
		ps.TauM, ps.TauR = slices.Clone(p.TauM), slices.Clone(p.TauR)
		if p.B == nil {
			ps.Bias = gle.Bias{Disabled: true}
		} else {
			ps.Bias = gle.Bias{Values: slices.Clone(p.B)}
		}
	}
	return &s
}
