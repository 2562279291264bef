package ui

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// formState is a form sent back to its page because of invalid input: the
// values the user typed, and the errors next to the fields. Its methods
// are safe on nil, so templates ask every form.
type formState struct {
	// ID names the form on the page ("lock-production").
	ID     string
	Values url.Values
	// Errors by field name; "" is the error of the whole form.
	Errors map[string]string
}

// newFormState returns the state of form id with the values sent.
func newFormState(id string, values url.Values) *formState {
	return &formState{ID: id, Values: values, Errors: map[string]string{}}
}

// Is reports whether the state is of form id (its <details> stays open).
func (f *formState) Is(id string) bool {
	return f != nil && f.ID == id
}

// Value returns what the user typed into field of form id.
func (f *formState) Value(id, field string) string {
	if !f.Is(id) {
		return ""
	}
	return f.Values.Get(field)
}

// Error returns the error of field of form id ("" for the whole form).
func (f *formState) Error(id, field string) string {
	if !f.Is(id) {
		return ""
	}
	return f.Errors[field]
}

// fail records err: on the field it names (through fields, which maps the
// engine's field names to the form's) or on the whole form.
func (f *formState) fail(err error, fields map[string]string) {
	msg := railyard.ErrorMessage(err)
	if de := railyard.AsError(err); de != nil {
		if name, ok := fields[de.Field]; ok {
			f.Errors[name] = msg
			return
		}
	}
	f.Errors[""] = msg
}

// lockFields are the engine's field names of a lock and the form's.
var lockFields = map[string]string{"id": "id", "lockId": "id", "message": "message", "expiresAt": "expires", "team": "team"}

// parseExpiry reads an expiry such as "2h", "90m" or "3d" (days are not
// a Go duration unit) into a time after now; empty means none.
func parseExpiry(s string, now time.Time) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n float64
		n, err = strconv.ParseFloat(days, 64)
		d = time.Duration(n * 24 * float64(time.Hour))
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return nil, railyard.Errorf(railyard.EINVALID, "%q is not a duration: write e.g. 2h, 90m or 3d", railyard.Truncate(s, 40)).WithField("expiresAt")
	}
	if d > 5*365*24*time.Hour {
		return nil, railyard.Errorf(railyard.EINVALID, "%q is more than five years: leave it empty for a lock without expiry", railyard.Truncate(s, 40)).WithField("expiresAt")
	}
	t := now.Add(d)
	return &t, nil
}

// lockFieldsView is the data of the "lock-fields" template.
type lockFieldsView struct {
	Prefix, FormID string
	Form           *formState
}

// LockFields returns the data for the lock inputs of form id.
func (p *page) LockFields(prefix, id string, f *formState) lockFieldsView {
	return lockFieldsView{Prefix: prefix, FormID: id, Form: f}
}
