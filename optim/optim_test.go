package optim

import (
	"errors"
	"math"
	"testing"

	"github.com/gle-go/gle/internal/errs"
)

// TestAdamMatchesTextbook compares Adam with the bias-corrected update
// lr·m̂/(√v̂ + ε) computed independently, over changing gradients.
func TestAdamMatchesTextbook(t *testing.T) {
	const lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-6
	eps64 := eps
	opt := &Adam{Rate: lr, Beta1: b1, Beta2: b2, Eps: eps64}
	p := [][]float64{{1, -2}}
	g := [][]float64{{0, 0}}
	want := []float64{1, -2}
	var m, v [2]float64
	for step := 1; step <= 50; step++ {
		for i := range 2 {
			g[0][i] = math.Sin(float64(step*(i+1))) + 0.1*p[0][i]
			m[i] = b1*m[i] + (1-b1)*g[0][i]
			v[i] = b2*v[i] + (1-b2)*g[0][i]*g[0][i]
			mh := m[i] / (1 - math.Pow(b1, float64(step)))
			vh := v[i] / (1 - math.Pow(b2, float64(step)))
			want[i] -= lr * mh / (math.Sqrt(vh) + eps)
		}
		opt.Step(p, g)
		for i := range 2 {
			if math.Abs(p[0][i]-want[i]) > 1e-14 {
				t.Fatalf("step %d: p[%d] = %.17g, want %.17g", step, i, p[0][i], want[i])
			}
		}
	}
}

func TestSGD(t *testing.T) {
	opt := &SGD{Rate: 0.5}
	p := [][]float64{{1, 2}, {3}}
	opt.Step(p, [][]float64{{2, -2}, {0.5}})
	if p[0][0] != 0 || p[0][1] != 3 || p[1][0] != 2.75 {
		t.Errorf("SGD step gave %v", p)
	}
	opt.SetLR(0.1)
	if opt.LR() != 0.1 {
		t.Errorf("LR() = %g after SetLR(0.1)", opt.LR())
	}
}

func TestKindNames(t *testing.T) {
	for _, k := range []Kind{KindSGD, KindAdam} {
		var back Kind
		b, _ := k.MarshalText()
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%v: round trip gives %v, %v", k, back, err)
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("lbfgs")); !errors.Is(err, errs.ErrUnknownName) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestPlateau follows PyTorch's ReduceLROnPlateau: the rate halves after
// more than `patience` epochs without relative improvement.
func TestPlateau(t *testing.T) {
	p, err := NewPlateau("min", 0.5, 2)
	if err != nil {
		t.Fatal(err)
	}
	opt := &SGD{Rate: 1}
	metrics := []float64{5, 4, 4, 4, 4, 3.9999, 3, 3, 3, 3}
	wantLR := []float64{1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25}
	for i, m := range metrics {
		if _, err := p.Step(m, opt); err != nil {
			t.Fatal(err)
		}
		if opt.Rate != wantLR[i] {
			t.Fatalf("epoch %d (metric %g): lr %g, want %g", i, m, opt.Rate, wantLR[i])
		}
	}
	pm, _ := NewPlateau("max", 0.1, 0)
	opt.Rate = 1
	pm.Step(0.5, opt)
	pm.Step(0.6, opt)
	if opt.Rate != 1 {
		t.Fatal("max mode lowered the rate on an improvement")
	}
	pm.Step(0.6, opt)
	if math.Abs(opt.Rate-0.1) > 1e-15 {
		t.Fatalf("max mode: lr %g, want 0.1", opt.Rate)
	}
	if _, err := NewPlateau("sideways", 0.5, 1); !errors.Is(err, errs.ErrUnknownName) {
		t.Error(err)
	}
	if _, err := NewPlateau("min", 1.5, 1); !errors.Is(err, errs.ErrInvalid) {
		t.Error(err)
	}
}
