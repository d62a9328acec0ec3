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

// TestStep32: Adam and SGD in float32 follow the float64 step within
// float32 rounding, leave float32 values in the parameters, split by
// Begin32/Update32 into any ranges with Step32's bits, and take the
// float64 moments of an older checkpoint rounded once.
func TestStep32(t *testing.T) {
	grad := func(step int) ([][]float64, [][]float32) {
		g64 := [][]float64{make([]float64, 37)}
		g32 := [][]float32{make([]float32, 37)}
		for i := range g64[0] {
			g32[0][i] = float32(math.Sin(float64(step*(i+1))) * 0.1)
			g64[0][i] = float64(g32[0][i])
		}
		return g64, g32
	}
	for _, mk := range []func() (Optimizer, Float32, Float32){
		func() (Optimizer, Float32, Float32) { return NewAdam(1e-2), NewAdam(1e-2), NewAdam(1e-2) },
		func() (Optimizer, Float32, Float32) { return &SGD{Rate: 0.1}, &SGD{Rate: 0.1}, &SGD{Rate: 0.1} },
	} {
		o64, o32, split := mk()
		p64 := [][]float64{make([]float64, 37)}
		p32 := [][]float64{make([]float64, 37)}
		ps := [][]float64{make([]float64, 37)}
		for i := range p64[0] {
			p64[0][i] = float64(float32(0.1 * float64(i)))
			p32[0][i], ps[0][i] = p64[0][i], p64[0][i]
		}
		for step := 1; step <= 30; step++ {
			g64, g32 := grad(step)
			o64.Step(p64, g64)
			o32.Step32(p32, g32)
			split.Begin32(ps)
			for _, r := range [][2]int{{20, 37}, {0, 7}, {7, 20}} {
				split.Update32(0, r[0], r[1], ps[0], g32[0])
			}
		}
		for i, v := range p32[0] {
			if float64(float32(v)) != v {
				t.Fatalf("%T: parameter %d = %v is not a float32 value", o32, i, v)
			}
			if v != ps[0][i] {
				t.Fatalf("%T: parameter %d: Step32 %v, split %v", o32, i, v, ps[0][i])
			}
			if math.Abs(v-p64[0][i]) > 1e-5 {
				t.Fatalf("%T: parameter %d: float32 %v, float64 %v", o32, i, v, p64[0][i])
			}
		}
	}
	// A float64 Adam (as an older float32 checkpoint holds it) continues
	// in float32 from its moments rounded.
	old := NewAdam(1e-2)
	p := [][]float64{{0.5, -0.25}}
	old.Step(p, [][]float64{{0.1, 0.2}})
	m0 := float32(old.M[0][1])
	old.Step32(p, [][]float32{{0.1, 0.2}})
	if old.M != nil || old.M32 == nil || old.M32[0][1] != float32(old.Beta1)*m0+float32(1-old.Beta1)*0.2 || old.T != 2 {
		t.Fatalf("float64 moments not carried over: M %v, M32 %v, T %d", old.M, old.M32, old.T)
	}
}
