package gle

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gle-go/gle/internal/strict"
)

// DecodeSpec reads a spec from JSON or YAML (detected from the content:
// JSON starts with '{'). Keys are matched exactly; unknown keys and every
// other decoding problem are reported together, each with its path
// (layers[1].tau_n). The spec is not validated; call Validate.
func DecodeSpec(data []byte) (*Spec, error) {
	var s Spec
	err := strict.Decode(data, &s)
	if err == nil {
		return &s, nil
	}
	// The document parsed but fields did not decode: validate what did,
	// so that every problem is reported at once, leaving out what the
	// fields that failed make the validation say again.
	bad, ok := fieldErrors(err)
	if !ok {
		return nil, err
	}
	all := []error{err}
	more, _ := fieldErrors(s.Validate())
	for _, v := range more {
		// A check that involves a field that failed (layers[1].in against
		// layers[0].out) says nothing new either.
		if !slices.ContainsFunc(bad, func(b *FieldError) bool { return relatedFields(b.Field, v.Field) || mentions(v.Error(), b.Field) }) {
			all = append(all, v)
		}
	}
	return nil, errors.Join(all...)
}

// fieldErrors lists the *FieldError leaves of err (errors.Join trees); ok
// is false when a leaf is another error.
func fieldErrors(err error) (fields []*FieldError, ok bool) {
	if err == nil {
		return nil, true
	}
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		ok = true
		for _, e := range j.Unwrap() {
			f, fok := fieldErrors(e)
			fields, ok = append(fields, f...), ok && fok
		}
		return fields, ok
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []*FieldError{fe}, true
	}
	return nil, false
}

// relatedFields reports whether one field path is the other or contains
// it (layers[1] and layers[1].tau_m[0]; tau_m and tau_m[2]).
func relatedFields(a, b string) bool {
	within := func(outer, inner string) bool {
		return inner == outer || strings.HasPrefix(inner, outer+".") || strings.HasPrefix(inner, outer+"[")
	}
	return within(a, b) || within(b, a)
}

// mentions reports whether text names the field path (as a whole path:
// layers[1] is not named by layers[10]).
func mentions(text, field string) bool {
	for i := strings.Index(text, field); i >= 0; {
		end := i + len(field)
		if end == len(text) || !strings.ContainsRune("0123456789_abcdefghijklmnopqrstuvwxyz", rune(text[end])) {
			return true
		}
		j := strings.Index(text[end:], field)
		if j < 0 {
			return false
		}
		i = end + j
	}
	return false
}

// LoadSpec reads and validates a spec file (.json, .yaml or .yml) and
// refuses one whose parameters alone would exceed the memory limit;
// errors name the file.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := DecodeSpec(data)
	if err == nil {
		err = s.Validate()
	}
	if err == nil {
		err = CheckMemory(sizeField(s), nil, ParamBytes(s))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return s, nil
}
