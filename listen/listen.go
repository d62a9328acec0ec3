// Package listen spots keywords in a continuous audio stream with a GLE
// network: the stream's features frame by frame (data/speech.Stream),
// one engine step per dt at batch 1 with the state carried throughout —
// GLE's real-time nature put to use — and a detection rule on the
// network's outputs.
//
// The detection rule (Rule) works on the class probabilities p_t =
// softmax(outputs_t), smoothed by an exponential average over Smooth
// seconds, s_t = s_{t−1} + (p_t − s_{t−1})·dt_audio/Smooth. A keyword k
// (not the silence or unknown class) is detected when s_t[k] rises above
// On while it is the largest smoothed probability and no detection came
// within Refractory seconds; k can be detected again only after s_t[k]
// fell below Off (hysteresis). The detection's time is the stream time
// of that step, its confidence s_t[k].
package listen

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/speech"
	"github.com/gle-go/gle/internal/errs"
	"github.com/gle-go/gle/safetensors"
)

// Rule is the detection rule's parameters.
type Rule struct {
	Smooth     float64 `json:"smooth"`     // seconds of the exponential average of the probabilities
	On         float64 `json:"on"`         // a keyword is detected when its smoothed probability rises above On
	Off        float64 `json:"off"`        // … and re-armed when it falls below Off (≤ On)
	Refractory float64 `json:"refractory"` // seconds after a detection in which no other is reported
}

// DefaultRule is a rule for models without one of their own.
func DefaultRule() Rule { return Rule{Smooth: 0.1, On: 0.6, Off: 0.3, Refractory: 0.5} }

// Validate checks the rule (an if-chain, so that coverage tools see each
// condition).
func (r Rule) Validate() error {
	if !(r.Smooth > 0) || math.IsInf(r.Smooth, 0) {
		return errs.Field(errs.ErrInvalid, "rule.smooth", r.Smooth, "want a positive number of seconds")
	}
	if !(r.On > 0 && r.On < 1) {
		return errs.Field(errs.ErrInvalid, "rule.on", r.On, "want a probability in (0, 1)")
	}
	if !(r.Off >= 0 && r.Off <= r.On) {
		return errs.Field(errs.ErrInvalid, "rule.off", r.Off, "want a probability in [0, on]")
	}
	if !(r.Refractory >= 0) || math.IsInf(r.Refractory, 0) {
		return errs.Field(errs.ErrInvalid, "rule.refractory", r.Refractory, "want ≥ 0 seconds")
	}
	return nil
}

// Detection is one keyword found in the stream.
type Detection struct {
	Word       string  `json:"word"`
	Time       float64 `json:"time"` // seconds from the stream's start, when it was detected
	Confidence float64 `json:"confidence"`
}

// Detector applies a Rule to a sequence of outputs.
type Detector struct {
	rule     Rule
	labels   []string
	keyword  []bool    // which classes are keywords
	a        float64   // smoothing factor per step
	smooth   []float64 // s_t
	armed    []bool
	last     float64 // time of the last detection
	p        []float64
	stepTime float64
}

// NewDetector returns a detector for the classes labels (those named
// _silence_ and _unknown_ are never reported), one step every stepTime
// seconds of audio.
func NewDetector(r Rule, labels []string, stepTime float64) (*Detector, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{rule: r, labels: labels, keyword: make([]bool, len(labels)), smooth: make([]float64, len(labels)),
		armed: make([]bool, len(labels)), p: make([]float64, len(labels)), a: min(1, stepTime/r.Smooth), stepTime: stepTime, last: math.Inf(-1)}
	for k, l := range labels {
		d.keyword[k] = l != speech.SilenceLabel && l != speech.UnknownLabel
		d.armed[k] = true
	}
	return d, nil
}

// Smoothed returns the smoothed probabilities of the last step.
func (d *Detector) Smoothed() []float64 { return d.smooth }

// Step takes the outputs of the step that ends at time t (seconds) and
// reports a detection, if any.
func (d *Detector) Step(out []float64, t float64) (Detection, bool) {
	top := out[0]
	for _, v := range out {
		top = max(top, v)
	}
	var z float64
	for k, v := range out {
		d.p[k] = math.Exp(v - top)
		z += d.p[k]
	}
	best := 0
	for k := range d.smooth {
		d.smooth[k] += d.a * (d.p[k]/z - d.smooth[k])
		if d.smooth[k] > d.smooth[best] {
			best = k
		}
	}
	for k, s := range d.smooth {
		if s < d.rule.Off {
			d.armed[k] = true
		}
	}
	s := d.smooth[best]
	if !d.keyword[best] || !d.armed[best] || s <= d.rule.On || t-d.last < d.rule.Refractory {
		return Detection{}, false
	}
	d.armed[best], d.last = false, t
	return Detection{Word: d.labels[best], Time: t, Confidence: s}, true
}

// Model is a trained keyword network with its labels and detection
// rule, stored as one safetensors file (the labels, the rule and the
// normalisation window in its metadata).
type Model struct {
	Net    *gle.Network
	Spec   *gle.Spec
	Labels []string
	Rule   Rule
	// Window is the frontend's running normalisation, in frames
	// (speech.Stream).
	Window float64
}

// Save writes the model to path (.safetensors).
func (m *Model) Save(path string) error {
	rule, err := json.Marshal(m.Rule)
	if err != nil {
		return err
	}
	labels, _ := json.Marshal(m.Labels)
	return safetensors.SaveMeta(path, m.Net, m.Spec, map[string]string{"gle.listen.labels": string(labels),
		"gle.listen.rule": string(rule), "gle.listen.window": fmt.Sprint(m.Window)})
}

// LoadModel reads a model written by Save.
func LoadModel(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeModel(path, data)
}

// DecodeModel is LoadModel of a file's contents (name names it in
// errors).
func DecodeModel(path string, data []byte) (*Model, error) {
	n, spec, meta, err := safetensors.DecodeNetwork(path, data)
	if err != nil {
		return nil, err
	}
	m := &Model{Net: n, Spec: spec}
	if err := json.Unmarshal([]byte(meta["gle.listen.labels"]), &m.Labels); err != nil || len(m.Labels) != n.Outputs() {
		return nil, fmt.Errorf("%s: %w: not a keyword model (its labels: %q)", path, errs.ErrInvalid, meta["gle.listen.labels"])
	}
	if err := json.Unmarshal([]byte(meta["gle.listen.rule"]), &m.Rule); err != nil {
		return nil, fmt.Errorf("%s: %w: the detection rule: %v", path, errs.ErrInvalid, err)
	}
	if _, err := fmt.Sscan(meta["gle.listen.window"], &m.Window); err != nil {
		return nil, fmt.Errorf("%s: %w: the normalisation window: %v", path, errs.ErrInvalid, err)
	}
	if err := m.Rule.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// StepSeconds is the audio time of one engine step: hop / Upsample samples
// at 16 kHz (1.25 ms).
const StepSeconds = 400.0 / speech.Upsample / 16000

// Listener runs a model on a stream: the frontend, one engine step per
// feature step at batch 1 (the state carried throughout), the detector.
// It holds constant memory whatever the stream's length.
type Listener struct {
	model  *Model
	front  *speech.Stream
	engine *gle.Engine32
	det    *Detector
	out    []float64
	x      []float64
	steps  int
	// Outputs, when set, receives every step's outputs (for figures).
	Outputs func(t float64, out, smoothed []float64)
}

// NewListener returns a listener of model m at the start of a stream.
func NewListener(m *Model) (*Listener, error) {
	front, err := speech.NewStream(m.Window)
	if err != nil {
		return nil, err
	}
	if m.Net.Inputs != front.Mels() {
		return nil, fmt.Errorf("%w: the model takes %d inputs, the frontend gives %d mels", errs.ErrShape, m.Net.Inputs, front.Mels())
	}
	e, err := gle.NewEngine32(m.Net, 1)
	if err != nil {
		return nil, err
	}
	det, err := NewDetector(m.Rule, m.Labels, StepSeconds)
	if err != nil {
		return nil, err
	}
	return &Listener{model: m, front: front, engine: e, det: det, out: make([]float64, m.Net.Outputs()), x: make([]float64, front.Mels())}, nil
}

// Push feeds samples (16 kHz) and reports every detection they complete.
func (l *Listener) Push(samples []float64, found func(Detection)) error {
	var err error
	perr := l.front.Push(samples, func(step []float64) {
		if err != nil {
			return
		}
		copy(l.x, step)
		if err = l.engine.Step(l.out, l.x, gle.Target{}); err != nil {
			return
		}
		l.steps++
		t := float64(l.steps) * StepSeconds
		d, ok := l.det.Step(l.out, t)
		if l.Outputs != nil {
			l.Outputs(t, l.out, l.det.Smoothed())
		}
		if ok && found != nil {
			found(d)
		}
	})
	return errors.Join(perr, err)
}

// Seconds returns the stream time the listener has processed.
func (l *Listener) Seconds() float64 { return float64(l.steps) * StepSeconds }

// Keywords returns the words the model reports (its labels but silence
// and unknown).
func (m *Model) Keywords() []string {
	var out []string
	for _, l := range m.Labels {
		if l != speech.SilenceLabel && l != speech.UnknownLabel {
			out = append(out, l)
		}
	}
	return out
}

// String describes the model.
func (m *Model) String() string {
	return fmt.Sprintf("%d parameters, keywords %s, rule %+v", m.Net.NumParams(), strings.Join(m.Keywords(), " "), m.Rule)
}

// defaultModel is the shipped keyword model: its training command, size
// and metrics are in models/README.md.
//
//go:embed models/kw12.safetensors
var defaultModel []byte

// Default returns the shipped keyword model (models/README.md).
func Default() (*Model, error) {
	return DecodeModel("the shipped model", defaultModel)
}
