package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/plots"
)

// VLEAlignConfig configures the alignment sweep: how close the real-time
// local rule on general graphs comes to the exact gradient, as a function
// of the membrane time constant (issue 8).
type VLEAlignConfig struct {
	TauM     []float64 // membrane time constants swept (all populations)
	TauR     float64   // prospective time constant of every neuron
	Dt, Time float64   // step and length of the run
	Seed     uint64    // weights
	Networks []string  // "chain", "recurrent", "recurrent-weak", "recurrent-instant"
}

// DefaultVLEAlign returns the sweep of `gle run vle-align`.
func DefaultVLEAlign() VLEAlignConfig {
	return VLEAlignConfig{TauM: []float64{0.1, 0.3, 1, 3}, TauR: 0.1, Dt: 0.02, Time: 40, Seed: 1,
		Networks: []string{"chain", "recurrent", "recurrent-weak", "recurrent-instant"}}
}

// VLEAlignRow is one parameter group's alignment for one network and τm;
// Diverged marks a run whose real-time errors grew without bound (one row,
// with no parameter).
type VLEAlignRow struct {
	Network string
	TauM    float64
	// LoopGain is ρ(W_loop)·sup|H| for the recurrent networks (0 for the
	// chain), sup|H| = τm/τr for prospective errors and 1 for instantaneous
	// ones: the real-time errors are stable only below 1 (docs/vle.md §4).
	LoopGain float64
	Diverged bool
	// Label names the parameter for people ("W h→h", "b out", "tau_m h").
	Label     string
	Alignment gradient.AlignmentRow
}

// MarshalJSON writes one flat object: network, tau_m, loop_gain,
// diverged, param (the tensor name), label, cosine, norm_ratio (null when
// undefined).
func (r VLEAlignRow) MarshalJSON() ([]byte, error) {
	a := r.Alignment
	return json.Marshal(map[string]any{"network": r.Network, "tau_m": r.TauM, "loop_gain": r.LoopGain, "diverged": r.Diverged,
		"param": a.Param, "label": r.Label, "cosine": finiteOrNil(a.Cosine), "norm_ratio": finiteOrNil(a.NormRatio)})
}

func finiteOrNil(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// vleAlignNetwork builds one of the sweep's networks with every τm = tauM.
func vleAlignNetwork(name string, tauM, tauR float64, c VLEAlignConfig) (*gle.Network, error) {
	pop := func(n string, size int, phi gle.Activation) gle.PopulationSpec {
		return gle.PopulationSpec{Name: n, Size: size, Phi: phi, TauM: gle.Taus{tauM}, TauR: gle.Taus{tauR}}
	}
	s := &gle.Spec{Dt: c.Dt, Loss: gle.MSE, Inputs: 1, Output: "out", Seed: c.Seed}
	switch name {
	case "chain": // input → h1 → h2 → out: the layered case (GLE)
		s.Populations = []gle.PopulationSpec{pop("h1", 8, gle.Tanh), pop("h2", 8, gle.Tanh), pop("out", 1, gle.Linear)}
		s.Projections = []gle.ProjectionSpec{{From: gle.InputName, To: "h1"}, {From: "h1", To: "h2"}, {From: "h2", To: "out"}}
	case "recurrent", "recurrent-weak", "recurrent-instant": // input → h ⟲ → out, with a skip input → out
		h := pop("h", 12, gle.Tanh)
		h.InstantErrors = name == "recurrent-instant"
		s.Populations = []gle.PopulationSpec{h, pop("out", 1, gle.Linear)}
		s.Projections = []gle.ProjectionSpec{{From: gle.InputName, To: "h"}, {From: "h", To: "h"},
			{From: "h", To: "out"}, {From: gle.InputName, To: "out"}}
	default:
		return nil, &gle.FieldError{Field: "network", Value: name, Why: "want chain, recurrent, recurrent-weak or recurrent-instant", Err: gle.ErrUnknownName}
	}
	n, err := gle.NewNetwork(s)
	if err != nil {
		return nil, err
	}
	if name == "recurrent-weak" { // the recurrent weights at a tenth of their default scale
		for i := range n.Projs[1].W {
			n.Projs[1].W[i] *= 0.1
		}
	}
	return n, nil
}

// RunVLEAlign runs the sweep: for every network and τm, the input
// x(t) = Σᵢ aᵢ sin(ωᵢ t + φᵢ) (ω = 0.3, 0.7, 1.3) drives the network for
// Time, the target is y(t) = 0.5 sin(0.5t − 1) + 0.3 cos(1.1t), and
// graph.Align compares the summed local updates with the exact gradient.
func RunVLEAlign(ctx context.Context, c VLEAlignConfig) ([]VLEAlignRow, error) {
	if !(c.Dt > 0) || !(c.Time >= c.Dt) {
		return nil, fmt.Errorf("%w: dt = %g, time = %g (want 0 < dt ≤ time)", gle.ErrInvalid, c.Dt, c.Time)
	}
	steps := stepsIn(c.Time, c.Dt)
	xs, ts := make([][]float64, steps), make([]gle.Target, steps)
	for k := range steps {
		t := float64(k) * c.Dt
		xs[k] = []float64{0.6*math.Sin(0.3*t) + 0.4*math.Sin(0.7*t+1) + 0.3*math.Sin(1.3*t+2)}
		ts[k] = gle.Target{Values: []float64{0.5*math.Sin(0.5*t-1) + 0.3*math.Cos(1.1*t)}}
	}
	var rows []VLEAlignRow
	for _, name := range c.Networks {
		for _, tm := range c.TauM {
			if err := ctx.Err(); err != nil {
				return rows, err
			}
			n, err := vleAlignNetwork(name, tm, c.TauR, c)
			if err != nil {
				return nil, err
			}
			gains, err := gle.LoopGains(n)
			if err != nil {
				return nil, err
			}
			var gain float64
			for _, g := range gains {
				gain = max(gain, g.Gain)
			}
			al, err := gradient.Align(n, 1, xs, ts, len(xs))
			if errors.Is(err, gle.ErrDiverged) {
				rows = append(rows, VLEAlignRow{Network: name, TauM: tm, LoopGain: gain, Diverged: true,
					Alignment: gradient.AlignmentRow{Window: -1, Cosine: math.NaN(), NormRatio: math.NaN()}})
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s, tau_m %g: %w", name, tm, err)
			}
			labels := tensorLabels(n)
			for _, a := range al {
				if a.Window == -1 && a.Param != "all" {
					rows = append(rows, VLEAlignRow{Network: name, TauM: tm, LoopGain: gain, Label: labels[a.Param], Alignment: a})
				}
			}
		}
	}
	return rows, nil
}

// VLEAlignFigure draws, for each network (a row of panels), the cosine and
// the norm ratio of every weight projection's local update against the
// exact gradient as functions of τm (base.png and base.svg). Diverged runs
// leave gaps.
func VLEAlignFigure(base string, rows []VLEAlignRow) error {
	var networks []string
	diverged := map[string][]string{}
	byNet := map[string][]*[2]plots.Series{}
	index := map[[2]string]int{}
	for _, r := range rows {
		if _, seen := byNet[r.Network]; !seen {
			networks = append(networks, r.Network)
			byNet[r.Network] = nil
		}
		if r.Diverged {
			diverged[r.Network] = append(diverged[r.Network], strconv.FormatFloat(r.TauM, 'g', -1, 64))
		}
		if r.Diverged || !strings.HasPrefix(r.Label, "W ") {
			continue
		}
		k := [2]string{r.Network, r.Label}
		i, ok := index[k]
		if !ok {
			i = len(byNet[r.Network])
			index[k] = i
			name := r.Label
			byNet[r.Network] = append(byNet[r.Network], &[2]plots.Series{{Name: name, Color: i}, {Name: name, Color: i}})
		}
		s := byNet[r.Network][i]
		x := math.Log10(r.TauM)
		s[0].X, s[0].Y = append(s[0].X, x), append(s[0].Y, r.Alignment.Cosine)
		s[1].X, s[1].Y = append(s[1].X, x), append(s[1].Y, r.Alignment.NormRatio)
	}
	var panels []plots.Panel
	for _, net := range networks {
		title := net
		if d := diverged[net]; d != nil {
			title += " (diverged at τm = " + strings.Join(d, ", ") + ")"
		}
		cos := plots.Panel{Title: title + ": cosine (local, exact)", XLabel: "log10 τm", YLabel: "cos", Legend: "bottom right"}
		ratio := plots.Panel{Title: net + ": norm ratio |local| / |exact|", XLabel: "log10 τm", YLabel: "ratio", LogY: true, Legend: "none"}
		for _, s := range byNet[net] {
			cos.Series = append(cos.Series, s[0])
			ratio.Series = append(ratio.Series, s[1])
		}
		panels = append(panels, cos, ratio)
	}
	return plots.Save(base, len(networks), 2, 12, 3.2*float64(len(networks)), panels...)
}

// tensorLabels maps n's tensor names to the labels of the tables and
// figures: "W from→to" for weights, "b pop" and "tau_m pop" otherwise.
func tensorLabels(n *gle.Network) map[string]string {
	out := map[string]string{}
	for k := range n.Projs {
		out[n.ProjectionPrefix(k)+"weight"] = "W " + n.ProjectionName(k)
	}
	for q, p := range n.Pops {
		out[n.PopulationPrefix(q)+"bias"] = "b " + p.Name
		out[n.PopulationPrefix(q)+"tau_m"] = "tau_m " + p.Name
	}
	return out
}

func init() {
	register(Command{Name: "vle-align", Summary: "general graphs: the local rule against the exact gradient on a chain and recurrent graphs, against τm (loop stability)",
		Define: func(fs *flag.FlagSet, env *Env) func(context.Context) error {
			c := DefaultVLEAlign()
			networks := strings.Join(c.Networks, ",")
			fs.Var(floatsFlag{&c.TauM, func(v float64) bool { return v > 0 }, "a positive number"}, "tau-m", "comma-separated τm values (every population)")
			fs.Float64Var(&c.TauR, "tau-r", c.TauR, "τr of every neuron")
			fs.Float64Var(&c.Dt, "dt", c.Dt, "time step")
			fs.Float64Var(&c.Time, "time", c.Time, "simulated time")
			fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed for the weights")
			fs.StringVar(&networks, "networks", networks, "comma-separated networks: chain, recurrent, recurrent-weak (recurrent weights ×0.1), recurrent-instant (instantaneous errors in the loop)")
			return func(ctx context.Context) error {
				c.Networks = strings.Split(networks, ",")
				return runVLEAlignIn(ctx, c, env)
			}
		}})
}

// runVLEAlignIn runs the comparison and writes vle-align.jsonl, the
// figure and the table.
func runVLEAlignIn(ctx context.Context, c VLEAlignConfig, env *Env) error {
	dir, err := env.Dir("vle-align")
	if err != nil {
		return err
	}
	rows, err := RunVLEAlign(ctx, c)
	if err != nil {
		return err
	}
	if err := errors.Join(runs.WriteConfig(dir, c), runs.WriteJSONL(filepath.Join(dir, "vle-align.jsonl"), rows),
		VLEAlignFigure(filepath.Join(dir, "vle-align"), rows)); err != nil {
		return err
	}
	w := env.Stdout
	fmt.Fprintf(w, "local rule vs exact gradient (τr = %g, dt = %g, T = %g):\n", c.TauR, c.Dt, c.Time)
	fmt.Fprintf(w, "%-15s %5s %9s %-18s %9s %10s\n", "network", "τm", "loop gain", "parameter", "cosine", "norm ratio")
	for _, r := range rows {
		if r.Diverged {
			fmt.Fprintf(w, "%-15s %5g %9.3g %-18s %9s %10s\n", r.Network, r.TauM, r.LoopGain, "(all)", "diverged", "—")
			continue
		}
		fmt.Fprintf(w, "%-15s %5g %9.3g %-18s %9.4f %10.3g\n", r.Network, r.TauM, r.LoopGain, r.Alignment.Param, r.Alignment.Cosine, r.Alignment.NormRatio)
	}
	fmt.Fprintf(w, "wrote vle-align.jsonl and vle-align.png/.svg to %s\n", dir)
	return nil
}
