package main

/*
#include <stdint.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/data/audio"
	"github.com/gle-go/gle/data/mnist1d"
)

// bundle is a set of named arrays (gradients, traces, datasets).
type bundle struct {
	names  []string
	arrays map[string]*array
}

type array struct {
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
	f     []float64
	i     []int64
}

func (b *bundle) addF(name string, shape []int, x []float64) {
	if b.arrays == nil {
		b.arrays = map[string]*array{}
	}
	b.names = append(b.names, name)
	b.arrays[name] = &array{Shape: shape, DType: "float64", f: x}
}

func (b *bundle) addI(name string, shape []int, x []int) {
	v := make([]int64, len(x))
	for k, e := range x {
		v[k] = int64(e)
	}
	if b.arrays == nil {
		b.arrays = map[string]*array{}
	}
	b.names = append(b.names, name)
	b.arrays[name] = &array{Shape: shape, DType: "int64", i: v}
}

//export gle_bundle_info
func gle_bundle_info(h C.int64_t, info **C.char) *C.char {
	return guard(func() error {
		b, err := lookup[*bundle](h)
		if err != nil {
			return err
		}
		return setJSON(info, map[string]any{"names": b.names, "arrays": b.arrays})
	})
}

//export gle_bundle_get
func gle_bundle_get(h C.int64_t, name *C.char, dst unsafe.Pointer, n C.int64_t) *C.char {
	return guard(func() error {
		b, err := lookup[*bundle](h)
		if err != nil {
			return err
		}
		a := b.arrays[C.GoString(name)]
		if a == nil {
			return &gle.FieldError{Field: "array", Value: C.GoString(name), Why: "not in the bundle", Err: gle.ErrUnknownName}
		}
		if a.f != nil {
			if int(n) != len(a.f) {
				return fmt.Errorf("%w: %d values, the buffer %d", gle.ErrShape, len(a.f), n)
			}
			copy(unsafe.Slice((*float64)(dst), int(n)), a.f)
			return nil
		}
		if int(n) != len(a.i) {
			return fmt.Errorf("%w: %d values, the buffer %d", gle.ErrShape, len(a.i), n)
		}
		copy(unsafe.Slice((*int64)(dst), int(n)), a.i)
		return nil
	})
}

//export gle_mnist1d
func gle_mnist1d(seed, length, samples C.int64_t, trainSplit C.double, out *C.int64_t) *C.char {
	return guard(func() error {
		a := mnist1d.DefaultArgs()
		if seed < 0 || seed > 1<<32-1 {
			return &gle.FieldError{Field: "seed", Value: int64(seed), Why: "NumPy's legacy seeding takes 0…2³²−1", Err: gle.ErrInvalid}
		}
		a.Seed, a.FinalSeqLength, a.NumSamples, a.TrainSplit = uint32(seed), int(length), int(samples), float64(trainSplit)
		if err := a.Validate(); err != nil {
			return err
		}
		ds, err := mnist1d.Generate(a)
		if err != nil {
			return err
		}
		var b bundle
		b.addF("x", []int{ds.NumTrain, ds.Length}, ds.X)
		b.addI("y", []int{ds.NumTrain}, ds.Y)
		b.addF("x_test", []int{ds.NumTest, ds.Length}, ds.XTest)
		b.addI("y_test", []int{ds.NumTest}, ds.YTest)
		b.addF("t", []int{len(ds.T)}, ds.T)
		b.addF("templates_x", []int{10, len(ds.TemplatesT)}, ds.TemplatesX)
		b.addF("templates_t", []int{len(ds.TemplatesT)}, ds.TemplatesT)
		*out = C.int64_t(store(&b))
		return nil
	})
}

//export gle_logmel
func gle_logmel(samples *C.double, n C.int64_t, path *C.char, rate, nfft, hop, nmels C.int64_t, fmin, fmax C.double, out *C.int64_t) *C.char {
	return guard(func() error {
		x := floats(samples, n)
		sr := int(rate)
		if p := C.GoString(path); p != "" {
			w, err := audio.ReadWAVFile(p)
			if err != nil {
				return err
			}
			x, sr = w.Samples, w.SampleRate
		}
		if len(x) == 0 {
			return fmt.Errorf("%w: no samples", gle.ErrShape)
		}
		p := audio.MelParams{SampleRate: sr, NFFT: int(nfft), Hop: int(hop), NMels: int(nmels), FMin: float64(fmin), FMax: float64(fmax)}
		m, err := p.LogMel(x)
		if err != nil {
			return err
		}
		var b bundle
		b.addF("logmel", []int{p.NMels, p.Frames(len(x))}, m)
		*out = C.int64_t(store(&b))
		return nil
	})
}
