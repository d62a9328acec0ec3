package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gle-go/gle/data/mnist1d"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
)

func runData(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "mnist1d" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			_, err := parseFlags("data", args, func(*flag.FlagSet) {})
			return err
		}
		return usagef("name a dataset: mnist1d")
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
