package http

import (
	"fmt"
	nethttp "net/http"
	"net/url"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// lockRequest is the body of PUT on a lock; the lock's target and id come
// from the path. ExpiresAt is a string so that a malformed time is
// refused naming the field.
type lockRequest struct {
	Message   string `json:"message"`
	CILink    string `json:"ciLink,omitempty"`
	ExpiresAt string `json:"expiresAt,omitempty" format:"date-time"`
}

// lockList is the body of GET /api/v1/locks.
type lockList struct {
	Locks []*railyard.Lock `json:"locks"`
}

// lockTargetOf reads which lock from a lock route of the given kind: the
// path wildcards the route has ({env}, {group}, {app}, {team}, {id}).
// PathValue is "" for wildcards the route does not have, which is what
// the lock commands expect for fields their kind does not use.
func lockTargetOf(r *nethttp.Request, kind railyard.LockKind) railyard.LockTarget {
	return railyard.LockTarget{Kind: kind, Environment: r.PathValue("env"), Group: r.PathValue("group"),
		Application: r.PathValue("app"), Team: r.PathValue("team"), ID: r.PathValue("id")}
}

// handleCreateLock returns the handler of PUT on a lock of the given kind:
// 201 with the created locks (one per member environment for a group).
func (s *Server) handleCreateLock(kind railyard.LockKind) handlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) error {
		var req lockRequest
		if err := s.decodeJSON(r, &req); err != nil {
			return err
		}
		var expiresAt *time.Time
		if req.ExpiresAt != "" {
			t, err := time.Parse(time.RFC3339Nano, req.ExpiresAt)
			if err != nil {
				return fieldError("expiresAt", "expiresAt %q is not an RFC 3339 time such as \"2025-01-31T18:00:00Z\"", railyard.Truncate(req.ExpiresAt, 60))
			}
			expiresAt = &t
		}
		return s.apply(w, r, &railyard.CreateLock{LockTarget: lockTargetOf(r, kind), Message: req.Message, CILink: req.CILink, ExpiresAt: expiresAt})
	}
}

// handleDeleteLock returns the handler of DELETE on a lock of the given
// kind. Queued versions whose last blocker it was are deployed.
func (s *Server) handleDeleteLock(kind railyard.LockKind) handlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) error {
		return s.apply(w, r, &railyard.DeleteLock{LockTarget: lockTargetOf(r, kind)})
	}
}

// handleFindLocks lists locks, filtered by the query parameters.
func (s *Server) handleFindLocks(w nethttp.ResponseWriter, r *nethttp.Request) error {
	filter, err := parseLockFilter(r.URL.Query())
	if err != nil {
		return err
	}
	locks, err := s.engine.FindLocks(r.Context(), filter)
	if err != nil {
		return err
	}
	writeJSON(w, nethttp.StatusOK, lockList{Locks: nonNil(locks)})
	return nil
}

// parseLockFilter reads the lock query parameters, refusing unknown or
// invalid ones by name so that a typo does not silently match everything.
func parseLockFilter(q url.Values) (railyard.LockFilter, error) {
	if err := checkParams(q, "kind", "environment", "application", "team", "id"); err != nil {
		return railyard.LockFilter{}, err
	}
	f := railyard.LockFilter{Kind: railyard.LockKind(q.Get("kind")), Environment: q.Get("environment"),
		Application: q.Get("application"), Team: q.Get("team"), ID: q.Get("id")}
	switch f.Kind {
	case "", railyard.LockEnvironment, railyard.LockApplication, railyard.LockTeam:
	case railyard.LockGroup:
		return f, fieldError("kind", "a group lock is stored as an environment lock in every member environment: use kind=environment")
	default:
		return f, fieldError("kind", "kind %q is not a lock kind: use environment, application or team", railyard.Truncate(string(f.Kind), 60))
	}
	checks := []struct {
		value    string
		validate func(string) error
	}{
		{f.Environment, railyard.ValidateEnvironmentName},
		{f.Application, railyard.ValidateApplicationName},
		{f.Team, railyard.ValidateTeamName},
		{f.ID, railyard.ValidateLockID},
	}
	for _, c := range checks {
		if c.value != "" {
			if err := c.validate(c.value); err != nil {
				return f, err
			}
		}
	}
	return f, nil
}

// checkParams refuses query parameters not in allowed, and parameters
// given more than once.
func checkParams(q url.Values, allowed ...string) error {
	ok := make(map[string]bool, len(allowed))
	for _, a := range allowed {
		ok[a] = true
	}
	for key, values := range q {
		if !ok[key] {
			return fieldError(key, "unknown query parameter %q: use %v", railyard.Truncate(key, 60), allowed)
		}
		if len(values) > 1 {
			return fieldError(key, "query parameter %q may be given once", key)
		}
	}
	return nil
}

// lockNoun describes a lock kind for the documentation.
var lockNoun = map[railyard.LockKind]string{
	railyard.LockEnvironment: "an environment lock (every application in the environment)",
	railyard.LockApplication: "an application lock (one application in the environment)",
	railyard.LockTeam:        "a team lock (every application of the team in the environment; the team must own an application)",
	railyard.LockGroup:       "an environment-group lock (an environment lock with this id in every member environment)",
}

// createLockDoc documents PUT on a lock of the given kind.
func createLockDoc(kind railyard.LockKind) *operation {
	return &operation{
		Tag:     "locks",
		Summary: fmt.Sprintf("Create or replace %s lock", kind),
		Description: fmt.Sprintf("Creates or replaces %s. `message` is required; `expiresAt` (RFC 3339) makes the lock expire, "+
			"after which Railyard removes it and deploys what was queued behind it.", lockNoun[kind]),
		Request:   lockRequest{},
		Responses: []response{{201, "Created; `locks` holds the created locks.", railyard.Result{}}},
		Errors:    []int{400, 404, 413, 415},
	}
}

// deleteLockDoc documents DELETE on a lock of the given kind.
func deleteLockDoc(kind railyard.LockKind) *operation {
	return &operation{
		Tag:         "locks",
		Summary:     fmt.Sprintf("Delete %s lock", kind),
		Description: fmt.Sprintf("Deletes %s. Versions queued behind it whose last blocker it was are deployed in the same event.", lockNoun[kind]),
		Responses:   []response{{200, "Deleted.", railyard.Result{}}},
		Errors:      []int{400, 404},
	}
}

var findLocksDoc = &operation{
	Tag:     "locks",
	Summary: "List locks",
	Description: "Every filter is optional; unknown parameters are refused. Expired locks that Railyard has not removed yet " +
		"are included (their `expiresAt` tells).",
	Query: []param{
		{"kind", "`environment`, `application` or `team`.", "string"},
		{"environment", "Only locks in this environment.", "string"},
		{"application", "Only application locks of this application.", "string"},
		{"team", "Only team locks of this team.", "string"},
		{"id", "Only locks with this id.", "string"},
	},
	Responses: []response{{200, "The matching locks.", lockList{}}},
	Errors:    []int{400},
}
