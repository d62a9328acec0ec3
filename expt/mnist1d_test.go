package expt

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMNIST1DLearns trains the paper's E2E network briefly on a subset
// (4 epochs of 1000 samples), on the float64 and on the float32 engine:
// its accuracy on the training sequences must be well above chance
// (10 %), its test loss must fall, and its best test accuracy must reach
// twice chance. (After so little training the test accuracy still jumps
// between epochs, ≈ 10–28 %; the full run reaches ≈ 40–65 % after 10.)
func TestMNIST1DLearns(t *testing.T) {
	for _, f32 := range []bool{false, true} {
		c := DefaultMNIST1D()
		c.Epochs, c.TrainSamples, c.TestSamples = 4, 1000, 300
		c.LR = 3e-3
		c.Float32 = f32
		res, err := RunMNIST1D(context.Background(), c, ClassifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Params != 14956 {
			t.Errorf("%d parameters, the paper's network has 14,956", res.Params)
		}
		first, last := res.Epochs[0], res.Epochs[len(res.Epochs)-1]
		var bestTest float64
		for _, e := range res.Epochs {
			t.Logf("float32=%v %+v", f32, e)
			bestTest = max(bestTest, e.TestAcc)
		}
		if last.TrainAcc < 0.3 || !(last.TestLoss < first.TestLoss) || bestTest < 0.2 {
			t.Errorf("float32=%v after %d short epochs: train accuracy %.3f (want ≥ 0.3), test loss %.4f → %.4f (want a fall), best test accuracy %.3f (want ≥ 0.2; chance 0.1)",
				f32, c.Epochs, last.TrainAcc, first.TestLoss, last.TestLoss, bestTest)
		}
	}
}

// TestMNIST1DResume: a run stopped after one epoch and resumed from its
// checkpoint ends exactly where an uninterrupted run ends.
func TestMNIST1DResume(t *testing.T) {
	for _, f32 := range []bool{false, true} {
		c := DefaultMNIST1D()
		c.Epochs, c.TrainSamples, c.TestSamples = 2, 200, 100
		c.Float32 = f32
		full, err := RunMNIST1D(context.Background(), c, ClassifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ckpt := filepath.Join(t.TempDir(), "ckpt.gob")
		c1 := c
		c1.Epochs = 1
		if _, err := RunMNIST1D(context.Background(), c1, ClassifyOptions{Checkpoint: ckpt}); err != nil {
			t.Fatal(err)
		}
		// A float64 run does not resume a float32 checkpoint, nor the converse.
		other := c
		other.Float32 = !f32
		if _, err := RunMNIST1D(context.Background(), other, ClassifyOptions{Checkpoint: ckpt, Resume: true}); err == nil || !strings.Contains(err.Error(), "belongs to run") {
			t.Errorf("float32=%v: resuming in the other precision gave %v, want a refusal", f32, err)
		}
		resumed, err := RunMNIST1D(context.Background(), c, ClassifyOptions{Checkpoint: ckpt, Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		strip := func(r *MNIST1DResult) []ClassifyEpoch {
			out := append([]ClassifyEpoch(nil), r.Epochs...)
			for i := range out {
				out[i].Seconds = 0
			}
			return out
		}
		if !reflect.DeepEqual(strip(full), strip(resumed)) || !reflect.DeepEqual(full.Confusion, resumed.Confusion) {
			t.Errorf("float32=%v: resumed run differs:\n%+v\n%+v", f32, full.Epochs, resumed.Epochs)
		}
	}
}

// TestMNIST1DInterruptedResume cancels a run in the middle of its second
// epoch; resuming from its checkpoint gives exactly the uninterrupted run.
func TestMNIST1DInterruptedResume(t *testing.T) {
	c := DefaultMNIST1D()
	c.Epochs, c.TrainSamples, c.TestSamples = 2, 800, 100
	full, err := RunMNIST1D(context.Background(), c, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(t.TempDir(), "ckpt.gob")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped, err := RunMNIST1D(ctx, c, ClassifyOptions{Checkpoint: ckpt, Progress: func(epoch int, frac float64, _ int) {
		if epoch == 2 && frac >= 0.5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || len(stopped.Epochs) != 1 {
		t.Fatalf("interrupted run: %v after %d epochs", err, len(stopped.Epochs))
	}
	resumed, err := RunMNIST1D(context.Background(), c, ClassifyOptions{Checkpoint: ckpt, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range full.Epochs {
		a, b := full.Epochs[i], resumed.Epochs[i]
		a.Seconds, b.Seconds = 0, 0
		if a != b {
			t.Errorf("epoch %d: uninterrupted %+v, resumed %+v", i+1, a, b)
		}
	}
}

func TestMNIST1DVariants(t *testing.T) {
	for v, params := range map[string]int{"e2e": 14956, "e2e-42k": 42040} {
		c := DefaultMNIST1D()
		c.Variant = v
		s := c.Spec()
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range s.Layers {
			n += l.In*l.Out + l.Out
		}
		if n != params {
			t.Errorf("%s: %d parameters, want %d", v, n, params)
		}
	}
	c := DefaultMNIST1D()
	c.Variant = "lagnet"
	if err := c.Spec().Validate(); err != nil {
		t.Fatal(err)
	}
}
