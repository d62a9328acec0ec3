package experiments

import (
	"context"
	"math"
	"testing"
)

// TestMemory runs a shortened delayed-recall comparison at a gap of one
// time unit (400 trials): the real-time local rule on the recurrent graph
// and BPTT through it recall the cue; the layered chain of instantaneous
// neurons (τr = τm) has no memory and stays at chance.
func TestMemory(t *testing.T) {
	c := DefaultMemory()
	c.Gaps = []float64{1}
	c.Trials = 400
	c.Variants = []string{"vle-local", "gle-layered", "bptt"}
	res, err := RunMemory(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("%-12s gap %g: accuracy %.3f, test loss %.4g", r.Variant, r.Gap, r.Accuracy, r.Loss)
		switch r.Variant {
		case "bptt":
			if r.Accuracy < 0.95 {
				t.Errorf("BPTT: accuracy %.3f, want ≥ 0.95", r.Accuracy)
			}
		case "gle-layered":
			if r.Accuracy > 0.65 {
				t.Errorf("layered chain without memory: accuracy %.3f, want chance", r.Accuracy)
			}
		case "vle-local":
			if r.Accuracy < 0.95 || math.IsNaN(r.Loss) {
				t.Errorf("local rule on the recurrent graph: accuracy %.3f (want ≥ 0.95), loss %.4g", r.Accuracy, r.Loss)
			}
		}
	}
}
