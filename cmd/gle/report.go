package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/plots"
)

func runReport(ctx context.Context, args []string, stdout io.Writer) error {
	out := ""
	dirs, err := parseFlags("report", args, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "also write report.md and report.png/.svg here")
	})
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usagef("name at least one run folder")
	}
	md, panel, err := experiments.Report(dirs)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, md)
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(filepath.Join(out, "report.md"), []byte(md)); err != nil {
			return err
		}
		if err := plots.Save(filepath.Join(out, "report"), 1, 1, 7, 4.5, panel); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote report.md and report.png/.svg to %s\n", out)
	}
	return ctx.Err()
}
