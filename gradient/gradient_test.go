package gradient_test

import (
	"errors"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// TestGradientMethods: tbptt over a window as long as the run is full
// BPTT, bit for bit; shorter windows differ; the adjoint's gradient is
// close to dt times BPTT's; the local rule's summed updates point along
// BPTT's on a chain; unknown methods are errors.
func TestGradientMethods(t *testing.T) {
	n := randomGraph(t, 3, gle.Tanh, gle.MSE, 0.5)
	xs, ts := sequence(5, 60, 2, n.Inputs, n.Outputs(), gle.MSE)
	full, j, err := gradient.Gradient(n, "bptt", 2, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	long, jl, err := gradient.Gradient(n, "tbptt:1000", 2, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	if d := gradsDiffer(n, full, long, 0); d != "" || j != jl {
		t.Errorf("tbptt over the whole run differs from bptt: %s (J %g vs %g)", d, j, jl)
	}
	short, _, err := gradient.Gradient(n, "tbptt:5", 2, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	if gradsDiffer(n, full, short, 1e-6) == "" {
		t.Error("tbptt:5 gives the full gradient: the windows do not cut the graph")
	}
	adj, _, err := gradient.Gradient(n, "adjoint", 2, xs, ts)
	if err != nil {
		t.Fatal(err)
	}
	full.Scale(n.Dt)
	var fa, fb []float64
	for i, tn := range full.Tensors(n) {
		fa, fb = append(fa, tn.Data...), append(fb, adj.Tensors(n)[i].Data...)
	}
	if c := cosine(fa, fb); c < 0.99 {
		t.Errorf("cos(dt·∇BPTT, ∇adjoint) = %.4f", c)
	}
	chain := randomChain(t, 2, gle.Tanh, gle.CE, false)
	for q := range chain.Pops { // LE neurons: the local rule is exact up to its scale
		copy(chain.Pops[q].TauR, chain.Pops[q].TauM)
	}
	cx, ct := sequence(6, 80, 2, chain.Inputs, chain.Outputs(), gle.CE)
	loc, _, err := gradient.Gradient(chain, "gle", 2, cx, ct)
	if err != nil {
		t.Fatal(err)
	}
	ex, _, err := gradient.Gradient(chain, "bptt", 2, cx, ct)
	if err != nil {
		t.Fatal(err)
	}
	// Both are gradients of J (the local ∂W = −⟨ê rᵀ⟩): they point the
	// same way (Align's tests measure how closely).
	c := cosine(loc.Projs[1].W, ex.Projs[1].W)
	t.Logf("cos(local, bptt) of layer 1's weights: %.4f", c)
	if c < 0.5 {
		t.Errorf("cos(local, bptt) of layer 1's weights = %.4f: the summed local updates do not follow the gradient", c)
	}
	for _, m := range []string{"nope", "tbptt:0", "tbptt:x"} {
		if _, _, err := gradient.Gradient(n, m, 2, xs, ts); err == nil || !(errors.Is(err, gle.ErrUnknownName) || errors.Is(err, gle.ErrInvalid)) {
			t.Errorf("method %q: %v", m, err)
		}
	}
}
