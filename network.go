package gle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Network holds the parameters of a network of populations of GLE
// neurons connected by projections (docs/model.md §2–3). A projection
// reads the rates of its source (a population, or the input lines) and
// adds W r to the synaptic input of its target; errors travel back along
// it through its feedback matrix. The output population's rates are the
// network output.
//
// A chain (the layers form of a Spec) is the special case in which
// population l has one projection, from population l−1 (or the input).
type Network struct {
	Dt                float64 // Euler step
	Beta              float64 // target error scale β
	Loss              Loss
	ProspectiveErrors bool    // ê = v + τm v̇ (GLE) instead of ê = e
	FeedbackDecay     float64 // weight decay λ of learned feedback
	Inputs            int     // input lines
	Output            int     // index of the output population
	Pops              []Population
	Projs             []Projection
	// Layered marks a network built from layers: population l is layer l,
	// projection l feeds it, and its tensors are named layers.l.*.
	Layered bool
}

// Input is the From of a projection that reads the input lines.
const Input = -1

// Population holds the neuron parameters of a population of N neurons.
type Population struct {
	Name string
	N    int
	Phi  Activation
	TauM []float64 // τm per neuron
	TauR []float64 // τr per neuron
	// Gamma is the error nudging γ: τm u̇ = −u + Σ W r + b + γ ê.
	Gamma float64
	Bias  []float64 // b per neuron; nil: no bias
	// InstantErrors: ê = e here even when the network's errors are
	// prospective.
	InstantErrors bool

	LearnBias, LearnTauM, LearnTauR bool
}

// Projection holds the weights W (To's N × From's size, row-major) from
// population From (or Input) to population To.
type Projection struct {
	From, To int
	W        []float64
	// Feedback chooses the matrix errors go back through; FeedbackWeight
	// (W's shape) is that matrix for Random and Learned feedback, nil for
	// Symmetric.
	Feedback       Feedback
	FeedbackWeight []float64
	LearnWeight    bool
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

// MarshalText writes the spec name.
func (f Feedback) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads a spec name ("" is symmetric).
func (f *Feedback) UnmarshalText(b []byte) error {
	v, ok := parseName(string(b), feedbackNames[:])
	if !ok {
		return fieldErr(ErrUnknownName, "feedback", string(b), "want symmetric, random or learned")
	}
	*f = Feedback(v)
	return nil
}

// feedbackMatrix returns the matrix p sends errors back through.
func (p *Projection) feedbackMatrix() []float64 {
	if p.FeedbackWeight != nil {
		return p.FeedbackWeight
	}
	return p.W
}

// NewNetwork validates s and builds its network, drawing the weights and
// biases that the spec does not give. The layers form draws layer l from
// its own random stream (seed, l), weights then bias, so adding a layer or
// giving one layer's weights leaves the others' draws unchanged; the
// populations form draws every projection's weights (then feedback
// weights) from one stream, in projection order.
func NewNetwork(s *Spec) (*Network, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := CheckMemory(sizeField(s), nil, ParamBytes(s)); err != nil {
		return nil, err
	}
	n := &Network{Dt: s.Dt, Beta: s.BetaOrDefault(), Loss: s.Loss, ProspectiveErrors: s.Prospective(),
		FeedbackDecay: s.FeedbackDecay}
	if s.Layered() {
		n.buildChain(s)
	} else {
		n.buildGraph(s)
	}
	return n, nil
}

// sizeField names the largest layer or population of s, for the memory
// guard.
func sizeField(s *Spec) string {
	best, field := 0.0, ""
	if s.Layered() {
		for i, l := range s.Layers {
			if w := float64(l.In) * float64(l.Out); w > best {
				best, field = w, fmt.Sprintf("layers[%d] (in × out = %d × %d)", i, l.In, l.Out)
			}
		}
		return field
	}
	for i, p := range s.Populations {
		if float64(p.Size) > best {
			best, field = float64(p.Size), fmt.Sprintf("populations[%d].size (%d)", i, p.Size)
		}
	}
	return field
}

func (n *Network) buildChain(s *Spec) {
	n.Layered, n.Inputs, n.Output = true, s.Layers[0].In, len(s.Layers)-1
	for i := range s.Layers {
		ls := &s.Layers[i]
		pop := Population{Name: fmt.Sprintf("layer%d", i), N: ls.Out, Phi: ls.Phi, Gamma: ls.Gamma,
			TauM: broadcast(ls.TauM, ls.Out), TauR: broadcast(ls.TauR, ls.Out),
			LearnBias: learnDefault(ls.LearnBias) && !ls.Bias.Disabled, LearnTauM: ls.LearnTauM, LearnTauR: ls.LearnTauR}
		proj := Projection{From: i - 1, To: i, W: make([]float64, ls.Out*ls.In), LearnWeight: learnDefault(ls.LearnWeight)}
		if !ls.Bias.Disabled {
			pop.Bias = make([]float64, ls.Out)
		}
		rng := rand.New(rand.NewPCG(s.Seed, uint64(i)))
		initialize(ls.Init, rng, proj.W, ls.In, ls.Out)
		if ls.Init == InitPyTorch {
			uniform(rng, pop.Bias, ls.In)
		}
		copyRows(proj.W, ls.Weight)
		if ls.Bias.Values != nil {
			copy(pop.Bias, ls.Bias.Values)
		}
		n.Pops, n.Projs = append(n.Pops, pop), append(n.Projs, proj)
	}
}

func (n *Network) buildGraph(s *Spec) {
	n.Inputs = s.Inputs
	index := map[string]int{InputName: Input}
	for i, ps := range s.Populations {
		index[ps.Name] = i
		pop := Population{Name: ps.Name, N: ps.Size, Phi: ps.Phi, Gamma: ps.Gamma, InstantErrors: ps.InstantErrors,
			TauM: broadcast(ps.TauM, ps.Size), TauR: broadcast(ps.TauR, ps.Size),
			LearnBias: learnDefault(ps.LearnBias) && !ps.Bias.Disabled, LearnTauM: ps.LearnTauM, LearnTauR: ps.LearnTauR}
		if !ps.Bias.Disabled {
			pop.Bias = make([]float64, ps.Size)
			copy(pop.Bias, ps.Bias.Values)
		}
		n.Pops = append(n.Pops, pop)
	}
	n.Output = index[s.Output]
	rng := rand.New(rand.NewPCG(s.Seed, 0x9a9))
	for _, ps := range s.Projections {
		p := Projection{From: index[ps.From], To: index[ps.To], Feedback: ps.Feedback, LearnWeight: learnDefault(ps.LearnWeight)}
		in, out := n.FromSize(&p), n.Pops[p.To].N
		p.W = make([]float64, out*in)
		if ps.Weight != nil {
			copyRows(p.W, ps.Weight)
		} else {
			initialize(ps.Init, rng, p.W, in, out)
		}
		if p.Feedback != Symmetric {
			p.FeedbackWeight = make([]float64, out*in)
			if ps.FeedbackWeight != nil {
				copyRows(p.FeedbackWeight, ps.FeedbackWeight)
			} else {
				initialize(ps.Init, rng, p.FeedbackWeight, in, out)
			}
		}
		n.Projs = append(n.Projs, p)
	}
}

func broadcast(t Taus, n int) []float64 {
	if len(t) == 1 {
		return slices.Repeat([]float64{t[0]}, n)
	}
	return slices.Clone(t)
}

func copyRows(dst []float64, rows [][]float64) {
	for r, row := range rows {
		copy(dst[r*len(row):], row)
	}
}

// initialize draws w (out × in) as init says: uniform in ±1/√in (pytorch),
// zeros, or the identity.
func initialize(init Init, rng *rand.Rand, w []float64, in, out int) {
	switch init {
	case InitPyTorch:
		uniform(rng, w, in)
	case InitIdentity:
		for i := range out {
			w[i*in+i] = 1
		}
	}
}

// uniform fills w with PyTorch's default draw U(−1/√in, 1/√in).
func uniform(rng *rand.Rand, w []float64, in int) {
	bound := 1 / math.Sqrt(float64(in))
	for k := range w {
		w[k] = bound * (2*rng.Float64() - 1)
	}
}

// FromSize returns the number of values projection p reads.
func (n *Network) FromSize(p *Projection) int {
	if p.From == Input {
		return n.Inputs
	}
	return n.Pops[p.From].N
}

// Outputs returns the size of the output population.
func (n *Network) Outputs() int { return n.Pops[n.Output].N }

// PopulationName returns the name of population q, or "input" for Input.
func (n *Network) PopulationName(q int) string {
	if q == Input {
		return InputName
	}
	return n.Pops[q].Name
}

// ProjectionName names projection k: "W layer0→layer1" style, from the
// population names ("W input→h").
func (n *Network) ProjectionName(k int) string {
	p := &n.Projs[k]
	return fmt.Sprintf("%s→%s", n.PopulationName(p.From), n.PopulationName(p.To))
}

// NumParams returns the number of parameters that learn (weights, learned
// feedback weights, biases, τm and τr values).
func (n *Network) NumParams() int {
	var c int
	for i := range n.Projs {
		p := &n.Projs[i]
		if p.LearnWeight {
			c += len(p.W)
		}
		if p.Feedback == Learned {
			c += len(p.FeedbackWeight)
		}
	}
	for i := range n.Pops {
		p := &n.Pops[i]
		if p.LearnBias && p.Bias != nil {
			c += len(p.Bias)
		}
		if p.LearnTauM {
			c += p.N
		}
		if p.LearnTauR {
			c += p.N
		}
	}
	return c
}

// Clone returns a deep copy of n.
func (n *Network) Clone() *Network {
	c := *n
	c.Pops = slices.Clone(n.Pops)
	for i := range c.Pops {
		p := &c.Pops[i]
		p.TauM, p.TauR, p.Bias = slices.Clone(p.TauM), slices.Clone(p.TauR), slices.Clone(p.Bias)
	}
	c.Projs = slices.Clone(n.Projs)
	for i := range c.Projs {
		p := &c.Projs[i]
		p.W, p.FeedbackWeight = slices.Clone(p.W), slices.Clone(p.FeedbackWeight)
	}
	return &c
}

// Check verifies the sizes, the topology, finiteness and τ ≥ dt of a
// network built or edited by hand (NewNetwork's networks pass). Errors
// name what is wrong as the tensors are named (layers.1.weight[5],
// populations.h.tau_m[2]; Network.Tensors).
func (n *Network) Check() error {
	if !(n.Dt > 0) || math.IsInf(n.Dt, 0) {
		return fieldErr(ErrInvalid, "dt", n.Dt, "must be positive and finite")
	}
	if !(n.Beta >= 0) || math.IsInf(n.Beta, 0) {
		return fieldErr(ErrInvalid, "beta", n.Beta, "must be finite and ≥ 0")
	}
	if n.Loss < 0 || int(n.Loss) >= len(lossNames) {
		return fieldErr(ErrInvalid, "loss", int(n.Loss), "not a loss")
	}
	if n.Inputs <= 0 || n.Inputs > maxNeurons {
		return fieldErr(ErrInvalid, "inputs", n.Inputs, "must be in 1…%d", maxNeurons)
	}
	if len(n.Pops) == 0 || len(n.Projs) == 0 {
		return fieldErr(ErrInvalid, "populations", fmt.Sprintf("%d populations, %d projections", len(n.Pops), len(n.Projs)), "need at least one population and one projection")
	}
	if n.Output < 0 || n.Output >= len(n.Pops) {
		return fieldErr(ErrInvalid, "output", n.Output, "want a population index in 0…%d", len(n.Pops)-1)
	}
	for q := range n.Pops {
		p := &n.Pops[q]
		name := n.PopulationPrefix(q)
		if p.N <= 0 || p.N > maxNeurons {
			return fieldErr(ErrInvalid, name+"size", p.N, "must be in 1…%d", maxNeurons)
		}
		if !p.Phi.valid() {
			return fieldErr(ErrInvalid, name+"phi", int(p.Phi), "not an activation")
		}
		for _, tc := range []struct {
			field string
			taus  []float64
		}{{"tau_m", p.TauM}, {"tau_r", p.TauR}} {
			if len(tc.taus) != p.N {
				return fieldErr(ErrShape, name+tc.field, fmt.Sprintf("%d values", len(tc.taus)), "want one per neuron (%d)", p.N)
			}
			for j, v := range tc.taus {
				if !(v >= n.Dt) || math.IsInf(v, 0) {
					return fieldErr(ErrInvalid, fmt.Sprintf("%s%s[%d]", name, tc.field, j), v, "must be finite and ≥ dt = %g", n.Dt)
				}
			}
		}
		if p.Bias != nil && len(p.Bias) != p.N {
			return fieldErr(ErrShape, name+"bias", fmt.Sprintf("%d values", len(p.Bias)), "want one per neuron (%d)", p.N)
		}
		if j := firstNonFinite(p.Bias); j >= 0 {
			return fieldErr(ErrNonFinite, fmt.Sprintf("%sbias[%d]", name, j), p.Bias[j], "must be finite")
		}
		if math.IsNaN(p.Gamma) || math.IsInf(p.Gamma, 0) {
			return fieldErr(ErrNonFinite, name+"gamma", p.Gamma, "must be finite")
		}
	}
	for k := range n.Projs {
		p := &n.Projs[k]
		if p.From < Input || p.From >= len(n.Pops) || p.To < 0 || p.To >= len(n.Pops) {
			return fieldErr(ErrInvalid, fmt.Sprintf("projections[%d]", k), fmt.Sprintf("from %d to %d", p.From, p.To), "want the input (−1) or a population index, and a population index")
		}
		name := n.ProjectionPrefix(k)
		size := n.FromSize(p) * n.Pops[p.To].N
		if len(p.W) != size {
			return fieldErr(ErrShape, name+"weight", fmt.Sprintf("%d values", len(p.W)), "want %d × %d = %d", n.Pops[p.To].N, n.FromSize(p), size)
		}
		if j := firstNonFinite(p.W); j >= 0 {
			return fieldErr(ErrNonFinite, fmt.Sprintf("%sweight[%d]", name, j), p.W[j], "must be finite")
		}
		switch {
		case p.Feedback < 0 || int(p.Feedback) >= len(feedbackNames):
			return fieldErr(ErrInvalid, name+"feedback", int(p.Feedback), "not a feedback kind")
		case p.Feedback == Symmetric && p.FeedbackWeight != nil:
			return fieldErr(ErrInvalid, name+"feedback_weight", fmt.Sprintf("%d values", len(p.FeedbackWeight)), "symmetric feedback has none")
		case p.Feedback != Symmetric && len(p.FeedbackWeight) != size:
			return fieldErr(ErrShape, name+"feedback_weight", fmt.Sprintf("%d values", len(p.FeedbackWeight)), "want %d", size)
		}
		if j := firstNonFinite(p.FeedbackWeight); j >= 0 {
			return fieldErr(ErrNonFinite, fmt.Sprintf("%sfeedback_weight[%d]", name, j), p.FeedbackWeight[j], "must be finite")
		}
	}
	if n.Layered {
		for k, p := range n.Projs {
			if len(n.Projs) != len(n.Pops) || p.To != k || p.From != k-1 {
				return fieldErr(ErrInvalid, "layers", true, "a layered network has projection l from population l−1 to l")
			}
		}
	}
	return nil
}

// firstNonFinite returns the index of the first NaN or ±Inf in x, or −1.
func firstNonFinite[T Float](x []T) int {
	for i, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return i
		}
	}
	return -1
}

// ToSpec returns a copy of base, the spec n was built from, carrying n's
// current parameters (weights, feedback weights, biases, τm, τr), so that
// NewNetwork(n.ToSpec(base)) rebuilds n.
func (n *Network) ToSpec(base *Spec) *Spec {
	s := *base
	rows := func(w []float64, in int) [][]float64 {
		if w == nil {
			return nil
		}
		m := make([][]float64, len(w)/in)
		for r := range m {
			m[r] = slices.Clone(w[r*in : (r+1)*in])
		}
		return m
	}
	bias := func(b []float64) Bias {
		if b == nil {
			return Bias{Disabled: true}
		}
		return Bias{Values: slices.Clone(b)}
	}
	if base.Layered() {
		s.Layers = slices.Clone(base.Layers)
		for i := range s.Layers {
			ls, pop, proj := &s.Layers[i], &n.Pops[i], &n.Projs[i]
			ls.Weight, ls.Bias = rows(proj.W, n.FromSize(proj)), bias(pop.Bias)
			ls.TauM, ls.TauR = slices.Clone(pop.TauM), slices.Clone(pop.TauR)
		}
		return &s
	}
	s.Projections = slices.Clone(base.Projections)
	for k := range s.Projections {
		p := &n.Projs[k]
		in := n.FromSize(p)
		s.Projections[k].Weight, s.Projections[k].FeedbackWeight = rows(p.W, in), rows(p.FeedbackWeight, in)
	}
	s.Populations = slices.Clone(base.Populations)
	for q := range s.Populations {
		p, ps := &n.Pops[q], &s.Populations[q]
		ps.TauM, ps.TauR, ps.Bias = slices.Clone(p.TauM), slices.Clone(p.TauR), bias(p.Bias)
	}
	return &s
}
