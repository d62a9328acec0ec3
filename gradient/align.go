package gradient

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gle-go/gle"
)

// AlignmentRow compares the gradient (or summed local update) of one
// method with that of another for one parameter tensor (or all of them)
// and one window of time.
type AlignmentRow struct {
	Window int    // −1: the whole sequence
	Start  int    // first step of the window
	End    int    // one past its last step
	Param  string // a tensor name (gle.Network.Tensors), or "all"
	Cosine float64
	// NormRatio is |A| / |B| with each side in the units of the exact
	// gradient of Σ_t L_t: GLE's updates divided by the factor c by which
	// its target error differs from −∂L/∂r (β for CE, β·K/2 for MSE with
	// K outputs), the adjoint's by dt. 1 means equal magnitude.
	NormRatio float64
}

// MarshalJSON writes the row with snake_case keys; an undefined cosine or
// ratio (a zero gradient) is null.
func (r AlignmentRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"window": r.Window, "start": r.Start, "end": r.End, "param": r.Param,
		"cosine": finiteOrNil(r.Cosine), "norm_ratio": finiteOrNil(r.NormRatio),
	})
}

func finiteOrNil(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// Align compares GLE's local rule with full BPTT: Compare(…, "gle",
// "bptt"). The real-time errors run with γ = 0 so that the forward pass is
// the one BPTT differentiates; each window's exact part is the
// contribution of the parameters' uses during it (BPTT.BackwardSplit).
func Align(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, window int) ([]AlignmentRow, error) {
	return Compare(n, batch, xs, ts, window, "gle", "bptt")
}

// Compare runs methods a and b (Gradient's names) on n over xs and ts
// from the zero state and compares, per window of `window` steps and over
// the whole sequence (the last rows, Window −1), the part of each one's
// gradient that falls in the window: per weight, bias, τm and τr tensor
// and for all of them together (τr is left out when either side is GLE,
// whose local rule has no τr update). How a gradient is split by time
// depends on the method:
//
//   - gle: the local updates made during the window (they credit the
//     parameters' uses at that time);
//   - rtrl, snap1, snap2, eprop: the per-step gradients delivered during the
//     window (they credit the losses of that time, through the past);
//   - tbptt:N: each truncated window's gradient, in the window where it
//     is delivered;
//   - bptt: split as its partner splits: by the losses' time (BPTT.
//     BackwardLosses) against rtrl, snap and tbptt, by the uses' time
//     (BPTT.BackwardSplit) otherwise;
//   - adjoint: the whole sequence only (its windows rows are omitted).
//
// The whole-sequence rows compare the full sums and do not depend on the
// split. It fails with ErrDiverged when the real-time errors grow without
// bound (a loop whose gain exceeds 1, docs/vle.md §4). n is not changed.
func Compare(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, window int, a, b string) ([]AlignmentRow, error) {
	if n == nil {
		return nil, &gle.FieldError{Field: "network", Why: "is nil", Err: gle.ErrInvalid}
	}
	T := len(xs)
	if window <= 0 || window > T {
		return nil, &gle.FieldError{Field: "window", Value: window, Why: fmt.Sprintf("want 1…%d steps", T), Err: gle.ErrInvalid}
	}
	if len(ts) != T {
		return nil, fmt.Errorf("%w: %d input steps but %d targets", gle.ErrShape, T, len(ts))
	}
	if err := needTargets(n, ts); err != nil {
		return nil, err
	}
	ka, err := methodKind(a)
	if err != nil {
		return nil, err
	}
	kb, err := methodKind(b)
	if err != nil {
		return nil, err
	}
	// bptt takes its partner's split (both bptt: by the uses).
	if ka == exactKind {
		ka = partnerSplit(kb)
	}
	if kb == exactKind {
		kb = partnerSplit(ka)
	}
	wa, err := windowed(n, batch, xs, ts, window, a, ka)
	if err != nil {
		return nil, fmt.Errorf("method %s: %w", a, err)
	}
	wb, err := windowed(n, batch, xs, ts, window, b, kb)
	if err != nil {
		return nil, fmt.Errorf("method %s: %w", b, err)
	}
	c := unit(n, a) / unit(n, b)
	skipTauR := a == "gle" || b == "gle"
	var rows []AlignmentRow
	compare := func(w, start, end int, ga, gb *gle.Grads) {
		ta, tb := ga.Tensors(n), gb.Tensors(n)
		var all [][2][]float64
		for i := range ta {
			if skipTauR && strings.HasSuffix(ta[i].Name, ".tau_r") {
				continue
			}
			pair := [2][]float64{ta[i].Data, tb[i].Data}
			all = append(all, pair)
			rows = append(rows, alignRow(w, start, end, ta[i].Name, c, pair))
		}
		rows = append(rows, alignRow(w, start, end, "all", c, all...))
	}
	if wa.parts != nil && wb.parts != nil { // not the adjoint: window by window
		for i := range wa.parts {
			compare(i, i*window, min((i+1)*window, T), wa.parts[i], wb.parts[i])
		}
	}
	compare(-1, 0, T, wa.sum(n), wb.sum(n))
	return rows, nil
}

// splitKind says how a method's gradient is split by time.
type splitKind int

const (
	byUse     splitKind = iota // credit for the parameters' uses in a window (gle; bptt against gle)
	byLoss                     // credit for the losses of a window (online forward rules, tbptt)
	wholeOnly                  // no split (adjoint)
	exactKind                  // bptt: the partner's split
)

// CheckMethod reports whether m is one of Methods (tbptt:N with N a
// positive integer), as a FieldError naming "method".
func CheckMethod(m string) error {
	_, err := methodKind(m)
	return err
}

func methodKind(m string) (splitKind, error) {
	switch {
	case m == "gle":
		return byUse, nil
	case strings.HasPrefix(m, "tbptt:"):
		if w, err := strconv.Atoi(strings.TrimPrefix(m, "tbptt:")); err != nil || w <= 0 {
			return 0, &gle.FieldError{Field: "method", Value: m, Why: "the window of tbptt:N must be a positive number of steps", Err: gle.ErrInvalid}
		}
		return byLoss, nil
	case isMode(m):
		return byLoss, nil
	case m == "adjoint":
		return wholeOnly, nil
	case m == "bptt":
		return exactKind, nil
	}
	return 0, &gle.FieldError{Field: "method", Value: m, Why: "want " + strings.Join(Methods, ", "), Err: gle.ErrUnknownName}
}

func partnerSplit(k splitKind) splitKind {
	if k == byLoss {
		return byLoss
	}
	return byUse
}

// unit is the factor between a method's gradient and the exact gradient
// of Σ_t L_t it estimates.
func unit(n *gle.Network, m string) float64 {
	switch m {
	case "gle":
		c := n.Beta
		if n.Loss == gle.MSE {
			c *= float64(n.Outputs()) / 2
		}
		return c
	case "adjoint":
		return n.Dt
	}
	return 1
}

// split is a method's gradient per window (nil for the adjoint) and, for
// the adjoint, over the whole sequence.
type split struct {
	parts []*gle.Grads
	total *gle.Grads
}

// sum returns the whole sequence's gradient.
func (s split) sum(n *gle.Network) *gle.Grads {
	if s.total != nil {
		return s.total
	}
	g := gle.NewFullGrads(n)
	for _, p := range s.parts {
		g.Add(p)
	}
	return g
}

// windowed computes method m's gradient split into windows as kind says.
func windowed(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, window int, m string, kind splitKind) (split, error) {
	T := len(xs)
	parts := make([]*gle.Grads, (T+window-1)/window)
	for i := range parts {
		parts[i] = gle.NewFullGrads(n)
	}
	at := func(t int) *gle.Grads { return parts[t/window] }
	switch {
	case m == "gle":
		if _, err := localSteps(n, batch, xs, ts, func(t int, step *gle.Grads) { at(t).Add(step) }); err != nil {
			return split{}, err
		}
		for _, p := range parts {
			if !finite(n, p) {
				return split{}, fmt.Errorf("%w: the real-time errors grew without bound over %d steps (a loop whose gain exceeds 1, docs/vle.md §4)", gle.ErrDiverged, T)
			}
		}
	case m == "adjoint":
		g := gle.NewFullGrads(n)
		if _, err := Adjoint(n, batch, xs, ts, g); err != nil {
			return split{}, err
		}
		return split{total: g}, nil
	case m == "bptt":
		b, err := New(n, batch, T)
		if err != nil {
			return split{}, err
		}
		if _, err := b.run(xs, ts); err != nil {
			return split{}, err
		}
		if kind == byLoss {
			err = b.BackwardLosses(parts, window)
		} else {
			err = b.BackwardSplit(parts, window)
		}
		if err != nil {
			return split{}, err
		}
	case strings.HasPrefix(m, "tbptt:"):
		w, _ := strconv.Atoi(strings.TrimPrefix(m, "tbptt:")) // checked by methodKind
		if _, err := truncatedSteps(n, batch, min(w, T), xs, ts, func(t int, g *gle.Grads) { at(t).Add(g) }); err != nil {
			return split{}, err
		}
	default: // rtrl, snap1, snap2, eprop
		mode, _ := ParseMode(m)
		if _, err := forwardSteps(n, batch, mode, xs, ts, func(t int, g *gle.Grads) { at(t).Add(g) }); err != nil {
			return split{}, err
		}
	}
	return split{parts: parts}, nil
}

// finite reports whether every entry of g is finite.
func finite(n *gle.Network, g *gle.Grads) bool {
	for _, tn := range g.Tensors(n) {
		for _, v := range tn.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}

// alignRow compares the concatenation of the local arrays (pair[0]) with
// that of the exact ones (pair[1]), scaled by their largest magnitudes so
// that the squares cannot overflow when the real-time errors grow large.
func alignRow(w, start, end int, param string, c float64, pairs ...[2][]float64) AlignmentRow {
	r := AlignmentRow{Window: w, Start: start, End: end, Param: param, Cosine: math.NaN(), NormRatio: math.NaN()}
	var sa, sx float64
	for _, p := range pairs {
		for k := range p[0] {
			sa, sx = max(sa, math.Abs(p[0][k])), max(sx, math.Abs(p[1][k]))
		}
	}
	if sa == 0 || sx == 0 {
		return r
	}
	var d, na, nx float64
	for _, p := range pairs {
		for k := range p[0] {
			ak, xk := p[0][k]/sa, p[1][k]/sx
			d, na, nx = d+ak*xk, na+ak*ak, nx+xk*xk
		}
	}
	r.Cosine = d / math.Sqrt(na*nx)
	r.NormRatio = sa / sx * math.Sqrt(na) / (c * math.Sqrt(nx))
	return r
}
