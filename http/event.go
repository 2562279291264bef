package http

import (
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// Event page sizes.
const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
)

// eventList is the body of GET /api/v1/events: one page, newest first.
// Next is the id to pass as ?before= for the next page, null on the last.
type eventList struct {
	Events []*railyard.Event `json:"events"`
	Next   *int64            `json:"next"`
}

// handleFindEvents answers one page of the audit log.
func (s *Server) handleFindEvents(w nethttp.ResponseWriter, r *nethttp.Request) error {
	filter, err := parseEventFilter(r.URL.Query())
	if err != nil {
		return err
	}
	limit := filter.Limit
	filter.Limit = limit + 1 // one more tells whether another page exists
	events, err := s.engine.FindEvents(r.Context(), filter)
	if err != nil {
		return err
	}
	out := eventList{Events: nonNil(events)}
	if len(events) > limit {
		out.Events = events[:limit]
		next := events[limit-1].ID
		out.Next = &next
	}
	writeJSON(w, nethttp.StatusOK, out)
	return nil
}

// parseEventFilter reads the event query parameters; every bad one is
// refused by name. The limit defaults to 100 and is at most 1000.
func parseEventFilter(q url.Values) (railyard.EventFilter, error) {
	f := railyard.EventFilter{Limit: defaultEventLimit}
	if err := checkParams(q, "application", "environment", "actor", "kind", "since", "until", "sourceCommitId", "limit", "before"); err != nil {
		return f, err
	}
	f.Application, f.Environment, f.Actor, f.Kind, f.SourceCommitID =
		q.Get("application"), q.Get("environment"), q.Get("actor"), q.Get("kind"), q.Get("sourceCommitId")
	if err := validateEventNames(f); err != nil {
		return f, err
	}
	var err error
	if f.Since, err = parseTimeParam(q, "since"); err != nil {
		return f, err
	}
	if f.Until, err = parseTimeParam(q, "until"); err != nil {
		return f, err
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		return f, fieldError("until", "until must not be before since")
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxEventLimit {
			return f, fieldError("limit", "limit %q must be an integer from 1 to %d", railyard.Truncate(v, 30), maxEventLimit)
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return f, fieldError("before", "before %q must be a positive event id (the \"next\" of the previous page)", railyard.Truncate(v, 30))
		}
		f.BeforeID = id
	}
	return f, nil
}

// validateEventNames checks the name-like filters of an event query.
func validateEventNames(f railyard.EventFilter) error {
	if f.Application != "" {
		if err := railyard.ValidateApplicationName(f.Application); err != nil {
			return err
		}
	}
	if f.Environment != "" {
		if err := railyard.ValidateEnvironmentName(f.Environment); err != nil {
			return err
		}
	}
	if len(f.Actor) > 200 {
		return fieldError("actor", "actor is longer than 200 characters")
	}
	if f.Kind != "" && !slices.Contains(railyard.EventKinds(), f.Kind) {
		return fieldError("kind", "kind %q is not an event kind: use one of %s", railyard.Truncate(f.Kind, 60), strings.Join(railyard.EventKinds(), ", "))
	}
	return nil
}

// parseTimeParam parses an optional RFC 3339 query parameter.
func parseTimeParam(q url.Values, name string) (*time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, fieldError(name, "%s %q is not an RFC 3339 time such as \"2025-01-31T18:00:00Z\"", name, railyard.Truncate(v, 60))
	}
	return &t, nil
}

var findEventsDoc = &operation{
	Tag:     "events",
	Summary: "Page through the audit log",
	Description: "Events newest first. Pass `next` of one page as `before` to get the next; `next` is null on the last page. " +
		"Every filter is optional; unknown or malformed parameters are refused (400, naming the parameter).",
	Query: []param{
		{"application", "Events that touched this application.", "string"},
		{"environment", "Events that touched this environment.", "string"},
		{"actor", "Events by this actor (name or e-mail, exact).", "string"},
		{"kind", "Events of this kind (" + strings.Join(railyard.EventKinds(), ", ") + ").", "string"},
		{"since", "Events at or after this RFC 3339 time.", "date-time"},
		{"until", "Events before this RFC 3339 time.", "date-time"},
		{"sourceCommitId", "Events that released, deployed or queued a release of this source commit (7 to 40 hex characters; a prefix matches).", "string"},
		{"limit", "Page size, 1 to 1000; default 100.", "integer"},
		{"before", "Only events with a smaller id: the `next` of the previous page.", "integer"},
	},
	Responses: []response{{200, "One page of events.", eventList{}}},
	Errors:    []int{400},
}
