package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/gle-go/gle"
)

// Source is a set of samples — sequences of input frames with optional
// targets — that a run driver (package fit) draws batches from: the
// training set, a validation or a test set.
type Source interface {
	// Len returns the number of samples.
	Len() int
	// Features returns the inputs per step.
	Features() int
	// Sample writes sample i into s. rng draws the sample's random
	// transforms (augmentation) when the source has any; it is nil for
	// the sample as it is (evaluation).
	Sample(s *Sample, i int, rng *rand.Rand) error
}

// Labeler is a Source that knows each sample's class without loading it:
// class-balanced sampling and accuracies need it.
type Labeler interface {
	Source
	// Label returns sample i's class (0 ≤ class < Classes).
	Label(i int) int
	// Classes returns the number of classes.
	Classes() int
}

// Sample is one sequence of a Source.
type Sample struct {
	Steps int
	X     []float64 // Steps × Features
	// The target, at most one of: Label ≥ 0, one class for every step
	// (CE); Labels, a class per step; Values, Steps × outputs (MSE).
	// Label < 0 and both nil: no target.
	Label  int
	Labels []int
	Values []float64
}

// Order is how a run draws the batches of an epoch from a Source.
type Order int

const (
	// Shuffled draws a new permutation every epoch (from the run's seed
	// and the epoch) and cuts it into full batches; the remainder of the
	// permutation is left out of that epoch.
	Shuffled Order = iota
	// Balanced draws Len samples per epoch with replacement, each with
	// weight N / (samples of its class) — every class equally likely —
	// in batches, the last one smaller (PyTorch's WeightedRandomSampler
	// as the speech experiment uses it; the source must be a Labeler).
	Balanced
	// InOrder takes the samples in order, the last batch smaller.
	InOrder
)

var orderNames = [...]string{Shuffled: "shuffled", Balanced: "balanced", InOrder: "in-order"}

func (o Order) String() string {
	if o < 0 || int(o) >= len(orderNames) {
		return fmt.Sprintf("Order(%d)", int(o))
	}
	return orderNames[o]
}

// MarshalText writes the order's name.
func (o Order) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an order's name.
func (o *Order) UnmarshalText(b []byte) error {
	i := slices.Index(orderNames[:], string(b))
	if i < 0 {
		return &gle.FieldError{Field: "order", Value: string(b), Why: "want shuffled, balanced or in-order", Err: gle.ErrUnknownName}
	}
	*o = Order(i)
	return nil
}

// Plan returns the batches of one epoch: the indices of each batch's
// samples. size ≤ 0 puts the whole source in one batch. The plan
// depends only on (order, size, seed, epoch), so a resumed run draws the
// same batches.
func Plan(src Source, order Order, size int, seed uint64, epoch int) ([][]int, error) {
	n := src.Len()
	if n == 0 {
		return nil, &gle.FieldError{Field: "data", Value: "0 samples", Why: "nothing to draw from", Err: gle.ErrShape}
	}
	if size <= 0 {
		size = n
	}
	rng := rand.New(rand.NewPCG(seed, uint64(epoch)))
	var idx []int
	switch order {
	case Shuffled:
		if size > n {
			return nil, &gle.FieldError{Field: "batch", Value: size, Why: fmt.Sprintf("must be at most the %d samples", n), Err: gle.ErrInvalid}
		}
		idx = rng.Perm(n)
		idx = idx[:n/size*size]
	case Balanced:
		lab, ok := src.(Labeler)
		if !ok {
			return nil, &gle.FieldError{Field: "order", Value: "balanced", Why: "needs a source whose samples have class labels", Err: gle.ErrInvalid}
		}
		idx = balancedDraws(lab, rng)
	case InOrder:
		idx = make([]int, n)
		for i := range idx {
			idx[i] = i
		}
	default:
		return nil, &gle.FieldError{Field: "order", Value: int(order), Why: "not an order", Err: gle.ErrUnknownName}
	}
	var plan [][]int
	for len(idx) > 0 {
		m := min(size, len(idx))
		plan = append(plan, idx[:m:m])
		idx = idx[m:]
	}
	return plan, nil
}

// balancedDraws draws src.Len() samples with replacement, sample i with
// probability ∝ 1 / count(class of i).
func balancedDraws(src Labeler, rng *rand.Rand) []int {
	n := src.Len()
	count := ClassCounts(src)
	cum := make([]float64, n) // cumulative weights
	var total float64
	for i := range n {
		total += 1 / float64(count[src.Label(i)])
		cum[i] = total
	}
	out := make([]int, n)
	for j := range out {
		u := rng.Float64() * total
		out[j] = min(sort.SearchFloat64s(cum, u), n-1)
		for out[j] > 0 && cum[out[j]-1] >= u { // equal cumulative sums: the first sample that reaches u
			out[j]--
		}
	}
	return out
}

// ClassCounts returns the samples of each class of src.
func ClassCounts(src Labeler) []int {
	count := make([]int, src.Classes())
	for i := range src.Len() {
		count[src.Label(i)]++
	}
	return count
}

// Batch is samples of a Source arranged time-major for an engine: frame
// t holds Size samples of Features inputs. Shorter samples are padded
// at the end with zero frames to the longest; over the padding a
// sample's class label stays its target (the reference counts every step
// of the padded sequence), so padding needs targets of one label per
// sample or none.
type Batch struct {
	Size, Steps, Features int
	X                     []float64    // Steps × Size × Features
	Targets               []gle.Target // one per step; zero Targets: none
	// Labels holds each sample's class when every sample has one label
	// (accuracy); nil otherwise.
	Labels []int
	// Lengths holds each sample's own steps (before padding).
	Lengths []int

	sample  Sample
	samples []Sample
	classes []int     // Steps × Size labels (per-step classes)
	values  []float64 // Steps × Size × outputs (MSE targets)
}

// Frame returns the inputs of step t (Size × Features), aliasing X.
func (b *Batch) Frame(t int) []float64 {
	n := b.Size * b.Features
	return b.X[t*n : (t+1)*n]
}

// Fill loads samples idx of src into b (reusing its buffers), drawing
// each sample's random transforms from rng (nil: none) in the order of
// idx. k is the network's outputs (the width of MSE targets).
func (b *Batch) Fill(src Source, idx []int, rng *rand.Rand, k int) error {
	F := src.Features()
	b.Size, b.Features, b.Steps = len(idx), F, 0
	if cap(b.samples) < len(idx) {
		b.samples = make([]Sample, len(idx))
	}
	b.samples = b.samples[:len(idx)]
	b.Lengths = b.Lengths[:0]
	for j, i := range idx {
		s := &b.samples[j]
		s.X, s.Labels, s.Values = s.X[:0], s.Labels[:0], s.Values[:0]
		s.Steps, s.Label = 0, -1
		if err := src.Sample(s, i, rng); err != nil {
			return fmt.Errorf("sample %d: %w", i, err)
		}
		if s.Steps <= 0 || len(s.X) != s.Steps*F {
			return fmt.Errorf("%w: sample %d has %d steps and %d input values, want steps > 0 and steps × %d features", gle.ErrShape, i, s.Steps, len(s.X), F)
		}
		b.Steps = max(b.Steps, s.Steps)
		b.Lengths = append(b.Lengths, s.Steps)
	}
	first := &b.samples[0]
	kind := targetKind(first)
	for j := range b.samples {
		s := &b.samples[j]
		if targetKind(s) != kind {
			return fmt.Errorf("%w: samples %d and %d of a batch have different kinds of target", gle.ErrShape, idx[0], idx[j])
		}
		if s.Steps != b.Steps && kind != "label" && kind != "none" {
			return fmt.Errorf("%w: sample %d has %d steps, sample of the same batch %d; samples of unequal length need one class label each or no target", gle.ErrShape, idx[j], s.Steps, b.Steps)
		}
		if kind == "values" && len(s.Values)%s.Steps != 0 {
			return fmt.Errorf("%w: sample %d has %d target values for %d steps", gle.ErrShape, idx[j], len(s.Values), s.Steps)
		}
	}
	B := b.Size
	b.X = resize(b.X, b.Steps*B*F)
	clear(b.X)
	for j := range b.samples {
		s := &b.samples[j]
		for t := range s.Steps {
			copy(b.X[(t*B+j)*F:(t*B+j+1)*F], s.X[t*F:(t+1)*F])
		}
	}
	b.Targets = resize(b.Targets, b.Steps)
	clear(b.Targets)
	b.Labels = nil
	switch kind {
	case "label":
		b.classes = resize(b.classes, B)
		for j := range b.samples {
			b.classes[j] = b.samples[j].Label
		}
		for t := range b.Targets {
			b.Targets[t].Classes = b.classes[:B]
		}
		b.Labels = b.classes[:B]
	case "labels":
		b.classes = resize(b.classes, b.Steps*B)
		for j := range b.samples {
			for t, c := range b.samples[j].Labels {
				b.classes[t*B+j] = c
			}
		}
		for t := range b.Targets {
			b.Targets[t].Classes = b.classes[t*B : (t+1)*B]
		}
	case "values":
		if w := len(first.Values) / first.Steps; w != k {
			return fmt.Errorf("%w: the samples have %d target values per step, the network %d outputs", gle.ErrShape, w, k)
		}
		b.values = resize(b.values, b.Steps*B*k)
		for j := range b.samples {
			v := b.samples[j].Values
			for t := range b.Steps {
				copy(b.values[(t*B+j)*k:(t*B+j+1)*k], v[t*k:(t+1)*k])
			}
		}
		for t := range b.Targets {
			b.Targets[t].Values = b.values[t*B*k : (t+1)*B*k]
		}
	}
	return nil
}

// targetKind names the kind of target a sample has.
func targetKind(s *Sample) string {
	switch {
	case s.Label >= 0:
		return "label"
	case len(s.Labels) > 0:
		return "labels"
	case len(s.Values) > 0:
		return "values"
	}
	return "none"
}

// resize returns x with length n, reusing its array when it is big enough.
func resize[E any](x []E, n int) []E {
	if cap(x) < n {
		return make([]E, n)
	}
	return x[:n]
}

// Set is an in-memory Source of equally long samples: x is Len × Steps ×
// Features (sample-major); targets are Labels (one class per sample),
// StepLabels (Len × Steps classes), Values (Len × Steps × Outputs), or
// none.
type Set struct {
	N, Steps, In int
	X            []float64
	Labels       []int // one class per sample, or nil
	StepLabels   []int // a class per sample and step, or nil
	Values       []float64
	Outputs      int // classes (Labels, StepLabels) or MSE outputs (Values)
}

// Len implements Source.
func (s *Set) Len() int { return s.N }

// Features implements Source.
func (s *Set) Features() int { return s.In }

// Sample implements Source.
func (s *Set) Sample(dst *Sample, i int, _ *rand.Rand) error {
	if i < 0 || i >= s.N {
		return &gle.FieldError{Field: "sample", Value: i, Why: fmt.Sprintf("want 0…%d", s.N-1), Err: gle.ErrInvalid}
	}
	L, F := s.Steps, s.In
	dst.Steps = L
	dst.X = append(dst.X[:0], s.X[i*L*F:(i+1)*L*F]...)
	switch {
	case s.Labels != nil:
		dst.Label = s.Labels[i]
	case s.StepLabels != nil:
		dst.Labels = append(dst.Labels[:0], s.StepLabels[i*L:(i+1)*L]...)
	case s.Values != nil:
		dst.Values = append(dst.Values[:0], s.Values[i*L*s.Outputs:(i+1)*L*s.Outputs]...)
	}
	return nil
}

// Label implements Labeler (for sets with one label per sample).
func (s *Set) Label(i int) int { return s.Labels[i] }

// Classes implements Labeler.
func (s *Set) Classes() int { return s.Outputs }

// Check validates the set's shape and labels.
func (s *Set) Check() error {
	switch {
	case s.N <= 0 || s.Steps <= 0 || s.In <= 0:
		return &gle.FieldError{Field: "x", Value: fmt.Sprintf("[%d, %d, %d]", s.N, s.Steps, s.In), Why: "want [samples, steps, inputs], none zero", Err: gle.ErrShape}
	case len(s.X) != s.N*s.Steps*s.In:
		return &gle.FieldError{Field: "x", Value: fmt.Sprintf("%d values", len(s.X)), Why: fmt.Sprintf("want samples × steps × inputs = %d", s.N*s.Steps*s.In), Err: gle.ErrShape}
	case s.Labels != nil && len(s.Labels) != s.N:
		return &gle.FieldError{Field: "y", Value: fmt.Sprintf("%d labels", len(s.Labels)), Why: fmt.Sprintf("want one per sample (%d)", s.N), Err: gle.ErrShape}
	case s.StepLabels != nil && len(s.StepLabels) != s.N*s.Steps:
		return &gle.FieldError{Field: "y", Value: fmt.Sprintf("%d labels", len(s.StepLabels)), Why: fmt.Sprintf("want one per sample and step (%d)", s.N*s.Steps), Err: gle.ErrShape}
	case s.Values != nil && len(s.Values) != s.N*s.Steps*s.Outputs:
		return &gle.FieldError{Field: "y", Value: fmt.Sprintf("%d values", len(s.Values)), Why: fmt.Sprintf("want samples × steps × outputs = %d", s.N*s.Steps*s.Outputs), Err: gle.ErrShape}
	}
	for _, ls := range [][]int{s.Labels, s.StepLabels} {
		for i, c := range ls {
			if c < 0 || c >= s.Outputs {
				return &gle.FieldError{Field: fmt.Sprintf("y[%d]", i), Value: c, Why: fmt.Sprintf("class labels must be in 0…%d", s.Outputs-1), Err: gle.ErrInvalid}
			}
		}
	}
	return nil
}
