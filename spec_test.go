package gle

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle/optim"
)

const specJSON = `{
  "dt": 0.1, "beta": 0.5, "loss": "ce", "seed": 7,
  "optimizer": {"kind": "adam", "lr": 0.01},
  "layers": [
    {"in": 2, "out": 5, "phi": "tanh", "tau_m": [{"n": 3, "value": 1.0}, 0.5, 0.6], "tau_r": 0.1, "gamma": 0.2},
    {"in": 5, "out": 3, "tau_m": 1, "tau_r": 1, "bias": false, "learn_tau_m": true}
  ]
}`

const specYAML = `
dt: 0.1
beta: 0.5
loss: ce
seed: 7
optimizer: {kind: adam, lr: 0.01}
layers:
  - in: 2
    out: 5
    phi: tanh
    tau_m: [{n: 3, value: 1.0}, 0.5, 0.6]
    tau_r: 0.1
    gamma: 0.2
  - {in: 5, out: 3, tau_m: 1, tau_r: 1, bias: false, learn_tau_m: true}
`

func TestDecodeSpecJSONAndYAMLAgree(t *testing.T) {
	js, err := DecodeSpec([]byte(specJSON))
	if err != nil {
		t.Fatal(err)
	}
	ys, err := DecodeSpec([]byte(specYAML))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(js, ys) {
		t.Fatalf("JSON and YAML specs differ:\n%+v\n%+v", js, ys)
	}
	if err := js.Validate(); err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork(js)
	if err != nil {
		t.Fatal(err)
	}
	l0, l1 := net.Pops[0], net.Pops[1]
	if want := []float64{1, 1, 1, 0.5, 0.6}; !slices.Equal(l0.TauM, want) {
		t.Errorf("tau_m groups expand to %v, want %v", l0.TauM, want)
	}
	if !slices.Equal(l0.TauR, []float64{0.1, 0.1, 0.1, 0.1, 0.1}) {
		t.Errorf("scalar tau_r broadcasts to %v", l0.TauR)
	}
	if l0.Phi != Tanh || l1.Phi != Linear || l0.Gamma != 0.2 {
		t.Errorf("phi %v/%v gamma %v", l0.Phi, l1.Phi, l0.Gamma)
	}
	if l1.Bias != nil || l1.LearnBias || !l1.LearnTauM || !net.Projs[0].LearnWeight || !l0.LearnBias {
		t.Errorf("bias/learn flags wrong: %+v", l1)
	}
	if !net.Layered || net.Projs[1].From != 0 || net.Projs[1].To != 1 || net.Projs[0].From != Input {
		t.Errorf("not a chain: %+v", net.Projs)
	}
	// PyTorch-style init: uniform in ±1/√in.
	for _, w := range net.Projs[0].W {
		if math.Abs(w) > 1/math.Sqrt(2) || w == 0 {
			t.Errorf("layer 0 weight %g outside ±1/√2", w)
		}
	}
	if net.NumParams() != 2*5+5+5*3+3 {
		t.Errorf("NumParams = %d", net.NumParams())
	}
}

// TestSpecValidationErrors makes every validation error from a malformed
// spec and checks the field it names and the sentinel it wraps.
func TestSpecValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*Spec)
		field  string
		target error
	}{
		{"dt zero", func(s *Spec) { s.Dt = 0 }, "dt", ErrInvalid},
		{"dt NaN", func(s *Spec) { s.Dt = math.NaN() }, "dt", ErrNonFinite},
		{"beta negative", func(s *Spec) { b := -1.0; s.Beta = &b }, "beta", ErrInvalid},
		{"beta Inf", func(s *Spec) { b := math.Inf(1); s.Beta = &b }, "beta", ErrNonFinite},
		{"unknown loss", func(s *Spec) { s.Loss = 7 }, "loss", ErrUnknownName},
		{"unknown optimizer", func(s *Spec) { s.Optimizer.Kind = 9 }, "optimizer.kind", ErrUnknownName},
		{"negative lr", func(s *Spec) { s.Optimizer.LR = -1 }, "optimizer.lr", ErrInvalid},
		{"three betas", func(s *Spec) { s.Optimizer.Betas = []float64{0.9, 0.9, 0.9} }, "optimizer.betas", ErrShape},
		{"beta1 = 1", func(s *Spec) { s.Optimizer.Betas = []float64{1, 0.9} }, "optimizer.betas[0]", ErrInvalid},
		{"negative eps", func(s *Spec) { e := -1e-8; s.Optimizer.Eps = &e }, "optimizer.eps", ErrInvalid},
		{"negative tau_m_min", func(s *Spec) { s.TauMMin = -1 }, "tau_m_min", ErrInvalid},
		{"tau_m_min below dt", func(s *Spec) { s.TauMMin = 0.05 }, "tau_m_min", ErrInvalid},
		{"negative learn_from_step", func(s *Spec) { s.LearnFromStep = -1 }, "learn_from_step", ErrInvalid},
		{"negative steps", func(s *Spec) { s.Steps = -3 }, "steps", ErrInvalid},
		{"no layers", func(s *Spec) { s.Layers = nil }, "layers", ErrInvalid},
		{"zero in", func(s *Spec) { s.Layers[0].In = 0 }, "layers[0].in", ErrInvalid},
		{"negative out", func(s *Spec) { s.Layers[1].Out = -2 }, "layers[1].out", ErrInvalid},
		{"sizes do not chain", func(s *Spec) { s.Layers[1].In = 4 }, "layers[1].in", ErrShape},
		{"unknown activation", func(s *Spec) { s.Layers[0].Phi = 42 }, "layers[0].phi", ErrUnknownName},
		{"tau_m below dt", func(s *Spec) { s.Layers[0].TauM = Taus{0.05} }, "layers[0].tau_m[0]", ErrInvalid},
		{"tau_r below dt", func(s *Spec) { s.Layers[1].TauR = Taus{1, 0.01, 1} }, "layers[1].tau_r[1]", ErrInvalid},
		{"tau_m NaN", func(s *Spec) { s.Layers[0].TauM = Taus{math.NaN()} }, "layers[0].tau_m[0]", ErrNonFinite},
		{"tau_m missing", func(s *Spec) { s.Layers[0].TauM = nil }, "layers[0].tau_m", ErrInvalid},
		{"tau_r wrong count", func(s *Spec) { s.Layers[0].TauR = Taus{1, 1} }, "layers[0].tau_r", ErrShape},
		{"gamma NaN", func(s *Spec) { s.Layers[0].Gamma = math.NaN() }, "layers[0].gamma", ErrNonFinite},
		{"unknown init", func(s *Spec) { s.Layers[0].Init = 5 }, "layers[0].init", ErrUnknownName},
		{"identity not square", func(s *Spec) { s.Layers[0].Init = InitIdentity }, "layers[0].init", ErrShape},
		{"weight rows", func(s *Spec) { s.Layers[1].Weight = [][]float64{{1, 2, 3, 4, 5}} }, "layers[1].weight", ErrShape},
		{"weight cols", func(s *Spec) {
			s.Layers[1].Weight = [][]float64{{1, 2, 3, 4, 5}, {1, 2, 3, 4}, {1, 2, 3, 4, 5}}
		}, "layers[1].weight[1]", ErrShape},
		{"weight NaN", func(s *Spec) {
			s.Layers[1].Weight = [][]float64{{1, 2, 3, 4, 5}, {1, 2, math.NaN(), 4, 5}, {1, 2, 3, 4, 5}}
		}, "layers[1].weight[1][2]", ErrNonFinite},
		{"bias count", func(s *Spec) { s.Layers[0].Bias = Bias{Values: []float64{1}} }, "layers[0].bias", ErrShape},
		{"bias Inf", func(s *Spec) { s.Layers[0].Bias = Bias{Values: []float64{1, 2, 3, 4, math.Inf(-1)}} }, "layers[0].bias[4]", ErrNonFinite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := DecodeSpec([]byte(specJSON))
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(s)
			err = s.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fe.Field != tc.field || !errors.Is(fe, tc.target) {
				t.Errorf("got %q (%v), want field %q wrapping %v", fe.Field, fe, tc.field, tc.target)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("message %q does not name %q", err, tc.field)
			}
			if _, err := NewNetwork(s); err == nil {
				t.Error("NewNetwork accepted the invalid spec")
			}
		})
	}
}

func TestDecodeSpecErrors(t *testing.T) {
	for name, text := range map[string]string{
		"empty":          "",
		"truncated JSON": specJSON[:len(specJSON)/2],
		"unknown field":  `{"dt": 0.1, "layers": [], "tau_mm": 1}`,
		"wrong type":     `{"dt": "fast", "layers": []}`,
		"bad tau group":  `{"dt": 0.1, "layers": [{"in":1,"out":1,"tau_m":[{"n":0,"value":1}],"tau_r":1}]}`,
		"bad bias":       `{"dt": 0.1, "layers": [{"in":1,"out":1,"tau_m":1,"tau_r":1,"bias":"yes"}]}`,
		"YAML NaN":       "dt: .nan\nlayers: []\n",
		"YAML syntax":    "dt: [0.1\n",
		"trailing data":  `{"dt": 0.1, "layers": []} {}`,
	} {
		if _, err := DecodeSpec([]byte(text)); err == nil {
			t.Errorf("%s: DecodeSpec accepted %q", name, text)
		}
	}
}

// TestToSpecRoundTrip rebuilds a network from its exported spec.
func TestToSpecRoundTrip(t *testing.T) {
	s, err := DecodeSpec([]byte(specJSON))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := NewNetwork(net.ToSpec(s))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(net, back) {
		t.Errorf("round trip differs:\n%+v\n%+v", net, back)
	}
}

// FuzzDecodeSpec feeds arbitrary bytes to the spec parser and validator:
// they must return errors, never panic, and an accepted spec must build.
func FuzzDecodeSpec(f *testing.F) {
	f.Add([]byte(specJSON))
	f.Add([]byte(specYAML))
	f.Add([]byte(`{"dt": 0.1, "layers": [{"in": 1, "out": 1, "tau_m": [{"n": 2, "value": 1}], "tau_r": 1, "bias": null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSpec(data)
		if err != nil {
			return
		}
		if s.Validate() != nil {
			return
		}
		if ParamBytes(s) > 1<<22 { // keep the fuzzer away from huge allocations
			return
		}
		if _, err := NewNetwork(s); err != nil {
			t.Fatalf("a valid spec did not build: %v", err)
		}
	})
}

func TestOptimizerSpecNew(t *testing.T) {
	eps := 1e-6
	o, err := OptimizerSpec{Kind: optim.KindAdam, LR: 0.01, Betas: []float64{0.8, 0.99}, Eps: &eps}.New()
	if a, ok := o.(*optim.Adam); err != nil || !ok || a.Beta1 != 0.8 || a.Beta2 != 0.99 || a.Eps != 1e-6 || a.LR() != 0.01 {
		t.Errorf("adam: %+v, %v", o, err)
	}
	if o, err := (OptimizerSpec{LR: 0.5}).New(); err != nil || o.(*optim.SGD).Rate != 0.5 {
		t.Errorf("sgd: %+v, %v", o, err)
	}
	if _, err := (OptimizerSpec{Kind: optim.KindAdam, Betas: []float64{0.9}}).New(); !errors.Is(err, ErrShape) {
		t.Errorf("one beta: %v", err)
	}
	if _, err := (OptimizerSpec{Kind: 7}).New(); !errors.Is(err, ErrUnknownName) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestStrictSpecErrors: keys are case-sensitive, unknown keys and every
// other problem are reported together, each with its full path; a
// population of size 0 is named as such.
func TestStrictSpecErrors(t *testing.T) {
	_, err := DecodeSpec([]byte("dt: 0.1\nlayers:\n  - {in: 1, out: 2, PHI: tanh, tau_m: 1, tau_r: 1}\n  - {in: 2, out: 1, tau_n: 1, tau_r: 1, Init: zeros}\n"))
	for _, want := range []string{"layers[0].PHI: unknown field", "layers[1].tau_n: unknown field", "layers[1].Init: unknown field"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
	s, err := DecodeSpec([]byte(`{"dt": 0.1, "inputs": 1, "output": "o", "populations": [{"name": "h", "size": 0, "tau_m": 1, "tau_r": 1}, {"name": "o", "size": 1, "tau_m": 0.01, "tau_r": 1}], "projections": [{"from": "input", "to": "h"}, {"from": "h", "to": "o"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Validate()
	for _, want := range []string{"populations[0].size = 0", "populations[1].tau_m[0] = 0.01"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
	if _, err := DecodeSpec([]byte(`{"dt": 0.1, "loss": "hinge", "layers": [{"in": 1, "out": 1, "phi": "swish", "tau_m": 1, "tau_r": 1}]}`)); err == nil ||
		!strings.Contains(err.Error(), "loss = hinge") || !strings.Contains(err.Error(), "layers[0].phi = swish") {
		t.Errorf("unknown names: %v", err)
	}
	// Names that do not decode and values out of range, reported at once;
	// a field that did not decode is not reported again by validation.
	_, err = DecodeSpec([]byte("dt: 0.1\nloss: foo\nbeta: -1\nlayers:\n  - {in: 1, out: 4, phi: nope, tau_m: 0.01, tau_r: [1, 2, x]}\n  - {in: 3, out: 1, tau_m: 1, tau_r: 1}\n"))
	for _, want := range []string{"loss = foo", "layers[0].phi = nope", "beta = -1", "layers[0].tau_m[0] = 0.01", "layers[1].in = 3", "layers[0].tau_r"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
	if n := strings.Count(err.Error(), "layers[0].tau_r"); n != 1 {
		t.Errorf("layers[0].tau_r reported %d times: %v", n, err)
	}
}

// TestDecodeReportsEachProblemOnce: a NaN in a YAML spec is reported
// alone, the rest of the file decoded (not "dt = 0" and "layers = []"
// after it), and a type error does not bring checks that depend on the
// field that failed (layers[1].in against layers[0].out).
func TestDecodeReportsEachProblemOnce(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{"dt: 0.1\noptimizer: {kind: sgd, lr: .nan}\nlayers:\n  - {in: 1, out: 8, phi: tanh, tau_m: 1, tau_r: 0.2}\n  - {in: 8, out: 1, tau_m: 0.5, tau_r: 0.5}\n",
			"optimizer.lr = NaN: must be finite"},
		{"dt: 0.1\nlayers:\n  - {in: 1, out: 8, phi: tanh, tau_m: [1, .inf], tau_r: 0.2}\n  - {in: 8, out: 1, tau_m: 0.5, tau_r: 0.5}\n",
			"layers[0].tau_m[1] = +Inf: must be finite"},
		{"dt: 0.1\nlayers:\n  - {in: 1, out: \"8\", phi: tanh, tau_m: 1, tau_r: 0.2}\n  - {in: 8, out: 1, tau_m: 0.5, tau_r: 0.5}\n",
			`layers[0].out = "8": want an integer`},
	} {
		_, err := DecodeSpec([]byte(c.doc))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want exactly %q", c.doc, err, c.want)
		}
	}
}

// TestCheckNamesTensors: a network edited by hand is checked, and the
// errors name its tensors as users see them (layers.0.weight[3]), not the
// Go fields.
func TestCheckNamesTensors(t *testing.T) {
	s, err := DecodeSpec([]byte("dt: 0.1\nlayers:\n  - {in: 2, out: 3, phi: tanh, tau_m: 1, tau_r: 0.2}\n  - {in: 3, out: 1, tau_m: 0.5, tau_r: 0.5}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(n *Network)
		want string
	}{
		{func(n *Network) { n.Projs[0].W[3] = math.NaN() }, "layers.0.weight[3] = NaN: must be finite"},
		{func(n *Network) { n.Pops[1].TauR[0] = 0.01 }, "layers.1.tau_r[0] = 0.01: must be finite and ≥ dt = 0.1"},
		{func(n *Network) { n.Pops[0].Bias[2] = math.Inf(1) }, "layers.0.bias[2] = +Inf: must be finite"},
	} {
		n, err := NewNetwork(s)
		if err != nil {
			t.Fatal(err)
		}
		c.edit(n)
		if err := n.Check(); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}
