package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// The export status is kept honest in both directions: a failed attempt
// sets it at once (with the state saying whether Railyard retries, waits
// for a stalled remote, or needs a person), and the first push that goes
// through clears it, even while a backlog is still being exported.

// panicError is a panic recovered while exporting.
type panicError struct {
	event int64 // the event being written, 0 if none
	value any
	stack []byte
}

func (e *panicError) Error() string {
	if e.event != 0 {
		return fmt.Sprintf("export of event %d panicked: %v", e.event, e.value)
	}
	return fmt.Sprintf("export panicked: %v", e.value)
}

// recovered returns the panic value v, recovered while exporting event
// (0 if none), as an error with the stack of the panic. Call it from the
// deferred function that recovered.
func recovered(event int64, v any) error {
	return &panicError{event: event, value: v, stack: debug.Stack()}
}

// stopError is a state of the manifest repository that Railyard will not
// export on top of without a person: it would have to guess which events
// the branch holds. Export stops, says why, and checks again on the
// longest backoff, so that it continues by itself once someone fixes it.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// stop marks err as a stopError.
func stop(err error) error { return &stopError{err: err} }

func isStopped(err error) bool {
	var se *stopError
	return errors.As(err, &se)
}

// stateOf returns the export state after a failed attempt.
func stateOf(err error) string {
	switch {
	case isStopped(err):
		return railyard.ExportStateStopped
	case gitcli.IsTimeout(err):
		return railyard.ExportStateStalled
	}
	return railyard.ExportStateRetrying
}

// record notes the outcome of a Sync in the status. An attempt that ended
// because ctx did (shutdown) says nothing about the export.
func (x *Exporter) record(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	var pe *panicError
	if errors.As(err, &pe) {
		x.cfg.Logger.Error("git export panicked; it is retried with backoff", "event", pe.event,
			"panic", Redact(fmt.Sprint(pe.value)), "stack", string(pe.stack))
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err == nil {
		x.healthyLocked()
		return
	}
	at := x.cfg.Now()
	x.status.LastError = Redact(err.Error())
	x.status.LastErrorAt = &at
	x.status.State = stateOf(err)
	x.status.ConsecutiveFailures++
	if pe != nil {
		x.status.Panics++
	}
	if gitcli.IsTimeout(err) {
		x.status.GitTimeouts++
	}
}

// healthyLocked records that export works; x.mu is held.
func (x *Exporter) healthyLocked() {
	x.status.LastError, x.status.LastErrorAt = "", nil
	x.status.State = railyard.ExportStateOK
	x.status.ConsecutiveFailures = 0
}
