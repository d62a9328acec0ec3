package experiments

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestOnlineCostScaling: measured on n = 32, 64, 128, the memory of
// RTRL's sensitivities grows as n³ (state × parameters) and is what
// ForwardBytes estimated; SnAp-1's traces, GLE's engine and BPTT's tape
// (with the weights) grow no faster than n². (Fixed overheads flatten the
// small sizes: docs/online.md fits from n = 64 on the full sweep.)
func TestOnlineCostScaling(t *testing.T) {
	c := DefaultOnlineCost()
	c.Sizes, c.Batches, c.MinTime, c.FitFrom = []int{32, 64, 128}, []int{1}, 5*time.Millisecond, 32
	rows, fits, err := RunOnlineCost(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Skipped != "" || r.MSPerStep <= 0 || r.Bytes <= 0 || r.EstimatedBytes <= 0 {
			t.Errorf("row not measured: %+v", r)
		}
		if r.Method == "rtrl" && r.N == 128 && math.Abs(r.Bytes/r.EstimatedBytes-1) > 0.1 {
			t.Errorf("RTRL at n = 128: %.0f bytes live, %.0f estimated", r.Bytes, r.EstimatedBytes)
		}
	}
	for _, f := range fits {
		t.Logf("%-6s memory ∝ n^%.2f, time ∝ n^%.2f", f.Method, f.MemExponent, f.TimeExponent)
		cubic := f.Method == "rtrl" || f.Method == "snap2" // dense on a fully recurrent population
		if cubic && !(f.MemExponent > 2.6) || !cubic && !(f.MemExponent < 2.1) {
			t.Errorf("%s: memory exponent %.2f", f.Method, f.MemExponent)
		}
	}
	n1, err := LargestRTRL(1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	n32, err := LargestRTRL(32, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if !(n32 < n1 && n1 > 100) {
		t.Errorf("largest RTRL network in 1 GiB: n = %d at batch 1, %d at batch 32", n1, n32)
	}
}
