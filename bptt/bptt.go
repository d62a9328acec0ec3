package bptt

import (
	"fmt"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// BPTT runs a network forward with errors off while recording a tape of
// up to Window steps, and computes the exact gradient of the summed loss
// over the recorded steps with a reverse sweep. The network state carries
// over from window to window; the gradient does not flow into a window's
// initial state (truncated BPTT). With Window equal to the sequence length
// it is full BPTT. Memory is O(Window × network size), allocated once.
type BPTT struct {
	Net           *gle.Network
	Batch, Window int

	u, r  [][]float64 // committed state per layer, Batch×Out
	steps int         // steps on the tape

	tape    []layerTape
	outputs []float64 // Window × Batch×K: R_L[t] (the outputs)
	targets []gle.Target
	tgtVals []float64 // Window × Batch×K storage for MSE targets
	tgtCls  []int     // Window × Batch storage for CE targets

	s               [][]float64 // scratch W I + b
	wt              [][]float64 // scratch Wᵀ
	invTauM         [][]float64 // scratch 1/τm
	gR, gU, gIn     [][]float64 // reverse-sweep adjoints
	lossGrad, gs, g []float64
}

// layerTape holds one layer's recorded values, flat over the window.
type layerTape struct {
	in   []float64 // Window × Batch×In: the layer's input I
	u    []float64 // Window × Batch×Out: U[t]
	udot []float64 // Window × Batch×Out: u̇
	rp   []float64 // Window × Batch×Out: φ′(Ŭ)
}

// New returns a BPTT for n with zero state and room for window steps.
func New(n *gle.Network, batch, window int) (*BPTT, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	if batch <= 0 || window <= 0 {
		return nil, fmt.Errorf("%w: bptt batch = %d, window = %d: both must be positive", gle.ErrInvalid, batch, window)
	}
	k := n.Outputs()
	b := &BPTT{
		Net: n, Batch: batch, Window: window,
		outputs: make([]float64, window*batch*k),
		targets: make([]gle.Target, window),
	}
	maxOut := 0
	for _, l := range n.Layers {
		m, in := batch*l.Out, batch*l.In
		b.u = append(b.u, make([]float64, m))
		b.r = append(b.r, make([]float64, m))
		b.s = append(b.s, make([]float64, m))
		b.wt = append(b.wt, make([]float64, l.In*l.Out))
		b.invTauM = append(b.invTauM, make([]float64, l.Out))
		b.gR = append(b.gR, make([]float64, m))
		b.gU = append(b.gU, make([]float64, m))
		b.gIn = append(b.gIn, make([]float64, in))
		b.tape = append(b.tape, layerTape{
			in: make([]float64, window*in), u: make([]float64, window*m),
			udot: make([]float64, window*m), rp: make([]float64, window*m),
		})
		maxOut = max(maxOut, l.Out)
	}
	b.lossGrad = make([]float64, batch*k)
	b.gs = make([]float64, batch*maxOut)
	b.g = make([]float64, batch*maxOut)
	return b, nil
}

// Reset zeroes the state and empties the tape.
func (b *BPTT) Reset() {
	for l := range b.u {
		clear(b.u[l])
		clear(b.r[l])
	}
	b.steps = 0
}

// LoadState sets the state (u and r of every layer) from a GLE state of
// the same batch size and empties the tape.
func (b *BPTT) LoadState(s *gle.State) error {
	if s.Batch != b.Batch || len(s.Layers) != len(b.u) {
		return fmt.Errorf("%w: state of batch %d with %d layers, want %d and %d", gle.ErrShape, s.Batch, len(s.Layers), b.Batch, len(b.u))
	}
	for l := range b.u {
		copy(b.u[l], s.Layers[l].U)
		copy(b.r[l], s.Layers[l].R)
	}
	b.steps = 0
	return nil
}

// Steps returns the number of steps on the tape.
func (b *BPTT) Steps() int { return b.steps }

// Step runs one forward step with input x (Batch×In) and records it; out
// (Batch×Outputs, may be nil) receives the output, the top layer's rate
// from before the step. It returns the step's loss against t. The tape
// must not be full: call Backward or Discard every Window steps.
func (b *BPTT) Step(out, x []float64, t gle.Target) (float64, error) {
	n, B := b.Net, b.Batch
	top := len(n.Layers) - 1
	k := n.Outputs()
	if b.steps == b.Window {
		return 0, fmt.Errorf("%w: the BPTT tape is full (%d steps): call Backward or Discard", gle.ErrInvalid, b.Window)
	}
	if len(x) != B*n.Inputs() {
		return 0, fmt.Errorf("%w: input has %d values, want batch×inputs = %d×%d", gle.ErrShape, len(x), B, n.Inputs())
	}
	if out != nil && len(out) != B*k {
		return 0, fmt.Errorf("%w: output buffer has %d values, want %d", gle.ErrShape, len(out), B*k)
	}
	if err := t.Check(n.Loss, B, k); err != nil {
		return 0, err
	}
	ts := b.steps
	y := b.outputs[ts*B*k : (ts+1)*B*k]
	copy(y, b.r[top])
	copy(out, y)
	b.recordTarget(ts, t)

	// Top-down, so each layer still reads the previous step's rate below.
	for li := top; li >= 0; li-- {
		l, tp := &n.Layers[li], &b.tape[li]
		m, in := B*l.Out, B*l.In
		input := x
		if li > 0 {
			input = b.r[li-1]
		}
		copy(tp.in[ts*in:(ts+1)*in], input)
		s := b.s[li]
		kernel.MulABt(s, input, l.W, B, l.In, l.Out, b.wt[li])
		if l.B != nil {
			for bi := range B {
				kernel.Axpy(s[bi*l.Out:(bi+1)*l.Out], 1, l.B)
			}
		}
		u, udot, rp := b.u[li], tp.udot[ts*m:(ts+1)*m], tp.rp[ts*m:(ts+1)*m]
		copy(tp.u[ts*m:(ts+1)*m], u)
		ub := b.g[:m] // scratch for ŭ
		inv := b.invTauM[li]
		for o, tm := range l.TauM {
			inv[o] = 1 / tm // as gle.Engine: u̇ = (s − u)·(1/τm)
		}
		for bi := range B {
			for o := range l.Out {
				i := bi*l.Out + o
				ud := (s[i] - u[i]) * inv[o]
				udot[i] = ud
				ub[i] = u[i] + l.TauR[o]*ud
				u[i] += n.Dt * ud
			}
		}
		l.Phi.Apply(b.r[li], rp, ub)
	}
	b.steps++
	return n.Loss.Value(y, b.targets[ts], k), nil
}

func (b *BPTT) recordTarget(ts int, t gle.Target) {
	switch {
	case t.Values != nil:
		n := len(t.Values)
		v := b.tgtVals
		if v == nil {
			v = make([]float64, b.Window*n)
			b.tgtVals = v
		}
		copy(v[ts*n:(ts+1)*n], t.Values)
		b.targets[ts] = gle.Target{Values: v[ts*n : (ts+1)*n]}
	case t.Classes != nil:
		n := len(t.Classes)
		c := b.tgtCls
		if c == nil {
			c = make([]int, b.Window*n)
			b.tgtCls = c
		}
		copy(c[ts*n:(ts+1)*n], t.Classes)
		b.targets[ts] = gle.Target{Classes: c[ts*n : (ts+1)*n]}
	default:
		b.targets[ts] = gle.Target{}
	}
}

// Discard empties the tape without computing a gradient.
func (b *BPTT) Discard() { b.steps = 0 }

// Backward writes the gradient of Σ_t L_t over the recorded steps into
// every non-nil slice of g (overwriting it), then empties the tape. The
// state stays where the forward pass left it.
func (b *BPTT) Backward(g *gle.Grads) {
	g.Zero()
	b.backward(func(int) *gle.Grads { return g })
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
		g.Zero()
	}
	b.backward(func(ts int) *gle.Grads { return gs[ts/every] })
	return nil
}

// backward runs the reverse sweep; the parameter gradient contributions
// of step ts are added to sink(ts).
func (b *BPTT) backward(sink func(ts int) *gle.Grads) {
	n, B := b.Net, b.Batch
	top := len(n.Layers) - 1
	k := n.Outputs()
	for li := range n.Layers {
		clear(b.gR[li]) // nothing depends on the state after the last step
		clear(b.gU[li])
	}
	for ts := b.steps - 1; ts >= 0; ts-- {
		g := sink(ts)
		for li := top; li >= 0; li-- {
			l, tp, lg := &n.Layers[li], &b.tape[li], &g.Layers[li]
			m, in := B*l.Out, B*l.In
			gR, gU := b.gR[li], b.gU[li]
			udot, rp := tp.udot[ts*m:(ts+1)*m], tp.rp[ts*m:(ts+1)*m]
			gs, gUb := b.gs[:m], b.g[:m]
			for bi := range B {
				for o := range l.Out {
					i := bi*l.Out + o
					tm, tr := l.TauM[o], l.TauR[o]
					gUb[i] = gR[i] * rp[i]         // g_Ŭ = g_R ⊙ φ′(Ŭ)
					gud := n.Dt*gU[i] + tr*gUb[i]  // g_u̇ = dt g_U + τr g_Ŭ
					gs[i] = gud / tm               // g_s = g_u̇ / τm
					gU[i] = gU[i] + gUb[i] - gs[i] // g_U[t] = g_U[t+1] + g_Ŭ − g_u̇/τm
					if lg.TauM != nil {
						lg.TauM[o] -= gs[i] * udot[i] // ∂τm += −g_u̇ u̇ / τm
					}
					if lg.TauR != nil {
						lg.TauR[o] += gUb[i] * udot[i] // ∂τr += g_Ŭ u̇
					}
				}
			}
			input := tp.in[ts*in : (ts+1)*in]
			if lg.W != nil {
				kernel.AddAtB(lg.W, gs, input, B, l.Out, l.In) // ∂W += g_s Iᵀ
			}
			if lg.B != nil {
				for bi := range B {
					kernel.Axpy(lg.B, 1, gs[bi*l.Out:(bi+1)*l.Out]) // ∂b += g_s
				}
			}
			if li > 0 {
				kernel.MulAB(b.gIn[li], gs, l.W, B, l.Out, l.In) // g_I = g_s W
			}
		}
		// Adjoints of the rates before step ts: the input gradients of the
		// layers above, and the loss gradient at the top.
		for li := range top {
			copy(b.gR[li], b.gIn[li+1])
		}
		n.Loss.Gradient(b.gR[top], b.outputs[ts*B*k:(ts+1)*B*k], b.targets[ts], k)
	}
	b.steps = 0
}
