// Command libgle is the C ABI of the library, built as a shared object
// (go build -buildmode=c-shared) for the Python package in python/ (and
// any other language with a C foreign-function interface).
//
// Every function returns NULL on success or an error as a C string
// "kind: message" (kinds: invalid, shape, unknown, nonfinite, diverged,
// toolarge, notexist, exists, mismatch, canceled, internal, other), which the
// caller frees with gle_free. Objects — networks, trainers and bundles of
// named arrays — live in Go and are named by int64 handles, released
// with gle_release. Arrays cross as pointers to C-contiguous memory the
// caller owns (float64, and int64 for class labels); Go reads and writes
// them during the call and keeps no pointer to them. A Go panic never
// crosses the boundary: it becomes an "internal" error.
//
// The sources are split by concern: this file (handles, errors, the
// conversion of arrays), network.go (networks, their parameters and
// simulation), trainer.go (trainers, datasets and the run driver),
// analysis.go (gradients, alignment, conformance, timing) and bundle.go
// (bundles of named arrays, datasets generated in Go).
package main

/*
#include <stdint.h>
#include <stdlib.h>

// gle_progress_fn receives the run driver's events as JSON text.
typedef void (*gle_progress_fn)(const char*);
static inline void gle_call_progress(gle_progress_fn f, const char* s) { if (f) f(s); }
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/safetensors"
	"github.com/gle-go/gle/trajectory"
)

func main() {}

// The handle table.
var (
	mu      sync.Mutex
	next    int64
	objects = map[int64]any{}
)

func store(v any) int64 {
	mu.Lock()
	defer mu.Unlock()
	next++
	objects[next] = v
	return next
}

func lookup[T any](h C.int64_t) (T, error) {
	mu.Lock()
	v, ok := objects[int64(h)]
	mu.Unlock()
	t, okT := v.(T)
	if !ok || !okT {
		var zero T
		return zero, fmt.Errorf("%w: handle %d names no %T (released, or never made)", gle.ErrInvalid, h, zero)
	}
	return t, nil
}

// stopContext is a context cancelled once the caller's flag stop turns
// non-zero (Python's Ctrl-C handler sets it); nil never stops.
func stopContext(stop *C.int32_t) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	if stop == nil {
		return ctx, cancel
	}
	flag := (*int32)(unsafe.Pointer(stop))
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if atomic.LoadInt32(flag) != 0 {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, cancel
}

// send hands an event to the caller's callback as JSON text.
func send(fn C.gle_progress_fn, event any) {
	if fn == nil {
		return
	}
	b, err := json.Marshal(event)
	if err != nil {
		return
	}
	cs := C.CString(string(b))
	defer C.free(unsafe.Pointer(cs))
	C.gle_call_progress(fn, cs)
}

// errText turns an error into "kind: message" for the caller, nil into
// NULL.
func errText(err error) *C.char {
	if err == nil {
		return nil
	}
	kind := "other"
	for _, k := range []struct {
		target error
		name   string
	}{{context.Canceled, "canceled"}, {gle.ErrTooLarge, "toolarge"}, {gle.ErrDiverged, "diverged"}, {gle.ErrMismatch, "mismatch"},
		{gle.ErrShape, "shape"}, {gle.ErrUnknownName, "unknown"}, {gle.ErrNonFinite, "nonfinite"}, {gle.ErrInvalid, "invalid"},
		{fs.ErrNotExist, "notexist"}, {fs.ErrExist, "exists"}, {trajectory.ErrMalformed, "invalid"}, {safetensors.ErrFormat, "invalid"}} {
		if errors.Is(err, k.target) {
			kind = k.name
			break
		}
	}
	return C.CString(kind + ": " + err.Error())
}

// guard runs f, turning a panic into an internal error.
func guard(f func() error) (out *C.char) {
	defer func() {
		if r := recover(); r != nil {
			out = C.CString(fmt.Sprintf("internal: %v\n%s", r, debug.Stack()))
		}
	}()
	return errText(f())
}

func floats(p *C.double, n C.int64_t) []float64 {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(p)), int(n))
}

func ints(p *C.int64_t, n C.int64_t) []int {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*int)(unsafe.Pointer(p)), int(n)) // int is 64-bit on every platform we build for
}

func setString(dst **C.char, s string) {
	if dst != nil {
		*dst = C.CString(s)
	}
}

func setJSON(dst **C.char, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	setString(dst, string(b))
	return nil
}

//export gle_free
func gle_free(p *C.char) { C.free(unsafe.Pointer(p)) }

//export gle_release
func gle_release(h C.int64_t) {
	mu.Lock()
	delete(objects, int64(h))
	mu.Unlock()
}

//export gle_handles
func gle_handles() C.int64_t {
	mu.Lock()
	defer mu.Unlock()
	return C.int64_t(len(objects))
}
