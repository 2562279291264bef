package railyard

import "time"

// PutEnvironment creates an environment or replaces its configuration.
type PutEnvironment struct {
	Name   string            `json:"name"`
	Config EnvironmentConfig `json:"config"`
}

// DeleteEnvironment deletes an environment with its locks and deployments.
// It is refused while another environment names it as upstream.
type DeleteEnvironment struct {
	Name string `json:"name"`
}

// CreateRelease publishes a release. Version 0 means the application's
// highest version + 1. A new release is deployed automatically to every
// environment with upstream.latest that it has a manifest for.
type CreateRelease struct {
	Application    string            `json:"application"`
	Version        int64             `json:"version,omitempty"`
	Manifests      map[string]string `json:"manifests"`
	Team           string            `json:"team,omitempty"`
	SourceCommitID string            `json:"sourceCommitId,omitempty"`
	SourceAuthor   string            `json:"sourceAuthor,omitempty"`
	SourceMessage  string            `json:"sourceMessage,omitempty"`
	SourceBranch   string            `json:"sourceBranch,omitempty"`
	DisplayVersion string            `json:"displayVersion,omitempty"`
	CILink         string            `json:"ciLink,omitempty"`
	Undeploy       bool              `json:"undeploy,omitempty"`

	// maxManifestBytes is set by the engine before validation.
	maxManifestBytes int
}

// DeleteApplication deletes an application, its releases and locks. It is
// refused while any environment runs a version of it that is not an
// undeploy release.
type DeleteApplication struct {
	Name string `json:"name"`
}

// Deploy is a manual deployment of one release to one environment.
// LockBehavior decides what happens when locks or a closed deploy window
// block it; the environment's branch restriction is never overridden.
type Deploy struct {
	Application  string       `json:"application"`
	Environment  string       `json:"environment"`
	Version      int64        `json:"version"`
	LockBehavior LockBehavior `json:"lockBehavior,omitempty"`
}

// CreateLock creates or replaces a lock. Kind decides which of
// Environment, Group, Application and Team are needed: environment
// (Environment), application (Environment, Application), team
// (Environment, Team), environment-group (Group: an environment lock with
// this id in every member environment).
type CreateLock struct {
	LockKind    LockKind   `json:"kind"`
	Environment string     `json:"environment,omitempty"`
	Group       string     `json:"group,omitempty"`
	Application string     `json:"application,omitempty"`
	Team        string     `json:"team,omitempty"`
	ID          string     `json:"id"`
	Message     string     `json:"message"`
	CILink      string     `json:"ciLink,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

// DeleteLock deletes a lock (for a group: the environment lock with that
// id in every member environment). Queued versions whose last blocker it
// was are deployed in the same event.
type DeleteLock struct {
	LockKind    LockKind `json:"kind"`
	Environment string   `json:"environment,omitempty"`
	Group       string   `json:"group,omitempty"`
	Application string   `json:"application,omitempty"`
	Team        string   `json:"team,omitempty"`
	ID          string   `json:"id"`
}

// ReleaseTrain deploys to a target environment (or every member of an
// environment group) the versions of its upstream: for every application,
// the version running in the upstream environment, or the latest release
// if the target has upstream.latest. Blocked applications are queued,
// others skipped with a reason (see TrainResult). Set exactly one of
// Environment and Group; Team and Application narrow the train (a train
// of one application is a promotion).
type ReleaseTrain struct {
	Environment string `json:"environment,omitempty"`
	Group       string `json:"group,omitempty"`
	Team        string `json:"team,omitempty"`
	Application string `json:"application,omitempty"`
	CILink      string `json:"ciLink,omitempty"`
	// ScheduledAt is set by the scheduler (Engine.RunScheduledTrains): the
	// time the environment's schedule fired. A train for a schedule time
	// that already has an event changes nothing, so it never runs twice.
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
}

// Rollback deploys, by hand, the version that ran in the environment
// before the current one (Version 0; see Engine.RollbackVersion), or the
// given version. It follows the rules of Deploy: lockBehavior decides
// about locks and closed windows, a branch restriction always applies.
type Rollback struct {
	Application  string       `json:"application"`
	Environment  string       `json:"environment"`
	Version      int64        `json:"version,omitempty"`
	LockBehavior LockBehavior `json:"lockBehavior,omitempty"`
}

// Reconcile is Railyard's periodic housekeeping, applied as SystemActor:
// it removes expired locks, deploys queued versions whose blockers are all
// gone (a lock expired, a deploy window opened) and drops queued versions
// that a branch restriction refuses. One event if anything changed.
type Reconcile struct{}
