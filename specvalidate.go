package gle

import (
	"errors"
	"fmt"
	"math"

	"github.com/gle-go/gle/optim"
)

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
