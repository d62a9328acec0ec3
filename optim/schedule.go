package optim

import (
	"math"
	"strconv"
	"strings"

	"github.com/gle-go/gle/internal/errs"
)

// Schedule changes an optimizer's learning rate between epochs.
type Schedule interface {
	// EndEpoch is called after epoch (1, 2, …) with the metric that
	// feeds the schedule (NaN when none does) and sets opt's learning
	// rate for the next epoch.
	EndEpoch(epoch int, metric float64, opt Optimizer) error
}

// EndEpoch implements Schedule: Step on the metric.
func (p *Plateau) EndEpoch(_ int, metric float64, opt Optimizer) error {
	_, err := p.Step(metric, opt)
	return err
}

// StepDecay multiplies the learning rate by Gamma every Every epochs:
// lr = Base · Gamma^⌊epoch / Every⌋ (PyTorch's StepLR).
type StepDecay struct {
	Every int
	Gamma float64
	Base  float64 // the rate of epoch 1; 0: the optimizer's rate at the first call
}

// NewStepDecay returns a StepDecay after checking its settings.
func NewStepDecay(every int, gamma float64) (*StepDecay, error) {
	if every <= 0 {
		return nil, errs.Field(errs.ErrInvalid, "step every", every, "must be positive")
	}
	if !(gamma > 0 && gamma <= 1) {
		return nil, errs.Field(errs.ErrInvalid, "step gamma", gamma, "must be in (0, 1]")
	}
	return &StepDecay{Every: every, Gamma: gamma}, nil
}

// EndEpoch implements Schedule.
func (s *StepDecay) EndEpoch(epoch int, _ float64, opt Optimizer) error {
	if s.Base == 0 {
		s.Base = opt.LR()
	}
	opt.SetLR(s.Base * math.Pow(s.Gamma, float64(epoch/s.Every)))
	return nil
}

// Cosine anneals the learning rate from Base to Min over Epochs epochs:
// lr = Min + (Base − Min)(1 + cos(π·epoch/Epochs))/2, then Min
// (PyTorch's CosineAnnealingLR without restarts).
type Cosine struct {
	Epochs int
	Min    float64
	Base   float64 // 0: the optimizer's rate at the first call
}

// NewCosine returns a Cosine after checking its settings.
func NewCosine(epochs int, min float64) (*Cosine, error) {
	if epochs <= 0 {
		return nil, errs.Field(errs.ErrInvalid, "cosine epochs", epochs, "must be positive")
	}
	if !(min >= 0) || math.IsInf(min, 0) {
		return nil, errs.Field(errs.ErrInvalid, "cosine min", min, "must be finite and ≥ 0")
	}
	return &Cosine{Epochs: epochs, Min: min}, nil
}

// EndEpoch implements Schedule.
func (c *Cosine) EndEpoch(epoch int, _ float64, opt Optimizer) error {
	if c.Base == 0 {
		c.Base = opt.LR()
	}
	e := min(epoch, c.Epochs)
	opt.SetLR(c.Min + (c.Base-c.Min)*(1+math.Cos(math.Pi*float64(e)/float64(c.Epochs)))/2)
	return nil
}

// ParseSchedule reads a schedule from its command-line form:
// "plateau[:FACTOR[:PATIENCE]]" (ReduceLROnPlateau in mode min; default
// 0.5 and 2), "step:EVERY[:GAMMA]" (default γ 0.1), "cosine[:MIN]" over
// the given epochs (default min 0), or "" and "none" for none (nil).
func ParseSchedule(s string, epochs int) (Schedule, error) {
	name, args, _ := strings.Cut(s, ":")
	var nums []float64
	if args != "" {
		for _, a := range strings.Split(args, ":") {
			v, err := strconv.ParseFloat(a, 64)
			if err != nil {
				return nil, errs.Field(errs.ErrInvalid, "schedule", s, "want plateau[:FACTOR[:PATIENCE]], step:EVERY[:GAMMA] or cosine[:MIN]")
			}
			nums = append(nums, v)
		}
	}
	arg := func(i int, def float64) float64 {
		if i < len(nums) {
			return nums[i]
		}
		return def
	}
	whole := func(v float64) bool { return v == math.Trunc(v) && math.Abs(v) < 1<<31 }
	// An if-chain rather than a switch, so that coverage tools see each
	// condition.
	if (name == "" || name == "none") && len(nums) == 0 {
		return nil, nil
	}
	if name == "plateau" && len(nums) <= 2 && whole(arg(1, 2)) {
		return NewPlateau("min", arg(0, 0.5), int(arg(1, 2)))
	}
	if name == "step" && len(nums) >= 1 && len(nums) <= 2 && whole(nums[0]) {
		return NewStepDecay(int(nums[0]), arg(1, 0.1))
	}
	if name == "cosine" && len(nums) <= 1 {
		return NewCosine(epochs, arg(0, 0))
	}
	return nil, errs.Field(errs.ErrUnknownName, "schedule", s, "want plateau[:FACTOR[:PATIENCE]], step:EVERY[:GAMMA], cosine[:MIN] or none")
}
