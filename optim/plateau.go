package optim

import (
	"math"

	"github.com/gle-go/gle/internal/errs"
)

// Plateau is torch.optim.lr_scheduler.ReduceLROnPlateau with relative
// threshold: when the watched metric has not improved for more than
// Patience epochs, the learning rate is multiplied by Factor (not below
// MinLR), then Cooldown epochs pass before counting again.
type Plateau struct {
	Mode      string  // "min" (e.g. a loss) or "max" (e.g. an accuracy)
	Factor    float64 // in (0, 1)
	Patience  int
	Threshold float64 // relative improvement that counts; PyTorch default 1e-4
	Cooldown  int
	MinLR     float64
	Eps       float64 // smallest change of lr that is applied; default 1e-8

	Best     float64 // best metric so far (±Inf before the first)
	BadEpoch int     // epochs without improvement
	CoolLeft int     // cooldown epochs left
}

// NewPlateau returns a scheduler with PyTorch's defaults for threshold,
// cooldown, min_lr and eps.
func NewPlateau(mode string, factor float64, patience int) (*Plateau, error) {
	if mode != "min" && mode != "max" {
		return nil, errs.Field(errs.ErrUnknownName, "mode", mode, "want min or max")
	}
	if !(factor > 0 && factor < 1) {
		return nil, errs.Field(errs.ErrInvalid, "factor", factor, "must be in (0, 1)")
	}
	if patience < 0 {
		return nil, errs.Field(errs.ErrInvalid, "patience", patience, "must be ≥ 0")
	}
	best := math.Inf(1)
	if mode == "max" {
		best = math.Inf(-1)
	}
	return &Plateau{Mode: mode, Factor: factor, Patience: patience, Threshold: 1e-4, Eps: 1e-8, Best: best}, nil
}

func (p *Plateau) better(a float64) bool {
	if p.Mode == "max" {
		return a > p.Best*(1+p.Threshold)
	}
	return a < p.Best*(1-p.Threshold)
}

// Step records one epoch's metric and lowers opt's learning rate when
// the metric has plateaued. It reports whether the rate was lowered.
func (p *Plateau) Step(metric float64, opt Optimizer) (bool, error) {
	if math.IsNaN(metric) {
		return false, errs.Field(errs.ErrNonFinite, "plateau metric", metric, "must be a number")
	}
	if p.better(metric) {
		p.Best, p.BadEpoch = metric, 0
	} else {
		p.BadEpoch++
	}
	if p.CoolLeft > 0 {
		p.CoolLeft--
		p.BadEpoch = 0
	}
	if p.BadEpoch <= p.Patience {
		return false, nil
	}
	p.CoolLeft, p.BadEpoch = p.Cooldown, 0
	old := opt.LR()
	lr := math.Max(old*p.Factor, p.MinLR)
	if old-lr > p.Eps {
		opt.SetLR(lr)
		return true, nil
	}
	return false, nil
}
