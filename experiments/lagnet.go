package experiments

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/cmplx"
	"path/filepath"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/plots"
)

// LagNetConfig sets up the LagNet comparison of GLE's errors with the
// adjoint (GLE paper Fig. 6, docs/model.md §9): a small lagged network 1→2→2→1
// (tanh hidden, linear output, τm = 1, τr = 0.1, dt = 0.01) driven by a
// sine, with a cosine target. Learning is off and γ = 0, so GLE's errors ê
// and the adjoint λ are computed on the same forward trajectory.
type LagNetConfig struct {
	Seed      uint64
	Dt        float64
	TauM      float64 // τm of every layer
	TauR      float64 // τr of every layer
	Omega     float64 // angular frequency of input and target
	Time      float64 // simulated time
	Settle    float64 // time discarded at the start (and τ-multiples at the end)
	Hidden    int     // neurons per hidden layer
	WeightStd float64 // weights ~ N(0, WeightStd²)
}

// DefaultLagNet returns the paper's set-up with ω = 1.
func DefaultLagNet() LagNetConfig {
	return LagNetConfig{Seed: 1, Dt: 0.01, TauM: 1, TauR: 0.1, Omega: 1, Time: 100, Settle: 20, Hidden: 2, WeightStd: 1}
}

// LagNetNeuron is the measured relation between ê and λ of one neuron.
type LagNetNeuron struct {
	Layer  int `json:"layer"`
	Neuron int `json:"neuron"`
	// Phase is arg(ê/λ) at the driving frequency, in radians; Gain is
	// |ê|/|λ| there.
	Phase float64 `json:"phase"`
	Gain  float64 `json:"gain"`
	// PredictedGain is Π over this layer and the layers above of
	// (1+ω²τm²)/(1+ω²τr²): ê = D⁺_τm I⁺_τr[e] has gain |H|, the adjoint
	// I⁺_τm D⁻_τr[e] run backwards has gain 1/|H|, at the same phase.
	PredictedGain float64 `json:"predicted_gain"`
}

// LagNetResult holds the traces and the measured relations.
type LagNetResult struct {
	Config  LagNetConfig
	Time    []float64
	EHat    [][]float64 // per layer, Steps×Out (sample 0)
	Lambda  [][]float64
	Neurons []LagNetNeuron
}

// RunLagNet runs the comparison.
func RunLagNet(ctx context.Context, c LagNetConfig) (*LagNetResult, error) {
	if !(c.Dt > 0) || !(c.TauR >= c.Dt) || !(c.TauM >= c.Dt) || !(c.Time > 2*c.Settle) || c.Hidden <= 0 {
		return nil, &gle.FieldError{Field: "lagnet config", Value: fmt.Sprintf("%+v", c), Why: "need dt > 0, τ ≥ dt, time > 2·settle, hidden > 0", Err: gle.ErrInvalid}
	}
	s := &gle.Spec{Dt: c.Dt, Loss: gle.MSE, Seed: c.Seed}
	sizes := []int{1, c.Hidden, c.Hidden, 1}
	for i := range 3 {
		phi := gle.Tanh
		if i == 2 {
			phi = gle.Linear
		}
		s.Layers = append(s.Layers, gle.LayerSpec{In: sizes[i], Out: sizes[i+1], Phi: phi,
			TauM: gle.Taus{c.TauM}, TauR: gle.Taus{c.TauR}})
	}
	net, err := gle.NewNetwork(s)
	if err != nil {
		return nil, err
	}
	// Weights of a fixed scale, so the hidden neurons are neither silent
	// nor saturated.
	rng := newRNG(c.Seed)
	for i := range net.Projs {
		for k := range net.Projs[i].W {
			net.Projs[i].W[k] = c.WeightStd * rng.NormFloat64()
		}
	}
	eng, err := gle.NewEngine(net, 1)
	if err != nil {
		return nil, err
	}
	steps := stepsIn(c.Time, c.Dt)
	xs := make([][]float64, steps)
	ts := make([]gle.Target, steps)
	for t := range steps {
		tt := float64(t) * c.Dt
		xs[t] = []float64{math.Sin(c.Omega * tt)}
		ts[t] = gle.Target{Values: []float64{0.5 * math.Cos(c.Omega*tt)}}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rec, err := gradient.Record(eng, xs, ts)
	if err != nil {
		return nil, err
	}
	lambda, err := gradient.LambdaTrace(net, rec)
	if err != nil {
		return nil, err
	}
	res := &LagNetResult{Config: c, EHat: rec.EHat, Lambda: lambda, Time: make([]float64, steps)}
	for t := range steps {
		res.Time[t] = float64(t) * c.Dt
	}
	// Measure at the driving frequency over whole periods inside
	// [Settle, Time − Settle].
	period := 2 * math.Pi / c.Omega
	from := stepsIn(c.Settle, c.Dt)
	n := int(math.Floor((c.Time-2*c.Settle)/period)) * stepsIn(period, c.Dt)
	h := (1 + c.Omega*c.Omega*c.TauM*c.TauM) / (1 + c.Omega*c.Omega*c.TauR*c.TauR)
	for li, l := range net.Pops {
		for o := range l.N {
			ae := fourier(rec.EHat[li], l.N, o, from, n, c.Omega*c.Dt)
			al := fourier(lambda[li], l.N, o, from, n, c.Omega*c.Dt)
			r := ae / al
			res.Neurons = append(res.Neurons, LagNetNeuron{Layer: li, Neuron: o, Phase: cmplx.Phase(r), Gain: cmplx.Abs(r),
				PredictedGain: math.Pow(h, float64(len(net.Pops)-li))})
		}
	}
	return res, nil
}

// fourier returns Σ x[t] e^{−iωt} of neuron o over steps [from, from+n).
func fourier(x []float64, width, o, from, n int, omegaDt float64) complex128 {
	var s complex128
	for t := from; t < from+n; t++ {
		s += complex(x[t*width+o], 0) * cmplx.Exp(complex(0, -omegaDt*float64(t)))
	}
	return s
}

// LagNetFigure plots ê and λ of every neuron over the measurement window,
// λ multiplied by the measured gain |ê|/|λ| so that equal phase shows as
// overlapping curves, and saves base.png/.svg.
func LagNetFigure(base string, r *LagNetResult) error {
	c := r.Config
	from, to := stepsIn(c.Settle, c.Dt), len(r.Time)-stepsIn(c.Settle, c.Dt)
	var panels []plots.Panel
	k := 0
	for li := range r.EHat {
		width := len(r.EHat[li]) / len(r.Time)
		for o := range width {
			nr := r.Neurons[k]
			k++
			e, l := column(r.EHat[li], width, o)[from:to], column(r.Lambda[li], width, o)[from:to]
			for i := range l {
				l[i] *= nr.Gain
			}
			panels = append(panels, plots.Panel{
				Title:  fmt.Sprintf("layer %d neuron %d: phase %+.3f rad, gain %.3g (theory %.3g)", li, o, nr.Phase, nr.Gain, nr.PredictedGain),
				XLabel: "time", YLabel: "error",
				Series: []plots.Series{{Name: "GLE ê", X: r.Time[from:to], Y: e, Color: 0}, {Name: "adjoint λ × gain", X: r.Time[from:to], Y: l, Dashed: true, Color: 1}},
			})
		}
	}
	rows := (len(panels) + 1) / 2
	return plots.Save(base, rows, 2, 11, 2.6*float64(rows), panels...)
}

func column(x []float64, width, o int) []float64 {
	out := make([]float64, len(x)/width)
	for t := range out {
		out[t] = x[t*width+o]
	}
	return out
}

func init() {
	register(Command{Name: "lagnet", Summary: "paper Fig. 6: GLE's errors ê against the adjoint λ on a small lagged network",
		Define: func(fs *flag.FlagSet, env *Env) func(context.Context) error {
			c := DefaultLagNet()
			fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the weights")
			fs.Float64Var(&c.Omega, "omega", c.Omega, "angular frequency of the input sine and target cosine")
			fs.Float64Var(&c.Time, "time", c.Time, "simulated time")
			fs.Float64Var(&c.TauM, "tau-m", c.TauM, "τm of every layer")
			fs.Float64Var(&c.TauR, "tau-r", c.TauR, "τr of every layer")
			return func(ctx context.Context) error { return runLagNetIn(ctx, c, env) }
		}})
}

// runLagNetIn runs LagNet and writes lagnet.jsonl, lagnet.npz (the
// traces of ê and λ), the figure and summary.json into its run folder.
func runLagNetIn(ctx context.Context, c LagNetConfig, env *Env) error {
	dir, err := env.Dir("lagnet")
	if err != nil {
		return err
	}
	res, err := RunLagNet(ctx, c)
	if err != nil {
		return err
	}
	if err := errors.Join(runs.WriteConfig(dir, c), runs.WriteSummary(dir, res.Neurons),
		runs.WriteJSONL(filepath.Join(dir, "lagnet.jsonl"), res.Neurons), LagNetFigure(filepath.Join(dir, "lagnet"), res)); err != nil {
		return err
	}
	// The traces as arrays: time [T], ehat.L and lambda.L [T][neurons].
	arrs := []npy.Named{{Name: "time", Array: &npy.Array{Shape: []int{len(res.Time)}, Float: res.Time}}}
	for li := range res.EHat {
		width := len(res.EHat[li]) / len(res.Time)
		arrs = append(arrs,
			npy.Named{Name: fmt.Sprintf("ehat.%d", li), Array: &npy.Array{Shape: []int{len(res.Time), width}, Float: res.EHat[li]}},
			npy.Named{Name: fmt.Sprintf("lambda.%d", li), Array: &npy.Array{Shape: []int{len(res.Time), width}, Float: res.Lambda[li]}})
	}
	if err := npy.WriteNPZ(filepath.Join(dir, "lagnet.npz"), arrs...); err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "GLE errors ê against the adjoint λ at ω = %g (τm = %g, τr = %g):\n", c.Omega, c.TauM, c.TauR)
	fmt.Fprintf(w, "%5s %6s %14s %10s %14s\n", "layer", "neuron", "phase (rad)", "gain", "theory gain")
	for _, n := range res.Neurons {
		fmt.Fprintf(w, "%5d %6d %+14.4f %10.4g %14.4g\n", n.Layer, n.Neuron, n.Phase, n.Gain, n.PredictedGain)
	}
	fmt.Fprintf(w, "wrote lagnet.jsonl, lagnet.npz (traces of ê and λ) and lagnet.png/.svg to %s\n", dir)
	return nil
}
