package railyard

import "time"

// LockKind says what a lock holds back.
type LockKind string

// Lock kinds. A group lock is not stored as such: it creates an environment
// lock with the same id in every member environment of the group.
const (
	LockEnvironment LockKind = "environment"
	LockApplication LockKind = "application"
	LockTeam        LockKind = "team"
	LockGroup       LockKind = "environment-group"
)

// Lock stops automation from changing what runs: in a whole environment,
// for one application in an environment, or for one team's applications in
// an environment.
type Lock struct {
	Kind        LockKind   `json:"kind"`
	Environment string     `json:"environment"`
	Application string     `json:"application,omitempty"`
	Team        string     `json:"team,omitempty"`
	ID          string     `json:"id"`
	Message     string     `json:"message"`
	CreatedBy   Actor      `json:"createdBy"`
	CreatedAt   time.Time  `json:"createdAt"`
	CILink      string     `json:"ciLink,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

// Key returns the lock's identity.
func (l *Lock) Key() LockKey {
	return LockKey{Kind: l.Kind, Environment: l.Environment, Application: l.Application, Team: l.Team, ID: l.ID}
}

// Expired reports whether the lock's expiry has passed at now. An expired
// lock no longer blocks anything; Railyard removes it.
func (l *Lock) Expired(now time.Time) bool {
	return l.ExpiresAt != nil && !now.Before(*l.ExpiresAt)
}

// LockKey identifies a stored lock. Application is set only for
// application locks and Team only for team locks.
type LockKey struct {
	Kind        LockKind `json:"kind"`
	Environment string   `json:"environment"`
	Application string   `json:"application,omitempty"`
	Team        string   `json:"team,omitempty"`
	ID          string   `json:"id"`
}

// LockFilter selects locks; empty fields match everything.
type LockFilter struct {
	Kind        LockKind
	Environment string
	Application string
	Team        string
	ID          string
}

// MaxLockMessageBytes bounds a lock message.
const MaxLockMessageBytes = 4096
