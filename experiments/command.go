package experiments

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"

	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/runs"
)

// Command is a published experiment as the command line runs it, `gle
// run NAME`: its flags, bound to a fresh configuration, and the run that
// writes its results into a run folder. The command line adds the flags
// every experiment shares (--out, --force, --max-memory, and --resume
// for Resumable ones) and nothing else: the experiment owns what it
// computes and what it writes.
type Command struct {
	Name      string
	Summary   string
	Resumable bool
	// Define binds the experiment's flags on fs and returns its run,
	// called once the flags are parsed.
	Define func(fs *flag.FlagSet, env *Env) func(ctx context.Context) error
}

// Env is what the command line gives an experiment run.
type Env struct {
	Stdout io.Writer
	// Out, Resume and Force are the shared flags' values.
	Out           string
	Resume, Force bool
	// Console returns the command line's recorder of one training run:
	// its metrics file, lines prefixed by prefix, a progress bar when bar
	// (the caller closes it when it implements io.Closer).
	Console func(metrics, prefix string, epochs int, bar bool) fit.Recorder
}

// Dir creates the run folder: Out, or runs/NAME-<timestamp> (runs.Dir),
// reusing an existing one only to resume or when forced.
func (e *Env) Dir(name string) (string, error) {
	if e.Resume && e.Out == "" {
		return "", Usagef("--resume needs --out, the folder of the run to continue")
	}
	return runs.Dir(e.Out, name, e.Resume || e.Force)
}

// Folder creates the run folder (Dir) and writes its config.yaml
// (runs.WriteConfig) with config.
func (e *Env) Folder(name string, config any) (string, error) {
	dir, err := e.Dir(name)
	if err != nil {
		return "", err
	}
	return dir, runs.WriteConfig(dir, config)
}

// Run returns the options of a training run in dir: checkpoint.gob,
// resumed when --resume, and the console recorder of metrics.jsonl with a
// progress bar (close it with closeRecorder).
func (e *Env) Run(dir string, epochs int) RunOptions {
	return RunOptions{Checkpoint: filepath.Join(dir, "checkpoint.gob"), Resume: e.Resume,
		Recorder: e.Console(filepath.Join(dir, "metrics.jsonl"), "", epochs, true)}
}

// UsageError marks flags whose values do not work together (the command
// line exits with status 2).
type UsageError struct{ Err error }

func (u *UsageError) Error() string { return u.Err.Error() }
func (u *UsageError) Unwrap() error { return u.Err }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{fmt.Errorf(format, args...)}
}

// usage turns a configuration's validation error into a UsageError.
func usage(err error) error {
	if err == nil {
		return nil
	}
	var u *UsageError
	if errors.As(err, &u) {
		return err
	}
	return &UsageError{err}
}

// commands are the experiments, by name.
var commands = map[string]Command{}

// register adds commands (from each experiment file's init).
func register(cs ...Command) {
	for _, c := range cs {
		commands[c.Name] = c
	}
}

// Commands returns the experiments by name.
func Commands() map[string]Command { return maps.Clone(commands) }

// CommandNames returns the experiments' names, sorted.
func CommandNames() []string { return slices.Sorted(maps.Keys(commands)) }

// closeRecorder closes rec if it can be closed.
func closeRecorder(rec fit.Recorder) error {
	if c, ok := rec.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
