// Package trajectory reads, replays and checks reference trajectories:
// files of the format "gle-reference-trajectory/1" (docs/model.md §6) that record a
// network, its inputs and targets, and the outputs, final parameters and
// final state the reference produced.
//
// Replay runs a file through the public API (gle, optim) from the zero
// state; Compare measures every recorded variable (the outputs, each
// layer's weight, bias and τm, each layer's final u, v, r, r′ and
// e_bottom) against its own scale in the file:
//
//	err = max_i |a_i − b_i| / S,   S = max_i |b_i|   (the variable's largest |value|)
//
// so that a variable of size 1e-4 is checked as closely as one of size 1
// (a variable that is zero throughout, S = 0, is checked absolutely).
// Report.Failures checks each variable against a tolerance; the float64
// replay must agree to Float64Tolerance, the float32 one to
// Float32Tolerance. Compare also keeps the coarser measure of
// docs/model.md §6, max |a − b| / max(1, |b|) per group.
package trajectory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/gle-go/gle"
)

// Format is the format tag this package reads.
const Format = "gle-reference-trajectory/1"

// ErrMalformed marks a file that does not follow the format.
var ErrMalformed = errors.New("malformed trajectory file")

// File is one trajectory file.
type File struct {
	Format      string          `json:"format"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Spec        gle.Spec        `json:"-"`       // decoded strictly from "spec"
	Inputs      [][][]float64   `json:"inputs"`  // [steps][batch][in]
	RawTargets  json.RawMessage `json:"targets"` // null, [steps][batch][out] (mse) or [steps][batch] (ce)
	Expected    *Expected       `json:"expected,omitempty"`

	// Targets holds the decoded targets, one per step (nil: no target).
	Targets []gle.Target `json:"-"`
}

// Expected holds what the reference recorded.
type Expected struct {
	Output      [][][]float64 `json:"output"` // [steps][batch][out]
	FinalParams []Params      `json:"final_params"`
	FinalState  []State       `json:"final_state"`
}

// Params are one layer's parameters; Bias is nil for a layer without bias.
type Params struct {
	Weight [][]float64 `json:"weight"`
	Bias   []float64   `json:"bias"`
	TauM   []float64   `json:"tau_m"`
}

// State is one layer's state, [batch][neurons] each.
type State struct {
	U       [][]float64 `json:"u"`
	V       [][]float64 `json:"v"`
	R       [][]float64 `json:"r"`
	RPrime  [][]float64 `json:"r_prime"`
	EBottom [][]float64 `json:"e_bottom"`
}

// Read reads and checks the file at path. Errors name the file.
func Read(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Decode(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Decode reads and checks a trajectory from r.
func Decode(r io.Reader) (*File, error) {
	var f File
	var raw struct {
		Spec json.RawMessage `json:"spec"`
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	for _, dst := range []any{&f, &raw} {
		if err := json.Unmarshal(data, dst); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end") {
				return nil, fmt.Errorf("%w: truncated JSON (%v)", ErrMalformed, err)
			}
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}
	if len(raw.Spec) == 0 || string(raw.Spec) == "null" {
		return nil, malformed("spec", "missing")
	}
	spec, err := gle.DecodeSpec(raw.Spec)
	if err != nil {
		return nil, fmt.Errorf("%w: spec: %w", ErrMalformed, err)
	}
	f.Spec = *spec
	if err := f.check(); err != nil {
		return nil, err
	}
	return &f, nil
}

func malformed(field string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, field, fmt.Sprintf(format, args...))
}

// FlatInputs returns the inputs of every step as flat Batch×In slices.
func (f *File) FlatInputs() [][]float64 {
	xs := make([][]float64, len(f.Inputs))
	for t, in := range f.Inputs {
		xs[t] = flatten(in)
	}
	return xs
}

// Batch returns the number of samples per step.
func (f *File) Batch() int { return len(f.Inputs[0]) }

// check validates the spec and every array's shape and decodes targets.
func (f *File) check() error {
	if f.Format != Format {
		return malformed("format", "%q, want %q", f.Format, Format)
	}
	if err := f.Spec.Validate(); err != nil {
		return fmt.Errorf("%w: spec: %w", ErrMalformed, err)
	}
	if !f.Spec.Layered() {
		return malformed("spec.layers", "missing: the format declares a layered network")
	}
	steps := len(f.Inputs)
	if steps == 0 {
		return malformed("inputs", "no steps")
	}
	if f.Spec.Steps != 0 && f.Spec.Steps != steps {
		return malformed("spec.steps", "%d, but inputs has %d steps", f.Spec.Steps, steps)
	}
	batch := len(f.Inputs[0])
	if batch == 0 {
		return malformed("inputs[0]", "empty batch")
	}
	nIn, nOut := f.Spec.Layers[0].In, f.Spec.Layers[len(f.Spec.Layers)-1].Out
	if err := checkArray3("inputs", f.Inputs, steps, batch, nIn); err != nil {
		return err
	}
	if err := f.decodeTargets(steps, batch, nOut); err != nil {
		return err
	}
	if f.Expected == nil {
		return nil
	}
	e := f.Expected
	if err := checkArray3("expected.output", e.Output, steps, batch, nOut); err != nil {
		return err
	}
	if len(e.FinalParams) != len(f.Spec.Layers) {
		return malformed("expected.final_params", "%d layers, want %d", len(e.FinalParams), len(f.Spec.Layers))
	}
	if len(e.FinalState) != len(f.Spec.Layers) {
		return malformed("expected.final_state", "%d layers, want %d", len(e.FinalState), len(f.Spec.Layers))
	}
	for i, l := range f.Spec.Layers {
		p, s := e.FinalParams[i], e.FinalState[i]
		name := fmt.Sprintf("expected.final_params[%d]", i)
		if err := checkArray2(name+".weight", p.Weight, l.Out, l.In); err != nil {
			return err
		}
		if l.Bias.Disabled != (p.Bias == nil) {
			return malformed(name+".bias", "present = %v, but the spec's bias is present = %v", p.Bias != nil, !l.Bias.Disabled)
		}
		if err := checkArray1(name+".bias", p.Bias, len(p.Bias)); err != nil {
			return err
		}
		if !l.Bias.Disabled && len(p.Bias) != l.Out {
			return malformed(name+".bias", "%d values, want %d", len(p.Bias), l.Out)
		}
		if err := checkArray1(name+".tau_m", p.TauM, l.Out); err != nil {
			return err
		}
		name = fmt.Sprintf("expected.final_state[%d]", i)
		for _, a := range []struct {
			field string
			x     [][]float64
			width int
		}{{"u", s.U, l.Out}, {"v", s.V, l.Out}, {"r", s.R, l.Out}, {"r_prime", s.RPrime, l.Out}, {"e_bottom", s.EBottom, l.In}} {
			if err := checkArray2(name+"."+a.field, a.x, batch, a.width); err != nil {
				return err
			}
		}
	}
	return nil
}

func (f *File) decodeTargets(steps, batch, nOut int) error {
	raw := f.RawTargets
	if len(raw) == 0 || string(raw) == "null" {
		f.Targets = make([]gle.Target, steps)
		return nil
	}
	f.Targets = make([]gle.Target, steps)
	switch f.Spec.Loss {
	case gle.MSE:
		var y [][][]float64
		if err := json.Unmarshal(raw, &y); err != nil {
			return malformed("targets", "mse targets must be [steps][batch][out] numbers: %v", err)
		}
		if err := checkArray3("targets", y, steps, batch, nOut); err != nil {
			return err
		}
		for t := range y {
			f.Targets[t].Values = flatten(y[t])
		}
	case gle.CE:
		var y [][]float64
		if err := json.Unmarshal(raw, &y); err != nil {
			return malformed("targets", "ce targets must be [steps][batch] class indices: %v", err)
		}
		if err := checkArray2("targets", y, steps, batch); err != nil {
			return err
		}
		for t, row := range y {
			c := make([]int, batch)
			for b, v := range row {
				if v != math.Trunc(v) || v < 0 || int(v) >= nOut {
					return malformed(fmt.Sprintf("targets[%d][%d]", t, b), "%v is not a class index in [0, %d)", v, nOut)
				}
				c[b] = int(v)
			}
			f.Targets[t].Classes = c
		}
	default:
		return malformed("targets", "given, but the loss is %q", f.Spec.Loss)
	}
	return nil
}

func checkArray1(field string, x []float64, n int) error {
	if len(x) != n {
		return malformed(field, "%d values, want %d", len(x), n)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return malformed(fmt.Sprintf("%s[%d]", field, i), "%v is not finite", v)
		}
	}
	return nil
}

func checkArray2(field string, x [][]float64, rows, cols int) error {
	if len(x) != rows {
		return malformed(field, "%d rows, want %d", len(x), rows)
	}
	for i, r := range x {
		if err := checkArray1(fmt.Sprintf("%s[%d]", field, i), r, cols); err != nil {
			return err
		}
	}
	return nil
}

func checkArray3(field string, x [][][]float64, n0, n1, n2 int) error {
	if len(x) != n0 {
		return malformed(field, "%d entries, want %d", len(x), n0)
	}
	for i, m := range x {
		if err := checkArray2(fmt.Sprintf("%s[%d]", field, i), m, n1, n2); err != nil {
			return err
		}
	}
	return nil
}

func flatten(x [][]float64) []float64 {
	var out []float64
	for _, r := range x {
		out = append(out, r...)
	}
	return out
}

// Result is what a replay produced, in the layout of Expected.
type Result struct {
	Output [][][]float64
	Net    *gle.Network
	State  *gle.State
}

// Replay runs the file through the public API: build the network and
// optimizer from the spec (gle.NewTrainerFromSpec), start from the zero
// state, and for each step feed inputs[t] and targets[t], record the
// output (the top layer's rate from before the step's commit), then let
// the optimizer step (from learn_from_step on) and clamp τm.
func (f *File) Replay() (*Result, error) { return replay[float64](f) }

// ReplayFloat32 is Replay on the float32 engine (gle.Engine32); its state
// is returned converted to float64.
func (f *File) ReplayFloat32() (*Result, error) { return replay[float32](f) }

func replay[T gle.Float](f *File) (*Result, error) {
	batch := f.Batch()
	tr, err := gle.NewTrainerFromSpec[T](&f.Spec, batch)
	if err != nil {
		return nil, err
	}
	nOut := tr.Engine.Net.Outputs()
	res := &Result{Output: make([][][]float64, len(f.Inputs)), Net: tr.Engine.Net}
	out := make([]float64, batch*nOut)
	for t, x := range f.FlatInputs() {
		if _, err := tr.Step(out, x, f.Targets[t]); err != nil {
			return nil, err
		}
		res.Output[t] = unflatten(out, batch, nOut)
	}
	res.State = gle.ConvertState[float64](tr.Engine.State())
	return res, nil
}

func unflatten(x []float64, rows, cols int) [][]float64 {
	out := make([][]float64, rows)
	for i := range out {
		out[i] = append([]float64(nil), x[i*cols:(i+1)*cols]...)
	}
	return out
}

// Report is what Compare measured: every variable against its own scale
// (Vars), and the measure of docs/model.md §6, the largest
// max |a−b| / max(1, |b|) in each group of recorded numbers and where it
// occurred — absolute for values below 1.
type Report struct {
	Vars                        []VarError
	Output, Params, State       float64
	OutputAt, ParamsAt, StateAt string
}

// VarError is the agreement of one recorded variable.
type VarError struct {
	Name string // "output", "layers.L.weight", "layers.L.bias", "layers.L.tau_m", "layers.L.u", … "layers.L.e_bottom"
	Kind string // the part after the last dot: "output", "weight", "bias", "tau_m", "u", "v", "r", "r_prime", "e_bottom"
	// Scale is S, the variable's largest |value| in the file.
	Scale float64
	// Err is max |a − b| / S over the variable's values (max |a − b| when
	// S = 0; +Inf for a NaN).
	Err float64
	// At is the flat index of the worst value (output: step·batch·out +
	// sample·out + unit; state: sample·width + unit).
	At int
}

// Max returns the largest of the three §6 errors.
func (r Report) Max() float64 { return max(r.Output, r.Params, r.State) }

// Float64Tolerance is the tolerance of the float64 replay for every
// variable: Err ≤ 1e-9 (of the variable's own scale).
const Float64Tolerance = 1e-9

// Float32Tolerance returns the tolerance of the float32 replay
// (ReplayFloat32) for a kind of variable: float32 rounding (6e-8)
// compounded over steps of learning with float32 gradients and Adam
// moments. Outputs, u, r, r′, weights, biases and learned τm agree to
// 5e-6 of their scale (the largest errors on the shared fixtures:
// mlp_adam_tau's u 2.9e-6 and output bias 2.4e-6). v and e_bottom get
// 2e-4: they are errors, small against the rates they are computed from
// (β = 0.01 in lagline: v 9e-5 there), and prospective errors ê = v +
// τm (e − v)/τr amplify rounding by τm/τr (20 in mlp_ce_gle). A float32
// kernel wrong by 1e-6 relative is caught by TestEngine32Agrees, which
// compares one step from the same float32-exact point to 5e-7 of each
// variable's scale; over hundreds of learning steps such an error hides
// in the rounding of float32 Adam.
func Float32Tolerance(kind string) float64 {
	switch kind {
	case "v", "e_bottom":
		return 2e-4
	}
	return 5e-6
}

// Failures returns the variables whose error exceeds tol(kind), in the
// order of Vars.
func (r Report) Failures(tol func(kind string) float64) []VarError {
	var out []VarError
	for _, v := range r.Vars {
		if !(v.Err <= tol(v.Kind)) {
			out = append(out, v)
		}
	}
	return out
}

// Worst returns the variable with the largest error relative to its
// tolerance, Err / tol(Kind) (an error of 0 counts 0 even at tolerance 0);
// the zero VarError if there is none.
func (r Report) Worst(tol func(kind string) float64) VarError {
	var w VarError
	ratio := -1.0
	for _, v := range r.Vars {
		q := 0.0
		if v.Err != 0 {
			q = v.Err / tol(v.Kind)
		}
		if q > ratio {
			w, ratio = v, q
		}
	}
	return w
}

// Compare measures res against the file's expected numbers.
func (f *File) Compare(res *Result) (Report, error) {
	if f.Expected == nil {
		return Report{}, malformed("expected", "missing: nothing to compare")
	}
	var rep Report
	e := f.Expected
	var gotOut, wantOut []float64
	for t := range e.Output {
		for b := range e.Output[t] {
			worst(&rep.Output, &rep.OutputAt, fmt.Sprintf("output[%d][%d]", t, b), res.Output[t][b], e.Output[t][b])
			gotOut, wantOut = append(gotOut, res.Output[t][b]...), append(wantOut, e.Output[t][b]...)
		}
	}
	rep.Vars = append(rep.Vars, scaled("output", "output", gotOut, wantOut))
	batch := f.Batch()
	var states []VarError
	for i := range res.Net.Pops {
		pop, proj, ps := &res.Net.Pops[i], &res.Net.Projs[i], &res.State.Pops[i]
		p, s := e.FinalParams[i], e.FinalState[i]
		name := fmt.Sprintf("layer %d ", i)
		prefix := fmt.Sprintf("layers.%d.", i)
		for _, a := range []struct {
			field     string
			got, want []float64
		}{{"weight", proj.W, flatten(p.Weight)}, {"bias", pop.Bias, p.Bias}, {"tau_m", pop.TauM, p.TauM}} {
			if a.want == nil {
				continue // a layer without bias
			}
			if len(a.got) != len(a.want) {
				return rep, malformed("expected.final_params", "layer %d %s does not fit the network", i, a.field)
			}
			worst(&rep.Params, &rep.ParamsAt, name+a.field, a.got, a.want)
			rep.Vars = append(rep.Vars, scaled(prefix+a.field, a.field, a.got, a.want))
		}
		for _, a := range []struct {
			field string
			got   []float64
			want  [][]float64
		}{{"u", ps.U, s.U}, {"v", ps.V, s.V}, {"r", ps.R, s.R}, {"r_prime", ps.RPrime, s.RPrime}, {"e_bottom", res.State.EBottom[i], s.EBottom}} {
			if len(a.got) != batch*len(a.want[0]) {
				return rep, malformed("expected.final_state", "layer %d %s does not fit the network", i, a.field)
			}
			worst(&rep.State, &rep.StateAt, name+a.field, a.got, flatten(a.want))
			states = append(states, scaled(prefix+a.field, a.field, a.got, flatten(a.want)))
		}
	}
	rep.Vars = append(rep.Vars, states...)
	return rep, nil
}

// scaled measures one variable against its own scale S = max |want|:
// max |got − want| / S (absolute when S = 0).
func scaled(name, kind string, got, want []float64) VarError {
	v := VarError{Name: name, Kind: kind}
	for _, w := range want {
		v.Scale = math.Max(v.Scale, math.Abs(w))
	}
	div := v.Scale
	if div == 0 {
		div = 1
	}
	for i, w := range want {
		d := math.Abs(got[i]-w) / div
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > v.Err || i == 0 {
			v.Err, v.At = d, i
		}
	}
	return v
}

// worst raises *m to the largest relative error max |a−b| / max(1, |b|)
// between got and want.
func worst(m *float64, at *string, where string, got, want []float64) {
	for i, w := range want {
		d := math.Abs(got[i]-w) / math.Max(1, math.Abs(w))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > *m || (*at == "" && d >= *m) {
			*m, *at = d, fmt.Sprintf("%s[%d]", where, i)
		}
	}
}

// Check reads a trajectory file, replays it on the float64 engine (or the
// float32 one) and compares the result with its expected numbers: what
// `gle conformance` and Python's gle.conformance report.
func Check(path string, f32 bool) (Report, error) {
	f, err := Read(path)
	if err != nil {
		return Report{}, err
	}
	if f.Expected == nil {
		return Report{}, malformed("expected", "missing: nothing to check")
	}
	replay := f.Replay
	if f32 {
		replay = f.ReplayFloat32
	}
	res, err := replay()
	if err != nil {
		return Report{}, err
	}
	return f.Compare(res)
}

// Tolerance returns the default tolerance of a replay per kind of
// variable: Float64Tolerance, or Float32Tolerance for the float32 engine.
func Tolerance(f32 bool) func(kind string) float64 {
	if f32 {
		return Float32Tolerance
	}
	return func(string) float64 { return Float64Tolerance }
}
