package speech

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gle-go/gle/data/audio"
)

// TestHashSplit checks TF1's which_set on known names: the same speaker
// always lands in the same split, and the split sizes follow the
// percentages.
func TestHashSplit(t *testing.T) {
	a := HashSplitOf("yes/0a7c2a8d_nohash_0.wav", 10, 10)
	if b := HashSplitOf("no/0a7c2a8d_nohash_3.wav", 10, 10); a != b {
		t.Errorf("one speaker in two splits: %v, %v", a, b)
	}
	var count [3]int
	for i := range 20000 {
		count[HashSplitOf(filepath.Join("w", string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676))+"_nohash_0.wav"), 10, 10)]++
	}
	for s, c := range count {
		want := []float64{0.8, 0.1, 0.1}[s] * 20000
		if float64(c) < 0.85*want || float64(c) > 1.15*want {
			t.Errorf("%v: %d of 20000, want ≈ %.0f", Split(s), c, want)
		}
	}
}

// tinyCorpus synthesises a small Speech Commands folder with the project's
// script (espeak-ng and sox, installed by scripts/install-deps.sh).
func tinyCorpus(t *testing.T, speakers string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "corpus")
	cmd := exec.Command("../../scripts/make-speech-corpus.sh", dir, speakers)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-speech-corpus.sh: %v\n%s", err, out)
	}
	return dir
}

func TestLoadAndFeaturize(t *testing.T) {
	root := tinyCorpus(t, "5")
	d, err := Load(root, Options{SilencePercent: 10, UnknownPercent: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Labels) != 12 || d.Labels[0] != SilenceLabel || d.Labels[1] != UnknownLabel {
		t.Fatalf("labels %v", d.Labels)
	}
	// 5 speakers: 3 train, 1 validation, 1 test; 10 keywords each, plus 10 %
	// unknown and 10 % silence (rounded up).
	for s, want := range []int{30 + 3 + 3, 10 + 1 + 1, 10 + 1 + 1} {
		if got := len(d.Splits[s]); got != want {
			t.Errorf("%v: %d clips, want %d", Split(s), got, want)
		}
	}
	cache := t.TempDir()
	f, err := Featurize(d.Splits[Train], audio.GSCMel(), 40, cache)
	if err != nil {
		t.Fatal(err)
	}
	if f.N != len(d.Splits[Train]) || f.Frames != 40 || f.Bands != 32 {
		t.Fatalf("features %d×%d×%d", f.N, f.Frames, f.Bands)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "*.npz"))
	if len(files) != 1 {
		t.Fatalf("%d cache files", len(files))
	}
	again, err := Featurize(d.Splits[Train], audio.GSCMel(), 40, cache)
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.X {
		if f.X[i] != again.X[i] {
			t.Fatal("cached features differ")
		}
	}
	words, err := Load(root, Options{Task: "words35"})
	if err != nil {
		t.Fatal(err)
	}
	if len(words.Labels) != 20 {
		t.Errorf("words35 on the corpus: %d labels, want its 20 words", len(words.Labels))
	}
	if _, err := Load(t.TempDir(), Options{}); err == nil {
		t.Error("an empty folder loaded")
	}
	os.Remove(filepath.Join(root, "testing_list.txt"))
	if _, err := Load(root, Options{}); err == nil {
		t.Error("a missing testing_list.txt went unnoticed")
	}
}
