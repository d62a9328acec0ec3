package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/data/speech"
	"github.com/gle-go/gle/listen"
)

// listenFixture writes a random keyword model (whose rule fires on the
// stream) and a 6-s stream of gliding tones at 16 kHz; it returns their
// paths and the stream's samples as the WAV holds them.
func listenFixture(t *testing.T) (model, wav string, x []float64) {
	t.Helper()
	dir := t.TempDir()
	s := &gle.Spec{Dt: 0.05, Loss: gle.CE, Seed: 3, Layers: []gle.LayerSpec{
		{In: 32, Out: 24, Phi: gle.Tanh, TauM: gle.Taus{2}, TauR: gle.Taus{0.05}},
		{In: 24, Out: 5, TauM: gle.Taus{4}, TauR: gle.Taus{4}},
	}}
	n, err := gle.NewNetwork(s)
	if err != nil {
		t.Fatal(err)
	}
	// Large output weights make the softmax peaked: the classes take
	// turns as the sound changes, and the rule fires.
	for i := range n.Projs[len(n.Projs)-1].W {
		n.Projs[len(n.Projs)-1].W[i] *= 8
	}
	m := &listen.Model{Net: n, Spec: s, Labels: []string{"_silence_", "_unknown_", "yes", "no", "go"},
		Rule: listen.Rule{Smooth: 0.02, On: 0.6, Off: 0.3, Refractory: 0.1}, Window: speech.DefaultStreamWindow}
	model = filepath.Join(dir, "kw.safetensors")
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	x = make([]float64, 6*16000)
	for i := range x {
		tt := float64(i) / 16000
		f := 300 + 1500*(1+math.Sin(2*math.Pi*0.7*tt))
		x[i] = (0.05 + 0.4*math.Abs(math.Sin(2*math.Pi*0.3*tt))) * math.Sin(2*math.Pi*f*tt)
	}
	wav = filepath.Join(dir, "stream.wav")
	if err := audio.WriteWAV16File(wav, x, 16000); err != nil {
		t.Fatal(err)
	}
	w, err := audio.ReadWAVFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	return model, wav, w.Samples
}

// jsonDetections parses gle listen --json's output: one object per line
// with word, time and confidence.
func jsonDetections(t *testing.T, out string) []listen.Detection {
	t.Helper()
	var ds []listen.Detection
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var d listen.Detection
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&d); err != nil || d.Word == "" {
			t.Fatalf("line %q is not a detection {word, time, confidence}: %v", line, err)
		}
		ds = append(ds, d)
	}
	return ds
}

// TestListenCommand: gle listen reports, from a WAV file and from raw PCM
// on standard input alike, exactly the library Listener's detections
// (--json: one object per line); the readable display ends with a
// summary; bad streams and models are refused naming them.
func TestListenCommand(t *testing.T) {
	model, wav, x := listenFixture(t)
	m, err := listen.LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	l, err := listen.NewListener(m)
	if err != nil {
		t.Fatal(err)
	}
	var want []listen.Detection
	if err := l.Push(x, func(d listen.Detection) { want = append(want, d) }); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("the fixture stream gives no detections")
	}
	code, out, errs := runCLI(t, "listen", "--json", "--model", model, wav)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := jsonDetections(t, out); !slices.Equal(got, want) {
		t.Errorf("from the file: %v\nwant the library's %v", got, want)
	}

	// Raw PCM on standard input, in a separate process.
	pcm := make([]byte, 2*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(math.Round(v*32768))))
	}
	cmd := gleProcess(t, "listen", "--json", "--model", model, "-")
	cmd.Stdin = bytes.NewReader(pcm)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("stdin: %v: %s", err, stderr.String())
	}
	if got := jsonDetections(t, stdout.String()); !slices.Equal(got, want) {
		t.Errorf("from standard input: %v\nwant the library's %v", got, want)
	}

	code, out, errs = runCLI(t, "listen", "--model", model, wav)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != len(want)+1 || !strings.Contains(lines[len(lines)-1], "keyword(s) in 6.0 s of audio") {
		t.Errorf("readable display: exit %d, %q, %s", code, out, errs)
	}

	dir := t.TempDir()
	slow := filepath.Join(dir, "8k.wav")
	if err := audio.WriteWAV16File(slow, x[:8000], 8000); err != nil {
		t.Fatal(err)
	}
	notWav := filepath.Join(dir, "notes.wav")
	os.WriteFile(notWav, []byte("not a wave file at all"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--model", model, filepath.Join(dir, "missing.wav")}, 1, "missing.wav"},
		{[]string{"--model", model, slow}, 1, "8000 Hz: the model listens at 16 kHz"},
		{[]string{"--model", model, notWav}, 1, "notes.wav"},
		{[]string{"--model", filepath.Join(dir, "none.safetensors"), wav}, 1, "none.safetensors"},
		{[]string{"--model", model}, 2, "name one stream"},
		{[]string{"--model", model, wav, wav}, 2, "name one stream"},
	} {
		code, _, errs := runCLI(t, append([]string{"listen"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Contains(errs, "goroutine") {
			t.Errorf("gle listen %v: exit %d, %q; want exit %d and a message with %q", c.args, code, errs, c.code, c.want)
		}
	}
}

// TestListenStopsOnSignal: gle listen on standard input that stays open
// (a microphone) ends cleanly on SIGTERM — the detections so far
// printed, exit 143 — even while it waits for more sound.
func TestListenStopsOnSignal(t *testing.T) {
	model, _, x := listenFixture(t)
	cmd := gleProcess(t, "listen", "--json", "--model", model, "-")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pcm := make([]byte, 2*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint16(pcm[2*i:], uint16(int16(math.Round(v*32768))))
	}
	in.Write(pcm) // the stream goes on: standard input stays open
	first, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no detection before the signal: %v: %s", err, stderr.String())
	}
	jsonDetections(t, first)
	time.Sleep(200 * time.Millisecond) // it now waits for more sound
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 143 || !strings.Contains(stderr.String(), "stopped by SIGTERM") {
			t.Errorf("after SIGTERM: %v, %q; want exit 143 and \"stopped by SIGTERM\"", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("gle listen did not end within 10 s of SIGTERM while waiting on standard input")
	}
	in.Close()
}
