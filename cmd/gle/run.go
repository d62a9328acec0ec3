package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"sync"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/fit"
)

// runExperiment is `gle run NAME [flags]`: the experiment's own flags
// (experiments.Command) and those every experiment shares.
func runExperiment(ctx context.Context, args []string, stdout io.Writer) error {
	cmds := experiments.Commands()
	names := strings.Join(experiments.CommandNames(), ", ")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			_, err := parseFlags("run", args, func(*flag.FlagSet) {})
			return err
		}
		return usagef("name an experiment: %s", names)
	}
	c, ok := cmds[args[0]]
	if !ok {
		return usagef("unknown experiment %q (want one of %s)", args[0], names)
	}
	var mu sync.Mutex
	env := &experiments.Env{Stdout: stdout, Console: func(metrics, prefix string, epochs int, bar bool) fit.Recorder {
		return newConsole(metrics, stdout, &mu, prefix, epochs, bar)
	}}
	var run func(context.Context) error
	if err := parseNoArgs("run "+c.Name, args[1:], func(fs *flag.FlagSet) {
		defineCommon(fs, &env.Force)
		fs.StringVar(&env.Out, "out", "", "output folder (default runs/"+c.Name+"-<timestamp>)")
		if c.Resumable {
			fs.BoolVar(&env.Resume, "resume", false, "continue the run in --out from its checkpoints (what is done is kept)")
		}
		run = c.Define(fs, env)
	}); err != nil {
		return err
	}
	err := run(ctx)
	if u := (*experiments.UsageError)(nil); errors.As(err, &u) {
		return usagef("%v", u.Err)
	}
	return err
}
