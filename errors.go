package gle

import "github.com/gle-go/gle/internal/errs"

// Sentinel errors. Every error of the library wraps one of them, so that
// callers can test with errors.Is.
var (
	// ErrInvalid marks a spec or argument whose value is out of range.
	ErrInvalid = errs.ErrInvalid
	// ErrUnknownName marks an unknown activation, loss, optimizer,
	// initializer, feedback kind, population or spec field.
	ErrUnknownName = errs.ErrUnknownName
	// ErrShape marks arrays whose sizes do not fit the network.
	ErrShape = errs.ErrShape
	// ErrNonFinite marks NaN or ±Inf in a spec, in data or in parameters.
	ErrNonFinite = errs.ErrNonFinite
	// ErrDiverged marks a simulation whose state or parameters became NaN/Inf.
	ErrDiverged = errs.ErrDiverged
	// ErrTooLarge marks a network, batch or file that needs more memory
	// than the limit allows.
	ErrTooLarge = errs.ErrTooLarge
)

// FieldError names the field of a spec or file that is wrong, its value,
// and why; Err is the sentinel it wraps (errors.Is works through it).
type FieldError = errs.FieldError

func fieldErr(sentinel error, field string, value any, format string, args ...any) *FieldError {
	return errs.Field(sentinel, field, value, format, args...)
}
