package experiments

import (
	"context"
	"testing"
)

// TestLagLineGLERecoversTeacher runs a shortened LagLine: GLE's student
// must recover the teacher's w and τm to 1 % from a far-off start.
func TestLagLineGLERecoversTeacher(t *testing.T) {
	c := DefaultLagLine()
	c.TrainTime = 700
	c.LogEvery = 50
	res, err := RunLagLine(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, end := c.ParamError(res.Records[0]), c.ParamError(res.Final())
	t.Logf("parameter error %.3g → %.3g in %d steps (%v)", start, end, res.Steps, res.Elapsed)
	if start < 0.3 {
		t.Fatalf("the student starts too close to the teacher (error %.3g) for the test to mean much", start)
	}
	if !(end <= 0.01) { // NaN fails too
		t.Errorf("final relative parameter error %.3g, want ≤ 1%%: w %v τm %v", end, res.Final().W, res.Final().TauM)
	}
}

func TestLagLineConfigErrors(t *testing.T) {
	for _, edit := range []func(*LagLineConfig){
		func(c *LagLineConfig) { c.Variant = "magic" },
		func(c *LagLineConfig) { c.Dt = 0 },
		func(c *LagLineConfig) { c.Batch = 0 },
		func(c *LagLineConfig) { c.TrainTime = -1 },
	} {
		c := DefaultLagLine()
		edit(&c)
		if _, err := RunLagLine(context.Background(), c, nil); err == nil {
			t.Errorf("config %+v accepted", c)
		}
	}
}
