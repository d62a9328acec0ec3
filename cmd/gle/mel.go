package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/data/speech"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
)

// gscOptions are the flags of `gle mel --gsc`: the speech experiment's
// features of one clip with the augmentation's random choices fixed.
type gscOptions struct {
	on         bool
	samples    int
	noise      string
	noiseStart int
	snrDB      float64
	shift      int
}

// runMel writes the log-mel spectrogram of a WAV file as .npy, or with
// --gsc the features the speech experiment trains on.
func runMel(ctx context.Context, args []string, stdout io.Writer) error {
	p := audio.GSCMel()
	out := ""
	var force bool
	var g gscOptions
	var fs *flag.FlagSet
	files, err := parseFlags("mel", args, func(f *flag.FlagSet) {
		fs = f
		fs.IntVar(&p.NFFT, "n-fft", p.NFFT, "FFT size and window length")
		fs.IntVar(&p.Hop, "hop", p.Hop, "hop length in samples")
		fs.IntVar(&p.NMels, "n-mels", p.NMels, "mel bands")
		fs.Float64Var(&p.FMin, "f-min", p.FMin, "lowest frequency (Hz)")
		fs.Float64Var(&p.FMax, "f-max", 0, "highest frequency (Hz; 0: half the sample rate)")
		fs.BoolVar(&g.on, "gsc", false, "write the speech experiment's features of the clip instead (SPEC §9: 16 kHz, unpadded, per-clip normalised log-mel, ×20 along time; float64, 32 mels × steps)")
		fs.IntVar(&g.samples, "samples", 0, "with --gsc: use the clip's first N samples (default all)")
		fs.StringVar(&g.noise, "noise", "", "with --gsc: mix in this noise recording (.npy of float64 samples or a 16-kHz .wav)")
		fs.IntVar(&g.noiseStart, "noise-start", 0, "with --noise: the noise segment's first sample")
		fs.Float64Var(&g.snrDB, "snr-db", math.NaN(), "with --noise: the SNR in dB as the reference takes it (scale = exp(dB/10)·‖noise‖/‖clip‖); required")
		fs.IntVar(&g.shift, "shift", 0, "with --gsc: shift the clip by S samples after mixing (roll, zero the wrapped samples)")
		defineCommon(fs, &force)
		fs.StringVar(&out, "out", "", "output .npy (float64, n_mels × frames, or mels × steps with --gsc); required")
	})
	if err != nil {
		return err
	}
	if len(files) != 1 || out == "" {
		return usagef("want one WAV file and --out")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := checkMelFlags(set, g); err != nil {
		return err
	}
	if err := runs.CheckOutputs(force, []string{files[0], g.noise}, out); err != nil {
		return err
	}
	w, err := audio.ReadWAVFile(files[0])
	if err != nil {
		return err
	}
	if g.on {
		return writeGSCFeatures(ctx, w, files[0], g, out, stdout)
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

// checkMelFlags refuses flags that do not apply together.
func checkMelFlags(set map[string]bool, g gscOptions) error {
	var melFlags, gscFlags []string
	for _, n := range []string{"n-fft", "hop", "n-mels", "f-min", "f-max"} {
		if set[n] {
			melFlags = append(melFlags, "--"+n)
		}
	}
	for _, n := range []string{"samples", "noise", "noise-start", "snr-db", "shift"} {
		if set[n] {
			gscFlags = append(gscFlags, "--"+n)
		}
	}
	switch {
	case g.on && len(melFlags) > 0:
		return usagef("%s: --gsc uses the speech experiment's parameters (n_fft 1024, hop 400, 32 mels, 0–8000 Hz)", strings.Join(melFlags, ", "))
	case !g.on && len(gscFlags) > 0:
		return usagef("%s: only with --gsc", strings.Join(gscFlags, ", "))
	case g.noise == "" && (set["noise-start"] || set["snr-db"]):
		return usagef("--noise-start and --snr-db need --noise")
	case g.noise != "" && !set["snr-db"]:
		return usagef("--noise needs --snr-db (the reference draws 20, 10 or 3)")
	case set["snr-db"] && (math.IsNaN(g.snrDB) || math.IsInf(g.snrDB, 0) || math.Abs(g.snrDB) > 1000):
		return usagef("--snr-db = %g: want a finite SNR in −1000…1000 dB", g.snrDB)
	case set["samples"] && g.samples < 1:
		return usagef("--samples = %d: want at least 1", g.samples)
	}
	return nil
}

// writeGSCFeatures writes the speech experiment's features of a clip
// under the augmentation the flags fix.
func writeGSCFeatures(ctx context.Context, w *audio.WAV, path string, g gscOptions, out string, stdout io.Writer) error {
	if w.SampleRate != 16000 {
		return fmt.Errorf("%s: %d Hz: the speech experiment's frontend wants 16000 Hz (resample it first)", path, w.SampleRate)
	}
	clip := w.Samples
	if g.samples > 0 {
		if g.samples > len(clip) {
			return usagef("--samples = %d: %s has %d samples", g.samples, path, len(clip))
		}
		clip = clip[:g.samples]
	}
	if half := 1024 / 2; len(clip) <= half {
		if g.samples > 0 {
			return usagef("--samples = %d: the log-mel's reflect padding needs more than %d samples", len(clip), half)
		}
		return fmt.Errorf("%s has %d samples: the log-mel's reflect padding needs more than %d", path, len(clip), half)
	}
	a := &speech.Augmentation{Shift: g.shift}
	var noise []float64
	if g.noise != "" {
		var err error
		if noise, err = readNoise(g.noise); err != nil {
			return err
		}
		if g.noiseStart < 0 || g.noiseStart > len(noise)-len(clip) {
			return usagef("--noise-start = %d: the clip's %d samples must fit in the noise's %d (start 0…%d)", g.noiseStart, len(clip), len(noise), len(noise)-len(clip))
		}
		a.Mix, a.NoiseStart, a.SNRdB = true, g.noiseStart, g.snrDB
	}
	if g.shift <= -len(clip) || g.shift >= len(clip) {
		return usagef("--shift = %d: want |shift| < the clip's %d samples (the reference draws −1600…1600)", g.shift, len(clip))
	}
	s, err := speech.ClipFeatures(clip, noise, a)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := npy.WriteFile(out, &npy.Array{Shape: []int{s.Mels, s.Steps}, Float: s.X}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d mels × %d steps (%d samples, %d frames × %d; noise %v, shift %d)\n",
		out, s.Mels, s.Steps, len(clip), s.Steps/speech.Upsample, speech.Upsample, a.Mix, a.Shift)
	return ctx.Err()
}

// readNoise reads a noise recording: a 1-D .npy of samples or a 16-kHz
// WAV file.
func readNoise(path string) ([]float64, error) {
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		a, err := npy.ReadFile(path, gle.MemoryLimit())
		if err != nil {
			return nil, fmt.Errorf("--noise = %s: %w", path, err)
		}
		if len(a.Shape) != 1 {
			return nil, usagef("--noise = %s: shape %v, want one dimension of samples", path, a.Shape)
		}
		x := a.Float64s()
		for i, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, usagef("--noise = %s: sample %d is %g", path, i, v)
			}
		}
		return x, nil
	}
	w, err := audio.ReadWAVFile(path)
	if err != nil {
		return nil, fmt.Errorf("--noise = %s: %w", path, err)
	}
	if w.SampleRate != 16000 {
		return nil, usagef("--noise = %s: %d Hz, want 16000", path, w.SampleRate)
	}
	return w.Samples, nil
}
