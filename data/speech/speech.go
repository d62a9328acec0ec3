// Package speech loads Google Speech Commands from its standard on-disk
// layout (a folder per word, validation_list.txt, testing_list.txt,
// _background_noise_) for the 12-class keyword task (kw12: ten keywords,
// unknown words, silence cut from the background noise) or the full
// 35-word task, and turns each clip into log-mel features, cached on disk.
package speech

import (
	"bufio"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/gle-go/gle/data/audio"
)

// Keywords are the ten words of the kw12 task.
var Keywords = []string{"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}

// The two extra kw12 labels.
const (
	SilenceLabel = "_silence_"
	UnknownLabel = "_unknown_"
)

// Split names a part of the dataset.
type Split int

// The three splits.
const (
	Train Split = iota
	Validation
	Test
)

func (s Split) String() string { return [...]string{"train", "validation", "test"}[s] }

// Options configure Load.
type Options struct {
	// Task is "kw12" (default) or "words35" (every word folder a class).
	Task string
	// HashSplit assigns clips by the TF1 hash of their speaker
	// (validation and test percentages below) instead of the lists.
	HashSplit                      bool
	ValidationPercent, TestPercent float64 // default 10, 10
	// SilencePercent and UnknownPercent (kw12) add silence clips and keep
	// unknown-word clips, each as a percentage of a split's keyword clips
	// (TF1 defaults 10, 10).
	SilencePercent, UnknownPercent float64
	Seed                           uint64 // unknown-word choice, silence segments
}

// Clip is one example: a WAV file, or (Path empty) a silence segment cut
// from a background-noise file at Offset samples, scaled by Volume.
type Clip struct {
	Path   string
	Label  int
	Noise  string
	Offset int
	Volume float64
}

// Dataset lists the clips of each split.
type Dataset struct {
	Root   string
	Labels []string
	Splits [3][]Clip
}

// hashRE strips the per-utterance suffix, so one speaker's clips share a
// split.
var hashRE = regexp.MustCompile(`_nohash_.*$`)

// maxWavsPerClass is TF1's constant for the hash split.
const maxWavsPerClass = 1<<27 - 1

// HashSplitOf is TF1's which_set: the SHA-1 of the file name without its
// _nohash_ suffix, taken modulo 2²⁷, as a percentage.
func HashSplitOf(file string, valPercent, testPercent float64) Split {
	name := hashRE.ReplaceAllString(filepath.Base(file), "")
	sum := sha1.Sum([]byte(name))
	// int(hex digest, 16) mod 2²⁷ is the digest's last 27 bits.
	v := binary.BigEndian.Uint32(sum[16:]) & (1<<27 - 1)
	p := float64(v%(maxWavsPerClass+1)) * (100.0 / maxWavsPerClass)
	switch {
	case p < valPercent:
		return Validation
	case p < valPercent+testPercent:
		return Test
	}
	return Train
}

func readList(path string) (map[string]bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	set := map[string]bool{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			set[filepath.ToSlash(line)] = true
		}
	}
	return set, sc.Err()
}

// Load scans root and assigns every clip to a split.
func Load(root string, o Options) (*Dataset, error) {
	if o.Task == "" {
		o.Task = "kw12"
	}
	if o.Task != "kw12" && o.Task != "words35" {
		return nil, fmt.Errorf("speech: task %q: want kw12 or words35", o.Task)
	}
	if o.ValidationPercent == 0 && o.TestPercent == 0 {
		o.ValidationPercent, o.TestPercent = 10, 10
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("speech: %w", err)
	}
	var words []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), "_") && !strings.HasPrefix(e.Name(), ".") {
			words = append(words, e.Name())
		}
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("speech: %s has no word folders: is it a Speech Commands folder?", root)
	}
	var val, test map[string]bool
	if !o.HashSplit {
		if val, err = readList(filepath.Join(root, "validation_list.txt")); err != nil {
			return nil, fmt.Errorf("speech: %w (or use the hash split)", err)
		}
		if test, err = readList(filepath.Join(root, "testing_list.txt")); err != nil {
			return nil, fmt.Errorf("speech: %w (or use the hash split)", err)
		}
	}
	d := &Dataset{Root: root}
	index := map[string]int{}
	if o.Task == "kw12" {
		d.Labels = slices.Concat([]string{SilenceLabel, UnknownLabel}, Keywords)
	} else {
		d.Labels = words
	}
	for i, l := range d.Labels {
		index[l] = i
	}
	var unknown [3][]Clip
	for _, w := range words {
		files, err := filepath.Glob(filepath.Join(root, w, "*.wav"))
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		for _, f := range files {
			rel := w + "/" + filepath.Base(f)
			split := Train
			switch {
			case o.HashSplit:
				split = HashSplitOf(rel, o.ValidationPercent, o.TestPercent)
			case val[rel]:
				split = Validation
			case test[rel]:
				split = Test
			}
			if l, ok := index[w]; ok {
				d.Splits[split] = append(d.Splits[split], Clip{Path: f, Label: l})
			} else {
				unknown[split] = append(unknown[split], Clip{Path: f, Label: index[UnknownLabel]})
			}
		}
	}
	if o.Task == "kw12" {
		if err := d.addUnknownAndSilence(unknown, o); err != nil {
			return nil, err
		}
	}
	for s, clips := range d.Splits {
		if len(clips) == 0 {
			return nil, fmt.Errorf("speech: the %v split of %s is empty", Split(s), root)
		}
	}
	return d, nil
}

// addUnknownAndSilence keeps UnknownPercent % (of the keyword clips) of the
// unknown words of each split and adds SilencePercent % silence clips cut
// from random places of the background-noise files at a random volume.
func (d *Dataset) addUnknownAndSilence(unknown [3][]Clip, o Options) error {
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eec))
	noises, _ := filepath.Glob(filepath.Join(d.Root, "_background_noise_", "*.wav"))
	slices.Sort(noises)
	noiseLen := make([]int, len(noises))
	for i, f := range noises {
		w, err := audio.ReadWAVFile(f)
		if err != nil {
			return fmt.Errorf("speech: background noise: %w", err)
		}
		if len(w.Samples) < ClipSamples {
			return fmt.Errorf("speech: background noise %s is shorter than 1 s", f)
		}
		noiseLen[i] = len(w.Samples)
	}
	for s := range d.Splits {
		n := len(d.Splits[s])
		u := unknown[s]
		rng.Shuffle(len(u), func(i, j int) { u[i], u[j] = u[j], u[i] })
		d.Splits[s] = append(d.Splits[s], u[:min(len(u), int(math.Ceil(float64(n)*o.UnknownPercent/100)))]...)
		for range int(math.Ceil(float64(n) * o.SilencePercent / 100)) {
			c := Clip{Label: 0, Volume: rng.Float64()}
			if len(noises) > 0 {
				k := rng.IntN(len(noises))
				c.Noise, c.Offset = noises[k], rng.IntN(noiseLen[k]-ClipSamples+1)
			}
			d.Splits[s] = append(d.Splits[s], c)
		}
	}
	return nil
}

// ClipSamples is the length clips are padded or cropped to: 1 s at 16 kHz.
const ClipSamples = 16000

// Samples returns the clip's waveform, padded with zeros or cropped to
// 1 s. The files must be 16 kHz.
func (c Clip) Samples() ([]float64, error) {
	path := c.Path
	if path == "" {
		if c.Noise == "" {
			return make([]float64, ClipSamples), nil
		}
		path = c.Noise
	}
	w, err := audio.ReadWAVFile(path)
	if err != nil {
		return nil, err
	}
	if w.SampleRate != 16000 {
		return nil, fmt.Errorf("speech: %s is %d Hz, want 16000 (resample it first)", path, w.SampleRate)
	}
	out := make([]float64, ClipSamples)
	if c.Path == "" {
		copy(out, w.Samples[c.Offset:])
		for i := range out {
			out[i] *= c.Volume
		}
		return out, nil
	}
	copy(out, w.Samples)
	return out, nil
}
