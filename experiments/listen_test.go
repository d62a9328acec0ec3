package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gle-go/gle/data/speech"
	"github.com/gle-go/gle/listen"
)

// TestScoreDetections: a detection of the right word between its start
// and 1 s after its end is a hit (latency from the end); a second
// detection of a word already found, one too late, and one of a word not
// spoken are false alarms; unknown words are not keywords.
func TestScoreDetections(t *testing.T) {
	words := []Word{{Word: "yes", Start: 1, End: 1.5}, {Word: "no", Start: 3, End: 3.4}, {Word: "_unknown_", Start: 5, End: 5.5}}
	dets := []listen.Detection{{Word: "yes", Time: 1.6}, {Word: "yes", Time: 1.7}, {Word: "no", Time: 4.5}, {Word: "stop", Time: 6}}
	k, hits, fa, lat := scoreDetections(words, []string{"yes", "no", "stop"}, dets)
	if k != 2 || hits != 1 || fa != 3 || len(lat) != 1 || math.Abs(lat[0]-0.1) > 1e-12 {
		t.Errorf("keywords %d, hits %d, false alarms %d, latencies %v; want 2, 1, 3, [0.1]", k, hits, fa, lat)
	}
	// The same word said twice: two hits, each its own latency.
	words = []Word{{Word: "go", Start: 0, End: 0.4}, {Word: "go", Start: 2, End: 2.5}}
	dets = []listen.Detection{{Word: "go", Time: 0.5}, {Word: "go", Time: 2.7}}
	if _, hits, fa, lat := scoreDetections(words, []string{"go"}, dets); hits != 2 || fa != 0 || math.Abs(lat[1]-0.2) > 1e-12 {
		t.Errorf("hits %d, false alarms %d, latencies %v; want 2, 0, [0.1 0.2]", hits, fa, lat)
	}
}

// TestStreamTargets: a word's label from Onset after its start to Tail
// after its end; a word shorter than Onset from its end; silence
// elsewhere.
func TestStreamTargets(t *testing.T) {
	const sil = 9
	steps := int(3 / listen.StepSeconds)
	words := []Word{{Label: 1, Start: 0.5, End: 1}, {Label: 2, Start: 2, End: 2.1}}
	labels := streamTargets(steps, words, sil, 0.15, 0.3)
	for i, l := range labels {
		tt := float64(i) * listen.StepSeconds
		want := sil
		switch {
		case tt >= 0.65-1e-9 && tt < 1.3-1e-9:
			want = 1
		case tt >= 2.1-1e-9 && tt < 2.4-1e-9:
			want = 2
		}
		if l != want {
			t.Fatalf("step %d (%.4f s): label %d, want %d", i, tt, l, want)
		}
	}
}

// corpus is the 10-speaker corpus the speech tests share (TestMain
// removes it).
var corpus struct {
	once sync.Once
	dir  string
	err  error
}

// speechCorpus synthesises a 10-speaker corpus with the project's
// script (espeak-ng, sox) once per test binary.
func speechCorpus(t *testing.T) string {
	t.Helper()
	corpus.once.Do(func() {
		dir, err := os.MkdirTemp("", "gle-corpus")
		if err != nil {
			corpus.err = err
			return
		}
		corpus.dir = filepath.Join(dir, "corpus")
		if out, err := exec.Command("../scripts/make-speech-corpus.sh", corpus.dir, "10").CombinedOutput(); err != nil {
			corpus.err = fmt.Errorf("make-speech-corpus.sh: %w\n%s", err, out)
		}
	})
	if corpus.err != nil {
		t.Fatal(corpus.err)
	}
	return corpus.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if corpus.dir != "" {
		os.RemoveAll(filepath.Dir(corpus.dir))
	}
	os.Exit(code)
}

// TestMakeStream: the words of a noiseless stream lie where their speech
// is — inside the stream, in order, apart — and the stream is silent
// between them.
func TestMakeStream(t *testing.T) {
	o := speech.DefaultOptions()
	o.ListSplit = true
	ds, err := speech.Load(speechCorpus(t), o)
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultStreams()
	c.NoiseLevel = [2]float64{0, 0}
	rng := rand.New(rand.NewPCG(3, 4))
	x, words, err := makeStream(rng, ds, ds.Splits[speech.Train], c)
	if err != nil {
		t.Fatal(err)
	}
	if len(x) != int(c.Seconds*16000) || len(words) < 2 {
		t.Fatalf("%d samples, %d words; want %d samples and at least 2 words", len(x), len(words), int(c.Seconds*16000))
	}
	speaking := make([]bool, len(x))
	for i, w := range words {
		if w.Start < 0 || w.End > c.Seconds || w.End <= w.Start || (i > 0 && w.Start < words[i-1].End+c.Gap[0]-1e-9) {
			t.Fatalf("word %d %+v: want within the stream, after the previous one by at least the gap %g s", i, w, c.Gap[0])
		}
		for j := int(math.Round(w.Start * 16000)); j < int(math.Round(w.End*16000)); j++ {
			speaking[j] = true
		}
		var e float64
		for _, v := range x[int(w.Start*16000):int(w.End*16000)] {
			e = max(e, math.Abs(v))
		}
		if e < c.Level[0]*0.99 {
			t.Errorf("word %d %+v: peak %g, want at least the lowest level %g", i, w, e, c.Level[0])
		}
	}
	for j, v := range x {
		if !speaking[j] && v != 0 {
			t.Fatalf("sample %d (%.3f s) is %g between words of a noiseless stream", j, float64(j)/16000, v)
		}
	}
}

// keywordStepAccuracy runs m over streams of clips (from rest, as a
// Listener) and returns the share of the steps labelled with a keyword
// (Onset 0.15, Tail 0.3) whose largest output is that keyword.
func keywordStepAccuracy(t *testing.T, m *listen.Model, ds *speech.Dataset, clips []speech.Clip) float64 {
	t.Helper()
	streams, err := EvalStreams(ds, clips, 5, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	silence, unknown := slices.Index(m.Labels, speech.SilenceLabel), slices.Index(m.Labels, speech.UnknownLabel)
	var right, all int
	for _, s := range streams {
		l, err := listen.NewListener(m)
		if err != nil {
			t.Fatal(err)
		}
		var argmax []int
		l.Outputs = func(_ float64, out, _ []float64) {
			k := 0
			for j, v := range out {
				if v > out[k] {
					k = j
				}
			}
			argmax = append(argmax, k)
		}
		if err := l.Push(s.X, nil); err != nil {
			t.Fatal(err)
		}
		for i, want := range streamTargets(len(argmax), s.Words, silence, 0.15, 0.3) {
			if want != silence && want != unknown {
				all++
				if argmax[i] == want {
					right++
				}
			}
		}
	}
	return float64(right) / float64(all)
}

// TestListenTrainLearns trains a small keyword network on streams of the
// 10-speaker corpus: the validation loss falls, the detection rule is
// chosen among the grid's, and the saved model loads back whole.
func TestListenTrainLearns(t *testing.T) {
	c := DefaultListen()
	c.Data, c.ListSplit = speechCorpus(t), true
	c.Hidden, c.Epochs, c.Batch, c.Streams, c.ValStreams, c.RuleStreams, c.LR = 32, 8, 16, 64, 16, 2, 1e-3
	c.Stream.Speed = DefaultStreams().Speed // words at several speeds: harder streams, more to learn
	res, err := RunListenTrain(context.Background(), c, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var val []float64
	for _, r := range res.Records {
		if r.Epoch >= 1 && r.ValLoss != nil {
			val = append(val, *r.ValLoss)
		}
	}
	var train []float64
	for _, r := range res.Records {
		if r.Epoch >= 1 && r.TrainLoss != nil {
			train = append(train, *r.TrainLoss)
		}
	}
	t.Logf("training loss per epoch %.3f, validation %.3f; rule %+v", train, val, res.Model.Rule)
	o := speech.DefaultOptions()
	o.ListSplit = true
	ds, err := speech.Load(c.Data, o)
	if err != nil {
		t.Fatal(err)
	}
	c1 := c
	c1.Epochs = 1
	first, err := RunListenTrain(context.Background(), c1, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before, after := keywordStepAccuracy(t, first.Model, ds, ds.Splits[speech.Train]), keywordStepAccuracy(t, res.Model, ds, ds.Splits[speech.Train])
	t.Logf("keyword steps of training streams right: %.3f after 1 epoch, %.3f after %d", before, after, c.Epochs)
	if after < before+0.1 {
		t.Errorf("keyword steps right %.3f after %d epochs, %.3f after 1: want at least 0.1 more", after, c.Epochs, before)
	}
	// Same seed, same model, bit for bit.
	again, err := RunListenTrain(context.Background(), c1, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pa, pf := filepath.Join(t.TempDir(), "again.safetensors"), filepath.Join(t.TempDir(), "first.safetensors")
	if err := errors.Join(again.Model.Save(pa), first.Model.Save(pf)); err != nil {
		t.Fatal(err)
	}
	if a, f := readFile(t, pa), readFile(t, pf); !bytes.Equal(a, f) {
		t.Error("two runs of one seed gave different model files")
	}
	if r := res.Model.Rule; !slices.Contains([]float64{0.05, 0.1, 0.2}, r.Smooth) || r.Off != r.On/2 {
		t.Errorf("rule %+v is not one of ChooseRule's grid", r)
	}
	path := filepath.Join(t.TempDir(), "kw.safetensors")
	if err := res.Model.Save(path); err != nil {
		t.Fatal(err)
	}
	m, err := listen.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rule != res.Model.Rule || !slices.Equal(m.Labels, res.Model.Labels) || m.Window != res.Model.Window || m.Net.NumParams() != res.Model.Net.NumParams() {
		t.Errorf("loaded model %v, saved %v", m, res.Model)
	}
	c.Patience = -1
	if _, err := RunListenTrain(context.Background(), c, RunOptions{}); err == nil {
		t.Error("patience -1 was accepted")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunListenEval: the evaluation on a corpus of its own voices writes
// its table, its records and its figure; one model twice and the same
// call again give the same counts (only the real-time factor, a
// wall-clock measure, may differ); a missing model is refused by name.
func TestRunListenEval(t *testing.T) {
	c := DefaultListen()
	c.Data, c.ListSplit = speechCorpus(t), true
	c.Hidden, c.Epochs, c.Batch, c.Streams, c.ValStreams, c.RuleStreams, c.LR = 16, 1, 16, 16, 8, 2, 1e-3
	res, err := RunListenTrain(context.Background(), c, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kw.safetensors")
	if err := res.Model.Save(path); err != nil {
		t.Fatal(err)
	}
	counts := func(dir string) []ListenMetrics {
		t.Helper()
		if _, err := RunListenEval(context.Background(), []string{path, path}, c.Data, 2, 8, 3, dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"eval.md", "eval.jsonl", "listen.png", "listen.svg"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s not written (%v)", f, err)
			}
		}
		var rows []ListenMetrics
		for _, line := range bytes.Split(bytes.TrimSpace(readFile(t, filepath.Join(dir, "eval.jsonl"))), []byte("\n")) {
			var m ListenMetrics
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			m.RealTime = 0
			rows = append(rows, m)
		}
		return rows
	}
	a, b := counts(t.TempDir()), counts(t.TempDir())
	if len(a) != 2 || a[0] != a[1] || !slices.Equal(a, b) {
		t.Errorf("one model twice and the call again: %+v and %+v", a, b)
	}
	if a[0].Keywords == 0 || a[0].AudioSeconds != 16 {
		t.Errorf("2 streams of 8 s: %+v, want keywords and 16 s of audio", a[0])
	}
	if _, err := RunListenEval(context.Background(), []string{filepath.Join(t.TempDir(), "none.safetensors")}, c.Data, 1, 8, 3, t.TempDir()); err == nil || !strings.Contains(err.Error(), "none.safetensors") {
		t.Errorf("missing model: %v, want an error naming it", err)
	}
}
