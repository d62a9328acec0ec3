package gradient_test

import (
	"errors"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// TestErrorsNotPanics: every misuse of the package's entry points —
// windows out of range, no steps, targets that do not match the inputs
// or the loss, frames of the wrong size, a tape of the wrong batch, parts
// that do not cover the tape, tapes above the memory limit — returns an
// error wrapping the right sentinel, never panics.
func TestErrorsNotPanics(t *testing.T) {
	n := randomChain(t, 2, gle.Tanh, gle.MSE, true)
	const B, T = 2, 12
	xs, ts := sequence(2, T, B, 2, 2, gle.MSE)
	_, ceTargets := sequence(2, T, B, 2, 2, gle.CE)
	badFrame := append([][]float64{make([]float64, 3)}, xs[1:]...)
	badTarget := append([]gle.Target{{Values: make([]float64, 3)}}, ts[1:]...)
	badLabel := append([]gle.Target{{Classes: []int{0, 5}}}, ceTargets[1:]...)
	ceNet := randomChain(t, 2, gle.Tanh, gle.CE, true)
	g := gle.NewFullGrads(n)
	type call struct {
		name string
		f    func() error
		want error
	}
	calls := []call{
		{"New window 0", func() error { _, err := gradient.New(n, B, 0); return err }, gle.ErrInvalid},
		{"New window −1", func() error { _, err := gradient.New(n, B, -1); return err }, gle.ErrInvalid},
		{"New batch 0", func() error { _, err := gradient.New(n, 0, 10); return err }, gle.ErrInvalid},
		{"New nil network", func() error { _, err := gradient.New(nil, B, 10); return err }, gle.ErrInvalid},
	}
	// The whole-sequence functions share their argument checks.
	type seqFunc func(n *gle.Network, batch int, xs [][]float64, ts []gle.Target) error
	for name, f := range map[string]seqFunc{
		"Full": func(n *gle.Network, b int, xs [][]float64, ts []gle.Target) error {
			_, err := gradient.Full(n, b, xs, ts, g)
			return err
		},
		"Adjoint": func(n *gle.Network, b int, xs [][]float64, ts []gle.Target) error {
			_, err := gradient.Adjoint(n, b, xs, ts, g)
			return err
		},
		"GradCheck": func(n *gle.Network, b int, xs [][]float64, ts []gle.Target) error {
			_, err := gradient.GradCheck(n, b, xs, ts)
			return err
		},
		"Align": func(n *gle.Network, b int, xs [][]float64, ts []gle.Target) error {
			_, err := gradient.Align(n, b, xs, ts, 4)
			return err
		},
	} {
		calls = append(calls,
			call{name + " targets short", func() error { return f(n, B, xs, ts[:T-1]) }, gle.ErrShape},
			call{name + " targets long", func() error { return f(n, B, xs[:T-1], ts) }, gle.ErrShape},
			call{name + " frame of the wrong size", func() error { return f(n, B, badFrame, ts) }, gle.ErrShape},
			call{name + " MSE target of the wrong size", func() error { return f(n, B, xs, badTarget) }, gle.ErrShape},
			call{name + " class labels for MSE", func() error { return f(n, B, xs, ceTargets) }, gle.ErrInvalid},
			call{name + " label out of range", func() error { return f(ceNet, B, xs, badLabel) }, gle.ErrInvalid},
			call{name + " batch 0", func() error { return f(n, 0, xs, ts) }, gle.ErrInvalid},
		)
		if name != "Align" { // Align: no steps is a window out of range
			calls = append(calls, call{name + " no steps", func() error { return f(n, B, nil, nil) }, gle.ErrShape})
		} else {
			calls = append(calls, call{name + " no steps", func() error { return f(n, B, nil, nil) }, gle.ErrInvalid})
		}
	}
	calls = append(calls,
		call{"Record targets short", func() error {
			e, _ := gle.NewEngine(n, B)
			_, err := gradient.Record(e, xs, ts[:3])
			return err
		}, gle.ErrShape},
		call{"Record frame of the wrong size", func() error {
			e, _ := gle.NewEngine(n, B)
			_, err := gradient.Record(e, badFrame, ts)
			return err
		}, gle.ErrShape},
	)
	for _, c := range calls {
		err := noPanic(t, c.name, c.f)
		if errors.Is(err, errPanicked) {
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want an error wrapping %v", c.name, err, c.want)
		}
	}
}

// TestBPTTMisuse: a BPTT refuses frames of the wrong size (recording
// nothing), states of another batch, a changed engine batch, and parts
// that do not cover the tape.
func TestBPTTMisuse(t *testing.T) {
	n := randomChain(t, 2, gle.Tanh, gle.MSE, true)
	xs, ts := sequence(2, 10, 2, 2, 2, gle.MSE)
	b, err := gradient.New(n, 2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(nil, xs[0], ts[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(nil, make([]float64, 3), ts[1]); !errors.Is(err, gle.ErrShape) {
		t.Errorf("a frame of 3 values: %v", err)
	}
	if _, err := b.Step(make([]float64, 1), xs[1], ts[1]); !errors.Is(err, gle.ErrShape) {
		t.Errorf("an output buffer of 1 value: %v", err)
	}
	if _, err := b.Step(nil, xs[1], gle.Target{Classes: []int{0, 1}}); !errors.Is(err, gle.ErrInvalid) {
		t.Errorf("labels for an MSE network: %v", err)
	}
	if b.Steps() != 1 {
		t.Errorf("refused steps were recorded: %d steps on the tape, want 1", b.Steps())
	}
	for _, c := range []struct {
		parts, every int
	}{{1, 0}, {0, 1}, {1, -1}} {
		b.Reset()
		for i := range 10 {
			if _, err := b.Step(nil, xs[i], ts[i]); err != nil {
				t.Fatal(err)
			}
		}
		gs := make([]*gle.Grads, c.parts)
		for i := range gs {
			gs[i] = gle.NewFullGrads(n)
		}
		if err := noPanic(t, "BackwardSplit", func() error { return b.BackwardSplit(gs, c.every) }); !errors.Is(err, gle.ErrShape) {
			t.Errorf("BackwardSplit of %d parts of %d steps: %v", c.parts, c.every, err)
		}
	}
	gs := []*gle.Grads{gle.NewFullGrads(n), gle.NewFullGrads(n)}
	if err := b.BackwardSplit(gs, 4); !errors.Is(err, gle.ErrShape) {
		t.Errorf("2 parts of 4 steps for a tape of 10: %v", err)
	}
	if err := b.LoadState(gle.NewState(n, 3)); !errors.Is(err, gle.ErrShape) {
		t.Errorf("a state of batch 3 for a tape of batch 2: %v", err)
	}
	other := randomGraph(t, 1, gle.Tanh, gle.MSE, 1)
	if err := noPanic(t, "LoadState of another network", func() error { return b.LoadState(gle.NewState(other, 2)) }); !errors.Is(err, gle.ErrShape) {
		t.Errorf("a state of another network: %v", err)
	}
	b.Discard()
	if err := b.Engine.SetBatch(3); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(nil, make([]float64, 6), gle.Target{}); !errors.Is(err, gle.ErrShape) {
		t.Errorf("after the engine's batch changed: %v", err)
	}
}

// TestMemoryLimit: a tape or a recording above gle.MemoryLimit is refused
// with ErrTooLarge before anything is allocated.
func TestMemoryLimit(t *testing.T) {
	n := randomChain(t, 2, gle.Tanh, gle.MSE, true)
	gle.SetMemoryLimit(1 << 20)
	defer gle.SetMemoryLimit(0)
	if gradient.TapeBytes(n, 2, 1<<20) <= 1<<20 {
		t.Fatal("the test tape fits the limit")
	}
	var fe *gle.FieldError
	if _, err := gradient.New(n, 2, 1<<20); !errors.Is(err, gle.ErrTooLarge) || !errors.As(err, &fe) || fe.Field != "window" {
		t.Errorf("a tape of 2^20 steps under a 1 MiB limit: %v", err)
	}
	if _, err := gradient.New(n, 2, 100); err != nil {
		t.Errorf("a small tape: %v", err)
	}
	xs := make([][]float64, 1<<16)
	for i := range xs {
		xs[i] = make([]float64, 4)
	}
	e, err := gle.NewEngine(n, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gradient.Record(e, xs, make([]gle.Target, len(xs))); !errors.Is(err, gle.ErrTooLarge) {
		t.Errorf("a recording of 2^16 steps under a 1 MiB limit: %v", err)
	}
	tr, err := gle.NewTrainer(n, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.Rule = gradient.TBPTT(1 << 20)
	if _, err := tr.Step(make([]float64, 4), xs[0], gle.Target{}); !errors.Is(err, gle.ErrTooLarge) {
		t.Errorf("a TBPTT rule of 2^20 steps under a 1 MiB limit: %v", err)
	}
}

// TestGradsOfAnotherNetwork: gradients (or a recording) shaped for
// another network are an ErrShape error (as Engine.SetGrads says), not an
// index panic.
func TestGradsOfAnotherNetwork(t *testing.T) {
	n := randomChain(t, 2, gle.Tanh, gle.MSE, true)
	other := randomGraph(t, 1, gle.Tanh, gle.MSE, 1)
	xs, ts := sequence(2, 10, 2, 2, 2, gle.MSE)
	wrong := gle.NewFullGrads(other)
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"Full", func() error { _, err := gradient.Full(n, 2, xs, ts, wrong); return err }},
		{"Adjoint", func() error { _, err := gradient.Adjoint(n, 2, xs, ts, wrong); return err }},
		{"BackwardSplit", func() error {
			b, err := gradient.New(n, 2, 10)
			if err != nil {
				return err
			}
			for i := range xs {
				if _, err := b.Step(nil, xs[i], ts[i]); err != nil {
					return err
				}
			}
			return b.BackwardSplit([]*gle.Grads{wrong}, 10)
		}},
		{"LambdaTrace", func() error {
			e, err := gle.NewEngine(n, 2)
			if err != nil {
				return err
			}
			rec, err := gradient.Record(e, xs, ts)
			if err != nil {
				return err
			}
			small, err := gle.NewNetwork(&gle.Spec{Dt: 0.05, Loss: gle.MSE, Layers: []gle.LayerSpec{
				{In: 2, Out: 5, Phi: gle.Tanh, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.1}},
				{In: 5, Out: 2, TauM: gle.Taus{0.5}, TauR: gle.Taus{0.1}}}})
			if err != nil {
				return err
			}
			_, err = gradient.LambdaTrace(small, rec)
			return err
		}},
	} {
		if err := noPanic(t, c.name, c.f); !errors.Is(err, errPanicked) && !errors.Is(err, gle.ErrShape) {
			t.Errorf("%s with another network's gradients or recording: %v, want ErrShape", c.name, err)
		}
	}
}

// TestNilNetwork: like New and Full, every entry point taking a network
// refuses a nil one with an error.
func TestNilNetwork(t *testing.T) {
	xs, ts := sequence(2, 10, 2, 2, 2, gle.MSE)
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"New", func() error { _, err := gradient.New(nil, 2, 10); return err }},
		{"Full", func() error { _, err := gradient.Full(nil, 2, xs, ts, &gle.Grads{}); return err }},
		{"Adjoint", func() error { _, err := gradient.Adjoint(nil, 2, xs, ts, &gle.Grads{}); return err }},
		{"GradCheck", func() error { _, err := gradient.GradCheck(nil, 2, xs, ts); return err }},
		{"Align", func() error { _, err := gradient.Align(nil, 2, xs, ts, 5); return err }},
		{"LambdaTrace", func() error { _, err := gradient.LambdaTrace(nil, &gradient.Recording{}); return err }},
	} {
		if err := noPanic(t, c.name, c.f); err == nil {
			t.Errorf("%s of a nil network: no error", c.name)
		}
	}
}
