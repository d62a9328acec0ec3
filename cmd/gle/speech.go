package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/expt"
	"github.com/gle-go/gle/internal/runs"
)

func runSpeech(ctx context.Context, args []string, stdout io.Writer) error {
	c := expt.DefaultSpeech()
	small, resume := false, false
	out := ""
	var epochs, batch, hold int
	var lr float64
	var force bool
	if err := parseNoArgs("run speech", args, func(fs *flag.FlagSet) {
		defineCommon(fs, &force)
		fs.StringVar(&c.Data, "data", "", "Speech Commands folder (word folders, validation_list.txt, testing_list.txt, _background_noise_); required")
		fs.BoolVar(&small, "small", false, "laptop-sized network and schedule instead of the paper's")
		fs.StringVar(&c.Task, "task", c.Task, "kw12 (10 keywords + unknown + silence) or words35")
		fs.BoolVar(&c.Hash, "hash-split", false, "TF1 hash split instead of validation_list.txt / testing_list.txt")
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the weights, the batch order, unknown words and silence")
		fs.IntVar(&epochs, "epochs", 0, "epochs (default 420, or 40 with --small)")
		fs.IntVar(&batch, "batch", 0, "batch size (default 256, or 16 with --small)")
		fs.IntVar(&hold, "hold", 0, "dt steps per 25-ms frame (default 20, or 5 with --small)")
		fs.Float64Var(&lr, "lr", 0, "Adam learning rate (default the paper's)")
		fs.StringVar(&out, "out", "", "output folder (default runs/speech-<timestamp>)")
		fs.BoolVar(&resume, "resume", false, "continue from the checkpoint in --out")
		fs.BoolVar(&c.Float32, "float32", false, "train on the float32 engine (about 2× faster; float32 rounding)")
	}); err != nil {
		return err
	}
	if c.Data == "" {
		return usagef("--data is required (make a small corpus with scripts/make-speech-corpus.sh DIR)")
	}
	if small {
		data, task, hash, seed := c.Data, c.Task, c.Hash, c.Seed
		c = expt.SmallSpeech()
		c.Data, c.Task, c.Hash, c.Seed = data, task, hash, seed
	}
	for _, o := range []struct {
		v   int
		dst *int
	}{{epochs, &c.Epochs}, {batch, &c.Batch}, {hold, &c.Hold}} {
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	if lr > 0 {
		c.LR = lr
	}
	if resume && out == "" {
		return usagef("--resume needs --out")
	}
	dir, err := runs.Dir(out, "speech", force || resume)
	if err != nil {
		return err
	}
	if err := runs.WriteConfig(dir, c); err != nil {
		return err
	}
	rec := newConsole(filepath.Join(dir, "metrics.jsonl"), stdout, nil, "", c.Epochs, true)
	defer rec.Close()
	res, err := expt.RunSpeech(ctx, c, expt.RunOptions{Checkpoint: filepath.Join(dir, "checkpoint.gob"), Resume: resume, Recorder: rec})
	if res == nil {
		return err
	}
	errs := []error{err}
	if eps := res.Epochs(); len(eps) > 0 {
		errs = append(errs, runs.WriteSummary(dir, map[string]any{"last_epoch": eps[len(eps)-1], "evaluated_on": res.EvaluatedOn, "labels": res.Model.Labels, "params": res.Params}))
		errs = append(errs, expt.ClassifierFigure(filepath.Join(dir, "speech"), fmt.Sprintf("speech %s", c.Task), &res.ClassifyResult, 0, res.Model.Labels))
	}
	model := filepath.Join(dir, "model.gob")
	if merr := expt.SaveSpeechModel(model, res.Model); merr != nil {
		errs = append(errs, merr)
	} else {
		fmt.Fprintf(stdout, "labels %v\nwrote metrics.jsonl, speech.png/.svg, checkpoint.gob and model.gob (for gle predict) to %s\n", res.Model.Labels, dir)
	}
	return errors.Join(errs...)
}

func runPredict(ctx context.Context, args []string, stdout io.Writer) error {
	model := ""
	files, err := parseFlags("predict", args, func(fs *flag.FlagSet) {
		fs.StringVar(&model, "model", "", "model.gob written by gle run speech; required")
	})
	if err != nil {
		return err
	}
	if model == "" || len(files) == 0 {
		return usagef("want --model and at least one WAV file")
	}
	m, err := expt.LoadSpeechModel(model)
	if err != nil {
		return err
	}
	for _, f := range files {
		w, err := audio.ReadWAVFile(f)
		if err != nil {
			return err
		}
		if w.SampleRate != m.Mel.SampleRate {
			return fmt.Errorf("%s: %d Hz, the model wants %d Hz", f, w.SampleRate, m.Mel.SampleRate)
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
