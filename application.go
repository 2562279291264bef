package railyard

import (
	"context"
	"time"
)

// Application is a microservice that Railyard releases. It comes into being
// with its first release; its team is the team of its newest release that
// named one.
type Application struct {
	Name      string    `json:"name"`
	Team      string    `json:"team,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// DeleteApplication deletes an application, its releases and locks. It is
// refused while any environment runs a version of it that is not an
// undeploy release.
type DeleteApplication struct {
	Name string `json:"name"`
}

// Kind implements Command.
func (*DeleteApplication) Kind() string { return KindApplicationDelete }

// Validate implements Command.
func (d *DeleteApplication) Validate() error { return ValidateApplicationName(d.Name) }

func (d *DeleteApplication) apply(ctx context.Context, c *commandContext) (*Result, error) {
	if _, err := c.tx.FindApplication(ctx, d.Name); err != nil {
		return nil, err
	}
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Application: d.Name})
	if err != nil {
		return nil, err
	}
	for _, dep := range deps {
		if dep.Version == nil {
			continue
		}
		rel, err := c.tx.FindRelease(ctx, d.Name, *dep.Version, false)
		if err != nil {
			return nil, err
		}
		if !rel.Undeploy {
			return nil, Errorf(ECONFLICT, "%s still runs version %d in %s: release an undeploy version and deploy it to every environment before deleting the application", d.Name, *dep.Version, dep.Environment)
		}
	}
	locks, err := c.tx.FindLocks(ctx, LockFilter{Kind: LockApplication, Application: d.Name})
	if err != nil {
		return nil, err
	}
	for _, l := range locks {
		if err := c.deleteLock(ctx, l, "application deleted"); err != nil {
			return nil, err
		}
	}
	for _, dep := range deps {
		if err := c.tx.DeleteDeployment(ctx, d.Name, dep.Environment); err != nil {
			return nil, err
		}
		c.change(Change{Op: ChangeDeploymentDelete, Application: d.Name, Environment: dep.Environment})
	}
	// The versions stay retired: an application created again under this
	// name continues the numbering (see RetiredRelease).
	releases, err := c.tx.FindReleases(ctx, ReleaseFilter{Application: d.Name})
	if err != nil {
		return nil, err
	}
	for _, r := range releases {
		if err := c.retireRelease(ctx, d.Name, r.Version, RetiredWithApplication); err != nil {
			return nil, err
		}
	}
	if err := c.tx.DeleteApplication(ctx, d.Name); err != nil {
		return nil, err
	}
	c.change(Change{Op: ChangeApplicationDelete, Application: d.Name})
	c.describe("Delete application %s", d.Name)
	return &Result{Outcome: OutcomeDeleted}, nil
}

// ensureApplication returns the application, creating it or updating its
// team (a release naming a team moves the application to it).
func (c *commandContext) ensureApplication(ctx context.Context, name, team string) (*Application, error) {
	app, err := c.tx.FindApplication(ctx, name)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		app = &Application{Name: name, Team: team, CreatedAt: c.now}
	case err != nil:
		return nil, err
	case team == "" || team == app.Team:
		return app, nil
	default:
		app.Team = team
	}
	if err := c.tx.PutApplication(ctx, app); err != nil {
		return nil, err
	}
	c.change(Change{Op: ChangeApplicationPut, Application: name, Team: app.Team})
	return app, nil
}
