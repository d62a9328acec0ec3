package optim

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/gle-go/gle/internal/errs"
)

// TestStepDecay: lr = Base·γ^⌊epoch/every⌋ from the optimizer's first
// rate, and the settings' bounds.
func TestStepDecay(t *testing.T) {
	s, err := NewStepDecay(2, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	opt := &SGD{Rate: 0.1}
	for epoch, want := range map[int]float64{1: 0.1, 2: 0.05, 3: 0.05, 4: 0.025, 7: 0.0125} {
		if err := s.EndEpoch(epoch, math.NaN(), opt); err != nil {
			t.Fatal(err)
		}
		if opt.LR() != want {
			t.Errorf("after epoch %d: lr %g, want %g", epoch, opt.LR(), want)
		}
	}
	for _, c := range []struct {
		every int
		gamma float64
		ok    bool
	}{{1, 1, true}, {3, 0.5, true}, {0, 0.5, false}, {-1, 0.5, false}, {1, 0, false}, {1, 1.01, false}, {1, math.NaN(), false}} {
		_, err := NewStepDecay(c.every, c.gamma)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, errs.ErrInvalid)) {
			t.Errorf("NewStepDecay(%d, %g): %v, want ok %v", c.every, c.gamma, err, c.ok)
		}
	}
}

// TestCosineWithFloor: lr = Min + (Base − Min)(1 + cos(π·e/E))/2, then
// Min; E = 0 is refused.
func TestCosineWithFloor(t *testing.T) {
	c, err := NewCosine(4, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	opt := &SGD{Rate: 0.1}
	for _, w := range []struct {
		epoch int
		lr    float64
	}{{1, 0.01 + 0.09*(1+math.Sqrt2/2)/2}, {2, 0.055}, {4, 0.01}, {9, 0.01}} {
		if err := c.EndEpoch(w.epoch, math.NaN(), opt); err != nil {
			t.Fatal(err)
		}
		if math.Abs(opt.LR()-w.lr) > 1e-15 {
			t.Errorf("after epoch %d: lr %.17g, want %.17g", w.epoch, opt.LR(), w.lr)
		}
	}
	for _, e := range []int{0, -1} {
		if _, err := NewCosine(e, 0); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("NewCosine(%d, 0): %v, want ErrInvalid", e, err)
		}
	}
	if _, err := NewCosine(1, 0); err != nil {
		t.Errorf("NewCosine(1, 0): %v", err)
	}
}

// TestParseSchedule: each form and its defaults, and the refusals.
func TestParseSchedule(t *testing.T) {
	plateau := func(factor float64, patience int) Schedule {
		p, err := NewPlateau("min", factor, patience)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for s, want := range map[string]Schedule{
		"":              nil,
		"none":          nil,
		"plateau":       plateau(0.5, 2),
		"plateau:0.25":  plateau(0.25, 2),
		"plateau:0.5:3": plateau(0.5, 3),
		"step:3":        &StepDecay{Every: 3, Gamma: 0.1},
		"step:3:0.5":    &StepDecay{Every: 3, Gamma: 0.5},
		"cosine":        &Cosine{Epochs: 10},
		"cosine:0.001":  &Cosine{Epochs: 10, Min: 0.001},
	} {
		got, err := ParseSchedule(s, 10)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %#v, want %#v", s, got, want)
		}
	}
	for _, s := range []string{"none:1", "step", "step:x", "step:2.5", "step:2147483648", "step:1:2:3", "plateau:0.5:2.5", "plateau:1:2:3", "cosine:1:2", "cosine:-1", "linear", "step:0"} {
		if got, err := ParseSchedule(s, 10); err == nil {
			t.Errorf("%q accepted: %#v", s, got)
		}
	}
}
