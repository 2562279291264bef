package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/railyard-cd/railyard"
)

// Exit codes of the railyard binary.
const (
	exitOK          = 0
	exitError       = 1 // the command failed: the message says why
	exitUsage       = 2 // the command line is wrong
	exitUnreachable = 3 // the server could not be reached
)

// usageError is a wrong command line: a missing argument, an unknown flag
// or a flag value that cannot be right.
type usageError struct {
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usage error with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// hintedError is an error with more to say than one line: details (one per
// line, such as the locks that block a deploy) and a hint on what to do.
type hintedError struct {
	err error
	// message replaces err's message when set.
	message string
	details []string
	hint    string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// unreachableError is a request that did not reach the server.
type unreachableError struct {
	server string
	err    error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Railyard server at %s: %s", e.server, transportReason(e.err))
}

func (e *unreachableError) Unwrap() error { return e.err }

// transportReason is the innermost useful part of a transport error:
// "connect: connection refused" rather than the whole request.
func transportReason(err error) string {
	var opErr *net.OpError
	var urlErr *url.Error
	switch {
	case errors.As(err, &opErr) && opErr.Err != nil:
		return opErr.Err.Error()
	case errors.As(err, &urlErr) && urlErr.Timeout():
		return "no answer in time"
	case errors.As(err, &urlErr):
		return urlErr.Err.Error()
	}
	return err.Error()
}

// classify returns the exit code for err.
func classify(err error) int {
	var usage *usageError
	var unreachable *unreachableError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitError
	case errors.As(err, &unreachable), isTransportError(err):
		return exitUnreachable
	}
	return exitError
}

// isTransportError reports whether err means a request never got an HTTP
// answer: refused, unresolvable, timed out, cut off. The client wraps
// these in *url.Error; a listening server's own errors are not among them.
func isTransportError(err error) bool {
	if railyard.AsError(err) != nil {
		return false
	}
	var urlErr *url.Error
	var opErr *net.OpError
	return errors.As(err, &urlErr) || (errors.As(err, &opErr) && opErr.Op == "dial")
}

// ReportError prints err for a person on standard error and returns the
// exit code: 0 for nil, 1 when the command failed, 2 for a wrong command
// line, 3 when the server could not be reached.
func (m *Main) ReportError(err error) int {
	code := classify(err)
	if code == exitOK {
		return code
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(m.Stderr, "Error: interrupted")
		return exitError
	}
	fmt.Fprintf(m.Stderr, "Error: %s\n", errorMessage(err))
	var hinted *hintedError
	if errors.As(err, &hinted) {
		for _, d := range hinted.details {
			fmt.Fprintf(m.Stderr, "  - %s\n", d)
		}
		if hinted.hint != "" {
			fmt.Fprintf(m.Stderr, "Hint: %s\n", hinted.hint)
		}
	}
	switch code {
	case exitUsage:
		path := "railyard"
		if m.failed != nil {
			path = m.failed.CommandPath()
		}
		fmt.Fprintf(m.Stderr, "Run '%s --help' for usage.\n", path)
	case exitUnreachable:
		fmt.Fprintln(m.Stderr, "Hint: is `railyard serve` running? Set --server or RAILYARD_SERVER to its URL.")
	}
	return code
}

// errorMessage is the one line a person reads: the API's message for a
// domain error (it says what to do), the error text otherwise.
func errorMessage(err error) string {
	var hinted *hintedError
	if errors.As(err, &hinted) {
		if hinted.message != "" {
			return hinted.message
		}
		err = hinted.err
	}
	var unreachable *unreachableError
	if errors.As(err, &unreachable) {
		return unreachable.Error()
	}
	if e := railyard.AsError(err); e != nil {
		msg := e.Message
		if e.Diff != "" {
			msg += "\n" + strings.TrimRight(e.Diff, "\n")
		}
		return msg
	}
	return err.Error()
}
