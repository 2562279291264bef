package railyard

import "time"

// Deployment is the state of one application in one environment: the
// version running there and the version waiting in its queue (the queue
// holds at most one; queueing again replaces it).
type Deployment struct {
	Application string     `json:"application"`
	Environment string     `json:"environment"`
	Version     *int64     `json:"version"`
	DeployedAt  *time.Time `json:"deployedAt,omitempty"`
	DeployedBy  *Actor     `json:"deployedBy,omitempty"`

	QueuedVersion *int64     `json:"queuedVersion"`
	QueuedAt      *time.Time `json:"queuedAt,omitempty"`
	// QueuedBecause lists what blocked the queued version when it was queued.
	QueuedBecause []Blocker `json:"queuedBecause,omitempty"`
}

// DeploymentFilter selects deployments; empty fields match everything.
type DeploymentFilter struct {
	Application string
	Environment string
	// Queued selects only deployments with a queued version.
	Queued bool
}

// Blocker is one reason automation may not deploy an application to an
// environment now: a lock or a closed deploy window.
type Blocker struct {
	// Kind is the lock kind, or BlockerWindow.
	Kind LockKind `json:"kind"`
	// Lock is set for lock blockers.
	Lock *Lock `json:"lock,omitempty"`
	// Window is set for deploy window blockers: the deny window that is
	// open, or the allow window that opens next.
	Window *DeployWindow `json:"window,omitempty"`
	// Until is set for window blockers when it is known: when the
	// environment's windows next allow automatic deployments.
	Until *time.Time `json:"until,omitempty"`
	// Description says it in words: "environment lock \"freeze\" by alice: Black Friday".
	Description string `json:"description"`
}

// BlockerWindow is the Kind of a blocker that is a closed deploy window.
const BlockerWindow LockKind = "window"

// LockBehavior says what a manual deploy does when it is blocked.
type LockBehavior string

// Lock behaviours of a manual deploy.
const (
	LockBehaviorFail   LockBehavior = "fail"
	LockBehaviorQueue  LockBehavior = "queue"
	LockBehaviorIgnore LockBehavior = "ignore"
)
