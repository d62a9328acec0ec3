package main

/*
#include <stdint.h>
*/
import "C"

import (
	"github.com/gle-go/gle/listen"
)

// gle_listen_new returns a listener of the keyword model at path (the
// shipped model when path is empty), at the start of a stream.
//
//export gle_listen_new
func gle_listen_new(path *C.char, out *C.int64_t) *C.char {
	return guard(func() error {
		var m *listen.Model
		var err error
		if p := C.GoString(path); p == "" {
			m, err = listen.Default()
		} else {
			m, err = listen.LoadModel(p)
		}
		if err != nil {
			return err
		}
		l, err := listen.NewListener(m)
		if err != nil {
			return err
		}
		*out = C.int64_t(store(l))
		return nil
	})
}

// gle_listen_push feeds n samples (16 kHz, in [−1, 1)) and returns the
// detections they complete as JSON (a list of {word, time, confidence}).
//
//export gle_listen_push
func gle_listen_push(h C.int64_t, samples *C.double, n C.int64_t, found **C.char) *C.char {
	return guard(func() error {
		l, err := lookup[*listen.Listener](h)
		if err != nil {
			return err
		}
		dets := []listen.Detection{}
		if err := l.Push(floats(samples, n), func(d listen.Detection) { dets = append(dets, d) }); err != nil {
			return err
		}
		return setJSON(found, dets)
	})
}
