package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/runs"
)

// console is the command line's recorder of a run (package fit): the
// metrics file (one whole JSON line per record), a line per epoch on
// stdout, a progress bar within epochs on a terminal (plain lines every
// minute in a log), and warnings.
type console struct {
	metricsPath string
	stdout      io.Writer
	mu          *sync.Mutex // shared by the seeds of one command
	prefix      string      // e.g. "seed 3 "
	epochs      int
	finish      func(*fit.Result) error

	metrics  *runs.Metrics
	bar      *progress
	lastLine time.Time
}

func newConsole(metricsPath string, stdout io.Writer, mu *sync.Mutex, prefix string, epochs int, bar bool) *console {
	c := &console{metricsPath: metricsPath, stdout: stdout, mu: mu, prefix: prefix, epochs: epochs, lastLine: time.Now()}
	if c.mu == nil {
		c.mu = new(sync.Mutex)
	}
	if bar {
		c.bar = newProgress(strings.TrimSpace(prefix))
	}
	return c
}

// Start implements fit.Recorder: the metrics file holds exactly the
// checkpoint's records, then one whole line per new record.
func (c *console) Start(done []fit.Record) (err error) {
	if c.metricsPath != "" {
		c.metrics, err = runs.OpenMetrics(c.metricsPath, done)
	}
	return err
}

// Record implements fit.Recorder.
func (c *console) Record(r fit.Record) error {
	err := c.metrics.Write(r)
	if r.Step > 0 {
		return err
	}
	c.bar.restart()
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.stdout, "%sepoch %*d/%d: %s\n", c.prefix, digits(c.epochs), r.Epoch, c.epochs, recordLine(r))
	return err
}

// recordLine shows a record's numbers: each split's loss and accuracy,
// the learning rate and the time.
func recordLine(r fit.Record) string {
	var parts []string
	if _, ok := r.Of(fit.Train); !ok && r.Epoch == 0 {
		parts = append(parts, "before training")
	}
	for _, sp := range []fit.Split{fit.Train, fit.Validation, fit.Test} {
		m, ok := r.Of(sp)
		if !ok {
			continue
		}
		s := fmt.Sprintf("%s loss %.4f", sp, m.Loss)
		if m.Acc != nil {
			s += fmt.Sprintf(" acc %5.2f%%", 100**m.Acc)
		}
		parts = append(parts, s)
	}
	if r.LR > 0 {
		parts = append(parts, fmt.Sprintf("lr %.3g", r.LR))
	}
	for _, name := range slices.Sorted(maps.Keys(r.TauM)) {
		t := r.TauM[name]
		parts = append(parts, fmt.Sprintf("τm %s %.3g…%.3g", name, t[0], t[2]))
	}
	parts = append(parts, "("+seconds(r.Seconds)+")")
	return strings.Join(parts, "  ")
}

// seconds formats a duration in seconds readably at any scale.
func seconds(s float64) string {
	switch {
	case s < 1e-3:
		return fmt.Sprintf("%.0f µs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.1f ms", s*1e3)
	case s < 120:
		return fmt.Sprintf("%.1f s", s)
	}
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

func digits(n int) int { return len(fmt.Sprint(n)) }

// Progress implements fit.Progresser: the bar on a terminal, or in a log
// a plain line at most once a minute.
func (c *console) Progress(p fit.Progress) {
	unit := fmt.Sprintf("epoch %d", p.Epoch)
	if p.Split != fit.Train {
		unit += " " + string(p.Split)
	}
	if c.bar != nil {
		c.bar.show(unit, p.Fraction(), p.Steps, p.Elapsed)
		return
	}
	if time.Since(c.lastLine) < time.Minute {
		return
	}
	c.lastLine = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.stdout, "%s%s: %s\n", c.prefix, unit, progressText(p.Fraction(), p.Steps, p.Elapsed))
}

// Warn implements fit.Warner.
func (c *console) Warn(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.stdout, "%swarning: %s\n", c.prefix, msg)
}

// Finish implements fit.Finisher.
func (c *console) Finish(res *fit.Result) error {
	if c.finish == nil {
		return nil
	}
	return c.finish(res)
}

// Close closes the metrics file.
func (c *console) Close() error {
	if c == nil {
		return nil
	}
	c.bar.restart()
	return errors.Join(c.metrics.Close())
}
