package railyard

import (
	"encoding/json"
	"time"
)

// Event is one applied command: the audit log entry and the unit the Git
// exporter turns into one commit. Events are append-only; IDs increase
// monotonically.
type Event struct {
	ID    int64     `json:"id"`
	Time  time.Time `json:"time"`
	Actor Actor     `json:"actor"`
	Kind  string    `json:"kind"`
	// Description says what happened, in words a person reads in git log.
	Description string `json:"description"`
	// Payload is the command as it was given.
	Payload json.RawMessage `json:"payload"`
	// Changes are the resulting state changes, complete enough to write
	// the manifest repository without reading the store again.
	Changes []Change `json:"changes"`
	// Refs index the event for queries; derived from Changes.
	Refs []EventRef `json:"-"`
}

// Change operations.
const (
	ChangeEnvironmentPut    = "environment.put"
	ChangeEnvironmentDelete = "environment.delete"
	ChangeApplicationPut    = "application.put"
	ChangeApplicationDelete = "application.delete"
	ChangeReleaseCreate     = "release.create"
	ChangeReleaseDelete     = "release.delete"
	ChangeDeploy            = "deployment.deploy"
	ChangeQueue             = "deployment.queue"
	ChangeUnqueue           = "deployment.unqueue"
	ChangeDeploymentDelete  = "deployment.delete"
	ChangeLockPut           = "lock.put"
	ChangeLockDelete        = "lock.delete"
)

// Change is one state change caused by an event.
type Change struct {
	Op          string `json:"op"`
	Environment string `json:"environment,omitempty"`
	Application string `json:"application,omitempty"`
	// Version is the deployed, queued or released version.
	Version int64 `json:"version,omitempty"`
	// PreviousVersion is what ran before a deploy (0: nothing).
	PreviousVersion int64 `json:"previousVersion,omitempty"`
	// Team is set by application.put.
	Team string `json:"team,omitempty"`
	// Release is set by release.create, with manifests.
	Release *Release `json:"release,omitempty"`
	// Environment config, set by environment.put.
	Config *EnvironmentConfig `json:"config,omitempty"`
	// Lock is set by lock.put (the whole lock) and lock.delete (its key fields).
	Lock *Lock `json:"lock,omitempty"`
	// Reason says why: "new release", "queued version, last blocker removed",
	// "manual", "overriding locks: freeze".
	Reason string `json:"reason,omitempty"`
	// Blockers are set when a version was queued or a lock was overridden.
	Blockers []Blocker `json:"blockers,omitempty"`
	// SourceCommitID of the release deployed or queued, for queries.
	SourceCommitID string `json:"sourceCommitId,omitempty"`
}

// EventRef indexes an event by the application, environment and source
// commit it touched.
type EventRef struct {
	Application    string
	Environment    string
	SourceCommitID string
}

// EventFilter selects events; empty fields match everything. Application,
// Environment and SourceCommitID match through the event's refs, and must
// all match the same ref: {Application: a, Environment: e} finds events
// that changed a in e (not environment-wide lock events of e).
type EventFilter struct {
	Application string
	Environment string
	// Actor matches the actor's name or e-mail exactly.
	Actor string
	Kind  string
	// Since and Until bound the event time: Since <= time < Until.
	Since, Until *time.Time
	// SourceCommitID matches events that released, deployed or queued a
	// release with this source commit: a prefix of 7 to 40 hexadecimal
	// characters, in any case (EINVALID otherwise).
	SourceCommitID string
	// AfterID selects events with a greater id (the exporter's cursor),
	// BeforeID events with a smaller id (pagination).
	AfterID  int64
	BeforeID int64
	// Ascending orders the events oldest first; a non-zero AfterID implies
	// it. Otherwise the order is newest first.
	Ascending bool
	// Limit caps the number of events; 0 means no limit.
	Limit int
}

// Summary is the first line of the event's description, bounded.
func (e *Event) Summary() string {
	return ParseDescription(e.Description).Summary
}
