package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/listen"
)

// runListen: `gle listen` — keyword spotting on a live stream (a WAV of
// any length, or raw 16-bit PCM at 16 kHz on standard input).
func runListen(ctx context.Context, args []string, stdout io.Writer) error {
	modelPath := ""
	asJSON, demo := false, false
	files, err := parseFlags("listen", args, func(fs *flag.FlagSet) {
		fs.StringVar(&modelPath, "model", "", "keyword model (.safetensors of gle run listen-train; default: the shipped model)")
		fs.BoolVar(&asJSON, "json", false, "print each detection as a JSON object per line {word, time, confidence}")
		fs.BoolVar(&demo, "demo", false, "synthesise a short stream with espeak-ng and listen to it")
		defineThreads(fs)
	})
	if err != nil {
		return err
	}
	if demo != (len(files) == 0) || len(files) > 1 {
		return usagef("name one stream (a .wav file, or - for raw 16-bit PCM at 16 kHz on standard input), or --demo")
	}
	m, err := listenModel(modelPath)
	if err != nil {
		return err
	}
	var in *audio.PCMReader
	switch {
	case demo:
		path, err := demoStream(ctx, stdout)
		if err != nil {
			return err
		}
		defer os.RemoveAll(filepath.Dir(path))
		files = []string{path}
		fallthrough
	case files[0] != "-":
		fh, err := os.Open(files[0])
		if err != nil {
			return err
		}
		defer fh.Close()
		if in, err = audio.NewWAVReader(fh); err != nil {
			return fmt.Errorf("%s: %w", files[0], err)
		}
	default:
		in = audio.NewPCMReader(os.Stdin, 16000)
	}
	if in.SampleRate != 16000 {
		return fmt.Errorf("%s: %d Hz: the model listens at 16 kHz", files[0], in.SampleRate)
	}
	l, err := listen.NewListener(m)
	if err != nil {
		return err
	}
	live := !asJSON && isTerminal(os.Stdout)
	enc := json.NewEncoder(stdout)
	found := 0
	report := func(d listen.Detection) {
		found++
		if asJSON {
			enc.Encode(d)
			return
		}
		if live {
			fmt.Fprint(stdout, "\r\033[K")
		}
		fmt.Fprintf(stdout, "%8.3f s  %-8s %.2f\n", d.Time, d.Word, d.Confidence)
	}
	if live {
		l.Outputs = liveGuess(stdout, m)
	}
	start := time.Now()
	// The stream is read on its own goroutine, so that a signal ends the
	// run even while standard input waits for more sound; the reader stops
	// with the run (a read already waiting ends with the process).
	type piece struct {
		x   []float64
		err error
	}
	pieces := make(chan piece, 4)
	go func() {
		for {
			buf := make([]float64, 1600) // 0.1 s
			n, err := in.Read(buf)
			select {
			case pieces <- piece{buf[:n], err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
read:
	for {
		select {
		case <-ctx.Done():
			break read
		case p := <-pieces:
			if err := l.Push(p.x, report); err != nil {
				return err
			}
			if p.err == io.EOF {
				break read
			}
			if p.err != nil {
				return p.err
			}
		}
	}
	if !asJSON {
		if live {
			fmt.Fprint(stdout, "\r\033[K")
		}
		fmt.Fprintf(stdout, "%d keyword(s) in %.1f s of audio (%.0f× real time)\n", found, l.Seconds(), l.Seconds()/max(time.Since(start).Seconds(), 1e-9))
	}
	return ctx.Err()
}

// listenModel loads the model at path, or the shipped one.
func listenModel(path string) (*listen.Model, error) {
	if path == "" {
		return listen.Default()
	}
	return listen.LoadModel(path)
}

// liveGuess shows the current best guess on a terminal, ten times a
// second of audio.
func liveGuess(w io.Writer, m *listen.Model) func(t float64, _, smoothed []float64) {
	next := 0.0
	return func(t float64, _, smoothed []float64) {
		if t < next {
			return
		}
		next = t + 0.1
		best := 0
		for k, v := range smoothed {
			if v > smoothed[best] {
				best = k
			}
		}
		fmt.Fprintf(w, "\r%8.1f s  hearing %-10s %.2f \033[K", t, strings.Trim(m.Labels[best], "_"), smoothed[best])
	}
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// demoStream synthesises "yes, house, no, stop, tree, go" with pauses
// (espeak-ng and sox, which scripts/install-deps.sh installs) into a
// temporary folder and returns the WAV's path.
func demoStream(ctx context.Context, stdout io.Writer) (string, error) {
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("--demo needs %s (scripts/install-deps.sh speech installs it): %w", tool, err)
		}
	}
	dir, err := os.MkdirTemp("", "gle-listen-demo")
	if err != nil {
		return "", err
	}
	run := func(name string, args ...string) error {
		if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w: %s", name, err, out)
		}
		return nil
	}
	words := []string{"yes", "house", "no", "stop", "tree", "go"}
	stream := filepath.Join(dir, "demo.wav")
	parts := []string{"-R", "-V1"}
	for i, w := range words {
		raw, part := filepath.Join(dir, fmt.Sprintf("raw%d.wav", i)), filepath.Join(dir, fmt.Sprintf("part%d.wav", i))
		// Each word at 16 kHz mono 16-bit, then 0.8 s of quiet.
		if err := errors.Join(run("espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, w),
			run("sox", "-R", "-V1", raw, "-r", "16000", "-c", "1", "-b", "16", part, "pad", "0", "0.8")); err != nil {
			return "", err
		}
		parts = append(parts, part)
	}
	if err := run("sox", append(parts, stream, "pad", "0.5", "0")...); err != nil {
		return "", err
	}
	fmt.Fprintf(stdout, "demo stream: %s\n", strings.Join(words, ", "))
	return stream, nil
}
