package gradient

import (
	"fmt"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// BPTT runs a network's errors-off forward pass (docs/model.md §7) on a
// float64 engine while recording a tape of up to Window steps, and
// computes the exact gradient of the summed loss over the recorded steps
// with a reverse sweep. The state carries over from window to window; the
// gradient does not flow into a window's initial state (truncated BPTT).
// With Window equal to the sequence length it is full BPTT. The tape is
// allocated once, linear in Window; Step and Backward allocate nothing.
type BPTT struct {
	Net           *gle.Network
	Batch, Window int
	Engine        *gle.Engine // runs with ErrorsOff; its state is the carried state

	steps int // steps on the tape

	x        []float64   // Window × Batch×Inputs
	r        [][]float64 // per population: Window × Batch×N, the rates before each step
	udot, rp [][]float64 // per population: u̇ and φ′(ŭ) of each step
	targets  []gle.Target
	tgtVals  []float64 // Window × Batch×K storage for MSE targets
	tgtCls   []int     // Window × Batch storage for CE targets

	gR, gRnext, gU, gs, tmp [][]float64 // reverse-sweep adjoints per population
	lossGrad                []float64
	written                 []bool // per population: gRnext already holds a term
}

// TapeBytes estimates the memory of a BPTT tape for n, batch and window.
func TapeBytes(n *gle.Network, batch, window int) float64 {
	per := float64(batch * n.Inputs)
	for _, p := range n.Pops {
		per += 3 * float64(batch*p.N)
	}
	per += float64(batch * n.Outputs())
	return 8 * float64(window) * per
}

// New returns a BPTT for n with zero state and room for window steps. It
// refuses a tape larger than gle.MemoryLimit.
func New(n *gle.Network, batch, window int) (*BPTT, error) {
	if n == nil {
		return nil, &gle.FieldError{Field: "network", Why: "is nil", Err: gle.ErrInvalid}
	}
	if window <= 0 {
		return nil, &gle.FieldError{Field: "window", Value: window, Why: "must be positive", Err: gle.ErrInvalid}
	}
	e, err := gle.NewEngine(n, batch)
	if err != nil {
		return nil, err
	}
	return newOn(e, window)
}

// newOn returns a BPTT that records e's steps.
func newOn(e *gle.Engine, window int) (*BPTT, error) {
	n, batch := e.Net, e.Batch()
	if limit := gle.MemoryLimit(); limit > 0 && TapeBytes(n, batch, window) > float64(limit) {
		return nil, &gle.FieldError{Field: "window", Value: window, Err: gle.ErrTooLarge,
			Why: fmt.Sprintf("a BPTT tape of %d steps at batch %d needs ≈ %s, above the memory limit of %s",
				window, batch, gle.FormatBytes(TapeBytes(n, batch, window)), gle.FormatBytes(float64(limit)))}
	}
	e.ErrorsOff = true
	b := &BPTT{Net: n, Batch: batch, Window: window, Engine: e,
		x: make([]float64, window*batch*n.Inputs), targets: make([]gle.Target, window),
		lossGrad: make([]float64, batch*n.Outputs()), written: make([]bool, len(n.Pops))}
	for _, p := range n.Pops {
		m := batch * p.N
		b.r = append(b.r, make([]float64, window*m))
		b.udot = append(b.udot, make([]float64, window*m))
		b.rp = append(b.rp, make([]float64, window*m))
		for _, dst := range []*[][]float64{&b.gR, &b.gRnext, &b.gU, &b.gs, &b.tmp} {
			*dst = append(*dst, make([]float64, m))
		}
	}
	return b, nil
}

// Reset zeroes the state and empties the tape.
func (b *BPTT) Reset() {
	b.Engine.Reset()
	b.steps = 0
}

// LoadState sets the state from s (of the same batch size) and empties
// the tape.
func (b *BPTT) LoadState(s *gle.State) error {
	if s.Batch != b.Batch {
		return fmt.Errorf("%w: state of batch %d, want %d", gle.ErrShape, s.Batch, b.Batch)
	}
	if err := b.Engine.SetState(s); err != nil {
		return err
	}
	b.steps = 0
	return nil
}

// Steps returns the number of steps on the tape.
func (b *BPTT) Steps() int { return b.steps }

// Step runs one forward step with input x (Batch×Inputs) and records it;
// out (Batch×Outputs, may be nil) receives the output, the output
// population's rate from before the step. It returns the step's loss
// against t. The tape must not be full: call Backward or Discard every
// Window steps.
func (b *BPTT) Step(out, x []float64, t gle.Target) (float64, error) {
	n, B := b.Net, b.Batch
	if b.steps == b.Window {
		return 0, fmt.Errorf("%w: the BPTT tape is full (%d steps): call Backward or Discard", gle.ErrInvalid, b.Window)
	}
	if b.Engine.Batch() != B {
		return 0, fmt.Errorf("%w: the engine's batch changed to %d (the tape is for %d)", gle.ErrShape, b.Engine.Batch(), B)
	}
	if err := b.Engine.Step(out, x, t); err != nil {
		return 0, err
	}
	ts := b.steps
	copy(b.x[ts*B*n.Inputs:(ts+1)*B*n.Inputs], x)
	prev, cur := b.Engine.Previous(), b.Engine.State()
	for q, p := range n.Pops {
		m := B * p.N
		copy(b.r[q][ts*m:(ts+1)*m], prev.Pops[q].R)
		copy(b.udot[q][ts*m:(ts+1)*m], b.Engine.UDot(q))
		copy(b.rp[q][ts*m:(ts+1)*m], cur.Pops[q].RPrime)
	}
	b.recordTarget(ts, t)
	b.steps++
	return n.Loss.Value(b.output(ts), b.targets[ts], n.Outputs()), nil
}

// output returns the output of tape step ts (the output population's
// rates before it).
func (b *BPTT) output(ts int) []float64 {
	m := b.Batch * b.Net.Outputs()
	return b.r[b.Net.Output][ts*m : (ts+1)*m]
}

func (b *BPTT) recordTarget(ts int, t gle.Target) {
	switch {
	case t.Values != nil:
		n := len(t.Values)
		if b.tgtVals == nil {
			b.tgtVals = make([]float64, b.Window*n)
		}
		v := b.tgtVals[ts*n : (ts+1)*n]
		copy(v, t.Values)
		b.targets[ts] = gle.Target{Values: v}
	case t.Classes != nil:
		n := len(t.Classes)
		if b.tgtCls == nil {
			b.tgtCls = make([]int, b.Window*n)
		}
		c := b.tgtCls[ts*n : (ts+1)*n]
		copy(c, t.Classes)
		b.targets[ts] = gle.Target{Classes: c}
	default:
		b.targets[ts] = gle.Target{}
	}
}

// source returns the rates projection p read at tape step ts.
func (b *BPTT) source(p *gle.Projection, ts int) []float64 {
	m := b.Batch * b.Net.FromSize(p)
	if p.From == gle.Input {
		return b.x[ts*m : (ts+1)*m]
	}
	return b.r[p.From][ts*m : (ts+1)*m]
}

// Discard empties the tape without computing a gradient.
func (b *BPTT) Discard() { b.steps = 0 }

// Backward writes the gradient of Σ_t L_t over the recorded steps into
// every non-nil slice of g (overwriting it), then empties the tape. The
// state stays where the forward pass left it. It fails (ErrShape) when g
// does not hold gradients of the network.
func (b *BPTT) Backward(g *gle.Grads) error {
	if err := g.Fits(b.Net); err != nil {
		return err
	}
	g.Zero()
	b.backward(func(int) *gle.Grads { return g }, 0, b.steps)
	b.steps = 0
	return nil
}

// BackwardSplit computes the same gradient as Backward but splits it by
// time: the contributions of the parameters' uses at steps
// [i·every, (i+1)·every) of the tape go to gs[i], which are zeroed first.
// Their sum is the full gradient; each part is what a local learning rule
// running during that stretch of time should approximate.
func (b *BPTT) BackwardSplit(gs []*gle.Grads, every int) error {
	if every <= 0 || len(gs)*every < b.steps {
		return fmt.Errorf("%w: %d parts of %d steps do not cover %d steps", gle.ErrShape, len(gs), every, b.steps)
	}
	for _, g := range gs {
		if err := g.Fits(b.Net); err != nil {
			return err
		}
		g.Zero()
	}
	b.backward(func(ts int) *gle.Grads { return gs[ts/every] }, 0, b.steps)
	b.steps = 0
	return nil
}

// BackwardLosses splits the same gradient by the time of the losses:
// gs[i] (zeroed first) receives the gradient of the losses of steps
// [i·every, (i+1)·every) through the whole past, which is what a
// forward-mode rule (RTRL) delivers during that stretch. It costs one
// reverse sweep per part.
func (b *BPTT) BackwardLosses(gs []*gle.Grads, every int) error {
	if every <= 0 || len(gs)*every < b.steps {
		return fmt.Errorf("%w: %d parts of %d steps do not cover %d steps", gle.ErrShape, len(gs), every, b.steps)
	}
	for i, g := range gs {
		if err := g.Fits(b.Net); err != nil {
			return err
		}
		g.Zero()
		if from := i * every; from < b.steps {
			b.backward(func(int) *gle.Grads { return g }, from, min(from+every, b.steps))
		}
	}
	b.steps = 0
	return nil
}

// backward runs the reverse sweep of docs/gradients.md for the losses of
// the tape steps [lossFrom, lossTo); the parameter gradient contributions
// of step ts are added to sink(ts). The tape is kept. g_R[q] is
// ∂J/∂R_q[t+1] and g_U[q] = ∂J/∂U_q[t+1]:
//
//	g_Ŭ = g_R ⊙ φ′(Ŭ),  g_u̇ = dt g_U + τr g_Ŭ,  g_s = g_u̇ / τm
//	∂W_p += g_s,to r_fromᵀ,  ∂b += g_s,  ∂τm −= g_s ⊙ u̇,  ∂τr += g_Ŭ ⊙ u̇
//	g_U ← g_U + g_Ŭ − g_s;   g_R,from[t] = Σ_p g_s,to W_p (+ ∂L_t/∂r for the output)
func (b *BPTT) backward(sink func(ts int) *gle.Grads, lossFrom, lossTo int) {
	n, B := b.Net, b.Batch
	K := n.Outputs()
	for q := range n.Pops {
		clear(b.gR[q]) // nothing depends on the state after the last step
		clear(b.gU[q])
	}
	for ts := lossTo - 1; ts >= 0; ts-- {
		g := sink(ts)
		for q := range n.Pops {
			pop, pg := &n.Pops[q], &g.Pops[q]
			m := B * pop.N
			gR, gU, gs := b.gR[q], b.gU[q], b.gs[q]
			udot, rp := b.udot[q][ts*m:(ts+1)*m], b.rp[q][ts*m:(ts+1)*m]
			for bi := range B {
				for o := range pop.N {
					i := bi*pop.N + o
					tm, tr := pop.TauM[o], pop.TauR[o]
					gUb := gR[i] * rp[i]        // g_Ŭ = g_R ⊙ φ′(Ŭ)
					gud := n.Dt*gU[i] + tr*gUb  // g_u̇ = dt g_U + τr g_Ŭ
					gs[i] = gud / tm            // g_s = g_u̇ / τm
					gU[i] = gU[i] + gUb - gs[i] // g_U[t] = g_U[t+1] + g_Ŭ − g_u̇/τm
					if pg.TauM != nil {
						pg.TauM[o] -= gs[i] * udot[i] // ∂τm += −g_u̇ u̇ / τm
					}
					if pg.TauR != nil {
						pg.TauR[o] += gUb * udot[i] // ∂τr += g_Ŭ u̇
					}
				}
			}
			if pg.Bias != nil {
				for bi := range B {
					kernel.Axpy(pg.Bias, 1, gs[bi*pop.N:(bi+1)*pop.N]) // ∂b += g_s
				}
			}
		}
		// The adjoints of the rates before step ts.
		clear(b.written)
		for k := range n.Projs {
			p := &n.Projs[k]
			in, out := n.FromSize(p), n.Pops[p.To].N
			src := b.source(p, ts)
			if w := g.Projs[k].W; w != nil {
				kernel.AddAtB(w, b.gs[p.To], src, B, out, in) // ∂W += g_s rᵀ
			}
			if p.From == gle.Input {
				continue
			}
			if !b.written[p.From] { // g_R,from = g_s W
				kernel.MulAB(b.gRnext[p.From], b.gs[p.To], p.W, B, out, in)
				b.written[p.From] = true
				continue
			}
			kernel.MulAB(b.tmp[p.From], b.gs[p.To], p.W, B, out, in)
			kernel.Axpy(b.gRnext[p.From], 1, b.tmp[p.From])
		}
		for q := range n.Pops {
			if !b.written[q] && q != n.Output {
				clear(b.gRnext[q])
			}
		}
		// The loss of step ts scores the output rates before it.
		switch {
		case ts < lossFrom:
			if !b.written[n.Output] {
				clear(b.gRnext[n.Output])
			}
		case !b.written[n.Output]:
			n.Loss.Gradient(b.gRnext[n.Output], b.output(ts), b.targets[ts], K)
		default:
			n.Loss.Gradient(b.lossGrad, b.output(ts), b.targets[ts], K)
			kernel.Axpy(b.gRnext[n.Output], 1, b.lossGrad)
		}
		b.gR, b.gRnext = b.gRnext, b.gR
	}
}

// run resets b, feeds the whole sequence and returns Σ_t L_t.
func (b *BPTT) run(xs [][]float64, ts []gle.Target) (float64, error) {
	if len(ts) != len(xs) {
		return 0, fmt.Errorf("%w: %d input steps but %d targets", gle.ErrShape, len(xs), len(ts))
	}
	if len(xs) > b.Window {
		return 0, fmt.Errorf("%w: %d steps, the tape holds %d", gle.ErrShape, len(xs), b.Window)
	}
	b.Reset()
	var j float64
	for t, x := range xs {
		l, err := b.Step(nil, x, ts[t])
		if err != nil {
			return 0, fmt.Errorf("step %d: %w", t, err)
		}
		j += l
	}
	return j, nil
}

// Full computes the full-sequence BPTT gradient of J = Σ_t L_t over the
// inputs xs[t] (Batch×Inputs each) and targets ts[t], from the zero state,
// into the non-nil slices of g. It returns J.
func Full(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, g *gle.Grads) (float64, error) {
	if len(xs) == 0 {
		return 0, fmt.Errorf("%w: no steps", gle.ErrShape)
	}
	b, err := New(n, batch, len(xs))
	if err != nil {
		return 0, err
	}
	j, err := b.run(xs, ts)
	if err != nil {
		return 0, err
	}
	return j, b.Backward(g)
}
