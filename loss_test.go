package gle_test

import (
	"math"
	"testing"

	"github.com/gle-go/gle"
)

// TestTargetErrorKnownValues: the target errors of docs/model.md §4 at
// β ≠ 1 on values computed by hand. MSE: e = β (y − r). CE: the logits
// (0, ln 3) have softmax (1/4, 3/4), so e = β (onehot(y) − (1/4, 3/4)).
func TestTargetErrorKnownValues(t *testing.T) {
	ln3 := math.Log(3)
	for _, beta := range []float64{0.25, 2, 1} {
		for _, c := range []struct {
			loss gle.Loss
			r    []float64
			t    gle.Target
			want []float64 // at β = 1
		}{
			{gle.MSE, []float64{0.5, -1, 2, 0}, gle.Target{Values: []float64{1, 1, 2, -3}}, []float64{0.5, 2, 0, -3}},
			{gle.CE, []float64{0, ln3, 0, ln3, ln3 + 5, 5}, gle.Target{Classes: []int{1, 0, 1}}, []float64{-0.25, 0.25, 0.75, -0.75, -0.75, 0.75}},
		} {
			e := make([]float64, len(c.r))
			c.loss.TargetError(e, c.r, c.t, beta, 2)
			for i, w := range c.want {
				if math.Abs(e[i]-beta*w) > 1e-15 {
					t.Errorf("%v β=%g: e[%d] = %.17g, want %.17g", c.loss, beta, i, e[i], beta*w)
				}
			}
			c.loss.TargetError(e, c.r, gle.Target{}, beta, 2)
			for i, v := range e {
				if v != 0 {
					t.Errorf("%v β=%g, no target: e[%d] = %g, want 0", c.loss, beta, i, v)
				}
			}
		}
	}
}

// TestLossValueAndGradient: Value on hand-computed cases (MSE: the mean
// of (y − r)² over batch and outputs; CE: the mean of −log softmax(r)_y,
// ln(4/3) and ln 4 for the logits (0, ln 3)), and Gradient against central
// differences of Value.
func TestLossValueAndGradient(t *testing.T) {
	ln3 := math.Log(3)
	for _, c := range []struct {
		loss gle.Loss
		r    []float64
		t    gle.Target
		want float64
	}{
		{gle.MSE, []float64{0.5, -1, 2, 0}, gle.Target{Values: []float64{1, 1, 2, -3}}, (0.25 + 4 + 0 + 9) / 4},
		{gle.CE, []float64{0, ln3, 0, ln3}, gle.Target{Classes: []int{1, 0}}, (math.Log(4.0/3) + math.Log(4)) / 2},
		{gle.CE, []float64{700, 700 + ln3}, gle.Target{Classes: []int{1}}, math.Log(4.0 / 3)}, // stable for large logits
	} {
		if v := c.loss.Value(c.r, c.t, 2); math.Abs(v-c.want) > 1e-13 {
			t.Errorf("%v %v: loss %.17g, want %.17g", c.loss, c.r, v, c.want)
		}
		g := make([]float64, len(c.r))
		c.loss.Gradient(g, c.r, c.t, 2)
		for i := range c.r {
			r := append([]float64(nil), c.r...)
			h := 1e-6 * math.Max(1, math.Abs(r[i]))
			r[i] = c.r[i] + h
			vp := c.loss.Value(r, c.t, 2)
			r[i] = c.r[i] - h
			vm := c.loss.Value(r, c.t, 2)
			if num := (vp - vm) / (2 * h); math.Abs(num-g[i]) > 1e-7*math.Max(1, math.Abs(r[i])) {
				t.Errorf("%v %v: ∂loss/∂r[%d] = %.10g, central difference %.10g", c.loss, c.r, i, g[i], num)
			}
		}
	}
}

// TestBetaScalesErrors: without nudging (γ = 0) the errors do not act on
// the forward dynamics, so every error and every gradient of a run is
// linear in β: a CE network run with β = 0.3 has, step for step, 0.3
// times the gradients and ê of the same run with β = 1 (on both engines).
func TestBetaScalesErrors(t *testing.T) {
	testBetaScalesErrors[float64](t, 1e-13)
	testBetaScalesErrors[float32](t, 1e-6)
}

func testBetaScalesErrors[T gle.Float](t *testing.T, tol float64) {
	x, y := classTask(12)
	tgt := gle.Target{Classes: y}
	var grads [2][]gle.Tensor
	var ehat [2][]float64
	for i, beta := range []float64{1, 0.3} {
		n, err := gle.NewNetwork(mlpSpec(2, 0, beta))
		if err != nil {
			t.Fatal(err)
		}
		e, err := gle.NewEngineOf[T](n, 12)
		if err != nil {
			t.Fatal(err)
		}
		g := gle.NewGradsOf[T](n)
		if err := e.SetGrads(g); err != nil {
			t.Fatal(err)
		}
		out := make([]float64, 12*3)
		for range 30 {
			if err := e.Step(out, x, tgt); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range e.EHat(0) {
			ehat[i] = append(ehat[i], float64(v))
		}
		grads[i] = g.Tensors(n)
	}
	check := func(what string, a, b []float64) {
		var scale, d float64
		for k := range a {
			scale, d = max(scale, math.Abs(a[k])), max(d, math.Abs(0.3*a[k]-b[k]))
		}
		if scale == 0 || !(d <= tol*scale) { // NaN fails too
			t.Errorf("%T: %s at β = 0.3 differs from 0.3 × its value at β = 1 by %.3g (scale %.3g)", T(0), what, d, scale)
		}
	}
	for k := range grads[0] {
		check(grads[0][k].Name, grads[0][k].Data, grads[1][k].Data)
	}
	check("ê of layer 0", ehat[0], ehat[1])
}
