package railyard

import (
	"context"
	"time"
)

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

// FindEnvironments returns every environment in pipeline order (see
// SortEnvironments).
func (e *Engine) FindEnvironments(ctx context.Context) ([]*Environment, error) {
	var envs []*Environment
	err := e.store.View(ctx, func(tx Tx) (err error) {
		envs, err = tx.FindEnvironments(ctx)
		return err
	})
	SortEnvironments(envs)
	return envs, err
}

// FindEnvironment returns one environment; ENOTFOUND if it does not exist.
func (e *Engine) FindEnvironment(ctx context.Context, name string) (*Environment, error) {
	if err := ValidateEnvironmentName(name); err != nil {
		return nil, err
	}
	var env *Environment
	err := e.store.View(ctx, func(tx Tx) (err error) {
		env, err = tx.FindEnvironment(ctx, name)
		return err
	})
	return env, err
}

// FindApplications returns every application, ordered by name.
func (e *Engine) FindApplications(ctx context.Context) ([]*Application, error) {
	var apps []*Application
	err := e.store.View(ctx, func(tx Tx) (err error) {
		apps, err = tx.FindApplications(ctx)
		return err
	})
	return apps, err
}

// FindApplication returns an application with its releases and its state
// in every environment; ENOTFOUND if it does not exist.
func (e *Engine) FindApplication(ctx context.Context, name string) (*ApplicationDetail, error) {
	if err := ValidateApplicationName(name); err != nil {
		return nil, err
	}
	var detail *ApplicationDetail
	err := e.store.View(ctx, func(tx Tx) error {
		app, err := tx.FindApplication(ctx, name)
		if err != nil {
			return err
		}
		releases, err := tx.FindReleases(ctx, ReleaseFilter{Application: name})
		if err != nil {
			return err
		}
		envs, err := tx.FindEnvironments(ctx)
		if err != nil {
			return err
		}
		deps, err := tx.FindDeployments(ctx, DeploymentFilter{Application: name})
		if err != nil {
			return err
		}
		locks, err := tx.FindLocks(ctx, LockFilter{})
		if err != nil {
			return err
		}
		detail = &ApplicationDetail{Application: *app, Releases: releases, Environments: make(map[string]*ApplicationEnvironment, len(envs))}
		for _, env := range envs {
			detail.Environments[env.Name] = &ApplicationEnvironment{Deployment: Deployment{Application: name, Environment: env.Name}, Locks: []*Lock{}}
		}
		for _, d := range deps {
			if ae := detail.Environments[d.Environment]; ae != nil {
				ae.Deployment = *d
			}
		}
		now := e.now()
		for _, l := range locks {
			if ae := detail.Environments[l.Environment]; ae != nil && !l.Expired(now) && l.applies(name, app.Team) {
				ae.Locks = append(ae.Locks, l)
			}
		}
		return nil
	})
	return detail, err
}

// FindRelease returns a release with its manifests; ENOTFOUND if the
// application has no such version.
func (e *Engine) FindRelease(ctx context.Context, app string, version int64) (*Release, error) {
	if err := ValidateApplicationName(app); err != nil {
		return nil, err
	}
	if version <= 0 {
		return nil, Errorf(EINVALID, "version must be a positive integer, got %d", version).WithField("version")
	}
	var rel *Release
	err := e.store.View(ctx, func(tx Tx) (err error) {
		rel, err = tx.FindRelease(ctx, app, version, true)
		return err
	})
	return rel, err
}

// FindLocks returns the matching locks, including expired ones that
// Railyard has not removed yet (their ExpiresAt tells). A filter with a
// Group is EINVALID: stored locks have none.
func (e *Engine) FindLocks(ctx context.Context, filter LockFilter) ([]*Lock, error) {
	if filter.Group != "" {
		return nil, Errorf(EINVALID, "group: a group lock is stored as an environment lock in every member environment; filter by environment").WithField("group")
	}
	var locks []*Lock
	err := e.store.View(ctx, func(tx Tx) (err error) {
		locks, err = tx.FindLocks(ctx, filter)
		return err
	})
	return locks, err
}

// FindEvents returns the matching events.
func (e *Engine) FindEvents(ctx context.Context, filter EventFilter) ([]*Event, error) {
	if filter.SourceCommitID != "" && !commitPrefixRE.MatchString(filter.SourceCommitID) {
		return nil, Errorf(EINVALID, "sourceCommitId %q must be 7 to 40 hexadecimal characters", Truncate(filter.SourceCommitID, maxQuoted)).WithField("sourceCommitId")
	}
	var events []*Event
	err := e.store.View(ctx, func(tx Tx) (err error) {
		events, err = tx.FindEvents(ctx, filter)
		return err
	})
	return events, err
}

// LastEventID returns the id of the newest event, 0 if there is none.
func (e *Engine) LastEventID(ctx context.Context) (int64, error) {
	var id int64
	err := e.store.View(ctx, func(tx Tx) (err error) {
		id, err = tx.LastEventID(ctx)
		return err
	})
	return id, err
}

// DeployWindowState says whether the deploy windows of env allow
// automatic deployments now, which windows block if not, and when that
// next changes; ENOTFOUND if env does not exist. An environment without
// windows is always allowed.
func (e *Engine) DeployWindowState(ctx context.Context, env string) (*WindowState, error) {
	found, err := e.FindEnvironment(ctx, env)
	if err != nil {
		return nil, err
	}
	return EvaluateDeployWindows(found.Config.DeployWindows, normalizeTime(e.now()))
}
