package experiments

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/optim"
	"github.com/gle-go/gle/plots"
)

// LagLineConfig sets up the LagLine experiment (GLE paper Fig. 5, docs/model.md §9):
// a chain of two softplus neurons 1→1→1 without bias learns the weights
// and membrane time constants of a teacher chain from the teacher's
// output alone.
type LagLineConfig struct {
	// Variant: "gle" (prospective errors), "bp" (instantaneous errors) or
	// "bptt-twN" (truncated BPTT over windows of N time units, learning
	// rate × window steps, as the reference).
	Variant string
	Seed    uint64
	Batch   int
	Dt      float64
	Beta    float64 // target error scale β
	// LRBeta is lr·β; the learning rate is LRBeta/β (paper: 1e-6).
	LRBeta      float64
	TauR        float64    // τr of both neurons
	Gamma       float64    // error nudging of both neurons
	TeacherW    [2]float64 // teacher weights (1, 2)
	TeacherTauM [2]float64 // teacher τm (1, 2)
	// SettleTime runs without learning first; TrainTime learns (time units).
	SettleTime, TrainTime float64
	HalfPeriod            float64 // square-wave half period (time units)
	SmoothSteps           float64 // σ of the Gaussian smoothing, in steps
	TauMin                float64 // τm clamp, as a multiple of dt
	LogEvery              float64 // time units between records
}

// DefaultLagLine returns the paper's set-up: 405,000 steps of dt = 0.01.
func DefaultLagLine() LagLineConfig {
	return LagLineConfig{
		Variant: "gle", Seed: 1, Batch: 100, Dt: 0.01, Beta: 0.01, LRBeta: 1e-6,
		TauR: 0.1, Gamma: 1, TeacherW: [2]float64{1, 2}, TeacherTauM: [2]float64{1, 2},
		SettleTime: 50, TrainTime: 4000, HalfPeriod: 2, SmoothSteps: 5, TauMin: 10,
		LogEvery: 10,
	}
}

// Validate checks the configuration.
func (c *LagLineConfig) Validate() error {
	if _, err := c.window(); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"dt", c.Dt}, {"beta", c.Beta}, {"lr_beta", c.LRBeta}, {"half_period", c.HalfPeriod}, {"log_every", c.LogEvery}} {
		if !(f.v > 0) || math.IsInf(f.v, 0) {
			return &gle.FieldError{Field: f.name, Value: f.v, Why: "must be positive and finite", Err: gle.ErrInvalid}
		}
	}
	if c.Batch <= 0 {
		return &gle.FieldError{Field: "batch", Value: c.Batch, Why: "must be positive", Err: gle.ErrInvalid}
	}
	if c.SettleTime < 0 || c.TrainTime < 0 {
		return &gle.FieldError{Field: "settle/train time", Value: fmt.Sprint(c.SettleTime, c.TrainTime), Why: "must be ≥ 0", Err: gle.ErrInvalid}
	}
	return nil
}

// LagLineRecord is the student's state at one time.
type LagLineRecord struct {
	Time float64    `json:"time"`
	Loss float64    `json:"loss"` // mean MSE since the previous record
	W    [2]float64 `json:"w"`
	TauM [2]float64 `json:"tau_m"`
}

// LagLineResult is the trajectory of the student's parameters.
type LagLineResult struct {
	Config  LagLineConfig
	Records []LagLineRecord
	Steps   int
	Elapsed time.Duration
}

// Final returns the last record.
func (r *LagLineResult) Final() LagLineRecord { return r.Records[len(r.Records)-1] }

// ParamError returns the largest relative error of the student's w and τm
// against the teacher's in record rec.
func (c *LagLineConfig) ParamError(rec LagLineRecord) float64 {
	var m float64
	for i := range 2 {
		m = max(m, math.Abs(rec.W[i]-c.TeacherW[i])/math.Abs(c.TeacherW[i]),
			math.Abs(rec.TauM[i]-c.TeacherTauM[i])/math.Abs(c.TeacherTauM[i]))
	}
	return m
}

// window returns the BPTT window in steps (0 for the GLE variants).
func (c *LagLineConfig) window() (int, error) {
	switch c.Variant {
	case "gle", "bp":
		return 0, nil
	}
	var tw float64
	if _, err := fmt.Sscanf(c.Variant, "bptt-tw%g", &tw); err != nil || !(tw > 0) || c.Dt <= 0 ||
		fmt.Sprintf("bptt-tw%g", tw) != c.Variant {
		return 0, &gle.FieldError{Field: "variant", Value: c.Variant, Why: "want gle, bp or bptt-twN (N time units > 0)", Err: gle.ErrUnknownName}
	}
	return max(1, stepsIn(tw, c.Dt)), nil
}

// LagLineVariants are the variants of the paper's Fig. 5.
var LagLineVariants = []string{"gle", "bp", "bptt-tw1", "bptt-tw2", "bptt-tw4"}

// stepper is a student that learns online: gle.Trainer or bptt.Trainer.
// newStudent builds the student's trainer for the variant: GLE's local
// rule (gle, bp), or truncated BPTT over the window with the learning
// rate scaled by the window length, as the reference does.
func (c *LagLineConfig) newStudent(w, tauM [2]float64) (*gle.Trainer, error) {
	spec := c.chainSpec(w, tauM)
	window, _ := c.window()
	if window > 0 {
		spec.Optimizer.LR *= float64(window)
	}
	tr, err := gle.NewTrainerFromSpec[float64](spec, c.Batch)
	if err != nil {
		return nil, err
	}
	if window > 0 {
		tr.Rule = gradient.TBPTT(window)
	}
	return tr, nil
}

// chainSpec is the 1→1→1 softplus chain with weights w and time constants
// tauM, learning w and τm with Adam after the settling time.
func (c *LagLineConfig) chainSpec(w, tauM [2]float64) *gle.Spec {
	s := &gle.Spec{
		Dt: c.Dt, Loss: gle.MSE,
		Optimizer:     gle.OptimizerSpec{Kind: optim.KindAdam, LR: c.LRBeta / c.Beta},
		TauMMin:       c.TauMin * c.Dt,
		LearnFromStep: stepsIn(c.SettleTime, c.Dt),
	}
	s.SetBeta(c.Beta)
	s.SetProspectiveErrors(c.Variant == "gle")
	for i := range 2 {
		s.Layers = append(s.Layers, gle.LayerSpec{
			In: 1, Out: 1, Phi: gle.Softplus, TauM: gle.Taus{tauM[i]}, TauR: gle.Taus{c.TauR},
			Gamma: c.Gamma, Weight: [][]float64{{w[i]}}, Bias: gle.Bias{Disabled: true},
			LearnTauM: true,
		})
	}
	return s
}

// RunLagLine runs the experiment. report, if non-nil, receives every
// record as it is made. The run stops early, returning ctx.Err(), when
// ctx is cancelled.
func RunLagLine(ctx context.Context, c LagLineConfig, report func(LagLineRecord)) (*LagLineResult, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x1a91))
	// Student: w, τm ~ U(0, 1), τm clamped like during learning.
	var w0, tau0 [2]float64
	for i := range 2 {
		w0[i] = rng.Float64()
		tau0[i] = max(rng.Float64(), c.TauMin*c.Dt)
	}
	student, err := c.newStudent(w0, tau0)
	if err != nil {
		return nil, err
	}
	net := student.Engine.Net
	teacherSpec := c.chainSpec(c.TeacherW, c.TeacherTauM)
	teacherSpec.Loss = gle.NoLoss
	teacherNet, err := gle.NewNetwork(teacherSpec)
	if err != nil {
		return nil, err
	}
	teacher, err := gle.NewEngine(teacherNet, c.Batch)
	if err != nil {
		return nil, err
	}

	period := stepsIn(2*c.HalfPeriod, c.Dt)
	wave := SmoothedSquareWave(period, c.SmoothSteps)
	shift := make([]int, c.Batch)
	for b := range shift {
		shift[b] = rng.IntN(period / 2)
	}

	steps := stepsIn((c.SettleTime + c.TrainTime), c.Dt)
	logEvery := max(1, stepsIn(c.LogEvery, c.Dt))
	input := func(x []float64, t int) {
		for b := range x {
			x[b] = wave[(t+shift[b])%period]
		}
	}
	// The teacher does not depend on the student: it runs ahead on the
	// other core, a chunk of steps at a time (the results do not depend on
	// the scheduling).
	done := make(chan struct{})
	defer close(done)
	targets := teacherOutputs(teacher, steps, c.Batch, input, done)

	x := make([]float64, c.Batch)
	out := make([]float64, c.Batch)
	res := &LagLineResult{Config: c, Steps: steps}
	start := time.Now()
	var lossSum float64
	record := func(t int, n int) {
		rec := LagLineRecord{Time: float64(t) * c.Dt, Loss: lossSum / float64(max(n, 1))}
		for i := range 2 {
			rec.W[i], rec.TauM[i] = net.Projs[i].W[0], net.Pops[i].TauM[0]
		}
		res.Records = append(res.Records, rec)
		if report != nil {
			report(rec)
		}
		lossSum = 0
	}
	record(0, 0)
	var chunk []float64
	for t := range steps {
		if t%teacherChunk == 0 {
			var ok bool
			if chunk, ok = <-targets; !ok {
				return nil, fmt.Errorf("lagline: teacher stopped at step %d", t)
			}
		}
		input(x, t)
		// The teacher's output at step t is the student's target at step t.
		y := chunk[(t%teacherChunk)*c.Batch : (t%teacherChunk+1)*c.Batch]
		loss, err := student.Step(out, x, gle.Target{Values: y})
		if err != nil {
			return nil, err
		}
		lossSum += loss
		if (t+1)%logEvery == 0 || t+1 == steps {
			record(t+1, (t%logEvery)+1)
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// teacherChunk is the number of teacher steps computed ahead at a time.
const teacherChunk = 1024

// teacherOutputs runs the teacher in its own goroutine and sends its
// outputs, teacherChunk steps (× batch) at a time, until steps are done or
// done is closed. Two buffers alternate: the handoff is unbuffered, so the
// teacher fills chunk c+1 only after the receiver took chunk c, that is,
// after it finished chunk c−1, whose buffer is reused.
func teacherOutputs(teacher *gle.Engine, steps, batch int, input func([]float64, int), done <-chan struct{}) <-chan []float64 {
	out := make(chan []float64)
	go func() {
		defer close(out)
		bufs := [2][]float64{}
		for i := range bufs {
			bufs[i] = make([]float64, teacherChunk*batch)
		}
		x := make([]float64, batch)
		for c := 0; c*teacherChunk < steps; c++ {
			buf := bufs[c%2]
			for i := range min(teacherChunk, steps-c*teacherChunk) {
				input(x, c*teacherChunk+i)
				if err := teacher.Step(buf[i*batch:(i+1)*batch], x, gle.Target{}); err != nil {
					return // shapes are fixed: cannot happen
				}
			}
			select {
			case out <- buf:
			case <-done:
				return
			}
		}
	}()
	return out
}

// SmoothedSquareWave returns one period (n steps) of a ±1 square wave
// (+1 for the first half) convolved periodically with a normalised
// Gaussian of σ = sigma steps truncated at 4σ.
func SmoothedSquareWave(n int, sigma float64) []float64 {
	sq := make([]float64, n)
	for i := range sq {
		sq[i] = 1
		if i >= n/2 {
			sq[i] = -1
		}
	}
	if sigma <= 0 {
		return sq
	}
	radius := int(4*sigma + 0.5)
	kern := make([]float64, 2*radius+1)
	var z float64
	for k := range kern {
		d := float64(k - radius)
		kern[k] = math.Exp(-0.5 * d * d / (sigma * sigma))
		z += kern[k]
	}
	out := make([]float64, n)
	for i := range out {
		for k, w := range kern {
			out[i] += w / z * sq[((i+k-radius)%n+n)%n]
		}
	}
	return out
}

// WriteCSV writes the records as CSV: time, loss, w1, w2, tau_m1, tau_m2.
func (r *LagLineResult) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "time,loss,w1,w2,tau_m1,tau_m2")
	for _, rec := range r.Records {
		fmt.Fprintf(bw, "%g,%g,%g,%g,%g,%g\n", rec.Time, rec.Loss, rec.W[0], rec.W[1], rec.TauM[0], rec.TauM[1])
	}
	return bw.Flush()
}

// WriteJSONL writes one JSON object per record.
func (r *LagLineResult) WriteJSONL(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, rec := range r.Records {
		if err := enc.Encode(struct {
			Variant string `json:"variant"`
			LagLineRecord
		}{r.Config.Variant, rec}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// LagLineFigure draws w1, w2, τm1, τm2 and the loss of every result over
// time against the teacher's values (dashed) and saves base.png/.svg.
func LagLineFigure(base string, results []*LagLineResult) error {
	if len(results) == 0 {
		return fmt.Errorf("no LagLine results to draw")
	}
	c := results[0].Config
	panels := []plots.Panel{
		{Title: "w₁", YLabel: "w₁", Legend: "none"}, {Title: "w₂", YLabel: "w₂", Legend: "bottom right"},
		{Title: "τm₁", YLabel: "τm₁", Legend: "none"}, {Title: "τm₂", YLabel: "τm₂", Legend: "none"},
		{Title: "loss (MSE)", YLabel: "loss", LogY: true, Legend: "none"},
	}
	teacher := []float64{c.TeacherW[0], c.TeacherW[1], c.TeacherTauM[0], c.TeacherTauM[1]}
	for i, res := range results {
		n := len(res.Records)
		t := make([]float64, n)
		ys := make([][]float64, 5)
		for k := range ys {
			ys[k] = make([]float64, n)
		}
		for j, rec := range res.Records {
			t[j] = rec.Time
			ys[0][j], ys[1][j], ys[2][j], ys[3][j], ys[4][j] = rec.W[0], rec.W[1], rec.TauM[0], rec.TauM[1], rec.Loss
		}
		for k := range panels {
			panels[k].Series = append(panels[k].Series, plots.Series{Name: res.Config.Variant, X: t, Y: ys[k], Color: i})
		}
	}
	end := results[0].Records[len(results[0].Records)-1].Time
	for k, v := range teacher {
		panels[k].Series = append(panels[k].Series, plots.Series{Name: "teacher", X: []float64{0, end}, Y: []float64{v, v}, Dashed: true, Color: 6})
	}
	for k := range panels {
		panels[k].XLabel = "time"
	}
	return plots.Save(base, 3, 2, 10, 10, panels...)
}

// RunLagLineVariants runs the configurations (one per variant), jobs at
// a time, writes each one's records (lagline-VARIANT.jsonl and .csv), the
// figure of them all (lagline.png) and summary.json into dir, and
// returns the table of the learned parameters against the teacher's.
func RunLagLineVariants(ctx context.Context, configs []LagLineConfig, jobs int, dir string) (string, error) {
	results := make([]*LagLineResult, len(configs))
	errs := make([]error, len(configs))
	runs.FanOut(len(configs), jobs, func(i int) error {
		results[i], errs[i] = RunLagLine(ctx, configs[i], nil)
		return errs[i]
	})
	var table strings.Builder
	fmt.Fprintf(&table, "%-10s %9s %9s %9s %9s %12s %9s %8s\n", "variant", "w1", "w2", "τm1", "τm2", "final loss", "max err", "seconds")
	var done []*LagLineResult
	summary := map[string]any{}
	for i, res := range results {
		if res == nil || len(res.Records) == 0 {
			continue
		}
		done = append(done, res)
		errs[i] = errors.Join(errs[i], res.writeFiles(filepath.Join(dir, "lagline-"+res.Config.Variant)))
		f := res.Final()
		fmt.Fprintf(&table, "%-10s %9.4f %9.4f %9.4f %9.4f %12.3g %9.3g %8.2f\n", res.Config.Variant, f.W[0], f.W[1], f.TauM[0], f.TauM[1],
			f.Loss, res.Config.ParamError(f), res.Elapsed.Seconds())
		summary[res.Config.Variant] = map[string]any{"w": f.W, "tau_m": f.TauM, "loss": f.Loss,
			"max_rel_param_error": res.Config.ParamError(f), "seconds": res.Elapsed.Seconds()}
	}
	c := configs[0]
	fmt.Fprintf(&table, "%-10s %9.4f %9.4f %9.4f %9.4f\n", "teacher", c.TeacherW[0], c.TeacherW[1], c.TeacherTauM[0], c.TeacherTauM[1])
	if len(done) > 0 {
		errs = append(errs, LagLineFigure(filepath.Join(dir, "lagline"), done))
	}
	errs = append(errs, runs.WriteSummary(dir, summary))
	return table.String(), errors.Join(errs...)
}

// writeFiles writes the records as base.jsonl and base.csv, atomically.
func (r *LagLineResult) writeFiles(base string) error {
	return errors.Join(atomicfile.WriteFunc(base+".jsonl", r.WriteJSONL), atomicfile.WriteFunc(base+".csv", r.WriteCSV))
}

func init() {
	register(Command{Name: "lagline", Summary: "paper Fig. 5: a two-neuron chain recovers a teacher's w and τm (variants gle, bp, bptt-twN)",
		Define: func(fs *flag.FlagSet, env *Env) func(context.Context) error {
			c := DefaultLagLine()
			variants, jobs := "all", 2
			fs.StringVar(&variants, "variant", variants, "comma-separated variants: gle, bp, bptt-twN (N time units), or all = "+strings.Join(LagLineVariants, ","))
			fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the student's initial parameters and the input phases")
			fs.Float64Var(&c.TrainTime, "time", c.TrainTime, "training time in time units (after the settling time)")
			fs.Float64Var(&c.LogEvery, "log-every", c.LogEvery, "time units between metric records")
			fs.IntVar(&jobs, "jobs", jobs, "variants run in parallel")
			return func(ctx context.Context) error {
				names := LagLineVariants
				if variants != "all" {
					names = strings.Split(variants, ",")
				}
				configs := make([]LagLineConfig, len(names))
				for i, v := range names {
					configs[i] = c
					configs[i].Variant = strings.TrimSpace(v)
					if err := configs[i].Validate(); err != nil {
						return usage(err)
					}
				}
				if jobs < 1 {
					return Usagef("--jobs = %d must be ≥ 1", jobs)
				}
				dir, err := env.Folder("lagline", configs)
				if err != nil {
					return err
				}
				table, err := RunLagLineVariants(ctx, configs, jobs, dir)
				fmt.Fprint(env.Stdout, table)
				fmt.Fprintf(env.Stdout, "wrote config.yaml, metrics (JSONL, CSV), lagline.png/.svg and summary.json to %s\n", dir)
				return err
			}
		}})
}
