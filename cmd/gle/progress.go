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
// (stderr); newProgress gives nil when stderr is not a terminal, so logs
// and CI output stay clean (the recorder prints plain lines there).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
}

// newProgress returns a bar on stderr, or nil when stderr is no terminal.
func newProgress(label string) *progress {
	fi, err := os.Stderr.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: os.Stderr, label: label}
}

// show draws the fraction done of the current unit (an epoch, an
// evaluation), the rate in steps per second and the time left in it.
func (p *progress) show(unit string, frac float64, steps int, elapsed time.Duration) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	const width = 30
	n := min(width, max(0, int(frac*width)))
	fmt.Fprintf(p.w, "\r%s %s [%s%s] %s   ", p.label, unit, strings.Repeat("#", n), strings.Repeat("-", width-n), progressText(frac, steps, elapsed))
}

// progressText is "42% 1234 steps/s ETA 1m3s".
func progressText(frac float64, steps int, elapsed time.Duration) string {
	eta := "?"
	if frac > 0 {
		eta = (time.Duration(float64(elapsed)/frac) - elapsed).Round(time.Second).String()
	}
	rate := float64(steps) / max(elapsed.Seconds(), 1e-9)
	return fmt.Sprintf("%3.0f%% %.0f steps/s ETA %s", 100*frac, rate, eta)
}

// restart clears the bar for a new unit.
func (p *progress) restart() {
	if p == nil {
		return
	}
	p.mu.Lock()
	fmt.Fprint(p.w, "\r\033[K")
	p.mu.Unlock()
}
