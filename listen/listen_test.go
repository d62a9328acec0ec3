package listen

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/speech"
	"github.com/gle-go/gle/safetensors"
)

// TestDetectorRule: a keyword whose probability rises above On is
// reported once, at the step it crosses; it is reported again only after
// falling below Off, never within the refractory time, and silence or
// unknown words never.
func TestDetectorRule(t *testing.T) {
	labels := []string{"_unknown_", "_silence_", "yes", "no"}
	r := Rule{Smooth: 0.01, On: 0.6, Off: 0.3, Refractory: 0.2}
	d, err := NewDetector(r, labels, 0.001)
	if err != nil {
		t.Fatal(err)
	}
	// logits that make class c's probability ≈ 0.97
	out := func(c int) []float64 {
		o := make([]float64, 4)
		o[c] = 5
		return o
	}
	var got []Detection
	var tt float64
	run := func(c int, seconds float64) {
		for range int(math.Round(seconds / 0.001)) {
			tt += 0.001
			if det, ok := d.Step(out(c), tt); ok {
				got = append(got, det)
			}
		}
	}
	run(1, 0.5)  // silence: nothing
	run(2, 0.3)  // "yes": once
	run(0, 0.05) // unknown: nothing, "yes" falls below Off
	run(2, 0.05) // "yes" again, 0.35 s after the first: reported
	run(3, 0.15) // "no" right after it: within the refractory 0.2 s
	run(1, 0.5)
	run(3, 0.2) // "no" after silence: reported
	if len(got) != 3 || got[0].Word != "yes" || got[1].Word != "yes" || got[2].Word != "no" {
		t.Fatalf("detections %+v, want yes, yes, no", got)
	}
	// The first crossing: s rises as 1 − (1 − 0.01·…)…: above 0.6 after
	// about one time constant (0.01 s) of "yes".
	if got[0].Time < 0.5 || got[0].Time > 0.52 || got[0].Confidence <= 0.6 {
		t.Errorf("first detection %+v: want just after 0.5 s, confidence above 0.6", got[0])
	}
	if _, err := NewDetector(Rule{Smooth: 0.1, On: 0.5, Off: 0.7}, labels, 0.001); err == nil {
		t.Error("off above on was accepted")
	}
}

// testModel is a random keyword network (32 → 24 → 5) whose outputs
// take turns on a changing sound, so that its rule fires.
func testModel(t *testing.T) *Model {
	t.Helper()
	s := &gle.Spec{Dt: 0.05, Loss: gle.CE, Seed: 3, Layers: []gle.LayerSpec{
		{In: 32, Out: 24, Phi: gle.Tanh, TauM: gle.Taus{2}, TauR: gle.Taus{0.05}},
		{In: 24, Out: 5, TauM: gle.Taus{4}, TauR: gle.Taus{4}},
	}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	// Large output weights make the softmax peaked: the classes take
	// turns as the sound changes, and the rule fires.
	for i := range n.Projs[len(n.Projs)-1].W {
		n.Projs[len(n.Projs)-1].W[i] *= 8
	}
	return &Model{Net: n, Spec: s, Labels: []string{"_silence_", "_unknown_", "yes", "no", "go"},
		Rule: Rule{Smooth: 0.02, On: 0.6, Off: 0.3, Refractory: 0.1}, Window: speech.DefaultStreamWindow}
}

// chirps is a test stream: tones gliding up and down at changing levels.
func chirps(seconds float64) []float64 {
	x := make([]float64, int(seconds*16000))
	for i := range x {
		tt := float64(i) / 16000
		f := 300 + 1500*(1+math.Sin(2*math.Pi*0.7*tt))
		x[i] = (0.05 + 0.4*math.Abs(math.Sin(2*math.Pi*0.3*tt))) * math.Sin(2*math.Pi*f*tt)
	}
	return x
}

// TestListenerPieces: the detections and every step's outputs do not
// depend on how the stream is cut into pieces (one sample to the whole
// stream), and the listener reports words (the test would be empty
// otherwise).
func TestListenerPieces(t *testing.T) {
	m := testModel(t)
	x := chirps(6)
	run := func(piece int) ([]Detection, []float64) {
		l, err := NewListener(m)
		if err != nil {
			t.Fatal(err)
		}
		var outs []float64
		l.Outputs = func(_ float64, out, _ []float64) { outs = append(outs, out...) }
		var dets []Detection
		for i := 0; i < len(x); i += piece {
			if err := l.Push(x[i:min(i+piece, len(x))], func(d Detection) { dets = append(dets, d) }); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := l.Seconds(), float64(len(outs)/5)*StepSeconds; got != want {
			t.Errorf("Seconds %g after %d steps, want %g", got, len(outs)/5, want)
		}
		return dets, outs
	}
	wantD, wantO := run(len(x))
	if len(wantD) == 0 {
		t.Fatal("no detections on the test stream: the rule is too strict for this test")
	}
	for _, piece := range []int{1, 7, 400, 1600, 12345} {
		d, o := run(piece)
		if !slices.Equal(d, wantD) || !slices.Equal(o, wantO) {
			t.Errorf("pieces of %d samples: %d detections, %d outputs; want the whole stream's %d and %d, equal", piece, len(d), len(o), len(wantD), len(wantO))
		}
	}
}

// TestListenerConstantMemory: once running, pushing more audio allocates
// nothing — memory does not grow with the stream's length.
func TestListenerConstantMemory(t *testing.T) {
	l, err := NewListener(testModel(t))
	if err != nil {
		t.Fatal(err)
	}
	x := chirps(2)
	found := func(Detection) {}
	if err := l.Push(x, found); err != nil {
		t.Fatal(err)
	}
	piece := x[:1600]
	if a := testing.AllocsPerRun(20, func() {
		if err := l.Push(piece, found); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%g allocations per 0.1 s of audio, want 0", a)
	}
}

// TestModelFile: a model saved and loaded is the same model (its
// outputs on a stream identical); a network file without the keyword
// metadata is refused, naming it.
func TestModelFile(t *testing.T) {
	m := testModel(t)
	path := filepath.Join(t.TempDir(), "kw.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Rule != m.Rule || !slices.Equal(back.Labels, m.Labels) || back.Window != m.Window {
		t.Errorf("loaded %v, saved %v", back, m)
	}
	outs := func(m *Model) []float64 {
		l, err := NewListener(m)
		if err != nil {
			t.Fatal(err)
		}
		var o []float64
		l.Outputs = func(_ float64, out, _ []float64) { o = append(o, out...) }
		if err := l.Push(chirps(1), nil); err != nil {
			t.Fatal(err)
		}
		return o
	}
	if !slices.Equal(outs(back), outs(m)) {
		t.Error("the loaded model's outputs differ from the saved one's")
	}
	plain := filepath.Join(t.TempDir(), "net.safetensors")
	if err := safetensors.Save(plain, m.Net, m.Spec); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModel(plain); err == nil || !strings.Contains(err.Error(), "not a keyword model") || !strings.Contains(err.Error(), plain) {
		t.Errorf("a plain network file: error %v, want one naming the file and saying it is not a keyword model", err)
	}
}

// TestDefaultModel: the shipped model decodes, spots the kw12 keywords
// with a rule that validates, and is silent on silence.
func TestDefaultModel(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Keywords(), speech.Keywords) || len(m.Labels) != len(speech.Keywords)+2 {
		t.Errorf("labels %v, want the kw12 keywords %v, silence and unknown", m.Labels, speech.Keywords)
	}
	if err := m.Rule.Validate(); err != nil {
		t.Error(err)
	}
	l, err := NewListener(m)
	if err != nil {
		t.Fatal(err)
	}
	// 5 s of faint white noise (−60 dB): a quiet room.
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 5*16000)
	for i := range x {
		x[i] = 1e-3 * rng.NormFloat64()
	}
	var dets []Detection
	if err := l.Push(x, func(d Detection) { dets = append(dets, d) }); err != nil {
		t.Fatal(err)
	}
	if len(dets) > 0 {
		t.Errorf("5 s of faint noise: detections %v", dets)
	}
}

// TestRuleBounds: each setting at and beyond its bounds.
func TestRuleBounds(t *testing.T) {
	ok := Rule{Smooth: 0.1, On: 0.6, Off: 0.3, Refractory: 0.5}
	for _, c := range []struct {
		change func(*Rule)
		valid  bool
	}{
		{func(r *Rule) {}, true},
		{func(r *Rule) { r.Off = 0 }, true},
		{func(r *Rule) { r.Off = r.On }, true},
		{func(r *Rule) { r.Refractory = 0 }, true},
		{func(r *Rule) { r.Smooth = 0 }, false},
		{func(r *Rule) { r.Smooth = math.Inf(1) }, false},
		{func(r *Rule) { r.On, r.Off = 0, 0 }, false},
		{func(r *Rule) { r.On = 1 }, false},
		{func(r *Rule) { r.Off = -0.1 }, false},
		{func(r *Rule) { r.Off = 0.61 }, false},
		{func(r *Rule) { r.Refractory = -1 }, false},
		{func(r *Rule) { r.Refractory = math.Inf(1) }, false},
		{func(r *Rule) { r.On = math.NaN() }, false},
	} {
		r := ok
		c.change(&r)
		if err := r.Validate(); (err == nil) != c.valid {
			t.Errorf("%+v: %v, want valid %v", r, err, c.valid)
		}
	}
}

// TestDetectorValues: the smoothed probabilities are a probability
// distribution that settles at the softmax (also for logits too large
// for exp), a detection exactly one refractory time after the last is
// reported, and the stream's clock runs in steps of 400/20 samples.
func TestDetectorValues(t *testing.T) {
	if StepSeconds != 400.0/20/16000 {
		t.Errorf("StepSeconds = %g, want 1.25 ms (hop 400 samples at 16 kHz, 20 steps a frame)", StepSeconds)
	}
	labels := []string{"_silence_", "_unknown_", "yes", "no"}
	d, err := NewDetector(Rule{Smooth: 0.01, On: 0.6, Off: 0.3, Refractory: 0.5}, labels, 0.001)
	if err != nil {
		t.Fatal(err)
	}
	var dets []Detection
	step := func(out []float64, tt float64) {
		if det, ok := d.Step(out, tt); ok {
			dets = append(dets, det)
		}
	}
	for i := range 200 { // 0.2 s of "yes" by a logit of 400 (exp(400) overflows)
		step([]float64{0, 0, 400, 0}, 0.001*float64(i+1))
	}
	var sum float64
	for _, s := range d.Smoothed() {
		sum += s
	}
	if !(math.Abs(sum-1) < 1e-6 && math.Abs(d.Smoothed()[2]-1) < 1e-6) { // from all zeros, 1 − 0.9²⁰⁰ ≈ 1 − 7e-10
		t.Errorf("smoothed %v: want a distribution settled at yes", d.Smoothed())
	}
	if len(dets) != 1 || dets[0].Word != "yes" || !(dets[0].Confidence > 0.6 && dets[0].Confidence <= 1) {
		t.Fatalf("detections %+v, want one yes with a confidence in (0.6, 1]", dets)
	}
	// The softmax of logits 5 and 0, 0, 0: the smoothed value settles there.
	for i := range 300 {
		step([]float64{0, 0, 0, 5}, 0.2+0.001*float64(i+1))
	}
	if want := math.Exp(5) / (math.Exp(5) + 3); math.Abs(d.Smoothed()[3]-want) > 1e-9 {
		t.Errorf("smoothed no %.12g, want the softmax %.12g", d.Smoothed()[3], want)
	}
	// "no" came 0.2 s after "yes" (inside the refractory time): not reported.
	// Silence re-arms it; then "no" exactly 0.5 s after the "yes" detection
	// is reported (the refractory time has passed).
	if len(dets) != 1 {
		t.Fatalf("detections %+v: no was reported within the refractory time", dets)
	}
	d2, _ := NewDetector(Rule{Smooth: 0.001, On: 0.6, Off: 0.3, Refractory: 0.5}, labels, 0.001) // a = 1: no smoothing
	var got []Detection
	for _, s := range []struct {
		out []float64
		t   float64
	}{{[]float64{0, 0, 9, 0}, 1.0}, {[]float64{9, 0, 0, 0}, 1.25}, {[]float64{0, 0, 0, 9}, 1.5}} {
		if det, ok := d2.Step(s.out, s.t); ok {
			got = append(got, det)
		}
	}
	if len(got) != 2 || got[1].Word != "no" || got[1].Time != 1.5 {
		t.Errorf("detections %+v: want yes at 1 s and no at 1.5 s, exactly the refractory time later", got)
	}
}

// TestListenerClock: the outputs of the n-th step carry the time n·StepSeconds.
func TestListenerClock(t *testing.T) {
	l, err := NewListener(testModel(t))
	if err != nil {
		t.Fatal(err)
	}
	var times []float64
	l.Outputs = func(tt float64, _, _ []float64) { times = append(times, tt) }
	if err := l.Push(chirps(1), nil); err != nil {
		t.Fatal(err)
	}
	if len(times) < 100 {
		t.Fatalf("%d steps in 1 s", len(times))
	}
	for i, tt := range times {
		if tt != float64(i+1)*StepSeconds {
			t.Fatalf("step %d at %g s, want %g", i+1, tt, float64(i+1)*StepSeconds)
		}
	}
}

// TestDetectorEdges: without smoothing (Smooth ≤ the step) and with
// probabilities that are exact binary fractions — a tie goes to the first
// class, a probability equal to On does not fire, one equal to Off does
// not re-arm.
func TestDetectorEdges(t *testing.T) {
	labels := []string{"_silence_", "_unknown_", "yes", "no"}
	inf := math.Inf(-1)
	run := func(r Rule, outs ...[]float64) []string {
		d, err := NewDetector(r, labels, 0.001)
		if err != nil {
			t.Fatal(err)
		}
		var words []string
		for i, o := range outs {
			if det, ok := d.Step(o, float64(i+1)); ok {
				words = append(words, det.Word)
			}
		}
		return words
	}
	half := []float64{inf, inf, 0, 0}  // yes and no at exactly 0.5
	yes := []float64{inf, inf, 0, inf} // yes at exactly 1
	if got := run(Rule{Smooth: 0.001, On: 0.4, Off: 0.2}, half); !slices.Equal(got, []string{"yes"}) {
		t.Errorf("a tie: %v, want yes (the first class)", got)
	}
	if got := run(Rule{Smooth: 0.001, On: 0.5, Off: 0.2}, half); len(got) != 0 {
		t.Errorf("a probability equal to on: %v, want nothing", got)
	}
	if got := run(Rule{Smooth: 0.001, On: 0.6, Off: 0.5}, yes, half, yes); !slices.Equal(got, []string{"yes"}) {
		t.Errorf("yes, then at exactly off, then yes: %v, want one yes (not re-armed)", got)
	}
}
