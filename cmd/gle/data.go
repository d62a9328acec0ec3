package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/gle-go/gle/data/mnist1d"
	"github.com/gle-go/gle/data/speech"
	"github.com/gle-go/gle/internal/atomicfile"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
)

func runData(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "speech-split" {
		return runSpeechSplit(ctx, args[1:], stdout)
	}
	if len(args) == 0 || args[0] != "mnist1d" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			_, err := parseFlags("data", args, func(*flag.FlagSet) {})
			return err
		}
		return usagef("name a dataset: mnist1d or speech-split")
	}
	a := mnist1d.DefaultArgs()
	seed := uint64(a.Seed)
	out := "mnist1d.npz"
	var force bool
	if err := parseNoArgs("data mnist1d", args[1:], func(fs *flag.FlagSet) {
		fs.Uint64Var(&seed, "seed", seed, "seed of NumPy's legacy generator (np.random.seed)")
		fs.IntVar(&a.FinalSeqLength, "length", a.FinalSeqLength, "final_seq_length: values per sample")
		fs.IntVar(&a.NumSamples, "samples", a.NumSamples, "num_samples: train + test")
		fs.Float64Var(&a.TrainSplit, "train-split", a.TrainSplit, "fraction of samples in the training set")
		defineCommon(fs, &force)
		fs.StringVar(&out, "out", out, "output .npz: x, y, x_test, y_test, t, templates_x, templates_t")
	}); err != nil {
		return err
	}
	if seed > 1<<32-1 {
		return usagef("--seed = %d: NumPy's legacy seeding takes 0…2³²−1", seed)
	}
	a.Seed = uint32(seed)
	if err := a.Validate(); err != nil {
		return usagef("%v", err)
	}
	if err := runs.CheckOutputs(force, nil, out); err != nil {
		return err
	}
	d, err := mnist1d.Generate(a)
	if err != nil {
		return err
	}
	i64 := func(v []int) []int64 {
		o := make([]int64, len(v))
		for i, x := range v {
			o[i] = int64(x)
		}
		return o
	}
	L := d.Length
	if err := npy.WriteNPZ(out,
		npy.Named{Name: "x", Array: &npy.Array{Shape: []int{d.NumTrain, L}, Float: d.X}},
		npy.Named{Name: "y", Array: &npy.Array{Shape: []int{d.NumTrain}, Int: i64(d.Y)}},
		npy.Named{Name: "x_test", Array: &npy.Array{Shape: []int{d.NumTest, L}, Float: d.XTest}},
		npy.Named{Name: "y_test", Array: &npy.Array{Shape: []int{d.NumTest}, Int: i64(d.YTest)}},
		npy.Named{Name: "t", Array: &npy.Array{Shape: []int{L}, Float: d.T}},
		npy.Named{Name: "templates_x", Array: &npy.Array{Shape: []int{10, 12}, Float: d.TemplatesX}},
		npy.Named{Name: "templates_t", Array: &npy.Array{Shape: []int{12}, Float: d.TemplatesT}},
	); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d train and %d test samples of length %d (seed %d)\n", out, d.NumTrain, d.NumTest, L, a.Seed)
	return ctx.Err()
}

// runSpeechSplit writes the speech experiment's split of a Speech
// Commands folder (SPEC §9): the reference's TF1 hash split, unknown-word
// choice and shuffles, from the file names alone.
func runSpeechSplit(ctx context.Context, args []string, stdout io.Writer) error {
	o := speech.DefaultOptions()
	data, out := "", ""
	var force bool
	var seed string
	if err := parseNoArgs("data speech-split", args, func(fs *flag.FlagSet) {
		fs.StringVar(&data, "data", "", "Speech Commands folder (word folders, _background_noise_); required")
		fs.StringVar(&seed, "seed", "", "the run's seed: Python's random.seed(N) for the unknown-word choice and shuffles (0…2⁶⁴−1); required")
		fs.StringVar(&o.Task, "task", o.Task, "kw12 (10 keywords + unknown + silence) or words35")
		fs.BoolVar(&o.ListSplit, "list-split", false, "validation_list.txt / testing_list.txt instead of the paper's TF1 hash split")
		defineCommon(fs, &force)
		fs.StringVar(&out, "out", "", "output JSON: training, validation, testing (paths relative to --data, in the reference's order) and silence (clips per split); required")
	}); err != nil {
		return err
	}
	if data == "" || out == "" || seed == "" {
		return usagef("want --data, --seed and --out")
	}
	var err error
	if o.Seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
		return usagef("--seed = %q: want an integer in 0…18446744073709551615", seed)
	}
	if o.Task != "kw12" && o.Task != "words35" {
		return usagef("--task = %q: want kw12 or words35", o.Task)
	}
	if st, err := os.Stat(data); err != nil || !st.IsDir() {
		return usagef("--data = %s: not a folder", data)
	}
	if err := runs.CheckOutputs(force, nil, out); err != nil {
		return err
	}
	o.CacheBytes = -1
	d, err := speech.Load(data, o)
	if err != nil {
		return err
	}
	f := d.SplitFile()
	if err := writeJSON(out, f); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: training %d + %d silence, validation %d + %d, testing %d + %d (seed %d, %s split)\n", out,
		len(f.Training), f.Silence["training"], len(f.Validation), f.Silence["validation"], len(f.Testing), f.Silence["testing"],
		o.Seed, map[bool]string{false: "hash", true: "list"}[o.ListSplit])
	return ctx.Err()
}

// writeJSON writes v as indented JSON, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}
