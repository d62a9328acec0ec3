package gle

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// memoryLimit is the largest allocation estimate (bytes) constructors
// accept; 0 means the machine's available memory.
var memoryLimit atomic.Int64

// SetMemoryLimit sets the largest amount of memory (bytes) a network, an
// engine or an exact-gradient tape may need: constructors estimate what
// they will allocate and refuse with ErrTooLarge beyond it. 0 (the
// default) means the memory the machine has available when asked
// (MemAvailable of /proc/meminfo; unlimited where that is unknown).
func SetMemoryLimit(bytes int64) { memoryLimit.Store(max(0, bytes)) }

// MemoryLimit returns the limit in force (bytes), or 0 when unknown.
func MemoryLimit() int64 {
	if l := memoryLimit.Load(); l > 0 {
		return l
	}
	return availableMemory()
}

// availableMemory reads MemAvailable from /proc/meminfo (0 if unknown).
func availableMemory() int64 {
	fh, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// CheckMemory refuses an estimate of need bytes above MemoryLimit with an
// ErrTooLarge FieldError naming the field and value that drive it.
// Constructors call it before they allocate.
func CheckMemory(field string, value any, need float64) error {
	if limit := MemoryLimit(); limit > 0 && need > float64(limit) {
		return fieldErr(ErrTooLarge, field, value, "needs ≈ %s of memory, above the limit of %s (gle.SetMemoryLimit, --max-memory)",
			FormatBytes(need), FormatBytes(float64(limit)))
	}
	return nil
}

// FormatBytes writes a byte count with a binary unit (e.g. "3.2 GiB").
func FormatBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if math.IsInf(b, 0) {
		return "∞"
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}

// ParamBytes estimates the float64 parameters of the network s declares
// (weights, feedback weights, biases, time constants) in bytes, from the
// sizes alone, before anything is allocated.
func ParamBytes(s *Spec) float64 {
	var n float64
	if s.Layered() {
		for _, l := range s.Layers {
			n += float64(l.In)*float64(l.Out) + 3*float64(l.Out)
		}
		return 8 * n
	}
	size := map[string]float64{InputName: float64(s.Inputs)}
	for _, p := range s.Populations {
		size[p.Name] = float64(p.Size)
		n += 3 * float64(p.Size)
	}
	for _, p := range s.Projections {
		w := size[p.From] * size[p.To]
		if p.Feedback != Symmetric {
			w *= 2
		}
		n += w
	}
	return 8 * n
}

// NetworkBytes returns the memory of n's float64 parameters: weights,
// feedback weights, biases and time constants.
func NetworkBytes(n *Network) float64 {
	var v float64
	for _, p := range n.Pops {
		v += 3 * float64(p.N)
	}
	for _, p := range n.Projs {
		v += float64(len(p.W) + len(p.FeedbackWeight))
	}
	return 8 * v
}

// TrainerBytes estimates the memory a trainer of n for the given batch
// needs, for engine elements of elem bytes: the engine (EngineBytes), the
// parameters' gradients and an optimizer's two moments (Adam's), and what
// Save needs to encode a checkpoint (about twice the parameters, moments
// and state; measured). NewTrainerOf refuses a trainer above MemoryLimit.
func TrainerBytes(n *Network, batch, elem int) float64 {
	params, engine := NetworkBytes(n), EngineBytes(n, batch, elem)
	return engine + 3*params + 2*(3*params+engine/2)
}

// SpecJSONBytes estimates the memory of writing n as a JSON spec with its
// parameters (Network.ToSpec, then encoding/json): about 90 bytes per
// number (measured), 100 with a margin.
func SpecJSONBytes(n *Network) float64 { return 100 * NetworkBytes(n) / 8 }

// EngineBytes estimates what an engine of n for the given batch allocates
// besides the network's parameters, for elements of elem bytes: two
// states, the per-population scratch and the per-projection scratch
// (with a transposed ê for the gradient of each).
func EngineBytes(n *Network, batch, elem int) float64 {
	var v float64
	b := float64(batch)
	for _, p := range n.Pops {
		v += 15 * b * float64(p.N)
	}
	for k := range n.Projs {
		p := &n.Projs[k]
		v += 2*b*float64(n.FromSize(p)) + b*float64(n.Pops[p.To].N) + 3*float64(len(p.W))
	}
	return v * float64(elem)
}
