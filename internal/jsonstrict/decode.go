// Package jsonstrict decodes JSON as strictly as Railyard's inputs need,
// and says what is wrong in words that name the field: the request
// bodies of the API, the params of batch commands, environment
// configurations in the manifest repository. It knows nothing of
// Railyard; callers turn its FieldError into their own errors.
//
// It uses github.com/go-json-experiment/json (see docs/ARCHITECTURE.md):
// encoding/json lets through fields given twice, field names in another
// case and invalid UTF-8.
package jsonstrict

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// FieldError is input that does not decode. Field is the field or
// position at fault, as Railyard's messages write it ("upstream.latest",
// "manifests[staging]", "deployWindows[0].kind"), or "body" for the input
// as a whole; Message says what is wrong, naming the field, in words safe
// to show the person who sent it.
type FieldError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Message }

// fieldErrorf returns a FieldError for field with a formatted message.
func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Decode decodes one JSON value into v and refuses, with a *FieldError,
// everything encoding/json lets pass: unknown fields, fields given twice,
// field names in another case than their own ("VERSION" for "version"),
// invalid UTF-8 and lone UTF-16 surrogates (which encoding/json silently
// turns into U+FFFD), and data after the value.
func Decode(data []byte, v any) error {
	return decode(data, v, true)
}

// DecodeLenient decodes like Decode but ignores unknown fields.
// Duplicates, wrong case and invalid UTF-8 are still refused.
func DecodeLenient(data []byte, v any) error {
	return decode(data, v, false)
}

func decode(data []byte, v any, rejectUnknown bool) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fieldErrorf("body", "body is empty: send a JSON object")
	}
	if err := json.Unmarshal(data, v, json.RejectUnknownMembers(rejectUnknown)); err != nil {
		return decodeError(err, data, reflect.TypeOf(v))
	}
	return nil
}

// decodeError turns a JSON decoding error into a FieldError naming the
// field or position at fault. t is the type decoded into, which tells
// struct fields ("upstream.latest") from map keys and list positions
// ("manifests[staging]", "deployWindows[0]").
func decodeError(err error, data []byte, t reflect.Type) error {
	var syntaxErr *jsontext.SyntacticError
	var semErr *json.SemanticError
	switch {
	case errors.As(err, &syntaxErr):
		return syntaxError(syntaxErr, data, t)
	case errors.As(err, &semErr):
		return semanticError(semErr, t)
	}
	return fieldErrorf("body", "body is not valid JSON: %v", err)
}

// syntaxError describes input that is not JSON, or JSON with a
// duplicate name or invalid text.
func syntaxError(e *jsontext.SyntacticError, data []byte, t reflect.Type) error {
	field := fieldPath(t, e.JSONPointer)
	switch {
	case errors.Is(e.Err, jsontext.ErrDuplicateName):
		return fieldErrorf(field, "%s is given more than once: give each field once", field)
	case !utf8.Valid(data):
		at := invalidUTF8At(data)
		if field == "" {
			return fieldErrorf("body", "body is not valid UTF-8 (byte 0x%02X at byte %d)", data[at], at)
		}
		return fieldErrorf(field, "%s is not valid UTF-8 (byte 0x%02X at byte %d of the body)", field, data[at], at)
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		return fieldErrorf("body", "body is not valid JSON: it ends in the middle of a value (at byte %d)", len(data))
	}
	msg := strings.TrimPrefix(e.Err.Error(), "jsontext: ")
	if field == "" {
		return fieldErrorf("body", "body is not valid JSON: %s (at byte %d)", msg, e.ByteOffset)
	}
	return fieldErrorf(field, "%s is not valid JSON: %s (at byte %d)", field, msg, e.ByteOffset)
}

// semanticError describes valid JSON that does not fit the fields:
// an unknown field, or a value of the wrong type.
func semanticError(e *json.SemanticError, t reflect.Type) error {
	field := fieldPath(t, e.JSONPointer)
	if errors.Is(e.Err, json.ErrUnknownName) {
		name := e.JSONPointer.LastToken()
		if want := fieldNameFold(e.GoType, name); want != "" {
			return fieldErrorf(field, "unknown field %q: field names are case-sensitive, use %q", name, want)
		}
		return fieldErrorf(field, "unknown field %q: check its spelling", name)
	}
	got := "JSON " + jsonKindName(e.JSONKind)
	if e.JSONKind == '0' {
		got = "JSON number " + quoteNumber(e.JSONValue)
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
		return fieldErrorf("body", "body: expected %s, got %s", want, got)
	}
	return fieldErrorf(field, "%s: expected %s, got %s", field, want, got)
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

// fieldPath turns a JSON pointer ("/deployWindows/0/kind") into the
// field path Railyard's messages use ("deployWindows[0].kind"), reading
// t to tell struct fields from map keys and list positions.
func fieldPath(t reflect.Type, ptr jsontext.Pointer) string {
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
	for _, f := range jsonFields(t) {
		if jsonName(f) == name {
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
	for _, f := range jsonFields(t) {
		if n := jsonName(f); strings.EqualFold(n, name) {
			return n
		}
	}
	return ""
}

// jsonFields returns the exported fields of struct t as JSON sees them:
// the fields of an embedded struct without a JSON name are inlined, in
// its place.
func jsonFields(t reflect.Type) []reflect.StructField {
	var fields []reflect.StructField
	for f := range t.Fields() {
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			fields = append(fields, jsonFields(ft)...)
			continue
		}
		if f.IsExported() {
			fields = append(fields, f)
		}
	}
	return fields
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

// maxNumberQuote is how much of a number a message quotes: a number may
// be megabytes long.
const maxNumberQuote = 60

// quoteNumber quotes a JSON number for a message, cut after
// maxNumberQuote bytes. A JSON number is ASCII, so a cut at any byte is a
// cut between characters.
func quoteNumber(v jsontext.Value) string {
	if len(v) <= maxNumberQuote {
		return string(v)
	}
	return string(v[:maxNumberQuote]) + "…"
}
