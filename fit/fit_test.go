package fit_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/optim"
)

// noisy is a labelled source of unequal lengths whose samples get fresh
// noise at every draw (an augmentation): class c is a constant input of
// sign ±1 plus noise, 6 + i%5 steps long.
type noisy struct{ n int }

func (s noisy) Len() int        { return s.n }
func (s noisy) Features() int   { return 1 }
func (s noisy) Label(i int) int { return i % 2 }
func (s noisy) Classes() int    { return 2 }
func (s noisy) Sample(dst *data.Sample, i int, rng *rand.Rand) error {
	dst.Steps, dst.Label = 6+i%5, i%2
	dst.X = dst.X[:0]
	for range dst.Steps {
		v := float64(2*(i%2)-1) * 0.5
		if rng != nil {
			v += 0.3 * rng.NormFloat64()
		}
		dst.X = append(dst.X, v)
	}
	return nil
}

func classifier(t *testing.T, f32 bool) gle.Learner {
	t.Helper()
	s, err := gle.DecodeSpec([]byte(`{"dt": 0.1, "loss": "ce", "seed": 5, "optimizer": {"kind": "adam", "lr": 0.01},
		"layers": [{"in": 1, "out": 6, "phi": "tanh", "tau_m": 0.5, "tau_r": 0.2}, {"in": 6, "out": 2, "tau_m": 0.3, "tau_r": 0.3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	l, err := gle.NewLearner(s, 4, f32)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// stopper cancels a run at the start of a given batch of a split in a
// given epoch.
type stopper struct {
	split        fit.Split
	epoch, batch int
	cancel       func()
}

func (s *stopper) Start([]fit.Record) error { return nil }
func (s *stopper) Record(fit.Record) error  { return nil }
func (s *stopper) BatchStart(_ gle.Learner, split fit.Split, epoch, batch int) {
	if split == s.split && epoch == s.epoch && batch == s.batch {
		s.cancel()
	}
}

// stepStopper is a learner that cancels the run after its at-th step.
type stepStopper struct {
	gle.Learner
	n, at  int
	cancel func()
}

func (s *stepStopper) Step(out, x []float64, t gle.Target) (float64, error) {
	s.n++
	if s.n == s.at {
		s.cancel()
	}
	return s.Learner.Step(out, x, t)
}

func stripped(rs []fit.Record) []fit.Record {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Seconds = 0
	}
	return out
}

// TestRunResumesBitForBit: class-balanced draws with per-draw noise,
// samples of unequal length padded, evaluations on the carried state,
// a plateau schedule: a run stopped within an epoch and resumed from its
// checkpoint ends exactly as the uninterrupted run (records, parameters),
// in float64 and float32.
func TestRunResumesBitForBit(t *testing.T) {
	for _, f32 := range []bool{false, true} {
		src := fit.Sources{Train: noisy{20}, Validation: noisy{7}, Test: noisy{5}}
		settings := func(ckpt string) fit.Settings {
			p, _ := optim.NewPlateau("min", 0.5, 0)
			return fit.Settings{Epochs: 4, Batch: 4, Order: data.Balanced, Seed: 9, EvalBatch: 3,
				EpochZero: []fit.Split{fit.Train, fit.Validation}, EachEpoch: []fit.Split{fit.Validation}, AtEnd: []fit.Split{fit.Test},
				Schedule: p, ScheduleOn: fit.Validation, Checkpoint: ckpt, Resume: ckpt != ""}
		}
		clean, err := fit.Run(context.Background(), classifier(t, f32), src, settings(""), nil)
		if err != nil {
			t.Fatal(err)
		}
		// Stopped at a batch boundary, within a batch, within the
		// evaluations: each resumes to the same end.
		for _, stop := range []struct {
			rec  fit.Recorder
			at   int
			note string
		}{{&stopper{split: fit.Train, epoch: 3, batch: 2}, 0, "step 0 of 10 of batch 3 of 5 of epoch 3"},
			{nil, 100, "step 4 of 9 of batch 1 of 5 of epoch 3"},
			{&stopper{split: fit.Validation, epoch: 2, batch: 1}, 0, "the validation evaluation after epoch 2"}} {
			ckpt := filepath.Join(t.TempDir(), "ck.gob")
			ctx, cancel := context.WithCancel(context.Background())
			l := classifier(t, f32)
			if s, ok := stop.rec.(*stopper); ok {
				s.cancel = cancel
			} else if stop.at > 0 {
				l = &stepStopper{Learner: l, at: stop.at, cancel: cancel}
			}
			stopped, err := fit.Run(ctx, l, src, settings(ckpt), stop.rec)
			cancel()
			{
				if !errors.Is(err, context.Canceled) || !strings.Contains(stopped.StopNote, stop.note) || !strings.Contains(stopped.StopNote, "saved in") {
					t.Fatalf("float32=%v: stopped run: %v, %q", f32, err, stopped.StopNote)
				}
				t.Logf("float32=%v: %s", f32, stopped.StopNote)
			}
			resumed, err := fit.Run(context.Background(), classifier(t, f32), src, settings(ckpt), nil)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := stripped(clean.Records), stripped(resumed.Records); !reflect.DeepEqual(a, b) {
				t.Errorf("float32=%v: resumed records differ:\n%+v\n%+v", f32, a, b)
			}
			for i, pt := range clean.Learner.Network().Tensors() {
				if !slices.Equal(pt.Data, resumed.Learner.Network().Tensors()[i].Data) {
					t.Errorf("float32=%v: %s differs after the resume", f32, pt.Name)
				}
			}
		}
		last := clean.Records[len(clean.Records)-1]
		if last.TestAcc == nil || clean.Records[0].TrainLoss == nil || clean.Records[1].TestAcc != nil {
			t.Errorf("float32=%v: the test split must be evaluated after the last epoch only, epoch 0 must evaluate the training draws", f32)
		}
		if *last.ValAcc < 0.8 {
			t.Errorf("float32=%v: validation accuracy %.2f after 4 epochs of an easy task", f32, *last.ValAcc)
		}
	}
}

// TestEpochZeroFeedsNoSchedule: the evaluation before training is
// recorded but the schedule sees the losses of epochs 1, 2, … only.
func TestEpochZeroFeedsNoSchedule(t *testing.T) {
	var seen []float64
	sched := scheduleFunc(func(epoch int, metric float64, _ optim.Optimizer) error {
		if epoch < 1 {
			t.Errorf("the schedule was fed epoch %d", epoch)
		}
		seen = append(seen, metric)
		return nil
	})
	res, err := fit.Run(context.Background(), classifier(t, false), fit.Sources{Train: noisy{8}, Test: noisy{4}},
		fit.Settings{Epochs: 3, Batch: 4, EpochZero: []fit.Split{fit.Test}, EachEpoch: []fit.Split{fit.Test}, Schedule: sched, ScheduleOn: fit.Test}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for _, r := range res.Records[1:] {
		want = append(want, *r.TestLoss)
	}
	if res.Records[0].Epoch != 0 || !slices.Equal(seen, want) {
		t.Errorf("the schedule saw %v, want the test losses of epochs 1–3 %v", seen, want)
	}
}

type scheduleFunc func(epoch int, metric float64, opt optim.Optimizer) error

func (f scheduleFunc) EndEpoch(epoch int, metric float64, opt optim.Optimizer) error {
	return f(epoch, metric, opt)
}

// TestNoTargets: training data without targets is refused, not trained
// on with a loss of zero.
func TestNoTargets(t *testing.T) {
	set := &data.Set{N: 4, Steps: 5, In: 1, X: make([]float64, 20), Outputs: 2}
	_, err := fit.Run(context.Background(), classifier(t, false), fit.Sources{Train: set}, fit.Settings{Epochs: 1}, nil)
	if !errors.Is(err, fit.ErrNoTargets) {
		t.Errorf("got %v, want ErrNoTargets", err)
	}
}

// warnings records a run's warnings.
type warnings struct{ msgs []string }

func (w *warnings) Start([]fit.Record) error { return nil }
func (w *warnings) Record(fit.Record) error  { return nil }
func (w *warnings) Warn(m string)            { w.msgs = append(w.msgs, m) }
func (w *warnings) BatchStart(l gle.Learner, _ fit.Split, epoch, _ int) {
	if epoch == 2 { // a time constant running away
		l.Network().Pops[0].TauM[1] = 40
	}
}

// TestWarnsOfRunawayTauM: a learned τm that grows beyond ten times its
// largest initial value is warned about, once.
func TestWarnsOfRunawayTauM(t *testing.T) {
	s, err := gle.DecodeSpec([]byte(`{"dt": 0.1, "loss": "ce", "optimizer": {"kind": "sgd", "lr": 0},
		"layers": [{"in": 1, "out": 3, "phi": "tanh", "tau_m": 2, "tau_r": 0.2, "learn_tau_m": true}, {"in": 3, "out": 2, "tau_m": 0.3, "tau_r": 0.3}]}`))
	if err != nil {
		t.Fatal(err)
	}
	l, err := gle.NewLearner(s, 4, false)
	if err != nil {
		t.Fatal(err)
	}
	w := &warnings{}
	if _, err := fit.Run(context.Background(), l, fit.Sources{Train: noisy{8}}, fit.Settings{Epochs: 3, Batch: 4}, w); err != nil {
		t.Fatal(err)
	}
	if len(w.msgs) != 1 || !strings.Contains(w.msgs[0], "population layer0 reached 40, 20× its largest initial value 2") || !strings.Contains(w.msgs[0], "tau_m_max") {
		t.Errorf("warnings %q", w.msgs)
	}
}

// TestBalancedPlan: class-balanced draws with replacement give every
// class about the same share whatever the class sizes, the same plan for
// the same (seed, epoch), another for another epoch.
func TestBalancedPlan(t *testing.T) {
	src := &data.Set{N: 100, Steps: 1, In: 1, X: make([]float64, 100), Outputs: 3, Labels: make([]int, 100)}
	for i := range src.Labels {
		src.Labels[i] = map[bool]int{true: 0, false: 1 + i%2}[i < 80] // 80, 10, 10
	}
	count := make([]int, 3)
	for e := range 50 {
		plan, err := data.Plan(src, data.Balanced, 30, 1, e)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan) != 4 || len(plan[3]) != 10 {
			t.Fatalf("%d batches, the last of %d: want 100 draws in batches of 30", len(plan), len(plan[len(plan)-1]))
		}
		for _, b := range plan {
			for _, i := range b {
				count[src.Labels[i]]++
			}
		}
	}
	for c, n := range count {
		if math.Abs(float64(n)/5000-1.0/3) > 0.02 {
			t.Errorf("class %d drawn %d of 5000 times, want about a third", c, n)
		}
	}
	a, _ := data.Plan(src, data.Balanced, 30, 1, 7)
	b, _ := data.Plan(src, data.Balanced, 30, 1, 7)
	c, _ := data.Plan(src, data.Balanced, 30, 1, 8)
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Error("plans must depend on (seed, epoch) only")
	}
}

// TestPadding: samples of unequal length are padded with zero frames at
// the end, and their class label stays the target over the padding.
func TestPadding(t *testing.T) {
	var b data.Batch
	if err := b.Fill(noisy{10}, []int{0, 3}, nil, 2); err != nil { // 6 and 9 steps
		t.Fatal(err)
	}
	if b.Steps != 9 || !slices.Equal(b.Lengths, []int{6, 9}) {
		t.Fatalf("%d steps, lengths %v", b.Steps, b.Lengths)
	}
	for tt := range 9 {
		x := b.Frame(tt)
		if want := map[bool]float64{true: -0.5, false: 0}[tt < 6]; x[0] != want || x[1] != 0.5 {
			t.Errorf("step %d: %v, want [%g 0.5]", tt, x, want)
		}
		if !slices.Equal(b.Targets[tt].Classes, []int{0, 1}) {
			t.Errorf("step %d: targets %v", tt, b.Targets[tt].Classes)
		}
	}
}
