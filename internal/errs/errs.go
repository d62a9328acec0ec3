// Package errs holds the project's error vocabulary: the sentinel errors
// and FieldError, which package gle exports under the same names. It is a
// leaf, so that every package (optim included) reports errors alike.
package errs

import (
	"errors"
	"fmt"
)

// Sentinel errors; every error of the project wraps one of them.
var (
	// ErrInvalid marks a value out of range.
	ErrInvalid = errors.New("invalid value")
	// ErrUnknownName marks an unknown activation, loss, optimizer,
	// initializer, feedback kind, population or field.
	ErrUnknownName = errors.New("unknown name")
	// ErrShape marks arrays whose sizes do not fit.
	ErrShape = errors.New("shape mismatch")
	// ErrNonFinite marks NaN or ±Inf in a spec, in data or in parameters.
	ErrNonFinite = errors.New("non-finite value")
	// ErrDiverged marks a run whose state or parameters became NaN/±Inf.
	ErrDiverged = errors.New("diverged")
	// ErrTooLarge marks a network, batch or file that needs more memory
	// than the limit allows.
	ErrTooLarge = errors.New("too large")
)

// FieldError names the field of a spec, file or argument that is wrong,
// its value, and why. Err is the sentinel it wraps.
type FieldError struct {
	Field string // e.g. "layers[1].tau_m[3]"
	Value any
	Why   string
	Err   error
}

func (e *FieldError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("%s: %s", e.Field, e.Why)
	}
	return fmt.Sprintf("%s = %v: %s", e.Field, e.Value, e.Why)
}

func (e *FieldError) Unwrap() error { return e.Err }

// Field returns a *FieldError wrapping sentinel.
func Field(sentinel error, field string, value any, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Value: value, Why: fmt.Sprintf(format, args...), Err: sentinel}
}
