package railyard

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
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
	Kind   string          `json:"kind"`
	Params json.RawMessage `json:"params"`
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

// DecodeJSONStrict decodes one JSON value into v, rejecting unknown fields
// and trailing data, with a message that says where the input is wrong.
func DecodeJSONStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return Errorf(EINVALID, "body: unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns a JSON decoding error into a domain error naming the
// field or position at fault.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case asError(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return Errorf(EINVALID, "body: expected a JSON %s, got %s", typeErr.Type, typeErr.Value)
		}
		return Errorf(EINVALID, "%s: expected %s, got JSON %s", field, jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value).WithField(field)
	case asError(err, &syntaxErr):
		return Errorf(EINVALID, "body is not valid JSON: %v (at byte %d)", syntaxErr, syntaxErr.Offset)
	case err.Error() == "EOF":
		return Errorf(EINVALID, "body is empty: send a JSON object")
	case bytes.HasPrefix([]byte(err.Error()), []byte("json: unknown field ")):
		field := string(bytes.Trim([]byte(err.Error()[len("json: unknown field "):]), `"`))
		return Errorf(EINVALID, "unknown field %q: check its spelling", field).WithField(field)
	default:
		return Errorf(EINVALID, "body is not valid JSON: %v", err)
	}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int64", "int32", "uint64", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	}
	return kind
}

// describeTime formats a time for event descriptions and messages.
func describeTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
