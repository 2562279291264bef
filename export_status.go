package railyard

import "time"

// ExportStatus is the state of the Git export: how far the manifest
// repository lags behind the event log, and why if it is stuck.
type ExportStatus struct {
	// Enabled is false when the server runs without Git export.
	Enabled bool `json:"enabled"`
	// LastEventID is the newest event; LastExportedEventID the newest
	// one the remote branch contains.
	LastEventID         int64 `json:"lastEventId"`
	LastExportedEventID int64 `json:"lastExportedEventId"`
	// PendingEvents is how many events wait for export (ids are dense).
	PendingEvents int64 `json:"pendingEvents"`
	// OldestPendingSeconds is the age of the oldest waiting event.
	OldestPendingSeconds float64 `json:"oldestPendingSeconds"`
	// LastError is the last export failure, cleared by the next success.
	LastError   string     `json:"lastError,omitempty"`
	LastErrorAt *time.Time `json:"lastErrorAt,omitempty"`
	LastPushAt  *time.Time `json:"lastPushAt,omitempty"`
	// Head is the commit the remote branch had after the last push.
	Head string `json:"head,omitempty"`
	// Remote is the remote's URL without credentials, Branch its branch.
	Remote string `json:"remote,omitempty"`
	Branch string `json:"branch,omitempty"`
}
