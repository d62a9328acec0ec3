package gle

import (
	"fmt"
	"math"
	"slices"

	"github.com/gle-go/gle/internal/vmath"
)

// Loss selects the target error injected at the top layer (docs/model.md §4).
type Loss int

const (
	// MSE: e = β (y − r); loss = mean (y − r)² over batch and outputs.
	MSE Loss = iota
	// CE: e = β (onehot(y) − softmax(r)); loss = cross-entropy of logits r.
	CE
	// NoLoss: e = 0 (free running / inference).
	NoLoss
)

var lossNames = [...]string{MSE: "mse", CE: "ce", NoLoss: "none"}

func (l Loss) String() string {
	if l < 0 || int(l) >= len(lossNames) {
		return fmt.Sprintf("Loss(%d)", int(l))
	}
	return lossNames[l]
}

// ParseLoss returns the loss with the given name; "" means "mse".
func ParseLoss(name string) (Loss, error) {
	if name == "" {
		return MSE, nil
	}
	for i, n := range lossNames {
		if n == name {
			return Loss(i), nil
		}
	}
	return 0, fieldErr(ErrUnknownName, "loss", name, "want mse, ce or none")
}

// MarshalText writes the spec name.
func (l Loss) MarshalText() ([]byte, error) {
	if l < 0 || int(l) >= len(lossNames) {
		return nil, fieldErr(ErrInvalid, "loss", int(l), "not a loss")
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads a spec name.
func (l *Loss) UnmarshalText(b []byte) error {
	v, err := ParseLoss(string(b))
	*l = v
	return err
}

// Target is what the top layer is nudged towards during one step. Values
// (batch × outputs) serve MSE, Classes (one label per sample) serve CE.
// The zero Target means no target: the error is zero.
type Target struct {
	Values  []float64
	Classes []int
}

// None reports whether t carries no target.
func (t Target) None() bool { return t.Values == nil && t.Classes == nil }

// Check returns an error if t does not fit loss l for batch × k outputs.
func (t Target) Check(l Loss, batch, k int) error {
	switch {
	case t.None():
		return nil
	case l == MSE && t.Values != nil && t.Classes == nil:
		if len(t.Values) != batch*k {
			return fmt.Errorf("%w: MSE target has %d values, want batch×outputs = %d×%d", ErrShape, len(t.Values), batch, k)
		}
	case l == CE && t.Classes != nil && t.Values == nil:
		if len(t.Classes) != batch {
			return fmt.Errorf("%w: CE target has %d labels, want batch = %d", ErrShape, len(t.Classes), batch)
		}
		for i, c := range t.Classes {
			if c < 0 || c >= k {
				return fmt.Errorf("%w: CE label[%d] = %d, want 0 ≤ label < %d", ErrInvalid, i, c, k)
			}
		}
	case l == NoLoss:
		return fmt.Errorf("%w: a target was given but the loss is none", ErrInvalid)
	default:
		return fmt.Errorf("%w: loss %v wants %s", ErrInvalid, l, map[Loss]string{MSE: "Target.Values", CE: "Target.Classes"}[l])
	}
	return nil
}

// TargetError writes the top layer's target error e (batch × k) for the
// rates r (docs/model.md §4): β (y − r) for MSE, β (onehot(y) − softmax(r)) for CE,
// and zero without a target.
func (l Loss) TargetError(e, r []float64, t Target, beta float64, k int) {
	e = e[:len(r)]
	if t.None() || l == NoLoss {
		clear(e)
		return
	}
	switch l {
	case MSE:
		for i, y := range t.Values[:len(r)] {
			e[i] = beta * (y - r[i])
		}
	case CE:
		softmaxRows(e, r, k)
		for b, c := range t.Classes {
			eb := e[b*k : b*k+k]
			for j := range eb {
				oh := 0.0
				if j == c {
					oh = 1
				}
				eb[j] = beta * (oh - eb[j])
			}
		}
	}
}

// Value returns the loss of outputs r (batch × k) against t: the mean
// squared error over batch and outputs for MSE, the mean cross-entropy of
// the logits r for CE, and 0 without a target.
func (l Loss) Value(r []float64, t Target, k int) float64 {
	if t.None() || l == NoLoss || len(r) == 0 {
		return 0
	}
	var sum float64
	switch l {
	case MSE:
		for i, y := range t.Values[:len(r)] {
			d := y - r[i]
			sum += d * d
		}
		return sum / float64(len(r))
	case CE:
		for b, c := range t.Classes {
			rb := r[b*k : b*k+k]
			sum += logSumExp(rb) - rb[c]
		}
		return sum / float64(len(t.Classes))
	}
	return 0
}

// softmaxRows writes the softmax of every k-wide row of x into dst,
// stably: e^{x − max x} normalised, the exponentials of all rows in one
// vector pass.
func softmaxRows(dst, x []float64, k int) {
	dst = dst[:len(x)]
	for b := 0; b < len(x); b += k {
		m := slices.Max(x[b : b+k])
		for j, v := range x[b : b+k] {
			dst[b+j] = v - m
		}
	}
	vmath.ExpNeg(dst, dst)
	for b := 0; b < len(x); b += k {
		row := dst[b : b+k]
		var z float64
		for _, v := range row {
			z += v
		}
		for j := range row {
			row[j] /= z
		}
	}
}

// logSumExp returns log Σ e^{x_i}, stably: max x + log Σ e^{x_i − max x}.
func logSumExp(x []float64) float64 {
	m := slices.Max(x)
	var buf [32]float64
	var z float64
	for lo := 0; lo < len(x); lo += len(buf) {
		chunk := buf[:min(len(buf), len(x)-lo)]
		for i := range chunk {
			chunk[i] = x[lo+i] - m
		}
		vmath.ExpNeg(chunk, chunk)
		for _, v := range chunk {
			z += v
		}
	}
	return m + math.Log(z)
}

// Gradient writes ∂Value/∂r (batch × k) into dst: −2 (y − r)/(batch·k)
// for MSE, (softmax(r) − onehot(y))/batch for CE, zero without a target.
func (l Loss) Gradient(dst, r []float64, t Target, k int) {
	dst = dst[:len(r)]
	if t.None() || l == NoLoss || len(r) == 0 {
		clear(dst)
		return
	}
	switch l {
	case MSE:
		scale := -2 / float64(len(r))
		for i, y := range t.Values[:len(r)] {
			dst[i] = scale * (y - r[i])
		}
	case CE:
		inv := 1 / float64(len(t.Classes))
		softmaxRows(dst, r, k)
		for b, c := range t.Classes {
			db := dst[b*k : b*k+k]
			db[c] -= 1
			for j := range db {
				db[j] *= inv
			}
		}
	}
}
