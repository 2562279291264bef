package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// codeMethodNotAllowed is the code of a 405 answer. It is not a domain
// code: only the router, never the engine, can say a method is wrong.
const codeMethodNotAllowed = "method_not_allowed"

// statusByCode is the one table that maps error codes to HTTP status
// codes, for the API and the web UI alike (ErrorStatus).
var statusByCode = map[string]int{
	railyard.EINVALID:      nethttp.StatusBadRequest,
	railyard.ENOTFOUND:     nethttp.StatusNotFound,
	railyard.ECONFLICT:     nethttp.StatusConflict,
	railyard.ELOCKED:       nethttp.StatusLocked,
	railyard.ETOOLARGE:     nethttp.StatusRequestEntityTooLarge,
	railyard.EUNSUPPORTED:  nethttp.StatusUnsupportedMediaType,
	railyard.EUNAUTHORIZED: nethttp.StatusUnauthorized,
	railyard.EFORBIDDEN:    nethttp.StatusForbidden,
	railyard.EINTERNAL:     nethttp.StatusInternalServerError,
	// The guard's codes (guard.go).
	codeRequestTimeout: nethttp.StatusRequestTimeout,
	codeUnavailable:    nethttp.StatusServiceUnavailable,
}

// ErrorStatus returns the HTTP status that answers an error code: a
// domain code (railyard.EINVALID, …) or one of the guard's. Unknown codes
// are internal errors (500). The API and the web UI (package http/ui)
// both answer by it, so one code means one status everywhere.
func ErrorStatus(code string) int {
	if status, ok := statusByCode[code]; ok {
		return status
	}
	return nethttp.StatusInternalServerError
}

// writeError answers err as JSON. Domain errors are answered as they are,
// with their detail; everything else is logged and answered with a
// generic message, because its text may hold internals (paths, SQL).
func (s *Server) writeError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	err = requestError(err)
	e := railyard.AsError(err)
	if e == nil || e.Code == railyard.EINTERNAL {
		if !errors.Is(err, context.Canceled) {
			// Only the route pattern and the error: never bodies or
			// headers, which may hold secrets.
			s.opts.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern, "error", err)
		}
		e = &railyard.Error{Code: railyard.EINTERNAL, Message: "Internal error."}
	}
	writeJSON(w, ErrorStatus(e.Code), e)
}

// requestError turns errors of reading the request into domain errors:
// a body over the limit is ETOOLARGE naming the limit.
func requestError(err error) error {
	var tooLarge *nethttp.MaxBytesError
	if errors.As(err, &tooLarge) {
		return railyard.Errorf(railyard.ETOOLARGE, "request body is larger than the limit of %d bytes", tooLarge.Limit).WithField("body")
	}
	if e := GuardError(err); e != nil {
		return e
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The client closed the connection in the middle of its body:
		// its mistake, not the server's, and nothing to log.
		return railyard.Errorf(railyard.EINVALID, "the request body ended before the length its Content-Length header announced").WithField("body")
	}
	return err
}

// writeJSON answers v as JSON with the given status. An encoding error
// can only happen after the status is sent, so it is not reported: the
// client sees a truncated body.
func writeJSON(w nethttp.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// fieldError is a shorthand for an EINVALID error naming a field.
func fieldError(field, format string, args ...any) error {
	return railyard.Errorf(railyard.EINVALID, "%s", fmt.Sprintf(format, args...)).WithField(field)
}
