package gle

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/optim"
)

// CheckpointFormat tags the files Trainer.Save writes.
const CheckpointFormat = "gle-checkpoint/1"

// ErrMismatch marks a checkpoint that belongs to another run.
var ErrMismatch = errors.New("checkpoint of another run")

// checkpoint is everything a trainer needs to continue bit for bit.
type checkpoint struct {
	Format    string
	Identity  map[string]string // what defines the run (spec digest, data, flags)
	Precision string
	Rule      string
	Net       *Network
	State     *State // float64; a float32 state converts exactly
	Adam      *optim.Adam
	SGD       *optim.SGD
	Steps     int
	TauMMin   float64
	TauMMax   float64
	LearnFrom int
	MaxLoop   float64
	RuleState [][]float64 // a StatefulRule's carried arrays
	Meta      []byte      // the caller's data (gob)
}

func precisionName[T Float]() string {
	if is64[T]() {
		return "float64"
	}
	return "float32"
}

// Save writes the trainer — network, state, optimizer state, step count,
// settings — with identity (what defines the run: LoadTrainer refuses a
// checkpoint whose identity differs) and meta (any gob-encodable value of
// the caller's, e.g. the epochs done) to path, atomically: a reader sees
// the previous checkpoint or this one, never a part. A rule holding
// recorded steps cannot be saved (call EndSequence first).
func (tr *TrainerOf[T]) Save(path string, identity map[string]string, meta any) error {
	ck := checkpoint{Format: CheckpointFormat, Identity: identity, Precision: precisionName[T](),
		Net: tr.Engine.Net, State: ConvertState[float64](tr.Engine.state), Steps: tr.Steps,
		TauMMin: tr.TauMMin, TauMMax: tr.TauMMax, LearnFrom: tr.LearnFromStep, MaxLoop: tr.MaxLoopGain}
	if tr.Rule != nil {
		if n := tr.Rule.Pending(); n > 0 {
			return fmt.Errorf("%w: the %s rule holds %d recorded steps; save at the end of a sequence", ErrInvalid, tr.Rule.Name(), n)
		}
		ck.Rule = tr.Rule.Name()
		if sr, ok := tr.Rule.(StatefulRule); ok {
			ck.RuleState = sr.RuleState()
		}
	}
	switch o := tr.Opt.(type) {
	case nil:
	case *optim.Adam:
		ck.Adam = o
	case *optim.SGD:
		ck.SGD = o
	default:
		return fmt.Errorf("%w: cannot save an optimizer of type %T", ErrInvalid, tr.Opt)
	}
	if meta != nil {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(meta); err != nil {
			return fmt.Errorf("checkpoint meta: %w", err)
		}
		ck.Meta = buf.Bytes()
	}
	return atomicfile.WriteGob(path, &ck)
}

// LoadTrainer reads a checkpoint written by Save into a trainer in T with
// the given rule (nil: GLE's local rule), and decodes the caller's data
// into meta (a pointer, or nil). It fails with an error satisfying
// errors.Is(err, fs.ErrNotExist) when there is no checkpoint, and with
// ErrMismatch, naming every difference, when the checkpoint's identity,
// precision or rule is not the run's.
func LoadTrainer[T Float](path string, identity map[string]string, rule Rule, meta any) (*TrainerOf[T], error) {
	var ck checkpoint
	if err := atomicfile.ReadGob(path, &ck); err != nil {
		return nil, err
	}
	if ck.Format != CheckpointFormat || ck.Net == nil || ck.State == nil {
		return nil, fmt.Errorf("%s: not a %s file", path, CheckpointFormat)
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(mergeKeys(ck.Identity, identity))) {
		a, inCk := ck.Identity[k]
		b, inRun := identity[k]
		if a != b || inCk != inRun {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint %s, now %s", k, valueOrAbsent(a, inCk), valueOrAbsent(b, inRun)))
		}
	}
	if p := precisionName[T](); ck.Precision != p {
		diffs = append(diffs, fmt.Sprintf("precision: checkpoint %s, now %s", ck.Precision, p))
	}
	ruleName, ckRule := "gle", cmp.Or(ck.Rule, "gle")
	if rule != nil {
		ruleName = rule.Name()
	}
	if ckRule != ruleName {
		diffs = append(diffs, fmt.Sprintf("rule: checkpoint %s, now %s", ckRule, ruleName))
	}
	if len(diffs) > 0 {
		return nil, fmt.Errorf("%s: %w: %s", path, ErrMismatch, joinLines(diffs))
	}
	var opt optim.Optimizer
	switch {
	case ck.Adam != nil:
		opt = ck.Adam
	case ck.SGD != nil:
		opt = ck.SGD
	}
	tr, err := NewTrainerOf[T](ck.Net, ck.State.Batch, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := tr.Engine.SetState(ConvertState[T](ck.State)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tr.Rule, tr.Steps, tr.TauMMin, tr.TauMMax, tr.LearnFromStep, tr.MaxLoopGain = rule, ck.Steps, ck.TauMMin, ck.TauMMax, ck.LearnFrom, ck.MaxLoop
	if sr, ok := rule.(StatefulRule); ok && ck.RuleState != nil {
		sr.SetRuleState(ck.RuleState)
	}
	if meta != nil && ck.Meta != nil {
		if err := gob.NewDecoder(bytes.NewReader(ck.Meta)).Decode(meta); err != nil {
			return nil, fmt.Errorf("%s: checkpoint meta: %w", path, err)
		}
	}
	return tr, nil
}

func mergeKeys(a, b map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func joinLines(s []string) string {
	const most = 10
	var b bytes.Buffer
	for i, l := range s[:min(len(s), most)] {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l)
	}
	if len(s) > most {
		fmt.Fprintf(&b, "; … and %d more", len(s)-most)
	}
	return b.String()
}

// valueOrAbsent is an identity value, or "absent" where the key is not.
func valueOrAbsent(v string, ok bool) string {
	if !ok {
		return "absent"
	}
	return v
}
