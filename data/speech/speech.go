// Package speech is the Google Speech Commands experiment's input
// pipeline, the reference's protocol of SPEC §9 point by point:
//
//   - the dataset (Load, FromFiles): every word/…_nohash_….wav file of the
//     standard layout, split by TF1's which_set hash (or, as an option,
//     by validation_list.txt / testing_list.txt), the reference's
//     unknown-word choice and shuffles with Python's random seeded by the
//     run's seed (bit-exact, internal/pyrandom), then silence clips;
//   - a clip's features (Dataset.Features, ClipFeatures, Frontend): the
//     unpadded waveform, the training augmentation with its random choices
//     explicit (Augmentation, DrawAugmentation: background noise mixed at
//     an SNR, then a time shift), the log-mel of §10, per-clip
//     normalisation and linear interpolation ×20 along time;
//   - what a class-balanced sampler needs (Dataset.ClassCounts,
//     Dataset.SampleWeights).
//
// Batching, sampling and training are the run driver's. The older
// pipeline (Featurize: 40 frames of a clip padded to 1 s, global
// normalisation, cached on disk) stays for experiments.RunSpeech.
package speech

import (
	"bufio"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/internal/errs"
	"github.com/gle-go/gle/internal/pyrandom"
)

// Keywords are the ten words of the kw12 task, in the reference's order.
var Keywords = []string{"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}

// The two extra labels: kw12's labels are UnknownLabel, SilenceLabel,
// then the Keywords (the reference's order); words35's are the word
// folders in sorted order, then SilenceLabel.
const (
	UnknownLabel = "_unknown_"
	SilenceLabel = "_silence_"
)

// BackgroundNoiseDir is the folder of noise recordings (not a word).
const BackgroundNoiseDir = "_background_noise_"

// Split names a part of the dataset.
type Split int

// The three splits.
const (
	Train Split = iota
	Validation
	Test
)

// String returns the reference's name of the split: training,
// validation, testing.
func (s Split) String() string {
	if s < Train || s > Test {
		return fmt.Sprintf("Split(%d)", int(s))
	}
	return [...]string{"training", "validation", "testing"}[s]
}

// SplitOrder is the order in which the reference processes the splits
// (every loop over the splits below follows it).
var SplitOrder = [3]Split{Validation, Test, Train}

// Options configure Load and FromFiles. DefaultOptions is the paper's
// protocol; the zero value of a field is not its default.
type Options struct {
	// Task is "kw12" (the ten keywords, unknown words, silence) or
	// "words35" (every word folder a class, and silence).
	Task string
	// Seed seeds Python's random for the unknown-word choice and the
	// shuffles (random.seed(Seed)).
	Seed uint64
	// ListSplit assigns files by validation_list.txt and testing_list.txt
	// (the rest to training) instead of TF1's hash split.
	ListSplit bool
	// ValidationList and TestingList are the list split's relative
	// paths; nil makes Load read them from the two files.
	ValidationList, TestingList []string
	// ValidationPercent and TestPercent are which_set's percentages
	// (hash split).
	ValidationPercent, TestPercent float64
	// UnknownPercent (kw12): each split keeps ceil(keywords · p / 100) of
	// its unknown-word files.
	UnknownPercent float64
	// SilencePercent: floor(length · p / 100) silence clips are appended
	// to each split.
	SilencePercent float64
	// SilenceFromNoise (an older behaviour) cuts each silence clip from a
	// random place of a random background-noise file at a random volume
	// (uniform in [0, 1)) instead of the reference's constant 1e-9 clip;
	// it reads the noise files' lengths and draws from its own generator
	// (PCG seeded Seed), so the split itself does not change.
	SilenceFromNoise bool
	// CacheBytes bounds the memory of the caches of deterministic data
	// (noise recordings, the unaugmented features of clips); 0 means
	// DefaultCacheBytes, a negative value no cache.
	CacheBytes int64
}

// DefaultCacheBytes is the default bound of a Dataset's caches: enough
// for the unaugmented features of the full dataset's validation and test
// splits (≈ 20,000 clips × 32 × 41 values) and the noise recordings.
const DefaultCacheBytes = 512 << 20

// DefaultOptions returns the paper's protocol: kw12, TF1 hash split with
// 10 % validation and 10 % test, 10 % unknown words, 10 % silence.
func DefaultOptions() Options {
	return Options{Task: "kw12", ValidationPercent: 10, TestPercent: 10, UnknownPercent: 10, SilencePercent: 10}
}

func (o *Options) validate() error {
	bad := func(field string, v any, why string) error {
		return errs.Field(errs.ErrInvalid, "speech."+field, v, "%s", why)
	}
	if o.Task != "kw12" && o.Task != "words35" {
		return bad("task", fmt.Sprintf("%q", o.Task), "want kw12 or words35")
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"validation_percent", o.ValidationPercent}, {"test_percent", o.TestPercent}, {"unknown_percent", o.UnknownPercent}, {"silence_percent", o.SilencePercent}} {
		if !(p.v >= 0 && p.v <= 100) {
			return bad(p.name, p.v, "want a percentage in 0…100")
		}
	}
	if o.ValidationPercent+o.TestPercent > 100 {
		return bad("validation_percent+test_percent", o.ValidationPercent+o.TestPercent, "want at most 100")
	}
	return nil
}

// Clip is one example: a WAV file, or (Path empty) a silence clip.
type Clip struct {
	Path  string // the file (Root joined with Rel); "" for silence
	Rel   string // the path relative to the dataset folder, word/name.wav, with slashes
	Label int
	// The older silence (Options.SilenceFromNoise): cut from the noise
	// file Noise at Offset samples, scaled by Volume. Empty Noise: the
	// reference's constant clip.
	Noise  string
	Offset int
	Volume float64
}

// IsSilence reports whether c is a silence clip.
func (c Clip) IsSilence() bool { return c.Path == "" }

// Dataset lists the clips of each split in the reference's order, and
// computes their features (Features), with caches of what is
// deterministic. Its methods are safe for concurrent use.
type Dataset struct {
	Root   string
	Labels []string
	// Splits holds each split's clips: the shuffled word files, then
	// Silence[s] silence clips at the end.
	Splits  [3][]Clip
	Silence [3]int
	// Noises are the background-noise recordings (sorted paths), the
	// files Augmentation.Noise indexes.
	Noises []string

	cache *cache
}

// maxWavsPerClass is TF1's MAX_NUM_WAVS_PER_CLASS (2²⁷ − 1).
const maxWavsPerClass = 1<<27 - 1

// hashName is the part of a file's base name which_set hashes: the name
// without everything from the first "_nohash_" on (TF1's
// re.sub(r'_nohash_.*$', ”, base_name)), so one speaker's clips share a
// split.
func hashName(file string) string {
	name := path.Base(filepath.ToSlash(file))
	if i := strings.Index(name, "_nohash_"); i >= 0 {
		name = name[:i]
	}
	return name
}

// HashSplitOf is TF1's which_set: h = the SHA-1 of the base name without
// its _nohash_ suffix, read as a big-endian integer; p = (h mod 2²⁷) ·
// (100 / (2²⁷ − 1)); validation if p < valPercent, else testing if
// p < valPercent + testPercent, else training.
func HashSplitOf(file string, valPercent, testPercent float64) Split {
	sum := sha1.Sum([]byte(hashName(file)))
	// h mod 2²⁷ is the digest's last 27 bits: the last four bytes, most
	// significant first.
	v := binary.BigEndian.Uint32(sum[16:]) & maxWavsPerClass
	p := float64(v) * (100.0 / maxWavsPerClass)
	switch {
	case p < valPercent:
		return Validation
	case p < valPercent+testPercent:
		return Test
	}
	return Train
}

// readList reads a list file (one relative path a line).
func readList(file string) ([]string, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var list []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			list = append(list, filepath.ToSlash(line))
		}
	}
	return list, sc.Err()
}

// ListFiles returns the dataset's clip files as the reference globs them:
// every word/name.wav with "_nohash_" in its name, in a folder other than
// _background_noise_, as paths relative to root with slashes, sorted as
// strings; and the background-noise recordings (_background_noise_/*.wav,
// full paths, sorted). Hidden folders and files (a leading '.') are
// skipped, as Python's glob skips them. Only names are read: no file is
// opened.
func ListFiles(root string) (files, noises []string, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("speech: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !e.IsDir() {
			if e.Type()&os.ModeSymlink == 0 {
				continue
			}
			if st, err := os.Stat(filepath.Join(root, name)); err != nil || !st.IsDir() {
				continue
			}
		}
		dir, err := os.Open(filepath.Join(root, name))
		if err != nil {
			return nil, nil, fmt.Errorf("speech: %w", err)
		}
		names, err := dir.Readdirnames(-1)
		dir.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("speech: %w", err)
		}
		for _, f := range names {
			if strings.HasPrefix(f, ".") || !strings.HasSuffix(f, ".wav") {
				continue
			}
			if name == BackgroundNoiseDir {
				noises = append(noises, filepath.Join(root, name, f))
			} else if strings.Contains(f, "_nohash_") {
				files = append(files, name+"/"+f)
			}
		}
	}
	slices.Sort(files)
	slices.Sort(noises)
	return files, noises, nil
}

// Load lists root's files (ListFiles; names only, no WAV is decoded
// unless Options.SilenceFromNoise) and splits them (FromFiles).
func Load(root string, o Options) (*Dataset, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	files, noises, err := ListFiles(root)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("speech: %s has no word/*_nohash_*.wav files: is it a Speech Commands folder?", root)
	}
	if o.ListSplit && o.ValidationList == nil && o.TestingList == nil {
		if o.ValidationList, err = readList(filepath.Join(root, "validation_list.txt")); err != nil {
			return nil, fmt.Errorf("speech: %w (the list split needs it; the default hash split does not)", err)
		}
		if o.TestingList, err = readList(filepath.Join(root, "testing_list.txt")); err != nil {
			return nil, fmt.Errorf("speech: %w (the list split needs it; the default hash split does not)", err)
		}
	}
	d, err := FromFiles(root, files, o)
	if err != nil {
		return nil, err
	}
	d.Noises = noises
	if o.SilenceFromNoise {
		if err := d.silenceFromNoise(o.Seed); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// FromFiles builds the dataset from its clip files (paths relative to
// root, word/name.wav, with slashes), as the reference does (SPEC §9,
// Split):
//
//  0. the files are sorted as strings (a sorted copy: files is not
//     changed);
//  1. each file goes to a split by HashSplitOf (or by the lists); kw12
//     files of the Keywords (the folder name lower-cased) are keyword
//     files, the others unknown-word files;
//  2. with r = Python's random seeded Seed, for each split in the order
//     validation, testing, training: r.shuffle(that split's unknown
//     files), then append the first ceil(keywords · UnknownPercent / 100)
//     of them to the split;
//  3. r.shuffle(each split's list), in the same order;
//  4. append floor(length · SilencePercent / 100) silence clips to each
//     split.
//
// Nothing is read from disk; Noises is empty (Load fills it).
func FromFiles(root string, files []string, o Options) (*Dataset, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	d := &Dataset{Root: root}
	files = slices.Clone(files)
	slices.Sort(files)
	var words []string
	for _, f := range files {
		w, _, ok := strings.Cut(f, "/")
		if !ok || w == "" {
			return nil, errs.Field(errs.ErrInvalid, "speech.files", fmt.Sprintf("%q", f), "want word/name.wav")
		}
		w = strings.ToLower(w)
		if w == UnknownLabel || w == SilenceLabel {
			return nil, errs.Field(errs.ErrInvalid, "speech.files", fmt.Sprintf("%q", f), "a word folder named %s would clash with that label", w)
		}
		words = append(words, w)
	}
	index := map[string]int{}
	if o.Task == "kw12" {
		d.Labels = slices.Concat([]string{UnknownLabel, SilenceLabel}, Keywords)
	} else {
		all := slices.Clone(words)
		slices.Sort(all)
		d.Labels = append(slices.Compact(all), SilenceLabel)
	}
	for i, l := range d.Labels {
		index[l] = i
	}
	var listed map[string]Split
	if o.ListSplit {
		listed = map[string]Split{}
		for _, f := range o.TestingList {
			listed[f] = Test
		}
		for _, f := range o.ValidationList { // a file on both lists validates, as TF1's list reading does
			listed[f] = Validation
		}
	}
	var unknown [3][]Clip
	for i, f := range files {
		s := Train
		if o.ListSplit {
			if ls, ok := listed[f]; ok {
				s = ls
			}
		} else {
			s = HashSplitOf(f, o.ValidationPercent, o.TestPercent)
		}
		c := Clip{Path: filepath.Join(root, filepath.FromSlash(f)), Rel: f}
		if l, ok := index[words[i]]; ok {
			c.Label = l
			d.Splits[s] = append(d.Splits[s], c)
		} else {
			c.Label = index[UnknownLabel]
			unknown[s] = append(unknown[s], c)
		}
	}
	r := pyrandom.New(o.Seed)
	for _, s := range SplitOrder {
		u := unknown[s]
		r.Shuffle(len(u), func(i, j int) { u[i], u[j] = u[j], u[i] })
		n := int(math.Ceil(float64(len(d.Splits[s])) * o.UnknownPercent / 100))
		d.Splits[s] = append(d.Splits[s], u[:min(n, len(u))]...)
	}
	for _, s := range SplitOrder {
		l := d.Splits[s]
		r.Shuffle(len(l), func(i, j int) { l[i], l[j] = l[j], l[i] })
	}
	for _, s := range SplitOrder {
		n := int(math.Floor(float64(len(d.Splits[s])) * o.SilencePercent / 100))
		d.Silence[s] = n
		for range n {
			d.Splits[s] = append(d.Splits[s], Clip{Label: index[SilenceLabel]})
		}
	}
	for _, s := range SplitOrder {
		// A hash split asked for no validation or test share leaves that
		// split empty on purpose (a corpus used whole, for evaluation).
		unasked := !o.ListSplit && ((s == Validation && o.ValidationPercent == 0) || (s == Test && o.TestPercent == 0))
		if len(d.Splits[s]) == 0 && !unasked {
			return nil, fmt.Errorf("speech: the %v split of %s is empty (%d files)", s, root, len(files))
		}
	}
	bytes := o.CacheBytes
	if bytes == 0 {
		bytes = DefaultCacheBytes
	}
	d.cache = newCache(bytes)
	return d, nil
}

// silenceFromNoise gives each silence clip a segment of a random noise
// file at a random volume (Options.SilenceFromNoise).
func (d *Dataset) silenceFromNoise(seed uint64) error {
	if len(d.Noises) == 0 {
		return fmt.Errorf("speech: silence from noise: %s has no %s/*.wav", d.Root, BackgroundNoiseDir)
	}
	lens := make([]int, len(d.Noises))
	for i, f := range d.Noises {
		w, err := audio.ReadWAVFile(f)
		if err != nil {
			return fmt.Errorf("speech: background noise: %w", err)
		}
		if len(w.Samples) < ClipSamples {
			return fmt.Errorf("speech: background noise %s has %d samples, fewer than a 1-s clip's %d", f, len(w.Samples), ClipSamples)
		}
		lens[i] = len(w.Samples)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eec))
	for _, s := range SplitOrder {
		for i := range d.Splits[s] {
			c := &d.Splits[s][i]
			if c.IsSilence() {
				k := rng.IntN(len(d.Noises))
				c.Noise, c.Offset, c.Volume = d.Noises[k], rng.IntN(lens[k]-ClipSamples+1), rng.Float64()
			}
		}
	}
	return nil
}

// ClassCounts returns the number of clips of each label in split s.
func (d *Dataset) ClassCounts(s Split) []int {
	counts := make([]int, len(d.Labels))
	for _, c := range d.Splits[s] {
		counts[c.Label]++
	}
	return counts
}

// SampleWeights returns the class-balanced sampling weight of each clip
// of split s, in order: w_i = N / count(label_i), N the split's length
// (the reference's weights for sampling with replacement; every class
// then carries the same total weight N).
func (d *Dataset) SampleWeights(s Split) []float64 {
	counts := d.ClassCounts(s)
	n := float64(len(d.Splits[s]))
	w := make([]float64, len(d.Splits[s]))
	for i, c := range d.Splits[s] {
		w[i] = n / float64(counts[c.Label])
	}
	return w
}

// SplitFile is the split as `gle data speech-split` writes it: each
// split's files (relative paths, the reference's order) and the number of
// silence clips appended to each.
type SplitFile struct {
	Training   []string       `json:"training"`
	Validation []string       `json:"validation"`
	Testing    []string       `json:"testing"`
	Silence    map[string]int `json:"silence"`
}

// SplitFile returns the split's files and silence counts.
func (d *Dataset) SplitFile() SplitFile {
	f := SplitFile{Silence: map[string]int{}}
	dst := [3]*[]string{&f.Training, &f.Validation, &f.Testing}
	for _, s := range SplitOrder {
		*dst[s] = []string{}
		for _, c := range d.Splits[s] {
			if !c.IsSilence() {
				*dst[s] = append(*dst[s], c.Rel)
			}
		}
		f.Silence[s.String()] = d.Silence[s]
	}
	return f
}
