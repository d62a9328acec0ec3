package expt

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// TestMNIST1DLearns trains the paper's E2E network briefly on a subset
// (3 epochs of 1000 samples): its accuracy on the training sequences must
// be well above chance (10 %), and on unseen test samples above chance.
// (The full run reaches ≈ 40–65 % test accuracy after 10 epochs.)
func TestMNIST1DLearns(t *testing.T) {
	c := DefaultMNIST1D()
	c.Epochs, c.TrainSamples, c.TestSamples = 3, 1000, 300
	c.LR = 3e-3
	res, err := RunMNIST1D(context.Background(), c, ClassifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Params != 14956 {
		t.Errorf("%d parameters, the paper's network has 14,956", res.Params)
	}
	last := res.Epochs[len(res.Epochs)-1]
	for _, e := range res.Epochs {
		t.Logf("%+v", e)
	}
	if last.TrainAcc < 0.3 || last.TestAcc < 0.12 {
		t.Errorf("accuracy after %d short epochs: train %.3f (want ≥ 0.3), test %.3f (want ≥ 0.12; chance 0.1)", c.Epochs, last.TrainAcc, last.TestAcc)
	}
}

// TestMNIST1DResume: a run stopped after one epoch and resumed from its
// checkpoint ends exactly where an uninterrupted run ends.
func TestMNIST1DResume(t *testing.T) {
	c := DefaultMNIST1D()
	c.Epochs, c.TrainSamples, c.TestSamples = 2, 200, 100
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
		t.Errorf("resumed run differs:\n%+v\n%+v", full.Epochs, resumed.Epochs)
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
