package gle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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
	// LearnTauR learns τr too; only exact gradients (package gradient) have
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
