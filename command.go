package railyard

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"time"

	"github.com/railyard-cd/railyard/internal/jsonstrict"
)

// Command is one change to Railyard's state. The engine validates it,
// applies it inside a store transaction and records it as one event.
// The commands are the structs of this package (PutEnvironment,
// CreateRelease, Deploy, CreateLock, …); their JSON form is the payload
// of their event and the params of a batch entry.
type Command interface {
	// Kind names the command and its event, e.g. "release.create".
	Kind() string
	// Validate checks the command's own fields, without the store.
	Validate() error
	// apply makes the change through the command context.
	apply(ctx context.Context, c *commandContext) (*Result, error)
}

// Command kinds (also the kinds of their events).
const (
	KindEnvironmentPut    = "environment.put"
	KindEnvironmentDelete = "environment.delete"
	KindReleaseCreate     = "release.create"
	KindApplicationDelete = "application.delete"
	KindDeploy            = "deploy"
	KindLockCreate        = "lock.create"
	KindLockDelete        = "lock.delete"
	KindLockExpire        = "lock.expire"
	KindReleaseTrain      = "release-train"
	KindRollback          = "rollback"
	KindReconcile         = "reconcile"
)

// EventKinds returns every event kind, in the order of the constants;
// KindLockExpire is the kind of events recorded before Reconcile took its
// place.
func EventKinds() []string {
	return []string{KindEnvironmentPut, KindEnvironmentDelete, KindReleaseCreate, KindApplicationDelete, KindDeploy,
		KindLockCreate, KindLockDelete, KindLockExpire, KindReleaseTrain, KindRollback, KindReconcile}
}

// Result outcomes.
const (
	OutcomeCreated   = "created"
	OutcomeUpdated   = "updated"
	OutcomeUnchanged = "unchanged"
	OutcomeDeleted   = "deleted"
	OutcomeDeployed  = "deployed"
	OutcomeQueued    = "queued"
)

// Result says what one command did.
type Result struct {
	Kind string `json:"kind"`
	// Outcome is one of the Outcome constants.
	Outcome string `json:"outcome"`
	// Event is the recorded event; nil when the command changed nothing
	// (an identical re-publish, a deploy of the running version).
	Event *Event `json:"event,omitempty"`
	// Release is set by release.create and deploy (without manifests).
	Release *Release `json:"release,omitempty"`
	// Deployment is set by deploy: the state after the command.
	Deployment *Deployment `json:"deployment,omitempty"`
	// Environment is set by environment.put.
	Environment *Environment `json:"environment,omitempty"`
	// Locks is set by lock.create: one lock, or one per member
	// environment for a group lock.
	Locks []*Lock `json:"locks,omitempty"`
	// Train is set by release-train: every environment and application
	// with what the train did.
	Train *TrainResult `json:"train,omitempty"`
}

// MaxBatchCommands is the most commands one batch may hold.
const MaxBatchCommands = 100

// BatchEntry is one command of a batch in its JSON form.
type BatchEntry struct {
	Kind   string             `json:"kind"`
	Params stdjson.RawMessage `json:"params"`
}

// DecodeCommand decodes the JSON params of a command of the given kind.
// Unknown fields are rejected, so that typos do not pass silently.
func DecodeCommand(kind string, params []byte) (Command, error) {
	var cmd Command
	switch kind {
	case KindEnvironmentPut:
		cmd = &PutEnvironment{}
	case KindEnvironmentDelete:
		cmd = &DeleteEnvironment{}
	case KindReleaseCreate:
		cmd = &CreateRelease{}
	case KindApplicationDelete:
		cmd = &DeleteApplication{}
	case KindDeploy:
		cmd = &Deploy{}
	case KindLockCreate:
		cmd = &CreateLock{}
	case KindLockDelete:
		cmd = &DeleteLock{}
	case KindReleaseTrain:
		cmd = &ReleaseTrain{}
	case KindRollback:
		cmd = &Rollback{}
	default:
		return nil, Errorf(EINVALID, "kind %q is not a command: use one of %s, %s, %s, %s, %s, %s, %s, %s, %s", kind,
			KindEnvironmentPut, KindEnvironmentDelete, KindReleaseCreate, KindApplicationDelete, KindDeploy, KindLockCreate, KindLockDelete,
			KindReleaseTrain, KindRollback).WithField("kind")
	}
	if err := DecodeJSONStrict(params, cmd); err != nil {
		return nil, err
	}
	return cmd, nil
}

// DecodeJSONStrict decodes one JSON value into v and refuses, with a
// message that names the field (EINVALID), everything encoding/json lets
// pass: unknown fields, fields given twice, field names in another case
// than their own ("VERSION" for "version"), invalid UTF-8 and lone UTF-16
// surrogates (which encoding/json silently turns into U+FFFD), and data
// after the value. See internal/jsonstrict.
func DecodeJSONStrict(data []byte, v any) error {
	return invalidField(jsonstrict.Decode(data, v))
}

// DecodeJSONLenient decodes like DecodeJSONStrict but ignores unknown
// fields, for the Kuberpult-compatible endpoints whose clients send
// fields Railyard does not use. Duplicates, wrong case and invalid UTF-8
// are still refused.
func DecodeJSONLenient(data []byte, v any) error {
	return invalidField(jsonstrict.DecodeLenient(data, v))
}

// invalidField turns the field error of a JSON decode into EINVALID with
// the field.
func invalidField(err error) error {
	var fe *jsonstrict.FieldError
	if errors.As(err, &fe) {
		return Errorf(EINVALID, "%s", fe.Message).WithField(fe.Field)
	}
	return err
}

// describeTime formats a time for event descriptions and messages.
func describeTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
