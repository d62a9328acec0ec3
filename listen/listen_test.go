package listen

import (
	"math"
	"testing"
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
