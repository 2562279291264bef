package railyard

import "time"

// Overview is what runs where, for every application in every
// environment, in one read.
type Overview struct {
	// Environments in pipeline order (see SortEnvironments).
	Environments []*Environment         `json:"environments"`
	Applications []*OverviewApplication `json:"applications"`
}

// OverviewApplication is one row of the overview.
type OverviewApplication struct {
	Name string `json:"name"`
	Team string `json:"team"`
	// Environments has an entry for every environment.
	Environments map[string]*OverviewCell `json:"environments"`
}

// OverviewCell is one application in one environment.
type OverviewCell struct {
	Version       *int64     `json:"version"`
	QueuedVersion *int64     `json:"queuedVersion"`
	DeployedAt    *time.Time `json:"deployedAt,omitempty"`
	// Locks are every lock that holds the application back there:
	// environment locks, its application locks and its team's locks.
	Locks []*Lock `json:"locks"`
}

// ApplicationDetail is an application with its releases and its state in
// every environment.
type ApplicationDetail struct {
	Application
	// Releases, newest first, without manifests.
	Releases []*Release `json:"releases"`
	// Environments has an entry for every environment.
	Environments map[string]*ApplicationEnvironment `json:"environments"`
}

// ApplicationEnvironment is an application's state in one environment.
type ApplicationEnvironment struct {
	Deployment
	// Locks are every lock that holds the application back there.
	Locks []*Lock `json:"locks"`
}
