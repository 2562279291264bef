package railyard

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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
// message that names the field, everything encoding/json lets pass:
// unknown fields, fields given twice, field names in another case than
// their own ("VERSION" for "version"), invalid UTF-8 and lone UTF-16
// surrogates (which encoding/json silently turns into U+FFFD), and data
// after the value. See docs/ARCHITECTURE.md for why it uses
// github.com/go-json-experiment/json.
func DecodeJSONStrict(data []byte, v any) error {
	return decodeJSON(data, v, true)
}

// DecodeJSONLenient decodes like DecodeJSONStrict but ignores unknown
// fields, for the Kuberpult-compatible endpoints whose clients send
// fields Railyard does not use. Duplicates, wrong case and invalid UTF-8
// are still refused.
func DecodeJSONLenient(data []byte, v any) error {
	return decodeJSON(data, v, false)
}

func decodeJSON(data []byte, v any, rejectUnknown bool) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return Errorf(EINVALID, "body is empty: send a JSON object").WithField("body")
	}
	if err := json.Unmarshal(data, v, json.RejectUnknownMembers(rejectUnknown)); err != nil {
		return jsonError(err, data, reflect.TypeOf(v))
	}
	return nil
}

// jsonError turns a JSON decoding error into a domain error naming the
// field or position at fault. t is the type decoded into, which tells
// struct fields ("upstream.latest") from map keys and list positions
// ("manifests[staging]", "deployWindows[0]").
func jsonError(err error, data []byte, t reflect.Type) error {
	var syntaxErr *jsontext.SyntacticError
	var semErr *json.SemanticError
	switch {
	case errors.As(err, &syntaxErr):
		return jsonSyntaxError(syntaxErr, data, t)
	case errors.As(err, &semErr):
		return jsonSemanticError(semErr, t)
	}
	return Errorf(EINVALID, "body is not valid JSON: %v", err).WithField("body")
}

// jsonSyntaxError describes input that is not JSON, or JSON with a
// duplicate name or invalid text.
func jsonSyntaxError(e *jsontext.SyntacticError, data []byte, t reflect.Type) error {
	field := jsonFieldPath(t, e.JSONPointer)
	switch {
	case errors.Is(e.Err, jsontext.ErrDuplicateName):
		return Errorf(EINVALID, "%s is given more than once: give each field once", field).WithField(field)
	case !utf8.Valid(data):
		at := invalidUTF8At(data)
		if field == "" {
			return Errorf(EINVALID, "body is not valid UTF-8 (byte 0x%02X at byte %d)", data[at], at).WithField("body")
		}
		return Errorf(EINVALID, "%s is not valid UTF-8 (byte 0x%02X at byte %d of the body)", field, data[at], at).WithField(field)
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		return Errorf(EINVALID, "body is not valid JSON: it ends in the middle of a value (at byte %d)", len(data)).WithField("body")
	}
	msg := strings.TrimPrefix(e.Err.Error(), "jsontext: ")
	if field == "" {
		return Errorf(EINVALID, "body is not valid JSON: %s (at byte %d)", msg, e.ByteOffset).WithField("body")
	}
	return Errorf(EINVALID, "%s is not valid JSON: %s (at byte %d)", field, msg, e.ByteOffset).WithField(field)
}

// jsonSemanticError describes valid JSON that does not fit the fields:
// an unknown field, or a value of the wrong type.
func jsonSemanticError(e *json.SemanticError, t reflect.Type) error {
	field := jsonFieldPath(t, e.JSONPointer)
	if errors.Is(e.Err, json.ErrUnknownName) {
		name := e.JSONPointer.LastToken()
		if want := fieldNameFold(e.GoType, name); want != "" {
			return Errorf(EINVALID, "unknown field %q: field names are case-sensitive, use %q", name, want).WithField(field)
		}
		return Errorf(EINVALID, "unknown field %q: check its spelling", name).WithField(field)
	}
	got := "JSON " + jsonKindName(e.JSONKind)
	if e.JSONKind == '0' {
		got = "JSON number " + truncateForMessage(string(e.JSONValue))
	}
	want := "another type"
	switch {
	case e.GoType == reflect.TypeFor[time.Time]():
		want = `a time in RFC 3339 form, such as "2026-01-02T15:04:05Z"`
	case e.GoType != nil && e.GoType.Kind() == reflect.Int64 && e.JSONKind == '0':
		want = "an integer"
	case e.GoType != nil:
		want = jsonTypeName(e.GoType.Kind().String())
	}
	if field == "" {
		return Errorf(EINVALID, "body: expected %s, got %s", want, got).WithField("body")
	}
	return Errorf(EINVALID, "%s: expected %s, got %s", field, want, got).WithField(field)
}

// invalidUTF8At returns the offset of the first byte of data that is not
// part of valid UTF-8.
func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return 0
}

// jsonFieldPath turns a JSON pointer ("/deployWindows/0/kind") into the
// field path Railyard's messages use ("deployWindows[0].kind"), reading
// t to tell struct fields from map keys and list positions.
func jsonFieldPath(t reflect.Type, ptr jsontext.Pointer) string {
	var b strings.Builder
	for tok := range ptr.Tokens() {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t != nil && t.Kind() == reflect.Struct:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			t = structFieldType(t, tok)
		case t != nil && (t.Kind() == reflect.Map || t.Kind() == reflect.Slice) && t != rawMessageType:
			b.WriteString("[" + tok + "]")
			t = t.Elem()
		default:
			// Inside a json.RawMessage (a batch entry's params) or past
			// what t describes.
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			t = nil
		}
	}
	return b.String()
}

// rawMessageType is the type of undecoded JSON (a batch entry's params).
var rawMessageType = reflect.TypeFor[stdjson.RawMessage]()

// structFieldType returns the type of the field of struct t whose JSON
// name is name, or nil.
func structFieldType(t reflect.Type, name string) reflect.Type {
	for f := range t.Fields() {
		if f.IsExported() && jsonName(f) == name {
			return f.Type
		}
	}
	return nil
}

// fieldNameFold returns the JSON name of the field of struct t that name
// matches when case is ignored (what encoding/json would have used), or
// "".
func fieldNameFold(t reflect.Type, name string) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	for f := range t.Fields() {
		if n := jsonName(f); f.IsExported() && strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

// jsonName is the name of a struct field in JSON.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// jsonKindName names a kind of JSON value as encoding/json's messages did.
func jsonKindName(k jsontext.Kind) string {
	switch k {
	case 't', 'f':
		return "bool"
	case '0':
		return "number"
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 'n':
		return "null"
	}
	return "value"
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
