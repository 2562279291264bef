package railyard

import (
	"errors"
	"fmt"
)

// Domain error codes. Their messages are safe to show to users; the HTTP
// layer maps each code to one status in a single table.
const (
	ECONFLICT     = "conflict"     // the change contradicts existing state
	EINTERNAL     = "internal"     // a bug or an infrastructure failure
	EINVALID      = "invalid"      // the input breaks a rule
	ENOTFOUND     = "not_found"    // the named thing does not exist
	ELOCKED       = "locked"       // locks or windows block a manual deploy
	ETOOLARGE     = "too_large"    // the input exceeds a size limit
	EUNAUTHORIZED = "unauthorized" // no valid identity
	EFORBIDDEN    = "forbidden"    // the identity may not do this
	EUNSUPPORTED  = "unsupported"  // e.g. a content type the endpoint does not take
)

// maxQuoted bounds how much of a person's input a message quotes: 60
// characters and "…" (see Truncate), since an input may be megabytes
// long.
const maxQuoted = 61

// Error is a domain error: a code, a message for the user, and optional
// structured detail (the field at fault, the blockers of a deploy, the
// differing field of a conflicting release).
type Error struct {
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Field    string    `json:"field,omitempty"`
	Blockers []Blocker `json:"blockers,omitempty"`
	Diff     string    `json:"diff,omitempty"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("railyard error: code=%s message=%s", e.Code, e.Message)
}

// WithField names the input field at fault.
func (e *Error) WithField(field string) *Error {
	e.Field = field
	return e
}

// Errorf returns a domain error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the domain error inside err, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the domain error inside
// err, and a generic message for any other error (whose text may contain
// internals that must not reach users).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// AsError returns the domain error inside err, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
