package railyard

import "time"

// States of the Git export (ExportStatus.State).
const (
	// ExportStateOK: the last attempt succeeded; whatever is pending is
	// being exported.
	ExportStateOK = "ok"
	// ExportStateRetrying: the last attempt failed (the remote refused or
	// could not be reached, or export panicked); Railyard retries with
	// backoff.
	ExportStateRetrying = "retrying"
	// ExportStateStalled: a git command did not finish within the git
	// timeout (a remote that accepts connections and never answers) and
	// was killed; Railyard retries with backoff.
	ExportStateStalled = "stalled"
	// ExportStateStopped: the manifest repository is in a state Railyard
	// will not export on top of without a person (its history is
	// inconsistent, was replaced, or comes from another database);
	// LastError says what to do. Railyard checks again every maximum
	// backoff and continues by itself once it is fixed.
	ExportStateStopped = "stopped"
	// ExportStateDisabled: the server runs without Git export.
	ExportStateDisabled = "disabled"
)

// ExportStatus is the state of the Git export: how far the manifest
// repository lags behind the event log, and why if it is stuck.
type ExportStatus struct {
	// Enabled is false when the server runs without Git export.
	Enabled bool `json:"enabled"`
	// State is one of the ExportState constants.
	State string `json:"state"`
	// LastEventID is the newest event; LastExportedEventID the newest
	// one the remote branch contains.
	LastEventID         int64 `json:"lastEventId"`
	LastExportedEventID int64 `json:"lastExportedEventId"`
	// PendingEvents is how many events wait for export (ids are dense).
	PendingEvents int64 `json:"pendingEvents"`
	// OldestPendingSeconds is the age of the oldest waiting event.
	OldestPendingSeconds float64 `json:"oldestPendingSeconds"`
	// LastError is the last export failure, cleared by the next
	// successful push (or attempt with nothing to push).
	LastError   string     `json:"lastError,omitempty"`
	LastErrorAt *time.Time `json:"lastErrorAt,omitempty"`
	// ConsecutiveFailures counts the attempts that failed since the last
	// success.
	ConsecutiveFailures int64 `json:"consecutiveFailures"`
	// Panics and GitTimeouts count, since the server started, the
	// attempts that a recovered panic, and a git command killed at its
	// deadline, ended.
	Panics      int64      `json:"panics"`
	GitTimeouts int64      `json:"gitTimeouts"`
	LastPushAt  *time.Time `json:"lastPushAt,omitempty"`
	// Head is the commit the remote branch had after the last push.
	Head string `json:"head,omitempty"`
	// Remote is the remote's URL without credentials, Branch its branch.
	Remote string `json:"remote,omitempty"`
	Branch string `json:"branch,omitempty"`
}
