package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws a one-line progress bar with rate and ETA on a terminal
// (stderr); it is silent when stderr is not a terminal, so logs and CI
// output stay clean.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	start time.Time
}

// newProgress returns a bar on stderr, or nil when stderr is no terminal.
func newProgress(label string) *progress {
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: os.Stderr, label: label, start: time.Now()}
}

// update shows the fraction done of the current unit (e.g. an epoch),
// the rate in steps per second and the time left in the unit.
func (p *progress) update(unit string, frac float64, steps int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	const width = 30
	n := int(frac * width)
	elapsed := time.Since(p.start)
	eta := "?"
	if frac > 0 {
		eta = (time.Duration(float64(elapsed)/frac) - elapsed).Round(time.Second).String()
	}
	rate := float64(steps) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r%s %s [%s%s] %3.0f%% %.0f steps/s ETA %s   ", p.label, unit, strings.Repeat("#", n), strings.Repeat("-", width-n), 100*frac, rate, eta)
}

// restart begins a new unit.
func (p *progress) restart() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.start = time.Now()
	fmt.Fprint(p.w, "\r\033[K")
	p.mu.Unlock()
}
