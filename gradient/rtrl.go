package gradient

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// Forward-mode credit assignment: exact real-time recurrent learning and
// its sparse approximations (docs/online.md derives them).
//
// For the errors-off Euler map of docs/model.md §7, with the state of a
// neuron the pair (U, R), the sensitivities J = ∂(U, R)/∂θ of every neuron
// to every parameter θ obey, per step (synchronous, as the forward pass):
//
//	∂s/∂θ  = Σ_p W_p ∂R_from/∂θ + [θ = W_p[o,i]] R_from,i + [θ = b_o]
//	∂u̇/∂θ  = (∂s/∂θ − ∂U/∂θ)/τm − [θ = τm_o] u̇/τm
//	∂U′/∂θ = ∂U/∂θ + dt ∂u̇/∂θ
//	∂Ŭ/∂θ  = ∂U/∂θ + τr ∂u̇/∂θ + [θ = τr_o] u̇
//	∂R′/∂θ = φ′(Ŭ) ⊙ ∂Ŭ/∂θ
//
// and the gradient of the loss of step t is ∂L_t/∂R_out[t] · ∂R_out[t]/∂θ,
// available at that step (RTRL). SnAp-n (Menick et al. 2021) keeps only
// the entries of J whose parameter belongs to the neuron itself (n = 1) or
// to a neuron at most one projection upstream (n = 2); SnAp-1's entries
// are then eligibility traces, a neuron's own filtered presynaptic rates,
// and the gradient pairs them with a learning signal sent back from the
// output error through the projections' feedback matrices.

// Mode selects the sensitivities a Forward keeps.
type Mode int

const (
	// RTRL keeps every sensitivity: the exact gradient, O(state ×
	// parameters) memory.
	RTRL Mode = iota
	// SnAp2 keeps the sensitivities of each neuron to its own parameters
	// and to those of the neurons one projection upstream.
	SnAp2
	// SnAp1 keeps the sensitivities of each neuron to its own incoming
	// parameters only (eligibility traces through the neuron's dynamics,
	// its self-connection included), with a learning signal.
	SnAp1
	// EProp is SnAp1 with traces through the neuron's intrinsic τm/τr
	// dynamics alone (no self-connection): e-prop's eligibility traces,
	// filtered presynaptic rates, with the same learning signal.
	EProp
)

var modeNames = [...]string{RTRL: "rtrl", SnAp2: "snap2", SnAp1: "snap1", EProp: "eprop"}

func (m Mode) String() string {
	if m < 0 || int(m) >= len(modeNames) {
		return fmt.Sprintf("Mode(%d)", int(m))
	}
	return modeNames[m]
}

// ParseMode returns the mode named rtrl, snap2, snap1 or eprop.
func ParseMode(name string) (Mode, bool) {
	i := slices.Index(modeNames[:], name)
	return Mode(i), i >= 0
}

// isMode reports whether name is a Mode's name.
func isMode(name string) bool {
	_, ok := ParseMode(name)
	return ok
}

// traced reports whether the mode keeps per-synapse eligibility traces
// (SnAp1, EProp) instead of dense sensitivities.
func (m Mode) traced() bool { return m == SnAp1 || m == EProp }

// Forward runs a network's errors-off forward pass on a float64 engine
// and carries the sensitivities of Mode forward step by step; after every
// Step the gradient of that step's loss is available (Gradient).
type Forward struct {
	Net    *gle.Network
	Mode   Mode
	Engine *gle.Engine // runs with ErrorsOff

	cols   *columns
	batch  int
	dense  denseSens // RTRL, SnAp2
	traces traceSens // SnAp1

	lossGrad []float64
	ls, lsN  [][]float64 // SnAp1: learning signal per population (Batch×N), this step and next
	tmp      [][]float64
	sum      []float64 // P: the gradient as one row of columns
}

// columns maps every parameter that has a gradient slice in the template
// to a column of the sensitivity matrices.
type columns struct {
	P         int
	w         []int // per projection: offset of W_p's columns (row-major to × from), −1: none
	b, tm, tr []int // per population: offsets of bias, τm, τr (−1: none)
	owner     []int // per column: the population whose neuron it belongs to
	neuron    []int // per column: that neuron's index
}

func newColumns(n *gle.Network, g *gle.Grads) *columns {
	c := &columns{}
	add := func(q, count, per int) int {
		off := c.P
		for k := range count {
			c.owner = append(c.owner, q)
			c.neuron = append(c.neuron, k/per)
		}
		c.P += count
		return off
	}
	for k, p := range n.Projs {
		off := -1
		if g.Projs[k].W != nil {
			off = add(p.To, len(p.W), n.FromSize(&p))
		}
		c.w = append(c.w, off)
	}
	for q, p := range n.Pops {
		pg := g.Pops[q]
		pick := func(x []float64) int {
			if x == nil {
				return -1
			}
			return add(q, p.N, 1)
		}
		c.b, c.tm, c.tr = append(c.b, pick(pg.Bias)), append(c.tm, pick(pg.TauM)), append(c.tr, pick(pg.TauR))
	}
	return c
}

// denseSens is the full sensitivity matrices per population: (Batch·N) ×
// P, row-major, for U and R, with R's buffer for the next step.
type denseSens struct {
	U, R, nextR [][]float64
	s           []float64 // ∂s/∂θ of one sample of one population (N × P)
	allowed     [][]bool  // SnAp2: per population, per column, whether its neurons keep it (beyond their own)
}

// traceSens is SnAp-1's eligibility traces: per projection p (into q),
// Batch × N_to × N_from for U and R; per population Batch × N for bias,
// τm, τr.
type traceSens struct {
	wU, wR         [][]float64
	bU, bR         [][]float64
	tmU, tmR       [][]float64
	trU, trR       [][]float64
	selfW          [][]float64 // per population: the diagonal of its self projections' weights (nil if none)
	selfProjection [][]int
}

// ForwardBytes estimates the memory of a Forward of mode for n, batch and
// the parameters with a slice in g.
func ForwardBytes(n *gle.Network, batch int, mode Mode, g *gle.Grads) float64 {
	c := newColumns(n, g)
	var rows, widest float64
	for _, p := range n.Pops {
		rows += float64(batch * p.N)
		widest = max(widest, float64(p.N))
	}
	if mode.traced() { // U and R traces per weight and per neuron parameter, learning signals
		var traces float64
		for _, p := range n.Projs {
			traces += float64(batch * len(p.W))
		}
		return 8 * (2*traces + 9*rows)
	}
	return 8 * (3*rows + widest) * float64(c.P) // J_U, J_R twice, one sample's ∂s
}

// NewForward returns a Forward for n with zero state whose sensitivities
// cover the parameters that have a slice in g (gle.NewGrads: the
// learnable ones; gle.NewFullGrads: all). It refuses sensitivities larger
// than gle.MemoryLimit, naming the estimate.
func NewForward(n *gle.Network, batch int, mode Mode, g *gle.Grads) (*Forward, error) {
	if n == nil {
		return nil, &gle.FieldError{Field: "network", Why: "is nil", Err: gle.ErrInvalid}
	}
	e, err := gle.NewEngine(n, batch)
	if err != nil {
		return nil, err
	}
	return newForwardOn(e, mode, g)
}

func newForwardOn(e *gle.Engine, mode Mode, g *gle.Grads) (*Forward, error) {
	n, batch := e.Net, e.Batch()
	if mode < 0 || int(mode) >= len(modeNames) {
		return nil, &gle.FieldError{Field: "mode", Value: int(mode), Why: "want " + strings.Join(modeNames[:], ", "), Err: gle.ErrUnknownName}
	}
	if err := g.Fits(n); err != nil {
		return nil, err
	}
	if need, limit := ForwardBytes(n, batch, mode, g), gle.MemoryLimit(); limit > 0 && need > float64(limit) {
		return nil, &gle.FieldError{Field: "network × batch", Value: fmt.Sprintf("%s at batch %d", mode, batch), Err: gle.ErrTooLarge,
			Why: fmt.Sprintf("the sensitivities need ≈ %s, above the memory limit of %s", gle.FormatBytes(need), gle.FormatBytes(float64(limit)))}
	}
	e.ErrorsOff = true
	f := &Forward{Net: n, Mode: mode, Engine: e, cols: newColumns(n, g), batch: batch, lossGrad: make([]float64, batch*n.Outputs())}
	rows := func() [][]float64 {
		out := make([][]float64, len(n.Pops))
		for q, p := range n.Pops {
			out[q] = make([]float64, batch*p.N)
		}
		return out
	}
	f.tmp = rows()
	if mode.traced() {
		t := &f.traces
		for _, p := range n.Projs {
			m := batch * len(p.W)
			t.wU, t.wR = append(t.wU, make([]float64, m)), append(t.wR, make([]float64, m))
		}
		t.bU, t.bR, t.tmU, t.tmR, t.trU, t.trR = rows(), rows(), rows(), rows(), rows(), rows()
		t.selfW, t.selfProjection = make([][]float64, len(n.Pops)), make([][]int, len(n.Pops))
		for k, p := range n.Projs {
			if p.From == p.To && mode == SnAp1 { // EProp: the neuron's intrinsic dynamics only
				t.selfProjection[p.To] = append(t.selfProjection[p.To], k)
			}
		}
		for q, ks := range t.selfProjection {
			if len(ks) > 0 {
				t.selfW[q] = make([]float64, n.Pops[q].N)
			}
		}
		f.ls, f.lsN = rows(), rows()
		return f, nil
	}
	d := &f.dense
	P := f.cols.P
	f.sum = make([]float64, P)
	widest := 0
	for _, p := range n.Pops {
		m := batch * p.N * P
		d.U, d.R, d.nextR = append(d.U, make([]float64, m)), append(d.R, make([]float64, m)), append(d.nextR, make([]float64, m))
		widest = max(widest, p.N)
	}
	d.s = make([]float64, widest*P)
	if mode == SnAp2 {
		d.allowed = make([][]bool, len(n.Pops))
		for q := range n.Pops {
			d.allowed[q] = make([]bool, P)
			upstream := map[int]bool{}
			for _, p := range n.Projs {
				if p.To == q && p.From != gle.Input {
					upstream[p.From] = true
				}
			}
			for c := range P {
				d.allowed[q][c] = upstream[f.cols.owner[c]]
			}
		}
	}
	return f, nil
}

// Reset zeroes the state and the sensitivities.
func (f *Forward) Reset() {
	f.Engine.Reset()
	f.resetSensitivities()
}

// carried returns every array the Forward carries from step to step (the
// sensitivities, SnAp-1's learning signals), in a fixed order.
func (f *Forward) carried() [][]float64 {
	var out [][]float64
	for _, set := range [][][]float64{f.dense.U, f.dense.R, f.dense.nextR, f.traces.wU, f.traces.wR, f.traces.bU, f.traces.bR,
		f.traces.tmU, f.traces.tmR, f.traces.trU, f.traces.trR, f.ls, f.lsN} {
		out = append(out, set...)
	}
	return out
}

// resetSensitivities zeroes the sensitivities (and SnAp-1's learning
// signals): the state is taken as given, its past forgotten.
func (f *Forward) resetSensitivities() {
	for _, x := range f.carried() {
		clear(x)
	}
}

// Step runs one forward step (out, when not nil, receives the output) and
// writes into g (zeroed first) the gradient of this step's loss as the
// mode estimates it: exact for RTRL. It returns the step's loss.
func (f *Forward) Step(out, x []float64, t gle.Target, g *gle.Grads) (float64, error) {
	n, B := f.Net, f.batch
	if f.Engine.Batch() != B {
		return 0, fmt.Errorf("%w: the engine's batch changed to %d (the sensitivities are for %d)", gle.ErrShape, f.Engine.Batch(), B)
	}
	if err := g.Fits(n); err != nil {
		return 0, err
	}
	K := n.Outputs()
	if err := t.Check(n.Loss, B, K); err != nil {
		return 0, err
	}
	cur := f.Engine.State()
	outRates := cur.Pops[n.Output].R // the output of this step: rates before it
	n.Loss.Gradient(f.lossGrad, outRates, t, K)
	loss := n.Loss.Value(outRates, t, K)
	if err := f.Engine.Step(out, x, t); err != nil {
		return 0, err
	}
	g.Zero()
	if f.Mode.traced() {
		f.snap1Gradient(g)
		f.snap1Update(x)
		return loss, nil
	}
	f.denseGradient(g)
	f.denseUpdate(x)
	return loss, nil
}

// denseGradient writes ∂L_t/∂R_out[t] · ∂R_out[t]/∂θ into g.
func (f *Forward) denseGradient(g *gle.Grads) {
	n, P := f.Net, f.cols.P
	q := n.Output
	K := n.Pops[q].N
	sum := f.sum
	clear(sum)
	kernel.GemmAcc(1, P, f.batch*K, f.lossGrad, f.batch*K, 1, f.dense.R[q], P, sum, P) // Σ_rows lossGrad · J_R
	f.scatter(sum, g)
}

// scatter adds the column vector v to the gradient slices of g.
func (f *Forward) scatter(v []float64, g *gle.Grads) {
	c := f.cols
	for k, off := range c.w {
		if off >= 0 {
			kernel.Axpy(g.Projs[k].W, 1, v[off:off+len(g.Projs[k].W)])
		}
	}
	for q := range c.b {
		pg := &g.Pops[q]
		for _, x := range []struct {
			off int
			s   []float64
		}{{c.b[q], pg.Bias}, {c.tm[q], pg.TauM}, {c.tr[q], pg.TauR}} {
			if x.off >= 0 {
				kernel.Axpy(x.s, 1, v[x.off:x.off+len(x.s)])
			}
		}
	}
}

// denseUpdate carries J from step t to t+1 (RTRL; SnAp2 then masks it),
// one sample at a time: ∂s/∂θ into the scratch, J_U in place, J_R into
// its second buffer (every population reads the others' J_R of step t).
func (f *Forward) denseUpdate(x []float64) {
	n, B, P, c, d := f.Net, f.batch, f.cols.P, f.cols, &f.dense
	prev, next := f.Engine.Previous(), f.Engine.State()
	for q := range n.Pops {
		pop := &n.Pops[q]
		N := pop.N
		s := d.s[:N*P]
		udot, rp := f.Engine.UDot(q), next.Pops[q].RPrime
		for b := range B {
			clear(s)
			// ∂s/∂θ = Σ_p W_p ∂R_from/∂θ + [θ = W_p[o,i]] r_from,i + [θ = b_o].
			for k := range n.Projs {
				p := &n.Projs[k]
				if p.To != q {
					continue
				}
				in := n.FromSize(p)
				if p.From != gle.Input {
					kernel.GemmAcc(N, P, in, p.W, in, 1, d.R[p.From][b*in*P:(b+1)*in*P], P, s, P)
				}
				if off := c.w[k]; off >= 0 {
					src := x
					if p.From != gle.Input {
						src = prev.Pops[p.From].R
					}
					src = src[b*in : (b+1)*in]
					for o := range N {
						kernel.Axpy(s[o*P+off+o*in:o*P+off+(o+1)*in], 1, src)
					}
				}
			}
			for o := range N {
				r := b*N + o
				row, ju, nr := s[o*P:(o+1)*P], d.U[q][r*P:(r+1)*P], d.nextR[q][r*P:(r+1)*P]
				if off := c.b[q]; off >= 0 {
					row[off+o]++
				}
				inv, tr := 1/pop.TauM[o], pop.TauR[o]
				for col := range P {
					ud := (row[col] - ju[col]) * inv // ∂u̇ = (∂s − ∂U)/τm
					nr[col] = ju[col] + tr*ud        // ∂Ŭ = ∂U + τr ∂u̇
					ju[col] += n.Dt * ud             // ∂U′ = ∂U + dt ∂u̇
				}
				if off := c.tm[q]; off >= 0 { // ∂u̇/∂τm = −u̇/τm
					ud := -udot[r] * inv
					ju[off+o] += n.Dt * ud
					nr[off+o] += tr * ud
				}
				if off := c.tr[q]; off >= 0 { // ∂Ŭ/∂τr = u̇
					nr[off+o] += udot[r]
				}
				for col := range nr { // ∂R′ = φ′(Ŭ) ∂Ŭ
					nr[col] *= rp[r]
				}
				if f.Mode == SnAp2 {
					f.mask(q, o, ju, nr)
				}
			}
		}
	}
	d.R, d.nextR = d.nextR, d.R
}

// mask zeroes, for SnAp-2, the sensitivities of neuron o of population q
// to parameters that are neither its own nor those of a neuron one
// projection upstream.
func (f *Forward) mask(q, o int, u, r []float64) {
	c, allowed := f.cols, f.dense.allowed[q]
	for col := range c.P {
		own := c.owner[col] == q && c.neuron[col] == o
		if !own && !allowed[col] {
			u[col], r[col] = 0, 0
		}
	}
}
