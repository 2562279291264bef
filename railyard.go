// Package railyard is the domain of Railyard, a GitOps release manager for
// Kubernetes: which version of which application runs in which environment.
//
// The root package holds the plain domain types, their validation, the coded
// errors, the Store interface and the Engine that applies commands to a Store
// inside one transaction. It is grouped by noun: each concept's type, its
// commands and its rules share one file (environment.go, release.go,
// deploy.go, lock.go, train.go, reconcile.go, …); engine.go applies
// commands and query.go reads. Machinery that knows nothing of Railyard is
// sealed in internal/ (cron, yamlcheck, jsonstrict). Subpackages are named
// after the dependency they wrap (sqlite, http) and depend on this package,
// never on each other; only cmd/railyard wires them together.
package railyard

import (
	"strings"
	"time"
)

// Actor is the person or system on whose behalf a change is made.
type Actor struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// String formats the actor as "Name <email>" (or just the name).
func (a Actor) String() string {
	if a.Email == "" {
		return a.Name
	}
	return a.Name + " <" + a.Email + ">"
}

// SystemActor is the actor Railyard records for changes it makes by itself
// (expiring locks, deploying a queue whose last blocker went away).
var SystemActor = Actor{Name: "Railyard", Email: "railyard@localhost"}

// DefaultActor is used when a request carries no identity.
var DefaultActor = Actor{Name: "anonymous", Email: "anonymous@localhost"}

// Validate checks that the actor's fields are printable one-line text
// (see text.go) without '<' or '>', and bounded, since they are written
// into the author and committer headers of Git commits, where a newline
// would forge a header and '<' or '>' would end the name early. The
// fields are named as the request headers that carry them.
func (a Actor) Validate() error {
	if strings.TrimSpace(a.Name) == "" {
		return Errorf(EINVALID, "actor name must not be empty").WithField("author-name")
	}
	for _, f := range []struct{ field, value string }{{"author-name", a.Name}, {"author-email", a.Email}} {
		if len(f.value) > 200 {
			return Errorf(EINVALID, "%s must be at most 200 characters", f.field).WithField(f.field)
		}
		if strings.ContainsAny(f.value, "<>") {
			return Errorf(EINVALID, "%s must not contain '<' or '>'", f.field).WithField(f.field)
		}
		if err := validateLine(f.field, f.value); err != nil {
			return err
		}
	}
	return nil
}

// Clock returns the current time. Everything time-dependent takes one so
// that tests are exact and never sleep.
type Clock func() time.Time

// normalizeTime returns t truncated to microseconds in UTC: the precision every store
// keeps, so that a value read back equals the value written.
func normalizeTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
