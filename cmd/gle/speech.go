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
	"github.com/gle-go/gle/experiments"
	"github.com/gle-go/gle/fit"
	"github.com/gle-go/gle/internal/runs"
)

func runSpeech(ctx context.Context, args []string, stdout io.Writer) error {
	c := experiments.DefaultSpeech()
	small, resume := false, false
	out := ""
	var epochs, batch int
	var lr float64
	var force bool
	if err := parseNoArgs("run speech", args, func(fs *flag.FlagSet) {
		defineCommon(fs, &force)
		fs.StringVar(&c.Data, "data", "", "Speech Commands folder (word folders, _background_noise_; validation_list.txt and testing_list.txt for --list-split); required")
		fs.BoolVar(&small, "small", false, "laptop-sized network and schedule instead of the paper's")
		fs.StringVar(&c.Task, "task", c.Task, "kw12 (10 keywords + unknown + silence) or words35")
		fs.BoolVar(&c.ListSplit, "list-split", false, "validation_list.txt / testing_list.txt instead of the paper's TF1 hash split")
		fs.BoolVar(&c.SilenceFromNoise, "silence-from-noise", false, "cut silence clips from the noise recordings instead of the reference's constant 1e-9 clip")
		fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the weights, the split's unknown words and shuffles (Python's random), the draws and augmentation")
		fs.IntVar(&epochs, "epochs", 0, "epochs (default 420, or 40 with --small)")
		fs.IntVar(&batch, "batch", 0, "batch size (default 256, or 16 with --small)")
		fs.Float64Var(&lr, "lr", 0, "Adam learning rate (default the paper's)")
		fs.StringVar(&out, "out", "", "output folder (default runs/speech-<timestamp>)")
		fs.BoolVar(&resume, "resume", false, "continue from the checkpoint in --out")
		fs.BoolVar(&c.Float32, "float32", false, "train on the float32 engine (about 2× faster; float32 rounding)")
	}); err != nil {
		return err
	}
	if c.Data == "" {
		return usagef("--data is required (make a corpus with scripts/make-speech-corpus.sh DIR)")
	}
	if small {
		d := c
		c = experiments.SmallSpeech()
		c.Data, c.Task, c.ListSplit, c.SilenceFromNoise, c.Seed, c.Float32 = d.Data, d.Task, d.ListSplit, d.SilenceFromNoise, d.Seed, d.Float32
	}
	for _, o := range []struct {
		v   int
		dst *int
	}{{epochs, &c.Epochs}, {batch, &c.Batch}} {
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	if lr > 0 {
		c.LR = lr
	}
	if err := c.Validate(); err != nil {
		return usagef("%v", err)
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
	res, err := experiments.RunSpeech(ctx, c, experiments.RunOptions{Checkpoint: filepath.Join(dir, "checkpoint.gob"), Resume: resume, Recorder: rec})
	if res == nil {
		return err
	}
	errs := []error{err, writeJSON(filepath.Join(dir, "split.json"), res.Split)}
	if eps := res.Epochs(); len(eps) > 0 {
		last := eps[len(eps)-1]
		summary := map[string]any{"last_epoch": last, "labels": res.Model.Labels, "params": res.Params}
		if m, ok := last.Of(fit.Validation); ok {
			summary["validation_loss"], summary["validation_acc"] = m.Loss, m.Acc
		}
		if m, ok := last.Of(fit.Test); ok {
			summary["test_loss"], summary["test_acc"] = m.Loss, m.Acc
		}
		errs = append(errs, runs.WriteSummary(dir, summary))
		errs = append(errs, experiments.ClassifierFigure(filepath.Join(dir, "speech"), fmt.Sprintf("speech %s", c.Task), &res.ClassifyResult, 0, res.Model.Labels))
	}
	model := filepath.Join(dir, "model.gob")
	if merr := experiments.SaveSpeechModel(model, res.Model); merr != nil {
		errs = append(errs, merr)
	} else {
		fmt.Fprintf(stdout, "labels %v\nwrote metrics.jsonl, split.json, speech.png/.svg, checkpoint.gob and model.gob (for gle predict) to %s\n", res.Model.Labels, dir)
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
