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

// ExpireLocks removes every lock whose expiry has passed and deploys the
// queued versions that were waiting only for them. Railyard runs it
// periodically as SystemActor.
type ExpireLocks struct{}
