package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/experiments"
)

func runPredict(ctx context.Context, args []string, stdout io.Writer) error {
	model := ""
	files, err := parseFlags("predict", args, func(fs *flag.FlagSet) {
		fs.StringVar(&model, "model", "", "model.gob written by gle run speech; required")
		defineThreads(fs)
	})
	if err != nil {
		return err
	}
	if model == "" || len(files) == 0 {
		return usagef("want --model and at least one WAV file")
	}
	m, err := experiments.LoadSpeechModel(model)
	if err != nil {
		return err
	}
	for _, f := range files {
		w, err := audio.ReadWAVFile(f)
		if err != nil {
			return err
		}
		if want := audio.GSCMel().SampleRate; w.SampleRate != want {
			return fmt.Errorf("%s: %d Hz, the model wants %d Hz", f, w.SampleRate, want)
		}
		label, sums, err := m.PredictClip(w.Samples)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		order := make([]int, len(sums))
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(a, b int) bool { return sums[order[a]] > sums[order[b]] })
		fmt.Fprintf(stdout, "%s: %s", f, label)
		if len(order) > 1 {
			fmt.Fprintf(stdout, "   (runner-up %s)", m.Labels[order[1]])
		}
		fmt.Fprintln(stdout)
	}
	return ctx.Err()
}
