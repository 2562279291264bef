package railyard

import (
	"context"
	"fmt"
	"strings"
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
	if err := validateVersion(d.Version, false); err != nil {
		return err
	}
	switch d.LockBehavior {
	case "", LockBehaviorFail, LockBehaviorQueue, LockBehaviorIgnore:
	default:
		return Errorf(EINVALID, "lockBehavior %q is not valid: use \"fail\", \"queue\" or \"ignore\"", d.LockBehavior).WithField("lockBehavior")
	}
	return nil
}

func (d *Deploy) apply(ctx context.Context, c *commandContext) (*Result, error) {
	m, err := c.manualDeploy(ctx, manualRequest{app: d.Application, env: d.Environment, version: d.Version, behavior: d.LockBehavior, reason: "manual"})
	if err != nil {
		return nil, err
	}
	label := releaseLabel(m.rel)
	switch {
	case m.res.Outcome == OutcomeQueued:
		c.describeQueued(fmt.Sprintf("Queue %s %s in %s", d.Application, label, d.Environment), m.blockers)
	case m.res.Outcome == OutcomeDeployed && m.deployed:
		c.describeOverride(fmt.Sprintf("Deploy %s %s to %s", d.Application, label, d.Environment), m.blockers)
	}
	return m.res, nil
}

// manualRequest is a person's deploy of one version: a deploy or a
// rollback.
type manualRequest struct {
	app, env string
	version  int64
	behavior LockBehavior
	// reason is recorded on the change: "manual", "rollback".
	reason string
}

// manualResult is what a manual deploy did, for the command to describe.
type manualResult struct {
	res *Result
	rel *Release
	// deployed is true when rel was deployed (not merely a queue dropped
	// because rel already runs).
	deployed bool
	// blockers are what rel was queued behind, or what was overridden.
	blockers []Blocker
	// previous is the version that ran before (nil: none).
	previous *int64
}

// manualDeploy applies the rules of a person's deploy: the release must
// have a manifest for the environment and pass its branch restriction
// (never overridable); locks and closed deploy windows are handled by
// lockBehavior (fail, the default; queue; ignore, recorded as overriding).
func (c *commandContext) manualDeploy(ctx context.Context, r manualRequest) (*manualResult, error) {
	app, rel, err := c.deployable(ctx, r)
	if err != nil {
		return nil, err
	}
	dep, err := c.deployment(ctx, r.app, r.env)
	if err != nil {
		return nil, err
	}
	if dep.Version != nil && *dep.Version == r.version {
		res, err := c.alreadyRunning(ctx, dep, r.version)
		if err != nil {
			return nil, err
		}
		res.Release = rel
		return &manualResult{res: res, rel: rel}, nil
	}
	blockers, err := c.blockers(ctx, r.app, app.Team, r.env)
	if err != nil {
		return nil, err
	}
	m := &manualResult{rel: rel, blockers: blockers}
	if dep.Version != nil {
		v := *dep.Version
		m.previous = &v
	}
	if len(blockers) > 0 {
		switch r.behavior {
		case "", LockBehaviorFail:
			e := Errorf(ELOCKED, "%s %d cannot be deployed to %s: blocked by %s. Remove the blockers, or deploy with lockBehavior \"queue\" to queue it or \"ignore\" to deploy anyway",
				r.app, r.version, r.env, describeBlockers(blockers))
			e.Blockers = blockers
			return nil, e
		case LockBehaviorQueue:
			if err := c.queue(ctx, dep, rel, blockers, r.reason); err != nil {
				return nil, err
			}
			m.res = &Result{Outcome: OutcomeQueued, Deployment: dep, Release: rel}
			return m, nil
		}
	}
	reason := r.reason
	if len(blockers) > 0 {
		reason += ", overriding " + blockerNames(blockers)
	}
	if err := c.deploy(ctx, dep, rel, reason, blockers); err != nil {
		return nil, err
	}
	m.res, m.deployed = &Result{Outcome: OutcomeDeployed, Deployment: dep, Release: rel}, true
	return m, nil
}

// deployable returns the application and release of a manual deploy
// after checking the rules no lockBehavior overrides: the release exists,
// has a manifest for the environment and passes its branch restriction.
func (c *commandContext) deployable(ctx context.Context, r manualRequest) (*Application, *Release, error) {
	env, err := c.environment(ctx, r.env)
	if err != nil {
		return nil, nil, err
	}
	app, err := c.tx.FindApplication(ctx, r.app)
	if err != nil {
		return nil, nil, err
	}
	rel, err := c.tx.FindRelease(ctx, r.app, r.version, false)
	if err != nil {
		return nil, nil, err
	}
	if !rel.HasManifest(r.env) {
		return nil, nil, Errorf(EINVALID, "release %d of %s has no manifest for environment %s, so it cannot be deployed there", r.version, r.app, r.env).WithField("environment")
	}
	restricted, err := c.branchRestricted(env, rel)
	if err != nil {
		return nil, nil, err
	}
	if restricted {
		return nil, nil, branchRestrictionError(env, rel)
	}
	return app, rel, nil
}

// alreadyRunning answers a deploy of the running version: nothing to do,
// except that an older queued version is dropped, since the newest request
// (this one) has been met.
func (c *commandContext) alreadyRunning(ctx context.Context, dep *Deployment, version int64) (*Result, error) {
	if dep.QueuedVersion == nil || *dep.QueuedVersion > version {
		return &Result{Outcome: OutcomeUnchanged, Deployment: dep}, nil
	}
	c.change(Change{Op: ChangeUnqueue, Application: dep.Application, Environment: dep.Environment, Version: *dep.QueuedVersion,
		Reason: fmt.Sprintf("version %d already runs", version)})
	c.describe("Drop queued %s %d in %s: %d already runs", dep.Application, *dep.QueuedVersion, dep.Environment, version)
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
// blocks it, in which case it queues it. It returns the outcome and what
// blocked.
func (c *commandContext) deployOrQueue(ctx context.Context, rel *Release, team, env, reason string) (string, []Blocker, error) {
	dep, err := c.deployment(ctx, rel.Application, env)
	if err != nil {
		return "", nil, err
	}
	blockers, err := c.blockers(ctx, rel.Application, team, env)
	if err != nil {
		return "", nil, err
	}
	if len(blockers) > 0 {
		return OutcomeQueued, blockers, c.queue(ctx, dep, rel, blockers, reason)
	}
	return OutcomeDeployed, nil, c.deploy(ctx, dep, rel, reason, nil)
}

// blockedWhy says in two words what kinds of blocker hold a version back:
// "locked", "deploy window closed" or both.
func blockedWhy(blockers []Blocker) string {
	locked, window := false, false
	for _, b := range blockers {
		if b.Kind == BlockerWindow {
			window = true
		} else {
			locked = true
		}
	}
	switch {
	case locked && window:
		return "locked, deploy window closed"
	case window:
		return "deploy window closed"
	}
	return "locked"
}

// processQueues deploys the queued version of every deployment in env
// matching filter whose blockers are all gone. It is called after locks
// were removed. It returns the deployed "app version" labels.
func (c *commandContext) processQueues(ctx context.Context, env string, match func(app, team string) bool) ([]string, error) {
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Environment: env, Queued: true})
	if err != nil {
		return nil, err
	}
	run, err := c.deployQueued(ctx, deps, queueRules{match: match, reason: func(*Deployment, string) string { return reasonLastBlockerRemoved }})
	if err != nil {
		return nil, err
	}
	return run.deployed, nil
}

// Reasons recorded for deployments Railyard makes from a queue.
const (
	reasonLastBlockerRemoved = "queued version, last blocker removed"
	reasonWindowOpened       = "deploy window opened"
)

// queueRules say which queued versions deployQueued looks at and why it
// deploys them.
type queueRules struct {
	// match selects applications (by name and team); nil matches all.
	match func(app, team string) bool
	// reason says why a queued version is deployed now.
	reason func(dep *Deployment, team string) string
	// dropRestricted drops queued versions the environment's branch
	// restriction refuses (they could never be deployed).
	dropRestricted bool
}

// queueRun is what deployQueued did, as "app version" labels; reasons
// holds the reason of each deployed label.
type queueRun struct {
	deployed, reasons, dropped []string
}

// deployQueued deploys the queued version of every deployment in deps
// whose blockers are all gone.
func (c *commandContext) deployQueued(ctx context.Context, deps []*Deployment, rules queueRules) (*queueRun, error) {
	run := &queueRun{}
	teams, err := c.teams(ctx, deps)
	if err != nil {
		return nil, err
	}
	for _, dep := range deps {
		team, known := teams[dep.Application]
		if dep.QueuedVersion == nil || !known || rules.match != nil && !rules.match(dep.Application, team) {
			continue
		}
		// Blockers first: they are cached per environment, so a locked
		// environment with many queued versions costs no release reads.
		blockers, err := c.blockers(ctx, dep.Application, team, dep.Environment)
		if err != nil || len(blockers) > 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		rel, err := c.tx.FindRelease(ctx, dep.Application, *dep.QueuedVersion, false)
		if err != nil {
			return nil, fmt.Errorf("queued release: %w", err)
		}
		label := fmt.Sprintf("%s %s", dep.Application, releaseLabel(rel))
		restricted, err := c.queuedRestricted(ctx, dep, rel, rules.dropRestricted)
		if err != nil {
			return nil, err
		}
		if restricted {
			if rules.dropRestricted {
				run.dropped = append(run.dropped, label)
			}
			continue
		}
		reason := rules.reason(dep, team)
		if err := c.deploy(ctx, dep, rel, reason, nil); err != nil {
			return nil, err
		}
		run.deployed, run.reasons = append(run.deployed, label), append(run.reasons, reason)
	}
	return run, nil
}

// teams returns the team of the application of each deployment: one read
// of every application when there are many, else one read each.
func (c *commandContext) teams(ctx context.Context, deps []*Deployment) (map[string]string, error) {
	teams := make(map[string]string, len(deps))
	if len(deps) > 16 {
		apps, err := c.tx.FindApplications(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range apps {
			teams[a.Name] = a.Team
		}
		return teams, nil
	}
	for _, d := range deps {
		if _, ok := teams[d.Application]; ok || d.QueuedVersion == nil {
			continue
		}
		app, err := c.tx.FindApplication(ctx, d.Application)
		if err != nil {
			return nil, err
		}
		teams[app.Name] = app.Team
	}
	return teams, nil
}

// queuedRestricted reports whether the environment's branch restriction
// refuses the queued release (it may have been added after the release
// was queued): such a version is never deployed. With drop, it is also
// removed from the queue.
func (c *commandContext) queuedRestricted(ctx context.Context, dep *Deployment, rel *Release, drop bool) (bool, error) {
	env, err := c.environment(ctx, dep.Environment)
	if err != nil {
		return false, err
	}
	restricted, err := c.branchRestricted(env, rel)
	if err != nil || !restricted || !drop {
		return restricted, err
	}
	c.change(Change{Op: ChangeUnqueue, Application: dep.Application, Environment: dep.Environment, Version: rel.Version,
		Reason: SkipBranchRestricted, SourceCommitID: rel.SourceCommitID})
	dep.QueuedVersion, dep.QueuedAt, dep.QueuedBecause = nil, nil, nil
	return true, c.tx.PutDeployment(ctx, dep)
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
	names := make([]string, len(blockers))
	for i, b := range blockers {
		names[i] = blockerName(b)
	}
	return strings.Join(names, ", ")
}

// blockerName names one blocker briefly: `environment lock "freeze"`,
// `deny window "0 9 * * *"`.
func blockerName(b Blocker) string {
	if b.Window != nil {
		s := fmt.Sprintf("%s window %q", b.Window.Kind, cutRunes(b.Window.Schedule, maxScheduleLabel))
		if b.Window.Kind == DeployWindowAllow {
			s = "outside " + s
		}
		return s
	}
	if b.Lock != nil {
		switch b.Kind {
		case LockEnvironment:
			return fmt.Sprintf("environment lock %q", b.Lock.ID)
		case LockApplication:
			return fmt.Sprintf("application lock %q", b.Lock.ID)
		case LockTeam:
			return fmt.Sprintf("team lock %q", b.Lock.ID)
		}
	}
	return b.Description
}

// countBlockers says how many locks and windows block: "3 locks", "2
// locks and 1 deploy window".
func countBlockers(blockers []Blocker) string {
	locks, windows := 0, 0
	for _, b := range blockers {
		if b.Kind == BlockerWindow {
			windows++
		} else {
			locks++
		}
	}
	switch {
	case windows == 0:
		return countOf(locks, "lock")
	case locks == 0:
		return countOf(windows, "deploy window")
	}
	return countOf(locks, "lock") + " and " + countOf(windows, "deploy window")
}

// blockerDetails is one line per blocker, each starting with what: "Blocked
// by environment lock "freeze"".
func blockerDetails(what string, blockers []Blocker) []string {
	lines := make([]string, len(blockers))
	for i, b := range blockers {
		lines[i] = what + " " + blockerName(b)
	}
	return lines
}

// describeOverride says what a person's deploy or rollback did: head says
// the deploy ("Deploy checkout 2 to production"), and the blockers it
// overrode are named, or counted when naming them does not fit.
func (c *commandContext) describeOverride(head string, overridden []Blocker) {
	if len(overridden) == 0 {
		c.describe("%s", head)
		return
	}
	c.describeScaled(head+", overriding "+blockerNames(overridden), head+", overriding "+countBlockers(overridden),
		blockerDetails("Override", overridden))
}

// describeQueued says what a person's deploy or rollback that waits does:
// "Queue checkout 2 in production (blocked by environment lock "freeze")".
func (c *commandContext) describeQueued(head string, blockers []Blocker) {
	c.describeScaled(head+" (blocked by "+blockerNames(blockers)+")", head+" (blocked by "+countBlockers(blockers)+")",
		blockerDetails("Blocked by", blockers))
}
