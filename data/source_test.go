package data

import (
	"errors"
	"slices"
	"testing"

	"github.com/gle-go/gle"
)

// twoFeatures is a Set of 5 samples of 3 steps and 2 features whose
// values name their place: x = 100·sample + 10·step + feature.
func twoFeatures() *Set {
	s := &Set{N: 5, Steps: 3, In: 2, Outputs: 2}
	for i := range s.N {
		for t := range s.Steps {
			for f := range s.In {
				s.X = append(s.X, float64(100*i+10*t+f))
			}
		}
	}
	return s
}

// TestSetCheckAndSample: Check's bounds, and each kind of target of a
// sample read back as stored.
func TestSetCheckAndSample(t *testing.T) {
	s := twoFeatures()
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		change func(*Set)
		err    error
	}{
		"no samples":         {func(s *Set) { s.N = 0 }, gle.ErrShape},
		"x too short":        {func(s *Set) { s.X = s.X[1:] }, gle.ErrShape},
		"labels too few":     {func(s *Set) { s.Labels = []int{0, 1} }, gle.ErrShape},
		"step labels":        {func(s *Set) { s.StepLabels = make([]int, 14) }, gle.ErrShape},
		"values":             {func(s *Set) { s.Values = make([]float64, 29) }, gle.ErrShape},
		"label −1":           {func(s *Set) { s.Labels = []int{0, 1, -1, 0, 1} }, gle.ErrInvalid},
		"label = outputs":    {func(s *Set) { s.Labels = []int{0, 1, 2, 0, 1} }, gle.ErrInvalid},
		"labels at the ends": {func(s *Set) { s.Labels = []int{0, 1, 1, 0, 1} }, nil},
	} {
		s := twoFeatures()
		c.change(s)
		if err := s.Check(); (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
	s.StepLabels = []int{0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0}
	var d Sample
	if err := s.Sample(&d, 2, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.X, []float64{200, 201, 210, 211, 220, 221}) || !slices.Equal(d.Labels, []int{0, 0, 1}) || d.Steps != 3 {
		t.Errorf("sample 2: %+v", d)
	}
	s.StepLabels, s.Values = nil, make([]float64, 5*3*2)
	for i := range s.Values {
		s.Values[i] = float64(i)
	}
	if err := s.Sample(&d, 4, nil); err != nil || !slices.Equal(d.Values, []float64{24, 25, 26, 27, 28, 29}) {
		t.Errorf("sample 4's values: %v, %v", d.Values, err)
	}
	if err := s.Sample(&d, 5, nil); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("sample 5 of 5: %v, want ErrInvalid", err)
	}
}

// TestPlans: shuffled plans cut full batches and leave the remainder
// out; balanced plans draw every class about equally often; in-order
// plans keep the order; whole-source batches; Order names.
func TestPlans(t *testing.T) {
	s := twoFeatures()
	plan, err := Plan(s, Shuffled, 2, 1, 1)
	if err != nil || len(plan) != 2 || len(plan[0]) != 2 || len(plan[1]) != 2 {
		t.Fatalf("shuffled 5 in batches of 2: %v, %v", plan, err)
	}
	if _, err := Plan(s, Shuffled, 6, 1, 1); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("a batch larger than the source: %v", err)
	}
	if plan, _ := Plan(s, InOrder, 0, 1, 1); len(plan) != 1 || !slices.Equal(plan[0], []int{0, 1, 2, 3, 4}) {
		t.Errorf("size 0 in order: %v", plan)
	}
	if plan, _ := Plan(s, InOrder, 2, 1, 1); len(plan) != 3 || !slices.Equal(plan[2], []int{4}) {
		t.Errorf("in order by 2: %v", plan)
	}
	// Labels 0, 1, 1, 1, 1: class 0 has one sample, drawn half the time.
	big := &Set{N: 5, Steps: 3, In: 2, X: s.X, Labels: []int{0, 1, 1, 1, 1}, Outputs: 2}
	if c := ClassCounts(big); !slices.Equal(c, []int{1, 4}) {
		t.Errorf("class counts %v", c)
	}
	zeros := 0
	for epoch := range 400 {
		plan, err := Plan(big, Balanced, 5, 3, epoch)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) != 1 || len(plan[0]) != 5 {
			t.Fatalf("balanced: %v", plan)
		}
		for _, i := range plan[0] {
			if i == 0 {
				zeros++
			}
		}
	}
	if zeros < 900 || zeros > 1100 {
		t.Errorf("sample 0 (alone in its class) drawn %d times of 2000, want ≈ 1000", zeros)
	}
	for _, o := range []Order{Shuffled, Balanced, InOrder} {
		var back Order
		if err := back.UnmarshalText([]byte(o.String())); err != nil || back != o {
			t.Errorf("%v: round trip %v, %v", o, back, err)
		}
	}
	if Order(7).String() != "Order(7)" {
		t.Errorf("Order(7) = %q", Order(7).String())
	}
	var o Order
	if err := o.UnmarshalText([]byte("sorted")); !errors.Is(err, gle.ErrUnknownName) {
		t.Errorf("unknown order: %v", err)
	}
}

// TestFillKinds: batches of two features, with per-step labels and with
// values, each step's targets where they belong; a sample of the wrong
// size refused.
func TestFillKinds(t *testing.T) {
	s := twoFeatures()
	s.StepLabels = make([]int, 15)
	for i := range s.StepLabels {
		s.StepLabels[i] = i % 2
	}
	var b Batch
	if err := b.Fill(s, []int{3, 1}, nil, 2); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Frame(1), []float64{310, 311, 110, 111}) || !slices.Equal(b.Targets[2].Classes, []int{s.StepLabels[11], s.StepLabels[5]}) {
		t.Errorf("frame 1 %v, step 2's classes %v", b.Frame(1), b.Targets[2].Classes)
	}
	s.StepLabels, s.Values = nil, make([]float64, 30)
	for i := range s.Values {
		s.Values[i] = float64(i)
	}
	if err := b.Fill(s, []int{4, 0}, nil, 2); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Targets[1].Values, []float64{26, 27, 2, 3}) || b.Labels != nil {
		t.Errorf("step 1's values %v, labels %v", b.Targets[1].Values, b.Labels)
	}
	s.Values = nil
	if err := b.Fill(s, []int{0, 1}, nil, 2); err != nil {
		t.Fatal(err)
	}
	for step, tg := range b.Targets {
		if !tg.None() {
			t.Errorf("no targets, after a batch with values: step %d has %+v", step, tg)
		}
	}
}
