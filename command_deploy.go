package railyard

import (
	"context"
	"fmt"
)

// Kind implements Command.
func (*Deploy) Kind() string { return KindDeploy }

// Validate implements Command.
func (d *Deploy) Validate() error {
	if err := ValidateApplicationName(d.Application); err != nil {
		return err
	}
	if err := ValidateEnvironmentName(d.Environment); err != nil {
		return err
	}
	if d.Version <= 0 {
		return Errorf(EINVALID, "version must be a positive integer, got %d", d.Version).WithField("version")
	}
	switch d.LockBehavior {
	case "", LockBehaviorFail, LockBehaviorQueue, LockBehaviorIgnore:
	default:
		return Errorf(EINVALID, "lockBehavior %q is not valid: use \"fail\", \"queue\" or \"ignore\"", d.LockBehavior).WithField("lockBehavior")
	}
	return nil
}

func (d *Deploy) apply(ctx context.Context, c *commandContext) (*Result, error) {
	if _, err := c.tx.FindEnvironment(ctx, d.Environment); err != nil {
		return nil, err
	}
	app, err := c.tx.FindApplication(ctx, d.Application)
	if err != nil {
		return nil, err
	}
	rel, err := c.tx.FindRelease(ctx, d.Application, d.Version, false)
	if err != nil {
		return nil, err
	}
	if !rel.HasManifest(d.Environment) {
		return nil, Errorf(EINVALID, "release %d of %s has no manifest for environment %s, so it cannot be deployed there", d.Version, d.Application, d.Environment).WithField("environment")
	}
	dep, err := c.deployment(ctx, d.Application, d.Environment)
	if err != nil {
		return nil, err
	}
	if dep.Version != nil && *dep.Version == d.Version {
		res, err := d.alreadyRunning(ctx, c, dep)
		if res != nil {
			res.Release = rel
		}
		return res, err
	}
	blockers, err := c.blockers(ctx, d.Application, app.Team, d.Environment)
	if err != nil {
		return nil, err
	}
	behavior := d.LockBehavior
	if behavior == "" {
		behavior = LockBehaviorFail
	}
	if len(blockers) > 0 {
		switch behavior {
		case LockBehaviorFail:
			e := Errorf(ELOCKED, "%s %d cannot be deployed to %s: blocked by %s. Remove the blockers, or deploy with lockBehavior \"queue\" to queue it or \"ignore\" to deploy anyway",
				d.Application, d.Version, d.Environment, describeBlockers(blockers))
			e.Blockers = blockers
			return nil, e
		case LockBehaviorQueue:
			if err := c.queue(ctx, dep, rel, blockers, "manual"); err != nil {
				return nil, err
			}
			c.describe("Queue %s %s in %s (blocked by %s)", d.Application, releaseLabel(rel), d.Environment, blockerNames(blockers))
			return &Result{Outcome: OutcomeQueued, Deployment: dep, Release: rel}, nil
		}
	}
	reason := "manual"
	if len(blockers) > 0 {
		reason = "manual, overriding " + blockerNames(blockers)
	}
	if err := c.deploy(ctx, dep, rel, reason, blockers); err != nil {
		return nil, err
	}
	if len(blockers) > 0 {
		c.describe("Deploy %s %s to %s, overriding %s", d.Application, releaseLabel(rel), d.Environment, blockerNames(blockers))
	} else {
		c.describe("Deploy %s %s to %s", d.Application, releaseLabel(rel), d.Environment)
	}
	return &Result{Outcome: OutcomeDeployed, Deployment: dep, Release: rel}, nil
}

// alreadyRunning answers a deploy of the running version: nothing to do,
// except that an older queued version is dropped, since the newest request
// (this one) has been met.
func (d *Deploy) alreadyRunning(ctx context.Context, c *commandContext, dep *Deployment) (*Result, error) {
	if dep.QueuedVersion == nil || *dep.QueuedVersion > d.Version {
		return &Result{Outcome: OutcomeUnchanged, Deployment: dep}, nil
	}
	c.change(Change{Op: ChangeUnqueue, Application: dep.Application, Environment: dep.Environment, Version: *dep.QueuedVersion,
		Reason: fmt.Sprintf("version %d already runs", d.Version)})
	c.describe("Drop queued %s %d in %s: %d already runs", d.Application, *dep.QueuedVersion, d.Environment, d.Version)
	dep.QueuedVersion, dep.QueuedAt, dep.QueuedBecause = nil, nil, nil
	if err := c.tx.PutDeployment(ctx, dep); err != nil {
		return nil, err
	}
	return &Result{Outcome: OutcomeDeployed, Deployment: dep}, nil
}

// deployment returns the deployment of app in env, or a new empty one.
func (c *commandContext) deployment(ctx context.Context, app, env string) (*Deployment, error) {
	dep, err := c.tx.FindDeployment(ctx, app, env)
	if ErrorCode(err) == ENOTFOUND {
		return &Deployment{Application: app, Environment: env}, nil
	}
	return dep, err
}

// deploy makes rel the running version of dep, clears the queue if it
// held rel's version or an older one, and records the change.
func (c *commandContext) deploy(ctx context.Context, dep *Deployment, rel *Release, reason string, overridden []Blocker) error {
	var previous int64
	if dep.Version != nil {
		previous = *dep.Version
	}
	v := rel.Version
	at := c.now
	actor := c.actor
	dep.Version = &v
	dep.DeployedAt = &at
	dep.DeployedBy = &actor
	c.change(Change{Op: ChangeDeploy, Application: dep.Application, Environment: dep.Environment, Version: v,
		PreviousVersion: previous, Reason: reason, Blockers: overridden, SourceCommitID: rel.SourceCommitID})
	if dep.QueuedVersion != nil && *dep.QueuedVersion <= v {
		c.change(Change{Op: ChangeUnqueue, Application: dep.Application, Environment: dep.Environment, Version: *dep.QueuedVersion,
			Reason: fmt.Sprintf("version %d deployed", v)})
		dep.QueuedVersion, dep.QueuedAt, dep.QueuedBecause = nil, nil, nil
	}
	return c.tx.PutDeployment(ctx, dep)
}

// queue makes rel the queued version of dep ("last deployment wins") and
// records why.
func (c *commandContext) queue(ctx context.Context, dep *Deployment, rel *Release, blockers []Blocker, reason string) error {
	v := rel.Version
	at := c.now
	dep.QueuedVersion = &v
	dep.QueuedAt = &at
	dep.QueuedBecause = blockers
	c.change(Change{Op: ChangeQueue, Application: dep.Application, Environment: dep.Environment, Version: v,
		Reason: reason, Blockers: blockers, SourceCommitID: rel.SourceCommitID})
	return c.tx.PutDeployment(ctx, dep)
}

// deployOrQueue is automation's deploy: it deploys rel unless something
// blocks it, in which case it queues it. It returns the outcome.
func (c *commandContext) deployOrQueue(ctx context.Context, rel *Release, team, env, reason string) (string, error) {
	dep, err := c.deployment(ctx, rel.Application, env)
	if err != nil {
		return "", err
	}
	blockers, err := c.blockers(ctx, rel.Application, team, env)
	if err != nil {
		return "", err
	}
	if len(blockers) > 0 {
		return OutcomeQueued, c.queue(ctx, dep, rel, blockers, reason)
	}
	return OutcomeDeployed, c.deploy(ctx, dep, rel, reason, nil)
}

// processQueues deploys the queued version of every deployment in env
// matching filter whose blockers are all gone. It is called after locks
// were removed. It returns the deployed "app version" labels.
func (c *commandContext) processQueues(ctx context.Context, env string, match func(app, team string) bool) ([]string, error) {
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Environment: env})
	if err != nil {
		return nil, err
	}
	var deployed []string
	for _, dep := range deps {
		if dep.QueuedVersion == nil {
			continue
		}
		app, err := c.tx.FindApplication(ctx, dep.Application)
		if err != nil {
			return nil, err
		}
		if !match(app.Name, app.Team) {
			continue
		}
		blockers, err := c.blockers(ctx, app.Name, app.Team, env)
		if err != nil {
			return nil, err
		}
		if len(blockers) > 0 {
			continue
		}
		rel, err := c.tx.FindRelease(ctx, app.Name, *dep.QueuedVersion, false)
		if err != nil {
			return nil, fmt.Errorf("queued release: %w", err)
		}
		if err := c.deploy(ctx, dep, rel, "queued version, last blocker removed", nil); err != nil {
			return nil, err
		}
		deployed = append(deployed, fmt.Sprintf("%s %s", app.Name, releaseLabel(rel)))
	}
	return deployed, nil
}

// releaseLabel names a release version for people: "42" or "42 (1.4.2)".
func releaseLabel(r *Release) string {
	if r.DisplayVersion != "" && r.DisplayVersion != fmt.Sprint(r.Version) {
		return fmt.Sprintf("%d (%s)", r.Version, r.DisplayVersion)
	}
	return fmt.Sprint(r.Version)
}

// blockerNames lists blockers briefly: `lock "freeze"`, `team lock "x"`.
func blockerNames(blockers []Blocker) string {
	s := ""
	for i, b := range blockers {
		if i > 0 {
			s += ", "
		}
		if b.Lock != nil {
			switch b.Kind {
			case LockEnvironment:
				s += fmt.Sprintf("environment lock %q", b.Lock.ID)
			case LockApplication:
				s += fmt.Sprintf("application lock %q", b.Lock.ID)
			case LockTeam:
				s += fmt.Sprintf("team lock %q", b.Lock.ID)
			}
			continue
		}
		s += b.Description
	}
	return s
}
