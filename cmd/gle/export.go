package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/internal/runs"
	"github.com/gle-go/gle/npy"
	"github.com/gle-go/gle/safetensors"
)

// runExport writes a network's parameters as safetensors or npz.
func runExport(ctx context.Context, args []string, stdout io.Writer) error {
	var specPath, params, format, out string
	var force bool
	if err := parseNoArgs("export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&specPath, "spec", "", "network spec, either form (e.g. written by gle train --save-spec); required")
		fs.StringVar(&params, "params", "", "load the parameters from this .safetensors first")
		fs.StringVar(&format, "format", "", "safetensors or npz (default: from the extension of --out)")
		fs.StringVar(&out, "out", "", "output file, .safetensors or .npz; required")
		defineCommon(fs, &force)
	}); err != nil {
		return err
	}
	if specPath == "" || out == "" {
		return usagef("--spec and --out are required")
	}
	ext := strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
	switch {
	case format == "" && (ext == "safetensors" || ext == "npz"):
		format = ext
	case format == "":
		return usagef("--out %s: name a .safetensors or .npz file, or give --format", out)
	case format != "safetensors" && format != "npz":
		return usagef("--format %q: want safetensors or npz", format)
	case ext != format && (ext == "safetensors" || ext == "npz"):
		return usagef("--format %s does not match the extension of --out %s", format, out)
	}
	if err := runs.CheckOutputs(force, []string{specPath, params}, out); err != nil {
		return err
	}
	spec, err := safetensors.LoadSpec(specPath)
	if err != nil {
		return err
	}
	net, err := gle.NewNetwork(spec)
	if err != nil {
		return err
	}
	if params != "" {
		if err := safetensors.LoadInto(params, net); err != nil {
			return err
		}
	}
	if format == "safetensors" {
		err = safetensors.Save(out, net, spec)
	} else {
		var arrs []npy.Named
		for _, t := range net.Tensors() {
			arrs = append(arrs, npy.Named{Name: t.Name, Array: &npy.Array{Shape: t.Shape, Float: t.Data}})
		}
		err = npy.WriteNPZ(out, arrs...)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s, %d tensors, %d parameters of which %d learn)\n", out, format, len(net.Tensors()), countParams(net), net.NumParams())
	return ctx.Err()
}

// countParams returns the number of parameter values of n.
func countParams(n *gle.Network) int {
	var c int
	for _, t := range n.Tensors() {
		c += len(t.Data)
	}
	return c
}
