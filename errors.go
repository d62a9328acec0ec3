package gle

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers can test with errors.Is.
var (
	// ErrInvalid marks a spec or argument whose value is out of range.
	ErrInvalid = errors.New("invalid value")
	// ErrUnknownName marks an unknown activation, loss, optimizer or initializer.
	ErrUnknownName = errors.New("unknown name")
	// ErrShape marks arrays whose sizes do not fit the network.
	ErrShape = errors.New("shape mismatch")
	// ErrNonFinite marks NaN or ±Inf in a spec, in data or in parameters.
	ErrNonFinite = errors.New("non-finite value")
	// ErrDiverged marks a simulation whose state or parameters became NaN/Inf.
	ErrDiverged = errors.New("diverged")
)

// FieldError names the field of a spec or file that is wrong, its value,
// and why. Err is the sentinel it wraps.
type FieldError struct {
	Field string // e.g. "layers[1].tau_m[3]"
	Value any
	Why   string
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s = %v: %s", e.Field, e.Value, e.Why)
}

func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(sentinel error, field string, value any, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Value: value, Why: fmt.Sprintf(format, args...), Err: sentinel}
}
