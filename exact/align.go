package exact

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/gle-go/gle"
)

// AlignmentRow compares GLE's summed local updates with the exact
// gradient for one parameter tensor (or all of them) and one window of
// time.
type AlignmentRow struct {
	Window int    // −1: the whole sequence
	Start  int    // first step of the window
	End    int    // one past its last step
	Param  string // a tensor name (gle.Network.Tensors), or "all"
	Cosine float64
	// NormRatio is |GLE| / (c·|exact|), c being the factor by which GLE's
	// target error differs from −∂L/∂r (β for CE, β·K/2 for MSE with K
	// outputs): 1 means equal magnitude.
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

// Align runs n with its real-time errors and local rule (no learning; γ
// set to 0 so that the forward pass is the one BPTT differentiates) over
// xs and ts from the zero state, and, on the same inputs and targets,
// full BPTT. For every window of `window` steps it compares the sum of the
// local updates with the part of the exact gradient of Σ_t L_t
// contributed by the parameters' uses during that window
// (BackwardSplit), per weight, bias and τm tensor and for all of them
// together; the last rows (Window −1) cover the whole sequence. It fails
// with ErrDiverged when the real-time errors grow without bound (a loop
// whose gain exceeds 1, docs/vle.md §4). n is not changed.
func Align(n *gle.Network, batch int, xs [][]float64, ts []gle.Target, window int) ([]AlignmentRow, error) {
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
	parts := (T + window - 1) / window
	sums, exact := make([]*gle.Grads, parts), make([]*gle.Grads, parts)
	for i := range parts {
		sums[i], exact[i] = gle.NewFullGrads(n), gle.NewFullGrads(n)
	}
	if _, err := localSteps(n, batch, xs, ts, func(t int, step *gle.Grads) { sums[t/window].Add(step) }); err != nil {
		return nil, err
	}
	for _, s := range sums {
		for _, tn := range s.Tensors(n) {
			for _, v := range tn.Data {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("%w: the real-time errors grew without bound over %d steps (a loop whose gain exceeds 1, docs/vle.md §4)", gle.ErrDiverged, T)
				}
			}
		}
	}
	b, err := New(n, batch, T)
	if err != nil {
		return nil, err
	}
	if _, err := b.run(xs, ts); err != nil {
		return nil, err
	}
	if err := b.BackwardSplit(exact, window); err != nil {
		return nil, err
	}
	c := n.Beta
	if n.Loss == gle.MSE {
		c *= float64(n.Outputs()) / 2
	}
	var rows []AlignmentRow
	compare := func(w, start, end int, lg, eg *gle.Grads) {
		lt, et := lg.Tensors(n), eg.Tensors(n)
		var all [][2][]float64
		for i := range lt {
			if strings.HasSuffix(lt[i].Name, ".tau_r") { // the local rule has no τr update
				continue
			}
			pair := [2][]float64{lt[i].Data, et[i].Data}
			all = append(all, pair)
			rows = append(rows, alignRow(w, start, end, lt[i].Name, c, pair))
		}
		rows = append(rows, alignRow(w, start, end, "all", c, all...))
	}
	totalL, totalX := gle.NewFullGrads(n), gle.NewFullGrads(n)
	for i := range parts {
		compare(i, i*window, min((i+1)*window, T), sums[i], exact[i])
		totalL.Add(sums[i])
		totalX.Add(exact[i])
	}
	compare(-1, 0, T, totalL, totalX)
	return rows, nil
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
