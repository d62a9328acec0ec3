package gle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Spec declares a layered GLE network and how it learns. JSON and YAML
// files share this schema (see docs/spec.md); it is a superset of the
// "spec" object of the reference trajectory format (SPEC §6), so a
// fixture's spec is a valid Spec.
type Spec struct {
	Dt    float64  `json:"dt"`              // Euler step; every τ must be ≥ dt
	Steps int      `json:"steps,omitempty"` // informational (fixtures record it)
	Beta  *float64 `json:"beta,omitempty"`  // target error scale β ≥ 0; nil means 1
	// Loss is "mse", "ce" or "none"; empty means "mse" (SPEC §4).
	Loss string `json:"loss,omitempty"`
	// ProspectiveErrors selects GLE's error dynamics
	// ê = v + τm v̇ with τr v̇ = e − v; false gives instantaneous errors
	// ê = e. nil means true.
	ProspectiveErrors *bool         `json:"prospective_errors,omitempty"`
	Optimizer         OptimizerSpec `json:"optimizer"`
	// TauMMin, when positive, clamps every τm from below after each
	// optimizer step.
	TauMMin float64 `json:"tau_m_min,omitempty"`
	// LearnFromStep is the first step at which the optimizer steps.
	LearnFromStep int `json:"learn_from_step,omitempty"`
	// Seed drives the weight initializers of layers without given weights.
	Seed   uint64      `json:"seed,omitempty"`
	Layers []LayerSpec `json:"layers"`
}

// OptimizerSpec selects the optimizer (SPEC §5). The zero value is SGD
// with lr 0: pure simulation.
type OptimizerSpec struct {
	Kind  string    `json:"kind,omitempty"` // "sgd" (default) or "adam"
	LR    float64   `json:"lr"`
	Betas []float64 `json:"betas,omitempty"` // Adam (β1, β2); default (0.9, 0.999)
	Eps   *float64  `json:"eps,omitempty"`   // Adam ε; default 1e-8
}

// LayerSpec declares one layer: Out neurons fed by In inputs.
type LayerSpec struct {
	In  int    `json:"in"`
	Out int    `json:"out"`
	Phi string `json:"phi"` // activation name (SPEC §3); empty means "linear"
	// TauM and TauR are the membrane and prospective time constants, per
	// neuron: a number for all neurons, a list of numbers, or a list of
	// groups {"n": 18, "value": 0.6} (numbers and groups may be mixed).
	TauM  Taus    `json:"tau_m"`
	TauR  Taus    `json:"tau_r"`
	Gamma float64 `json:"gamma,omitempty"` // error nudging γ of the membrane
	// Weight, Out×In, gives the initial weights; nil draws them with Init.
	Weight [][]float64 `json:"weight,omitempty"`
	// Bias: absent or true = a bias drawn with Init; a list = given values;
	// false or null = no bias.
	Bias Bias `json:"bias"`
	// Init names the initializer for weights and bias that are not given:
	// "pytorch" (default; uniform ±1/√In like torch.nn.Linear), "zeros", or
	// "identity" (W = I, requires In = Out; bias zero).
	Init        string `json:"init,omitempty"`
	LearnWeight *bool  `json:"learn_weight,omitempty"` // nil means true
	LearnBias   *bool  `json:"learn_bias,omitempty"`   // nil means true
	LearnTauM   bool   `json:"learn_tau_m,omitempty"`
	// LearnTauR learns τr too; only exact gradients (package bptt) have a
	// τr update, so GLE training rejects it.
	LearnTauR bool `json:"learn_tau_r,omitempty"`
}

// Taus is a per-neuron list of time constants; see LayerSpec.TauM for the
// accepted JSON forms. A single value applies to all neurons of the layer.
type Taus []float64

// tauGroup is the {"n", "value"} form of a group of neurons.
type tauGroup struct {
	N     int     `json:"n"`
	Value float64 `json:"value"`
}

// UnmarshalJSON accepts a number, or a list of numbers and groups.
func (t *Taus) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*t = nil
		return nil
	}
	if len(data) > 0 && data[0] != '[' {
		var v float64
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("time constant: want a number, a list or groups {n, value}: %w", err)
		}
		*t = Taus{v}
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return err
	}
	out := Taus{}
	for i, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) > 0 && it[0] == '{' {
			var g tauGroup
			dec := json.NewDecoder(bytes.NewReader(it))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&g); err != nil {
				return fmt.Errorf("time constant group %d: %w", i, err)
			}
			if g.N <= 0 || g.N > 1<<24 {
				return fmt.Errorf("time constant group %d: n = %d must be positive", i, g.N)
			}
			for range g.N {
				out = append(out, g.Value)
			}
			continue
		}
		var v float64
		if err := json.Unmarshal(it, &v); err != nil {
			return fmt.Errorf("time constant %d: %w", i, err)
		}
		out = append(out, v)
	}
	*t = out
	return nil
}

// Bias is a layer's bias setting: see LayerSpec.Bias.
type Bias struct {
	Disabled bool      // no bias at all
	Values   []float64 // given initial values; nil draws them
}

// UnmarshalJSON accepts true, false, null or a list of numbers.
func (b *Bias) UnmarshalJSON(data []byte) error {
	switch s := string(bytes.TrimSpace(data)); s {
	case "null", "false":
		*b = Bias{Disabled: true}
		return nil
	case "true":
		*b = Bias{}
		return nil
	}
	var v []float64
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("bias: want true, false, null or a list of numbers: %w", err)
	}
	*b = Bias{Values: v}
	return nil
}

// MarshalJSON writes the list of values, false for no bias, or true.
func (b Bias) MarshalJSON() ([]byte, error) {
	switch {
	case b.Disabled:
		return []byte("false"), nil
	case b.Values == nil:
		return []byte("true"), nil
	}
	return json.Marshal(b.Values)
}

// BetaOrDefault returns β (1 when unset).
func (s *Spec) BetaOrDefault() float64 {
	if s.Beta == nil {
		return 1
	}
	return *s.Beta
}

// Prospective reports whether GLE's prospective errors are on (default).
func (s *Spec) Prospective() bool { return s.ProspectiveErrors == nil || *s.ProspectiveErrors }

func (l *LayerSpec) learnWeight() bool { return l.LearnWeight == nil || *l.LearnWeight }
func (l *LayerSpec) learnBias() bool   { return l.LearnBias == nil || *l.LearnBias }

// DecodeSpec reads a spec from JSON or YAML (detected from the content:
// JSON starts with '{'). Unknown fields are errors, so typos do not pass
// silently. The spec is not validated; call Validate.
func DecodeSpec(data []byte) (*Spec, error) {
	var s Spec
	if err := DecodeStrict(data, &s); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	return &s, nil
}

// DecodeStrict decodes one JSON object, or a YAML document (detected by
// its first character not being '{'), into dst, rejecting unknown fields,
// trailing data, non-string keys and non-finite numbers. It is the decoder
// of every spec format of the project.
func DecodeStrict(data []byte, dst any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return fmt.Errorf("%w: empty document", ErrInvalid)
	}
	if trimmed[0] != '{' {
		var tree any
		if err := yaml.Unmarshal(data, &tree); err != nil {
			return fmt.Errorf("YAML: %w", err)
		}
		tree, err := jsonCompatible(tree, "")
		if err != nil {
			return err
		}
		if trimmed, err = json.Marshal(tree); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
	}
	return nil
}

// LoadSpec reads and validates a spec file (.json, .yaml or .yml).
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := DecodeSpec(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return s, nil
}

// jsonCompatible turns a YAML tree into one encoding/json can write,
// rejecting non-string keys and non-finite numbers with their path.
func jsonCompatible(v any, path string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			c, err := jsonCompatible(e, joinPath(path, k))
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fieldErr(ErrInvalid, path, k, "map keys must be strings")
			}
			c, err := jsonCompatible(e, joinPath(path, ks))
			if err != nil {
				return nil, err
			}
			m[ks] = c
		}
		return m, nil
	case []any:
		for i, e := range x {
			c, err := jsonCompatible(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fieldErr(ErrNonFinite, path, x, "must be finite")
		}
	}
	return v, nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// Validate checks every field and returns all problems found, each a
// *FieldError naming the field and its value (joined with errors.Join).
func (s *Spec) Validate() error {
	var errs []error
	add := func(e *FieldError) { errs = append(errs, e) }
	finite := func(field string, v float64) bool {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			add(fieldErr(ErrNonFinite, field, v, "must be finite"))
			return false
		}
		return true
	}
	if finite("dt", s.Dt) && s.Dt <= 0 {
		add(fieldErr(ErrInvalid, "dt", s.Dt, "must be positive"))
	}
	if b := s.BetaOrDefault(); finite("beta", b) && b < 0 {
		add(fieldErr(ErrInvalid, "beta", b, "must be ≥ 0"))
	}
	if _, err := ParseLoss(s.Loss); err != nil {
		add(fieldErr(ErrUnknownName, "loss", s.Loss, "want mse, ce or none"))
	}
	if s.Steps < 0 {
		add(fieldErr(ErrInvalid, "steps", s.Steps, "must be ≥ 0"))
	}
	if finite("tau_m_min", s.TauMMin) && s.TauMMin < 0 {
		add(fieldErr(ErrInvalid, "tau_m_min", s.TauMMin, "must be ≥ 0"))
	}
	if s.LearnFromStep < 0 {
		add(fieldErr(ErrInvalid, "learn_from_step", s.LearnFromStep, "must be ≥ 0"))
	}
	errs = append(errs, s.Optimizer.validate()...)
	if len(s.Layers) == 0 {
		add(fieldErr(ErrInvalid, "layers", "[]", "need at least one layer"))
	}
	for i := range s.Layers {
		errs = append(errs, s.Layers[i].validate(fmt.Sprintf("layers[%d]", i), s.Dt)...)
		if i > 0 && s.Layers[i].In != s.Layers[i-1].Out {
			add(fieldErr(ErrShape, fmt.Sprintf("layers[%d].in", i), s.Layers[i].In,
				"must equal layers[%d].out = %d", i-1, s.Layers[i-1].Out))
		}
	}
	return errors.Join(errs...)
}

func (o *OptimizerSpec) validate() []error {
	var errs []error
	switch o.Kind {
	case "", "sgd", "adam":
	default:
		errs = append(errs, fieldErr(ErrUnknownName, "optimizer.kind", o.Kind, "want sgd or adam"))
	}
	if math.IsNaN(o.LR) || math.IsInf(o.LR, 0) || o.LR < 0 {
		errs = append(errs, fieldErr(ErrInvalid, "optimizer.lr", o.LR, "must be finite and ≥ 0"))
	}
	if o.Betas != nil && len(o.Betas) != 2 {
		errs = append(errs, fieldErr(ErrShape, "optimizer.betas", o.Betas, "want two values (β1, β2)"))
	}
	for i, b := range o.Betas {
		if !(b >= 0 && b < 1) {
			errs = append(errs, fieldErr(ErrInvalid, fmt.Sprintf("optimizer.betas[%d]", i), b, "must be in [0, 1)"))
		}
	}
	if o.Eps != nil && !(*o.Eps >= 0 && !math.IsInf(*o.Eps, 0)) {
		errs = append(errs, fieldErr(ErrInvalid, "optimizer.eps", *o.Eps, "must be finite and ≥ 0"))
	}
	return errs
}

func (l *LayerSpec) validate(name string, dt float64) []error {
	var errs []error
	add := func(e *FieldError) { errs = append(errs, e) }
	if l.In <= 0 {
		add(fieldErr(ErrInvalid, name+".in", l.In, "must be positive"))
	}
	if l.Out <= 0 {
		add(fieldErr(ErrInvalid, name+".out", l.Out, "must be positive"))
	}
	if l.Phi != "" {
		if _, err := ParseActivation(l.Phi); err != nil {
			add(fieldErr(ErrUnknownName, name+".phi", l.Phi, "want one of %s", strings.Join(activationNames[:], ", ")))
		}
	}
	for _, tc := range []struct {
		field string
		taus  Taus
	}{{"tau_m", l.TauM}, {"tau_r", l.TauR}} {
		f := name + "." + tc.field
		switch {
		case len(tc.taus) == 0:
			add(fieldErr(ErrInvalid, f, "[]", "is required"))
		case len(tc.taus) != 1 && len(tc.taus) != l.Out:
			add(fieldErr(ErrShape, f, fmt.Sprintf("%d values", len(tc.taus)), "want 1 or out = %d", l.Out))
		}
		for j, v := range tc.taus {
			fj := fmt.Sprintf("%s[%d]", f, j)
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				add(fieldErr(ErrNonFinite, fj, v, "must be finite"))
			case v < dt:
				add(fieldErr(ErrInvalid, fj, v, "must be ≥ dt = %g", dt))
			}
		}
	}
	if math.IsNaN(l.Gamma) || math.IsInf(l.Gamma, 0) {
		add(fieldErr(ErrNonFinite, name+".gamma", l.Gamma, "must be finite"))
	}
	switch l.Init {
	case "", "pytorch", "zeros":
	case "identity":
		if l.In != l.Out {
			add(fieldErr(ErrShape, name+".init", l.Init, "needs in = out, have %d×%d", l.Out, l.In))
		}
	default:
		add(fieldErr(ErrUnknownName, name+".init", l.Init, "want pytorch, zeros or identity"))
	}
	if l.Weight != nil {
		if len(l.Weight) != l.Out {
			add(fieldErr(ErrShape, name+".weight", fmt.Sprintf("%d rows", len(l.Weight)), "want out = %d rows", l.Out))
		}
		for r, row := range l.Weight {
			if len(row) != l.In {
				add(fieldErr(ErrShape, fmt.Sprintf("%s.weight[%d]", name, r), fmt.Sprintf("%d values", len(row)), "want in = %d", l.In))
			}
			for c, v := range row {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					add(fieldErr(ErrNonFinite, fmt.Sprintf("%s.weight[%d][%d]", name, r, c), v, "must be finite"))
				}
			}
		}
	}
	if l.Bias.Values != nil {
		if len(l.Bias.Values) != l.Out {
			add(fieldErr(ErrShape, name+".bias", fmt.Sprintf("%d values", len(l.Bias.Values)), "want out = %d", l.Out))
		}
		for j, v := range l.Bias.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				add(fieldErr(ErrNonFinite, fmt.Sprintf("%s.bias[%d]", name, j), v, "must be finite"))
			}
		}
	}
	return errs
}
