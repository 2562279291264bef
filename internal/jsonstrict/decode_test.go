package jsonstrict

import (
	"errors"
	"strings"
	"testing"
)

// target is embedded, as railyard.LockTarget is in the lock commands:
// JSON inlines its fields.
type target struct {
	Kind        string `json:"kind"`
	Environment string `json:"environment,omitempty"`
}

type command struct {
	target
	Windows []struct {
		Kind string `json:"kind"`
	} `json:"deployWindows,omitempty"`
	Message string `json:"message"`
	Version int64  `json:"version,omitempty"`
}

// TestFieldError checks that every refusal is a *FieldError naming the
// field, also for the fields of an embedded struct, which JSON inlines.
func TestFieldError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, field, message string
	}{
		{`{"Environment":"staging"}`, "Environment", `unknown field "Environment": field names are case-sensitive, use "environment"`},
		{`{"kind":"a","kind":"b"}`, "kind", "kind is given more than once: give each field once"},
		{`{"environment":true}`, "environment", "environment: expected a string, got JSON bool"},
		{`{"deployWindows":[{"Kind":"a"}]}`, "deployWindows[0].Kind", `unknown field "Kind": field names are case-sensitive, use "kind"`},
		{`{"version":` + strings.Repeat("9", 100) + `}`, "version", "version: expected an integer, got JSON number " + strings.Repeat("9", 60) + "…"},
		{`{"messages":"m"}`, "messages", `unknown field "messages": check its spelling`},
		{"", "body", "body is empty: send a JSON object"},
		{`{"message":"m"`, "body", "body is not valid JSON: it ends in the middle of a value (at byte 14)"},
	} {
		var v command
		err := Decode([]byte(tc.in), &v)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Message != tc.message || err.Error() != tc.message {
			t.Errorf("%q:\ngot  %#v\nwant field %q message %q", tc.in, err, tc.field, tc.message)
		}
	}
}

// TestDecodeInlinesEmbeddedStructs checks that the fields of an embedded
// struct decode as the outer struct's own, strictly and leniently.
func TestDecodeInlinesEmbeddedStructs(t *testing.T) {
	t.Parallel()
	var v command
	if err := Decode([]byte(`{"kind":"environment","environment":"staging","message":"m"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.Kind != "environment" || v.Environment != "staging" || v.Message != "m" {
		t.Errorf("got %+v", v)
	}
	v = command{}
	if err := DecodeLenient([]byte(`{"kind":"team","extra":1}`), &v); err != nil || v.Kind != "team" {
		t.Errorf("lenient: got %v, %+v", err, v)
	}
}
