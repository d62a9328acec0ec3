package gle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gle-go/gle/internal/strict"
	"github.com/gle-go/gle/optim"
)

// Spec declares a network and how it learns, in one of two forms:
//
//   - Layers: a chain input → layers[0] → … → layers[L−1] (the output);
//   - Inputs, Output, Populations and Projections: any graph of
//     populations, with feed-forward, skip, lateral and recurrent
//     projections.
//
// Both forms build the same Network and share every other field and
// every default. JSON and YAML files use this schema (docs/spec.md); the
// "spec" object of a reference trajectory (docs/model.md §6) is a valid
// Spec of the layers form.
type Spec struct {
	Dt    float64 `json:"dt"`              // Euler step; every τ must be ≥ dt
	Steps int     `json:"steps,omitempty"` // informational (trajectory files record it)
	// Beta is the target error scale β ≥ 0; nil means 1 (SetBeta).
	Beta *float64 `json:"beta,omitempty"`
	// Loss selects the target error (docs/model.md §4); the zero value is MSE.
	Loss Loss `json:"loss,omitempty"`
	// ProspectiveErrors selects GLE's error dynamics ê = v + τm v̇ with
	// τr v̇ = e − v; false gives instantaneous errors ê = e. nil means true
	// (SetProspectiveErrors).
	ProspectiveErrors *bool         `json:"prospective_errors,omitempty"`
	Optimizer         OptimizerSpec `json:"optimizer"`
	// TauMMin is the smallest τm learning may reach: after every optimizer
	// step τm is clamped to it. 0 means dt (the Euler step needs τ ≥ dt);
	// values below dt are rejected.
	TauMMin float64 `json:"tau_m_min,omitempty"`
	// TauMMax, when positive, is the largest τm learning may reach (a
	// bound for learned time constants that run away); 0: none.
	TauMMax float64 `json:"tau_m_max,omitempty"`
	// LearnFromStep is the first step at which the optimizer steps.
	LearnFromStep int `json:"learn_from_step,omitempty"`
	// Seed drives the initializers of weights and biases that are not given.
	Seed uint64 `json:"seed,omitempty"`
	// FeedbackDecay is the weight decay λ of projections with learned
	// feedback (Kolen–Pollack; applied to W and B alike).
	FeedbackDecay float64 `json:"feedback_decay,omitempty"`

	// The layers form.
	Layers []LayerSpec `json:"layers,omitempty"`

	// The populations form: Inputs external input lines, the population
	// named Output gives the network output.
	Inputs      int              `json:"inputs,omitempty"`
	Output      string           `json:"output,omitempty"`
	Populations []PopulationSpec `json:"populations,omitempty"`
	Projections []ProjectionSpec `json:"projections,omitempty"`
}

// OptimizerSpec selects the optimizer (docs/model.md §5). The zero value
// is SGD with lr 0: pure simulation.
type OptimizerSpec struct {
	Kind  optim.Kind `json:"kind,omitempty"` // sgd (default) or adam
	LR    float64    `json:"lr"`
	Betas []float64  `json:"betas,omitempty"` // Adam (β1, β2); default (0.9, 0.999)
	Eps   *float64   `json:"eps,omitempty"`   // Adam ε; default 1e-8
}

// New returns the optimizer o declares.
func (o OptimizerSpec) New() (optim.Optimizer, error) {
	if errs := o.validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	switch o.Kind {
	case optim.KindAdam:
		a := optim.NewAdam(o.LR)
		if o.Betas != nil {
			a.Beta1, a.Beta2 = o.Betas[0], o.Betas[1]
		}
		if o.Eps != nil {
			a.Eps = *o.Eps
		}
		return a, nil
	}
	return &optim.SGD{Rate: o.LR}, nil
}

// LayerSpec declares one layer of the layers form: Out neurons fed by In
// inputs (the input lines for the first layer, the layer below otherwise).
type LayerSpec struct {
	In  int        `json:"in"`
	Out int        `json:"out"`
	Phi Activation `json:"phi,omitempty"` // activation; the zero value is linear
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
	// Init draws the weights and bias that are not given: pytorch
	// (default; uniform ±1/√In like torch.nn.Linear), zeros, or identity
	// (W = I, requires In = Out; bias zero).
	Init        Init  `json:"init,omitempty"`
	LearnWeight *bool `json:"learn_weight,omitempty"` // nil means true
	LearnBias   *bool `json:"learn_bias,omitempty"`   // nil means true
	LearnTauM   bool  `json:"learn_tau_m,omitempty"`
	// LearnTauR learns τr too; only exact gradients (package exact) have
	// a τr update, so GLE's local rule rejects it.
	LearnTauR bool `json:"learn_tau_r,omitempty"`
}

// Fixed returns l with nothing learned (weights, bias and time constants
// stay as they are).
func (l LayerSpec) Fixed() LayerSpec {
	f := false
	l.LearnWeight, l.LearnBias, l.LearnTauM, l.LearnTauR = &f, &f, false, false
	return l
}

// PopulationSpec declares a population of Size neurons of the populations
// form, with the neuron parameters of a layer.
type PopulationSpec struct {
	Name  string     `json:"name"`
	Size  int        `json:"size"`
	Phi   Activation `json:"phi,omitempty"`
	TauM  Taus       `json:"tau_m"`
	TauR  Taus       `json:"tau_r"`
	Gamma float64    `json:"gamma,omitempty"`
	// Bias: absent or true = a bias of zeros (a population has no single
	// fan-in to scale a random draw by); a list = given values; false or
	// null = no bias.
	Bias Bias `json:"bias"`
	// InstantErrors makes this population's errors instantaneous (ê = e)
	// even when the network's are prospective: on a loop this keeps the
	// real-time errors stable (gain 1 instead of up to τm/τr, docs/vle.md §4).
	InstantErrors bool  `json:"instant_errors,omitempty"`
	LearnBias     *bool `json:"learn_bias,omitempty"` // nil means true
	LearnTauM     bool  `json:"learn_tau_m,omitempty"`
	LearnTauR     bool  `json:"learn_tau_r,omitempty"`
}

// ProjectionSpec declares the weights from one population (or "input") to
// another; Weight (to × from) is drawn with Init when nil. Feedback
// chooses the matrix that carries errors back to From.
type ProjectionSpec struct {
	From   string      `json:"from"`
	To     string      `json:"to"`
	Weight [][]float64 `json:"weight,omitempty"`
	// Init draws the weights when not given: pytorch (default, uniform
	// ±1/√from-size), zeros, or identity (needs equal sizes).
	Init     Init     `json:"init,omitempty"`
	Feedback Feedback `json:"feedback,omitempty"`
	// FeedbackWeight (to × from) sets the initial B of random or learned
	// feedback; drawn like Weight when nil.
	FeedbackWeight [][]float64 `json:"feedback_weight,omitempty"`
	LearnWeight    *bool       `json:"learn_weight,omitempty"` // nil means true
}

// InputName names the external input as the source of a projection.
const InputName = "input"

// Init is how weights that a spec does not give are drawn.
type Init int

const (
	// InitPyTorch draws uniformly in ±1/√fan-in, as torch.nn.Linear.
	InitPyTorch Init = iota
	// InitZeros sets the weights (and a layer's bias) to zero.
	InitZeros
	// InitIdentity sets W = I (square only) and a layer's bias to zero.
	InitIdentity
)

var initNames = [...]string{InitPyTorch: "pytorch", InitZeros: "zeros", InitIdentity: "identity"}

func (i Init) String() string {
	if i < 0 || int(i) >= len(initNames) {
		return fmt.Sprintf("Init(%d)", int(i))
	}
	return initNames[i]
}

// MarshalText writes the spec name.
func (i Init) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// UnmarshalText reads a spec name ("" is pytorch).
func (i *Init) UnmarshalText(b []byte) error {
	v, ok := parseName(string(b), initNames[:])
	if !ok {
		return fieldErr(ErrUnknownName, "init", string(b), "want pytorch, zeros or identity")
	}
	*i = Init(v)
	return nil
}

// parseName returns the index of name in names; "" is the first.
func parseName(name string, names []string) (int, bool) {
	if name == "" {
		return 0, true
	}
	for i, n := range names {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// Taus is a per-neuron list of time constants; see LayerSpec.TauM for the
// accepted JSON forms. A single value applies to all neurons.
type Taus []float64

// tauGroup is the {"n", "value"} form of a group of neurons.
type tauGroup struct {
	N     int     `json:"n"`
	Value float64 `json:"value"`
}

// maxNeurons bounds the size of a population or group in a spec (2^24),
// far above any network this library runs, so that a typo cannot ask for
// an absurd allocation.
const maxNeurons = 1 << 24

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
			return fmt.Errorf("time constant: want a number, a list or groups {n, value}")
		}
		*t = Taus{v}
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("time constants: want a number, a list or groups {n, value}")
	}
	out := Taus{}
	for i, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) > 0 && it[0] == '{' {
			var g tauGroup
			if err := strict.Decode(it, &g); err != nil {
				return fmt.Errorf("group %d: %w", i, err)
			}
			if g.N <= 0 || g.N > maxNeurons {
				return fmt.Errorf("group %d: n = %d must be in 1…%d", i, g.N, maxNeurons)
			}
			for range g.N {
				out = append(out, g.Value)
			}
			continue
		}
		var v float64
		if err := json.Unmarshal(it, &v); err != nil {
			return fmt.Errorf("time constant %d: want a number", i)
		}
		out = append(out, v)
	}
	*t = out
	return nil
}

// Bias is a bias setting: see LayerSpec.Bias and PopulationSpec.Bias.
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
		return fmt.Errorf("bias: want true, false, null or a list of numbers")
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

// SetBeta sets β.
func (s *Spec) SetBeta(beta float64) { s.Beta = &beta }

// Prospective reports whether GLE's prospective errors are on (default).
func (s *Spec) Prospective() bool { return s.ProspectiveErrors == nil || *s.ProspectiveErrors }

// SetProspectiveErrors switches GLE's prospective errors on or off.
func (s *Spec) SetProspectiveErrors(on bool) { s.ProspectiveErrors = &on }

// Structure returns a copy of s without its weight matrices and bias
// values (they are drawn again when it builds; the time constants stay):
// the network's structure, for files that carry the parameters apart.
func (s *Spec) Structure() *Spec {
	c := *s
	c.Layers = slices.Clone(s.Layers)
	for i := range c.Layers {
		c.Layers[i].Weight = nil
		if !c.Layers[i].Bias.Disabled {
			c.Layers[i].Bias = Bias{}
		}
	}
	c.Projections = slices.Clone(s.Projections)
	for k := range c.Projections {
		c.Projections[k].Weight, c.Projections[k].FeedbackWeight = nil, nil
	}
	c.Populations = slices.Clone(s.Populations)
	for q := range c.Populations {
		if !c.Populations[q].Bias.Disabled {
			c.Populations[q].Bias = Bias{}
		}
	}
	return &c
}

// TauMMinOrDefault returns the τm clamp (dt when unset).
func (s *Spec) TauMMinOrDefault() float64 {
	if s.TauMMin == 0 {
		return s.Dt
	}
	return s.TauMMin
}

// Layered reports whether s uses the layers form.
func (s *Spec) Layered() bool { return len(s.Layers) > 0 }

// NumInputs returns the number of input lines; NumOutputs the size of
// the output population (0 when the spec does not say).
func (s *Spec) NumInputs() int {
	if s.Layered() {
		return s.Layers[0].In
	}
	return s.Inputs
}

// NumOutputs returns the size of the output layer or population.
func (s *Spec) NumOutputs() int {
	if s.Layered() {
		return s.Layers[len(s.Layers)-1].Out
	}
	for _, p := range s.Populations {
		if p.Name == s.Output {
			return p.Size
		}
	}
	return 0
}

func learnDefault(b *bool) bool { return b == nil || *b }

// DecodeSpec reads a spec from JSON or YAML (detected from the content:
// JSON starts with '{'). Keys are matched exactly; unknown keys and every
// other decoding problem are reported together, each with its path
// (layers[1].tau_n). The spec is not validated; call Validate.
func DecodeSpec(data []byte) (*Spec, error) {
	var s Spec
	err := strict.Decode(data, &s)
	if err == nil {
		return &s, nil
	}
	// The document parsed but fields did not decode: validate what did,
	// so that every problem is reported at once, leaving out what the
	// fields that failed make the validation say again.
	bad, ok := fieldErrors(err)
	if !ok {
		return nil, err
	}
	all := []error{err}
	more, _ := fieldErrors(s.Validate())
	for _, v := range more {
		// A check that involves a field that failed (layers[1].in against
		// layers[0].out) says nothing new either.
		if !slices.ContainsFunc(bad, func(b *FieldError) bool { return relatedFields(b.Field, v.Field) || mentions(v.Error(), b.Field) }) {
			all = append(all, v)
		}
	}
	return nil, errors.Join(all...)
}

// fieldErrors lists the *FieldError leaves of err (errors.Join trees); ok
// is false when a leaf is another error.
func fieldErrors(err error) (fields []*FieldError, ok bool) {
	if err == nil {
		return nil, true
	}
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		ok = true
		for _, e := range j.Unwrap() {
			f, fok := fieldErrors(e)
			fields, ok = append(fields, f...), ok && fok
		}
		return fields, ok
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []*FieldError{fe}, true
	}
	return nil, false
}

// relatedFields reports whether one field path is the other or contains
// it (layers[1] and layers[1].tau_m[0]; tau_m and tau_m[2]).
func relatedFields(a, b string) bool {
	within := func(outer, inner string) bool {
		return inner == outer || strings.HasPrefix(inner, outer+".") || strings.HasPrefix(inner, outer+"[")
	}
	return within(a, b) || within(b, a)
}

// mentions reports whether text names the field path (as a whole path:
// layers[1] is not named by layers[10]).
func mentions(text, field string) bool {
	for i := strings.Index(text, field); i >= 0; {
		end := i + len(field)
		if end == len(text) || !strings.ContainsRune("0123456789_abcdefghijklmnopqrstuvwxyz", rune(text[end])) {
			return true
		}
		j := strings.Index(text[end:], field)
		if j < 0 {
			return false
		}
		i = end + j
	}
	return false
}

// LoadSpec reads and validates a spec file (.json, .yaml or .yml) and
// refuses one whose parameters alone would exceed the memory limit;
// errors name the file.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := DecodeSpec(data)
	if err == nil {
		err = s.Validate()
	}
	if err == nil {
		err = CheckMemory(sizeField(s), nil, ParamBytes(s))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return s, nil
}

// Validate checks every field and returns all problems found, each a
// *FieldError naming the field and its value (joined with errors.Join).
// A spec that validates builds (NewNetwork).
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
	if s.Loss < 0 || int(s.Loss) >= len(lossNames) {
		add(fieldErr(ErrUnknownName, "loss", int(s.Loss), "want mse, ce or none"))
	}
	if s.Steps < 0 {
		add(fieldErr(ErrInvalid, "steps", s.Steps, "must be ≥ 0"))
	}
	if finite("tau_m_min", s.TauMMin) && s.TauMMin != 0 && s.TauMMin < s.Dt {
		add(fieldErr(ErrInvalid, "tau_m_min", s.TauMMin, "must be ≥ dt = %g (Euler integration needs τ ≥ dt; omit it for dt)", s.Dt))
	}
	if finite("tau_m_max", s.TauMMax) && s.TauMMax != 0 && s.TauMMax < max(s.Dt, s.TauMMin) {
		add(fieldErr(ErrInvalid, "tau_m_max", s.TauMMax, "must be ≥ dt = %g and ≥ tau_m_min (or 0: no bound)", s.Dt))
	}
	if s.LearnFromStep < 0 {
		add(fieldErr(ErrInvalid, "learn_from_step", s.LearnFromStep, "must be ≥ 0"))
	}
	if finite("feedback_decay", s.FeedbackDecay) && s.FeedbackDecay < 0 {
		add(fieldErr(ErrInvalid, "feedback_decay", s.FeedbackDecay, "must be ≥ 0"))
	}
	errs = append(errs, s.Optimizer.validate()...)
	graphForm := s.Inputs != 0 || s.Output != "" || s.Populations != nil || s.Projections != nil
	switch {
	case s.Layered() && graphForm:
		add(fieldErr(ErrInvalid, "layers", fmt.Sprintf("%d layers", len(s.Layers)), "give either layers or inputs, output, populations and projections, not both"))
	case s.Layered():
		errs = append(errs, s.validateLayers()...)
	case graphForm:
		errs = append(errs, s.validateGraph()...)
	default:
		add(fieldErr(ErrInvalid, "layers", "[]", "need layers, or populations and projections"))
	}
	return errors.Join(errs...)
}

func (o *OptimizerSpec) validate() []error {
	var errs []error
	if o.Kind < 0 || o.Kind > optim.KindAdam {
		errs = append(errs, fieldErr(ErrUnknownName, "optimizer.kind", int(o.Kind), "want sgd or adam"))
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

// neuronParams are the neuron fields that layers and populations share.
type neuronParams struct {
	size       int
	phi        Activation
	tauM, tauR Taus
	gamma      float64
	bias       Bias
}

// validateNeurons checks the neuron fields of a layer or population named
// name ("layers[2]", "populations[1]").
func validateNeurons(name string, p neuronParams, dt float64) []error {
	var errs []error
	add := func(e *FieldError) { errs = append(errs, e) }
	if !p.phi.valid() {
		add(fieldErr(ErrUnknownName, name+".phi", int(p.phi), "not an activation"))
	}
	for _, tc := range []struct {
		field string
		taus  Taus
	}{{"tau_m", p.tauM}, {"tau_r", p.tauR}} {
		f := name + "." + tc.field
		switch {
		case len(tc.taus) == 0:
			add(fieldErr(ErrInvalid, f, "[]", "is required"))
		case len(tc.taus) != 1 && len(tc.taus) != p.size:
			want := "1 (one neuron)"
			if p.size > 1 {
				want = fmt.Sprintf("1 (all neurons) or %d (one per neuron)", p.size)
			}
			add(fieldErr(ErrShape, f, fmt.Sprintf("%d values", len(tc.taus)), "want %s", want))
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
	if math.IsNaN(p.gamma) || math.IsInf(p.gamma, 0) {
		add(fieldErr(ErrNonFinite, name+".gamma", p.gamma, "must be finite"))
	}
	if p.bias.Values != nil {
		if len(p.bias.Values) != p.size {
			add(fieldErr(ErrShape, name+".bias", fmt.Sprintf("%d values", len(p.bias.Values)), "want %d (one per neuron)", p.size))
		}
		for j, v := range p.bias.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				add(fieldErr(ErrNonFinite, fmt.Sprintf("%s.bias[%d]", name, j), v, "must be finite"))
			}
		}
	}
	return errs
}

// validateMatrix checks a given out × in matrix.
func validateMatrix(field string, m [][]float64, out, in int) []error {
	if m == nil {
		return nil
	}
	if len(m) != out {
		return []error{fieldErr(ErrShape, field, fmt.Sprintf("%d rows", len(m)), "want %d rows", out)}
	}
	var errs []error
	for r, row := range m {
		if len(row) != in {
			errs = append(errs, fieldErr(ErrShape, fmt.Sprintf("%s[%d]", field, r), fmt.Sprintf("%d values", len(row)), "want %d", in))
		}
		for c, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				errs = append(errs, fieldErr(ErrNonFinite, fmt.Sprintf("%s[%d][%d]", field, r, c), v, "must be finite"))
			}
		}
	}
	return errs
}

func validateInit(field string, init Init, out, in int) []error {
	switch {
	case init < 0 || int(init) >= len(initNames):
		return []error{fieldErr(ErrUnknownName, field, int(init), "want pytorch, zeros or identity")}
	case init == InitIdentity && in != out:
		return []error{fieldErr(ErrShape, field, init, "needs a square matrix, have %d×%d", out, in)}
	}
	return nil
}

func validSize(field string, n int) *FieldError {
	if n <= 0 || n > maxNeurons {
		return fieldErr(ErrInvalid, field, n, "must be in 1…%d", maxNeurons)
	}
	return nil
}

func (s *Spec) validateLayers() []error {
	var errs []error
	for i := range s.Layers {
		l := &s.Layers[i]
		name := fmt.Sprintf("layers[%d]", i)
		sizesOK := true
		for _, f := range []struct {
			field string
			n     int
		}{{".in", l.In}, {".out", l.Out}} {
			if e := validSize(name+f.field, f.n); e != nil {
				errs, sizesOK = append(errs, e), false
			}
		}
		if i > 0 && l.In != s.Layers[i-1].Out {
			errs = append(errs, fieldErr(ErrShape, name+".in", l.In, "must equal layers[%d].out = %d", i-1, s.Layers[i-1].Out))
		}
		if !sizesOK {
			continue
		}
		errs = append(errs, validateNeurons(name, neuronParams{l.Out, l.Phi, l.TauM, l.TauR, l.Gamma, l.Bias}, s.Dt)...)
		errs = append(errs, validateInit(name+".init", l.Init, l.Out, l.In)...)
		errs = append(errs, validateMatrix(name+".weight", l.Weight, l.Out, l.In)...)
	}
	return errs
}

func (s *Spec) validateGraph() []error {
	var errs []error
	add := func(e *FieldError) { errs = append(errs, e) }
	if e := validSize("inputs", s.Inputs); e != nil {
		add(e)
	}
	if len(s.Populations) == 0 {
		add(fieldErr(ErrInvalid, "populations", "[]", "need at least one population"))
	}
	size := map[string]int{}
	for i, p := range s.Populations {
		name := fmt.Sprintf("populations[%d]", i)
		switch _, dup := size[p.Name]; {
		case p.Name == "" || p.Name == InputName:
			add(fieldErr(ErrInvalid, name+".name", p.Name, `must be non-empty and not "input"`))
		case dup:
			add(fieldErr(ErrInvalid, name+".name", p.Name, "is used twice"))
		}
		size[p.Name] = p.Size // named even when its size is wrong, so projections find it
		if e := validSize(name+".size", p.Size); e != nil {
			add(e)
			continue
		}
		errs = append(errs, validateNeurons(name, neuronParams{p.Size, p.Phi, p.TauM, p.TauR, p.Gamma, p.Bias}, s.Dt)...)
	}
	if _, ok := size[s.Output]; !ok {
		add(fieldErr(ErrInvalid, "output", s.Output, "names no population"))
	}
	size[InputName] = s.Inputs
	if len(s.Projections) == 0 {
		add(fieldErr(ErrInvalid, "projections", "[]", "need at least one projection"))
	}
	for i, p := range s.Projections {
		name := fmt.Sprintf("projections[%d]", i)
		in, okF := size[p.From]
		out, okT := size[p.To]
		if !okF {
			add(fieldErr(ErrInvalid, name+".from", p.From, "names no population (nor input)"))
		}
		if !okT || p.To == InputName {
			add(fieldErr(ErrInvalid, name+".to", p.To, "names no population"))
			okT = false
		}
		if p.Feedback < 0 || int(p.Feedback) >= len(feedbackNames) {
			add(fieldErr(ErrUnknownName, name+".feedback", int(p.Feedback), "want symmetric, random or learned"))
		} else if p.Feedback != Symmetric && p.From == InputName {
			add(fieldErr(ErrInvalid, name+".feedback", p.Feedback, "the input receives no errors; only symmetric applies"))
		}
		if p.Feedback == Symmetric && p.FeedbackWeight != nil {
			add(fieldErr(ErrInvalid, name+".feedback_weight", fmt.Sprintf("%d rows", len(p.FeedbackWeight)), "only random and learned feedback have feedback weights"))
		}
		if !okF || !okT || in <= 0 || in > maxNeurons || out <= 0 || out > maxNeurons {
			continue
		}
		errs = append(errs, validateInit(name+".init", p.Init, out, in)...)
		errs = append(errs, validateMatrix(name+".weight", p.Weight, out, in)...)
		errs = append(errs, validateMatrix(name+".feedback_weight", p.FeedbackWeight, out, in)...)
	}
	if len(errs) == 0 && !s.outputReachable() {
		add(fieldErr(ErrInvalid, "output", s.Output, "is not reachable from the input through the projections"))
	}
	return errs
}

// outputReachable reports whether a path of projections leads from the
// input to the output population.
func (s *Spec) outputReachable() bool {
	seen := map[string]bool{InputName: true}
	for changed := true; changed; {
		changed = false
		for _, p := range s.Projections {
			if seen[p.From] && !seen[p.To] {
				seen[p.To], changed = true, true
			}
		}
	}
	return seen[s.Output]
}
