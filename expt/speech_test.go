package expt

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gle-go/gle/data/audio"
)

// TestSpeechSmallLearns synthesises a 10-speaker corpus with the project's
// script and trains the --small network briefly: validation accuracy must
// be far above chance (1/12), and the saved model must predict a clip.
func TestSpeechSmallLearns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "corpus")
	if out, err := exec.Command("../scripts/make-speech-corpus.sh", dir, "10").CombinedOutput(); err != nil {
		t.Fatalf("make-speech-corpus.sh: %v\n%s", err, out)
	}
	c := SmallSpeech()
	c.Data, c.Epochs = dir, 15
	res, err := RunSpeech(context.Background(), c, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	best := 0.0
	eps := res.Epochs()
	for _, e := range eps {
		best = max(best, *e.ValAcc)
	}
	last := *eps[len(eps)-1].ValAcc
	t.Logf("validation accuracy: last %.3f, best %.3f (chance 0.083)", last, best)
	if last < 0.3 {
		t.Errorf("validation accuracy %.3f after %d epochs, want ≥ 0.3", last, c.Epochs)
	}
	path := filepath.Join(t.TempDir(), "model.gob")
	if err := SaveSpeechModel(path, res.Model); err != nil {
		t.Fatal(err)
	}
	m, err := LoadSpeechModel(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := audio.ReadWAVFile(filepath.Join(dir, "yes", "9e3779b1_nohash_0.wav"))
	if err != nil {
		t.Fatal(err)
	}
	label, sums, err := m.PredictClip(w.Samples)
	if err != nil || len(sums) != 12 {
		t.Fatalf("predict: %q %v %v", label, sums, err)
	}
	t.Logf("a training clip of \"yes\" is predicted as %q", label)
}
