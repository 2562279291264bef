package storetest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// update runs fn in s.Update and fails the test if it returns an error.
func update(t *testing.T, s railyard.Store, fn func(tx railyard.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: got error %v, want none", err)
	}
}

// view runs fn in s.View and fails the test if it returns an error.
func view(t *testing.T, s railyard.Store, fn func(tx railyard.Tx) error) {
	t.Helper()
	if err := s.View(t.Context(), fn); err != nil {
		t.Fatalf("View: got error %v, want none", err)
	}
}

// wantError checks that err is a domain error with code and, unless
// message is "", exactly that message: messages reach users, so every
// store must word them alike.
func wantError(t *testing.T, what string, err error, code, message string) {
	t.Helper()
	if got := railyard.ErrorCode(err); got != code {
		t.Errorf("%s: got error code %q (%v), want %q", what, got, err, code)
		return
	}
	if message != "" {
		if got := railyard.ErrorMessage(err); got != message {
			t.Errorf("%s: got message %q, want %q", what, got, message)
		}
	}
}

// noError fails the test if err is not nil.
func noError(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: got error %v, want none", what, err)
	}
}

// equal checks got and want for deep equality, which also tells nil from
// empty slices and compares times exactly (location and all).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, w := describe(got), describe(want)
	if g == w {
		t.Errorf("%s: values print alike but differ in representation (nil vs empty slice or map, nil vs zero pointer, or a time's location):\ngot  %#v\nwant %#v", what, got, want)
		return
	}
	t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
}

// describe formats v readably: as JSON, which shows the values behind
// pointers and times in full.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// t0 is the suite's reference time: UTC, with microseconds, as the engine
// normalizes times.
var t0 = time.Date(2025, time.March, 14, 9, 26, 53, 589793000, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// envNames returns the names of environments, for order checks.
func envNames(envs []*railyard.Environment) []string {
	names := []string{}
	for _, e := range envs {
		names = append(names, e.Name)
	}
	return names
}

// eventIDs returns the IDs of events, for order and filter checks.
func eventIDs(events []*railyard.Event) []int64 {
	ids := []int64{}
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}
