package experiments

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gle-go/gle/data/audio"
)

// TestSpeechSmallLearns synthesises a 10-speaker corpus with the project's
// script and trains the --small network briefly with the paper's protocol
// (augmented class-balanced draws, per-clip features, epoch 0, the test
// split at the end): validation accuracy must be far above chance (1/12),
// the test split must be evaluated once, after the last epoch, and the
// saved model must predict a clip.
func TestSpeechSmallLearns(t *testing.T) {
	dir := speechCorpus(t)
	c := SmallSpeech()
	c.Data, c.Epochs = dir, 15
	c.ListSplit = true // ten speakers are too few for a hash split with every split populated
	res, err := RunSpeech(context.Background(), c, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eps := res.Epochs()
	var accs []float64
	for _, e := range eps {
		accs = append(accs, *e.ValAcc)
		// Epoch 0 evaluates the training draws and the validation split.
		if (e.TestLoss != nil) != (e.Epoch == c.Epochs) || e.TrainLoss == nil {
			t.Errorf("epoch %d: train %v, test %v: want training metrics in every epoch (epoch 0's from an evaluation), the test only after the last", e.Epoch, e.TrainLoss != nil, e.TestLoss != nil)
		}
	}
	// The validation split holds two speakers' 24 clips: its accuracy
	// jumps from epoch to epoch; the mean of the last five is steadier.
	var late float64
	for _, a := range accs[len(accs)-5:] {
		late += a / 5
	}
	t.Logf("validation accuracy per epoch %.2f (chance 0.083); test %.3f", accs, *eps[len(eps)-1].TestAcc)
	if late < 0.25 {
		t.Errorf("validation accuracy %.3f over the last five of %d epochs, want ≥ 0.25 (3× chance)", late, c.Epochs)
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
