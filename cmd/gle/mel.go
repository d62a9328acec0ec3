package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
)

// runMel writes the log-mel spectrogram of a WAV file as .npy.
func runMel(ctx context.Context, args []string, stdout io.Writer) error {
	p := audio.GSCMel()
	out := ""
	var force bool
	files, err := parseFlags("mel", args, func(fs *flag.FlagSet) {
		fs.IntVar(&p.NFFT, "n-fft", p.NFFT, "FFT size and window length")
		fs.IntVar(&p.Hop, "hop", p.Hop, "hop length in samples")
		fs.IntVar(&p.NMels, "n-mels", p.NMels, "mel bands")
		fs.Float64Var(&p.FMin, "f-min", p.FMin, "lowest frequency (Hz)")
		fs.Float64Var(&p.FMax, "f-max", 0, "highest frequency (Hz; 0: half the sample rate)")
		defineCommon(fs, &force)
		fs.StringVar(&out, "out", "", "output .npy (float64, n_mels × frames); required")
	})
	if err != nil {
		return err
	}
	if len(files) != 1 || out == "" {
		return usagef("want one WAV file and --out")
	}
	if err := runs.CheckOutputs(force, files, out); err != nil {
		return err
	}
	w, err := audio.ReadWAVFile(files[0])
	if err != nil {
		return err
	}
	p.SampleRate = w.SampleRate
	m, err := p.LogMel(w.Samples)
	if err != nil {
		return err
	}
	frames := p.Frames(len(w.Samples))
	if err := npy.WriteFile(out, &npy.Array{Shape: []int{p.NMels, frames}, Float: m}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d mel bands × %d frames (%d Hz, %d samples)\n", out, p.NMels, frames, w.SampleRate, len(w.Samples))
	return ctx.Err()
}
