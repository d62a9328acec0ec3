package graph

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/kernel"
)

// Input names the external input as the source of a projection.
const Input = "input"

// PopulationSpec declares a population of Size neurons.
type PopulationSpec struct {
	Name  string   `json:"name"`
	Size  int      `json:"size"`
	Phi   string   `json:"phi"`
	TauM  gle.Taus `json:"tau_m"`
	TauR  gle.Taus `json:"tau_r"`
	Gamma float64  `json:"gamma,omitempty"`
	Bias  gle.Bias `json:"bias"`
	// InstantErrors makes this population's errors instantaneous (ê = e)
	// even when the network's are prospective: on a loop this keeps the
	// real-time errors stable (gain 1 instead of up to τm/τr, docs/vle.md §4).
	InstantErrors bool `json:"instant_errors,omitempty"`
}

// ProjectionSpec declares weights from one population (or the input) to
// another; Weight (to × from) is drawn PyTorch-style when nil. Feedback
// chooses the matrix that carries errors back to From (see Feedback).
type ProjectionSpec struct {
	From     string      `json:"from"`
	To       string      `json:"to"`
	Weight   [][]float64 `json:"weight,omitempty"`
	Feedback string      `json:"feedback,omitempty"`
	// FeedbackWeight (to × from) sets the initial B of random or learned
	// feedback; drawn like Weight when nil.
	FeedbackWeight [][]float64 `json:"feedback_weight,omitempty"`
}

// Feedback is the matrix through which a projection p: f → g sends the
// errors of g back to f: e_f += ê_g M_p.
type Feedback int

const (
	// Symmetric feedback uses the forward weights, M_p = W_p (weight
	// transport; GLE and the exact adjoint).
	Symmetric Feedback = iota
	// Random feedback uses a fixed random matrix B_p of W_p's shape and
	// scale (feedback alignment, Lillicrap et al. 2016): a baseline that
	// needs no weight transport.
	Random
	// Learned feedback starts from a random B_p and learns it with the
	// same local update as W_p plus weight decay on both (Kolen–Pollack):
	// ΔB_p = ΔW_p − η λ B_p, ΔW_p −= η λ W_p, so B_p − W_p decays as
	// (1 − ηλ)ᵗ under SGD and B_p comes to transport W_p without copying it.
	Learned
)

var feedbackNames = [...]string{Symmetric: "symmetric", Random: "random", Learned: "learned"}

// String returns the spec name of f.
func (f Feedback) String() string {
	if f < 0 || int(f) >= len(feedbackNames) {
		return fmt.Sprintf("Feedback(%d)", int(f))
	}
	return feedbackNames[f]
}

// parseFeedback maps a spec name ("" is symmetric) to its Feedback.
func parseFeedback(name string) (Feedback, bool) {
	if name == "" {
		return Symmetric, true
	}
	for i, n := range feedbackNames {
		if n == name {
			return Feedback(i), true
		}
	}
	return 0, false
}

// Spec declares a graph network.
type Spec struct {
	Dt                float64 `json:"dt"`
	Beta              float64 `json:"beta"`
	Loss              string  `json:"loss"`
	ProspectiveErrors bool    `json:"prospective_errors"`
	Inputs            int     `json:"inputs"`
	Output            string  `json:"output"`
	Seed              uint64  `json:"seed"`
	// FeedbackDecay is the weight decay λ of projections with learned
	// feedback (applied to W and B alike, through their gradients).
	FeedbackDecay float64 `json:"feedback_decay,omitempty"`
	// Optimizer is what `gle train` steps with (as in a layered spec).
	Optimizer   gle.OptimizerSpec `json:"optimizer"`
	Populations []PopulationSpec  `json:"populations"`
	Projections []ProjectionSpec  `json:"projections"`
}

// Population is a built population; its parameters are those of a layer.
type Population struct {
	Name       string
	N          int
	Phi        gle.Activation
	TauM, TauR []float64
	Gamma      float64
	B          []float64 // nil: no bias
	// InstantErrors: ê = e here even with prospective errors.
	InstantErrors bool
}

// Projection is a built projection: W is To.N × from-size, row-major;
// From is −1 for the input. B, of W's shape, carries errors back for
// Random and Learned feedback (nil for Symmetric).
type Projection struct {
	From, To int
	W        []float64
	Feedback Feedback
	B        []float64
}

// feedbackMatrix returns the matrix p sends errors back through.
func (p *Projection) feedbackMatrix() []float64 {
	if p.B != nil {
		return p.B
	}
	return p.W
}

// Network is a built graph network.
type Network struct {
	Dt, Beta          float64
	Loss              gle.Loss
	ProspectiveErrors bool
	FeedbackDecay     float64
	Inputs, Output    int
	Pops              []Population
	Projs             []Projection
}

// fromSize returns the number of values projection p reads.
func (n *Network) fromSize(p *Projection) int {
	if p.From < 0 {
		return n.Inputs
	}
	return n.Pops[p.From].N
}

// Outputs returns the size of the output population.
func (n *Network) Outputs() int { return n.Pops[n.Output].N }

// New validates s and builds the network.
func New(s *Spec) (*Network, error) {
	var errs []error
	bad := func(field string, v any, why string, sentinel error) {
		errs = append(errs, &gle.FieldError{Field: field, Value: v, Why: why, Err: sentinel})
	}
	loss, err := gle.ParseLoss(s.Loss)
	if err != nil {
		bad("loss", s.Loss, "want mse, ce or none", gle.ErrUnknownName)
	}
	if !(s.Dt > 0) || math.IsInf(s.Dt, 0) {
		bad("dt", s.Dt, "must be positive and finite", gle.ErrInvalid)
	}
	if s.Inputs <= 0 {
		bad("inputs", s.Inputs, "must be positive", gle.ErrInvalid)
	}
	if !(s.FeedbackDecay >= 0) || math.IsInf(s.FeedbackDecay, 0) {
		bad("feedback_decay", s.FeedbackDecay, "must be non-negative and finite", gle.ErrInvalid)
	}
	n := &Network{Dt: s.Dt, Beta: s.Beta, Loss: loss, ProspectiveErrors: s.ProspectiveErrors,
		FeedbackDecay: s.FeedbackDecay, Inputs: s.Inputs, Output: -1}
	index := map[string]int{}
	for i, ps := range s.Populations {
		name := fmt.Sprintf("populations[%d]", i)
		if ps.Name == "" || ps.Name == Input {
			bad(name+".name", ps.Name, `must be non-empty and not "input"`, gle.ErrInvalid)
		} else if _, dup := index[ps.Name]; dup {
			bad(name+".name", ps.Name, "is used twice", gle.ErrInvalid)
		}
		index[ps.Name] = i
		// Validate the neuron parameters as a layer's.
		ls := gle.LayerSpec{In: 1, Out: ps.Size, Phi: ps.Phi, TauM: ps.TauM, TauR: ps.TauR, Gamma: ps.Gamma, Bias: ps.Bias}
		tmp := gle.Spec{Dt: s.Dt, Layers: []gle.LayerSpec{ls}}
		if err := tmp.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s (%s): %w", name, ps.Name, err))
			continue
		}
		ln, _ := gle.NewNetwork(&tmp)
		l := ln.Layers[0]
		p := Population{Name: ps.Name, N: ps.Size, Phi: l.Phi, TauM: l.TauM, TauR: l.TauR, Gamma: ps.Gamma, InstantErrors: ps.InstantErrors}
		if !ps.Bias.Disabled {
			p.B = make([]float64, ps.Size)
			if ps.Bias.Values != nil {
				copy(p.B, ps.Bias.Values)
			}
		}
		n.Pops = append(n.Pops, p)
	}
	if o, ok := index[s.Output]; ok {
		n.Output = o
	} else {
		bad("output", s.Output, "names no population", gle.ErrInvalid)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x9a9))
	for i, ps := range s.Projections {
		name := fmt.Sprintf("projections[%d]", i)
		from, okF := index[ps.From]
		if ps.From == Input {
			from, okF = -1, true
		}
		to, okT := index[ps.To]
		if !okF {
			bad(name+".from", ps.From, "names no population (nor input)", gle.ErrInvalid)
		}
		if !okT {
			bad(name+".to", ps.To, "names no population", gle.ErrInvalid)
		}
		fb, okB := parseFeedback(ps.Feedback)
		if !okB {
			bad(name+".feedback", ps.Feedback, "want symmetric, random or learned", gle.ErrUnknownName)
		} else if fb != Symmetric && ps.From == Input {
			bad(name+".feedback", ps.Feedback, "the input receives no errors; only symmetric applies", gle.ErrInvalid)
		}
		if !okF || !okT || !okB {
			continue
		}
		p := Projection{From: from, To: to, Feedback: fb}
		in, out := n.fromSize(&p), n.Pops[to].N
		// matrix fills dst (out×in) from rows, or draws it when rows is nil.
		matrix := func(field string, rows [][]float64) []float64 {
			dst := make([]float64, out*in)
			if rows == nil {
				uniform(rng, dst, in)
				return dst
			}
			if len(rows) != out {
				bad(name+"."+field, fmt.Sprintf("%d rows", len(rows)), fmt.Sprintf("want %d (the size of %s)", out, ps.To), gle.ErrShape)
				return nil
			}
			for r, row := range rows {
				if len(row) != in {
					bad(fmt.Sprintf("%s.%s[%d]", name, field, r), fmt.Sprintf("%d values", len(row)), fmt.Sprintf("want %d (the size of %s)", in, ps.From), gle.ErrShape)
					return nil
				}
				copy(dst[r*in:], row)
			}
			return dst
		}
		if p.W = matrix("weight", ps.Weight); p.W == nil {
			continue
		}
		if fb != Symmetric {
			if p.B = matrix("feedback_weight", ps.FeedbackWeight); p.B == nil {
				continue
			}
		} else if ps.FeedbackWeight != nil {
			bad(name+".feedback_weight", fmt.Sprintf("%d rows", len(ps.FeedbackWeight)), "only random and learned feedback have feedback weights", gle.ErrInvalid)
			continue
		}
		n.Projs = append(n.Projs, p)
	}
	if len(errs) == 0 && !n.reachable() {
		bad("output", s.Output, "is not reachable from the input through the projections", gle.ErrInvalid)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return n, nil
}

// uniform fills w with PyTorch's default draw U(−1/√in, 1/√in).
func uniform(rng *rand.Rand, w []float64, in int) {
	bound := 1 / math.Sqrt(float64(in))
	for k := range w {
		w[k] = bound * (2*rng.Float64() - 1)
	}
}

// reachable reports whether the output can be reached from the input.
func (n *Network) reachable() bool {
	seen := make([]bool, len(n.Pops))
	frontier := []int{-1}
	for len(frontier) > 0 {
		f := frontier[0]
		frontier = frontier[1:]
		for _, p := range n.Projs {
			if p.From == f && !seen[p.To] {
				seen[p.To] = true
				frontier = append(frontier, p.To)
			}
		}
	}
	return seen[n.Output]
}

// FromLayered builds the chain input → layer 0 → … → layer L−1 (the
// output) of a layered network, sharing nothing with it.
func FromLayered(ln *gle.Network) *Network {
	n := &Network{Dt: ln.Dt, Beta: ln.Beta, Loss: ln.Loss, ProspectiveErrors: ln.ProspectiveErrors,
		Inputs: ln.Inputs(), Output: len(ln.Layers) - 1}
	for i, l := range ln.Layers {
		n.Pops = append(n.Pops, Population{Name: fmt.Sprintf("layer%d", i), N: l.Out, Phi: l.Phi,
			TauM: slices.Clone(l.TauM), TauR: slices.Clone(l.TauR), Gamma: l.Gamma, B: slices.Clone(l.B)})
		n.Projs = append(n.Projs, Projection{From: i - 1, To: i, W: slices.Clone(l.W)})
	}
	return n
}

// State is a graph network's state for a batch: per population U, V, R,
// RPrime (Batch×N), per projection E (Batch × from-size), the error it
// sends back to its source.
type State struct {
	Batch       int
	U, V, R, RP [][]float64
	E           [][]float64
}

// NewState returns the zero state.
func NewState(n *Network, batch int) *State {
	s := &State{Batch: batch}
	for _, p := range n.Pops {
		for _, dst := range []*[][]float64{&s.U, &s.V, &s.R, &s.RP} {
			*dst = append(*dst, make([]float64, batch*p.N))
		}
	}
	for i := range n.Projs {
		s.E = append(s.E, make([]float64, batch*n.fromSize(&n.Projs[i])))
	}
	return s
}

// Engine advances a graph network with the synchronous GLE dynamics.
type Engine struct {
	Net         *Network
	State, next *State
	// Grads, when non-nil, receives GLE's local gradients at every Step
	// (batch means): ∂W_p = −⟨ê_to r_fromᵀ⟩, ∂b = −⟨ê⟩, ∂τm = ⟨ê ⊙ u̇⟩; τr
	// has no local rule and is left at zero.
	Grads *Grads

	inst, s  [][]float64 // per population scratch
	ehat, ub [][]float64
	udot     [][]float64
	wt       [][]float64 // per projection scratch Wᵀ
	tmp      [][]float64 // per population scratch for Σ W r
	first    []bool      // per population: s already holds a projection

	invTauM, invTauR, zeros [][]float64 // per population, N values
}

// NewEngine returns an engine with zero state.
func NewEngine(n *Network, batch int) *Engine {
	e := &Engine{Net: n, State: NewState(n, batch), next: NewState(n, batch), first: make([]bool, len(n.Pops))}
	for _, p := range n.Pops {
		for _, dst := range []*[][]float64{&e.inst, &e.s, &e.ehat, &e.ub, &e.tmp, &e.udot} {
			*dst = append(*dst, make([]float64, batch*p.N))
		}
	}
	for i := range n.Projs {
		e.wt = append(e.wt, make([]float64, len(n.Projs[i].W)))
	}
	for _, p := range n.Pops {
		for _, dst := range []*[][]float64{&e.invTauM, &e.invTauR, &e.zeros} {
			*dst = append(*dst, make([]float64, p.N))
		}
	}
	return e
}

// Reset returns the engine to the zero state (a new, independent trial).
func (e *Engine) Reset() {
	for _, s := range []*State{e.State, e.next} {
		for _, arrs := range [][][]float64{s.U, s.V, s.R, s.RP, s.E} {
			for _, a := range arrs {
				clear(a)
			}
		}
	}
}

// CheckFinite returns an error wrapping gle.ErrDiverged naming the first
// population and variable of the state, or projection, that holds NaN or Inf.
func (e *Engine) CheckFinite() error {
	s := e.State
	for q, p := range e.Net.Pops {
		for _, v := range []struct {
			name string
			a    []float64
		}{{"u", s.U[q]}, {"v", s.V[q]}, {"r", s.R[q]}} {
			for i, x := range v.a {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("%w: population %s, %s[%d] = %g", gle.ErrDiverged, p.Name, v.name, i, x)
				}
			}
		}
	}
	for k, p := range e.Net.Projs {
		for i, x := range p.W {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%w: projection %d weight[%d] = %g", gle.ErrDiverged, k, i, x)
			}
		}
	}
	return nil
}

// Step feeds x (Batch×Inputs) and t, writes the output (the output
// population's rate before this step's commit) and commits.
func (e *Engine) Step(out, x []float64, t gle.Target) error {
	n, cur, nx := e.Net, e.State, e.next
	B := cur.Batch
	if len(x) != B*n.Inputs {
		return fmt.Errorf("%w: input has %d values, want %d", gle.ErrShape, len(x), B*n.Inputs)
	}
	if err := t.Check(n.Loss, B, n.Outputs()); err != nil {
		return err
	}
	copy(out, cur.R[n.Output])
	for g := range n.Pops {
		clear(e.inst[g])
		clear(e.s[g])
	}
	n.Loss.TargetError(e.inst[n.Output], cur.R[n.Output], t, n.Beta, n.Outputs())
	first := e.first
	clear(first)
	for pi := range n.Projs {
		p := &n.Projs[pi]
		in := n.fromSize(p)
		src := x
		if p.From >= 0 {
			src = cur.R[p.From]
			kernel.Axpy(e.inst[p.From], 1, cur.E[pi]) // errors sent back along p
		}
		// s_to += W_p r_from
		if !first[p.To] {
			kernel.MulABt(e.s[p.To], src, p.W, B, in, n.Pops[p.To].N, e.wt[pi])
			first[p.To] = true
		} else {
			kernel.MulABt(e.tmp[p.To], src, p.W, B, in, n.Pops[p.To].N, e.wt[pi])
			kernel.Axpy(e.s[p.To], 1, e.tmp[p.To])
		}
	}
	for g := range n.Pops {
		pop := &n.Pops[g]
		bias := pop.B
		if bias == nil {
			bias = e.zeros[g]
		}
		kernel.Euler(&kernel.EulerParams[float64]{
			Dt: n.Dt, Prospective: n.ProspectiveErrors && !pop.InstantErrors, Gamma: pop.Gamma, TauM: pop.TauM, TauR: pop.TauR,
			InvTauM: e.invTauM[g], InvTauR: e.invTauR[g], Bias: bias,
			E: e.inst[g], RPrime: cur.RP[g], S: e.s[g], U: cur.U[g], V: cur.V[g],
			NextU: nx.U[g], NextV: nx.V[g], EHat: e.ehat[g], UDot: e.udot[g], UBreve: e.ub[g],
		})
		pop.Phi.Apply(nx.R[g], nx.RP[g], e.ub[g])
	}
	for pi := range n.Projs {
		p := &n.Projs[pi]
		if p.From >= 0 {
			// e_from += ê_to M_p (M_p = W_p, or B_p without weight transport)
			kernel.MulAB(nx.E[pi], e.ehat[p.To], p.feedbackMatrix(), B, n.Pops[p.To].N, n.fromSize(p))
		}
	}
	if e.Grads != nil {
		e.localGrads(x)
	}
	e.State, e.next = nx, cur
	return nil
}

// localGrads writes GLE's batch-mean gradients of the step just computed
// (the state is not committed yet: e.State holds the rates it read).
func (e *Engine) localGrads(x []float64) {
	n, g, B := e.Net, e.Grads, e.State.Batch
	inv := 1 / float64(B)
	for pi := range n.Projs {
		p := &n.Projs[pi]
		src := x
		if p.From >= 0 {
			src = e.State.R[p.From]
		}
		kernel.MulAtB(g.W[pi], -inv, e.ehat[p.To], src, B, n.Pops[p.To].N, n.fromSize(p)) // −(1/B) Σ ê r_fromᵀ
		if p.Feedback == Learned {
			// Kolen–Pollack: B gets W's local gradient; both decay.
			copy(g.Feedback[pi], g.W[pi])
			kernel.Axpy(g.W[pi], n.FeedbackDecay, p.W)
			kernel.Axpy(g.Feedback[pi], n.FeedbackDecay, p.B)
		}
	}
	for q, pop := range n.Pops {
		if g.B[q] != nil {
			clear(g.B[q])
			for b := range B {
				kernel.Axpy(g.B[q], -inv, e.ehat[q][b*pop.N:(b+1)*pop.N]) // −(1/B) Σ ê
			}
		}
		clear(g.TauM[q])
		for b := range B {
			for o := range pop.N {
				i := b*pop.N + o
				g.TauM[q][o] += inv * e.ehat[q][i] * e.udot[q][i] // (1/B) Σ ê ⊙ u̇
			}
		}
	}
}

// Pairs returns the learnable parameters (weights, learned feedback
// weights, biases) of n and the matching gradient slices of g, as
// gle.Optimizer steps on them.
func Pairs(n *Network, g *Grads) (params, grads [][]float64) {
	for k := range n.Projs {
		params, grads = append(params, n.Projs[k].W), append(grads, g.W[k])
		if n.Projs[k].Feedback == Learned {
			params, grads = append(params, n.Projs[k].B), append(grads, g.Feedback[k])
		}
	}
	for q := range n.Pops {
		if n.Pops[q].B != nil {
			params, grads = append(params, n.Pops[q].B), append(grads, g.B[q])
		}
	}
	return params, grads
}
