package optim

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
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
			if !(math.Abs(p[0][i]-want[i]) <= 1e-14) { // NaN fails too
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
	for _, f := range []float64{1.5, 1, 0, -0.5, math.NaN()} {
		if _, err := NewPlateau("min", f, 1); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(fmt.Sprint(err), "factor") {
			t.Errorf("factor %g: %v, want ErrInvalid naming factor", f, err)
		}
	}
	if _, err := NewPlateau("min", 0.5, -1); !errors.Is(err, errs.ErrInvalid) || !strings.Contains(fmt.Sprint(err), "patience = -1") {
		t.Errorf("patience -1: %v, want ErrInvalid naming patience", err)
	}
	if _, err := NewPlateau("min", 0.5, 0); err != nil {
		t.Errorf("patience 0: %v", err)
	}
}

// plateauRun feeds metrics to p, one per epoch, starting from lr, and
// returns the rate after each epoch and whether Step reported a cut.
func plateauRun(t *testing.T, p *Plateau, lr float64, metrics []float64) ([]float64, []bool) {
	t.Helper()
	opt := &SGD{Rate: lr}
	var lrs []float64
	var cuts []bool
	for _, m := range metrics {
		cut, err := p.Step(m, opt)
		if err != nil {
			t.Fatal(err)
		}
		lrs, cuts = append(lrs, opt.Rate), append(cuts, cut)
	}
	return lrs, cuts
}

func constant(v float64, n int) []float64 {
	m := make([]float64, n)
	for i := range m {
		m[i] = v
	}
	return m
}

// TestPlateauLRFloor: PyTorch's new_lr = max(lr·factor, min_lr), applied
// only if lr − new_lr > eps. With patience 0 and a flat metric every epoch
// after the first is a cut until the floor: min_lr 0.3 stops 1 → 0.5 at
// 0.3; eps stops halving at the first rate whose half is within eps of it.
func TestPlateauLRFloor(t *testing.T) {
	p, _ := NewPlateau("min", 0.5, 0)
	p.MinLR = 0.3
	lrs, cuts := plateauRun(t, p, 1, constant(2, 5))
	if want := []float64{1, 0.5, 0.3, 0.3, 0.3}; !slices.Equal(lrs, want) {
		t.Errorf("min_lr 0.3: rates %v, want %v", lrs, want)
	}
	if want := []bool{false, true, true, false, false}; !slices.Equal(cuts, want) {
		t.Errorf("min_lr 0.3: cuts %v, want %v", cuts, want)
	}
	// The default eps 1e-8 from lr 1e-3 (the MNIST-1D runs): 16 halvings
	// to 1e-3/2¹⁶ = 1.53e-8, whose half, 7.6e-9, is less than eps below it.
	p, _ = NewPlateau("max", 0.5, 0)
	lrs, cuts = plateauRun(t, p, 1e-3, constant(0.9, 40))
	n := 0
	for _, c := range cuts {
		if c {
			n++
		}
	}
	if last := lrs[len(lrs)-1]; n != 16 || last != 1e-3/65536 {
		t.Errorf("from 1e-3: %d cuts to %g, want 16 to %g", n, last, 1e-3/65536)
	}
	// A change of exactly eps is not applied: 2e-8 → 1e-8 differs by
	// 1e-8 (exactly, in binary); 2.5e-8 → 1.25e-8 is applied.
	for _, c := range []struct {
		lr   float64
		want float64
	}{{2e-8, 2e-8}, {2.5e-8, 1.25e-8}, {3e-8, 1.5e-8}} {
		p, _ = NewPlateau("min", 0.5, 0)
		lrs, cuts = plateauRun(t, p, c.lr, []float64{1, 1})
		if lrs[1] != c.want || cuts[1] != (c.want != c.lr) {
			t.Errorf("lr %g: cut to %g (reported %v), want %g", c.lr, lrs[1], cuts[1], c.want)
		}
	}
	// eps 0: every smaller rate is applied, down to min_lr.
	p, _ = NewPlateau("min", 0.25, 0)
	p.Eps, p.MinLR = 0, 1e-12
	lrs, _ = plateauRun(t, p, 1, constant(1, 40))
	if last := lrs[len(lrs)-1]; last != 1e-12 {
		t.Errorf("eps 0, min_lr 1e-12: ends at %g", last)
	}
}

// TestPlateauCooldown: after a cut, Cooldown epochs pass in which bad
// epochs are not counted (PyTorch: the counter is reset while
// cooldown_counter > 0). Patience 1 with a flat metric cuts at epochs 3,
// 5, 7, … without cooldown, and at 3, 7, 11, … with cooldown 2.
func TestPlateauCooldown(t *testing.T) {
	for _, c := range []struct {
		cooldown int
		cutAt    []int
	}{{0, []int{3, 5, 7, 9, 11}}, {2, []int{3, 7, 11}}, {1, []int{3, 6, 9, 12}}} {
		p, _ := NewPlateau("min", 0.5, 1)
		p.Cooldown = c.cooldown
		_, cuts := plateauRun(t, p, 1, constant(1, 12))
		var at []int
		for i, cut := range cuts {
			if cut {
				at = append(at, i+1)
			}
		}
		if !slices.Equal(at, c.cutAt) {
			t.Errorf("cooldown %d: cuts at epochs %v, want %v", c.cooldown, at, c.cutAt)
		}
	}
}

// TestPlateauThreshold: an improvement counts only beyond the relative
// threshold: in min mode a < best·(1 − threshold), in max mode
// a > best·(1 + threshold); a metric exactly at the threshold is a bad
// epoch.
func TestPlateauThreshold(t *testing.T) {
	th := 1e-4 // the default, in float64 arithmetic as PyTorch's rel_epsilon
	for _, c := range []struct {
		mode         string
		best, at, in float64
	}{{"min", 2, 2 * (1 - th), 1.9997}, {"max", 0.5, 0.5 * (1 + th), 0.50006}} {
		// patience 0: a bad epoch cuts at once.
		p, _ := NewPlateau(c.mode, 0.5, 0)
		lrs, _ := plateauRun(t, p, 1, []float64{c.best, c.at})
		if lrs[1] != 0.5 || p.Best != c.best {
			t.Errorf("%s: %g after best %g is not an improvement: lr %g, best %g; want 0.5, %g", c.mode, c.at, c.best, lrs[1], p.Best, c.best)
		}
		p, _ = NewPlateau(c.mode, 0.5, 0)
		lrs, _ = plateauRun(t, p, 1, []float64{c.best, c.in})
		if lrs[1] != 1 || p.Best != c.in {
			t.Errorf("%s: %g after best %g is an improvement: lr %g, best %g; want 1, %g", c.mode, c.in, c.best, lrs[1], p.Best, c.in)
		}
	}
	p, _ := NewPlateau("min", 0.5, 0)
	if _, err := p.Step(math.NaN(), &SGD{Rate: 1}); !errors.Is(err, errs.ErrNonFinite) {
		t.Errorf("NaN metric: %v, want ErrNonFinite", err)
	}
}

// TestAdamConstantGradient: under a constant gradient g the moments are
// m_t = g (1 − β1ᵗ) and v_t = g² (1 − β2ᵗ), so the bias-corrected m̂ = g
// and v̂ = g² and every step moves p by exactly lr·g/(|g| + ε): t steps
// move it by t·lr·g/(|g| + ε). With |g| = ε the step is lr/2, which puts
// ε outside the square root.
func TestAdamConstantGradient(t *testing.T) {
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	g := []float64{3, -0.5, 1e-8, 0}
	opt := &Adam{Rate: lr, Beta1: b1, Beta2: b2, Eps: eps}
	p := [][]float64{make([]float64, len(g))}
	for step := 1; step <= 30; step++ {
		opt.Step(p, [][]float64{g})
		if opt.T != step {
			t.Fatalf("step %d: T = %d", step, opt.T)
		}
		for i, gi := range g {
			want := -float64(step) * lr * gi / (math.Abs(gi) + eps)
			m, v := gi*(1-math.Pow(b1, float64(step))), gi*gi*(1-math.Pow(b2, float64(step)))
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"p", p[0][i], want}, {"m", opt.M[0][i], m}, {"v", opt.V[0][i], v}} {
				if !(math.Abs(c.got-c.want) <= 1e-12*math.Abs(c.want)) {
					t.Fatalf("step %d, g = %g: %s = %.17g, want %.17g", step, gi, c.what, c.got, c.want)
				}
			}
		}
	}
	if got := p[0][2]; math.Abs(got+30*lr/2) > 1e-15 {
		t.Errorf("|g| = ε: 30 steps move p to %g, want −30·lr/2 = %g", got, -30*lr/2)
	}
}

// TestKindString: out-of-range kinds print as Kind(?) instead of
// panicking.
func TestKindString(t *testing.T) {
	for _, k := range []Kind{-1, 2, 99} {
		if s := k.String(); s != "Kind(?)" {
			t.Errorf("Kind(%d) = %q, want Kind(?)", int(k), s)
		}
	}
	if KindSGD.String() != "sgd" || KindAdam.String() != "adam" {
		t.Errorf("names %q, %q", KindSGD, KindAdam)
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
