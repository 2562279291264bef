package railyard

import (
	"context"
	"fmt"
	"slices"
	"time"
)

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

// LockBehavior says what a manual deploy does when it is blocked.
type LockBehavior string

// Lock behaviours of a manual deploy.
const (
	LockBehaviorFail   LockBehavior = "fail"
	LockBehaviorQueue  LockBehavior = "queue"
	LockBehaviorIgnore LockBehavior = "ignore"
)

// validate checks a lock behaviour given by a user.
func (b LockBehavior) validate() error {
	switch b {
	case "", LockBehaviorFail, LockBehaviorQueue, LockBehaviorIgnore:
		return nil
	}
	return Errorf(EINVALID, "lockBehavior %q is not valid: use \"fail\", \"queue\" or \"ignore\"", b).WithField("lockBehavior")
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

// Kind implements Command.
func (*Deploy) Kind() string { return KindDeploy }

// Validate implements Command.
func (d *Deploy) Validate() error {
	return d.request().validate(validateVersion(d.Version, false))
}

func (d *Deploy) apply(ctx context.Context, c *commandContext) (*Result, error) {
	return c.manualDeploy(ctx, d.request())
}

// request is the manual deploy d asks for.
func (d *Deploy) request() manualRequest {
	return manualRequest{app: d.Application, env: d.Environment, version: d.Version, behavior: d.LockBehavior}
}

// Rollback deploys, by hand, the version that ran in the environment
// before the current one (Version 0; see Engine.RollbackVersion), or the
// given version. Once its version is known it is a Deploy, recorded and
// described as a rollback: lockBehavior decides about locks and closed
// windows, a branch restriction always applies.
type Rollback struct {
	Application  string       `json:"application"`
	Environment  string       `json:"environment"`
	Version      int64        `json:"version,omitempty"`
	LockBehavior LockBehavior `json:"lockBehavior,omitempty"`
}

// Kind implements Command.
func (*Rollback) Kind() string { return KindRollback }

// Validate implements Command.
func (r *Rollback) Validate() error {
	versionErr := validateVersion(r.Version, true)
	if r.Version < 0 {
		versionErr = Errorf(EINVALID, "version must be a positive integer, or 0 for the version that ran before the current one; got %d", r.Version).WithField("version")
	}
	return r.request(r.Version).validate(versionErr)
}

func (r *Rollback) apply(ctx context.Context, c *commandContext) (*Result, error) {
	version := r.Version
	if version == 0 {
		v, err := c.rollbackVersion(ctx, r.Application, r.Environment)
		if err != nil {
			return nil, err
		}
		if _, err := c.tx.FindRelease(ctx, r.Application, v, false); ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "%s %d ran in %s before, but its release has been cleaned up: give a version that still exists", r.Application, v, r.Environment).WithField("version")
		}
		version = v
	}
	return c.manualDeploy(ctx, r.request(version))
}

// request is the manual deploy of version that r asks for.
func (r *Rollback) request(version int64) manualRequest {
	return manualRequest{app: r.Application, env: r.Environment, version: version, behavior: r.LockBehavior, rollback: true}
}

// manualRequest is a person's deploy of one version: a Deploy, or a
// Rollback once its version is known. Both take the one path of
// manualDeploy; they differ only in the reason recorded and the words of
// the description.
type manualRequest struct {
	app, env string
	version  int64
	behavior LockBehavior
	rollback bool
}

// validate checks the request's names and lock behaviour, and returns
// versionErr, the check of the version (which a rollback may leave 0),
// in its place among them.
func (r manualRequest) validate(versionErr error) error {
	if err := ValidateApplicationName(r.app); err != nil {
		return err
	}
	if err := ValidateEnvironmentName(r.env); err != nil {
		return err
	}
	if versionErr != nil {
		return versionErr
	}
	return r.behavior.validate()
}

// reason is recorded on the change.
func (r manualRequest) reason() string {
	if r.rollback {
		return "rollback"
	}
	return "manual"
}

// heads say what the request does, for its description: queued ("Queue
// checkout 2 in production") and deployed ("Deploy checkout 2 to
// production", "Roll back checkout in production from 3 to 2").
func (r manualRequest) heads(label string, previous *int64) (queued, deployed string) {
	if r.rollback {
		return fmt.Sprintf("Queue rollback of %s in %s to %s", r.app, r.env, label),
			"Roll back " + r.app + " in " + r.env + " from " + versionString(previous) + " to " + label
	}
	return fmt.Sprintf("Queue %s %s in %s", r.app, label, r.env), fmt.Sprintf("Deploy %s %s to %s", r.app, label, r.env)
}

// manualDeploy applies the rules of a person's deploy: the release must
// have a manifest for the environment and pass its branch restriction
// (never overridable); locks and closed deploy windows are handled by
// lockBehavior (fail, the default; queue; ignore, recorded as overriding).
// A deploy of the running version changes nothing but the queue (see
// alreadyRunning).
func (c *commandContext) manualDeploy(ctx context.Context, r manualRequest) (*Result, error) {
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
		return res, nil
	}
	blockers, err := c.blockers(ctx, r.app, app.Team, r.env)
	if err != nil {
		return nil, err
	}
	queued, deployed := r.heads(VersionLabel(rel.Version, rel.DisplayVersion), dep.Version)
	if len(blockers) > 0 {
		switch r.behavior {
		case "", LockBehaviorFail:
			e := Errorf(ELOCKED, "%s %d cannot be deployed to %s: blocked by %s. Remove the blockers, or deploy with lockBehavior \"queue\" to queue it or \"ignore\" to deploy anyway",
				r.app, r.version, r.env, describeBlockers(blockers))
			e.Blockers = blockers
			return nil, e
		case LockBehaviorQueue:
			if err := c.queue(ctx, dep, rel, blockers, r.reason()); err != nil {
				return nil, err
			}
			c.describeQueued(queued, blockers)
			return &Result{Outcome: OutcomeQueued, Deployment: dep, Release: rel}, nil
		}
	}
	reason := r.reason()
	if len(blockers) > 0 {
		reason += ", overriding " + blockerNames(blockers)
	}
	if err := c.deploy(ctx, dep, rel, reason, blockers); err != nil {
		return nil, err
	}
	c.describeOverride(deployed, blockers)
	return &Result{Outcome: OutcomeDeployed, Deployment: dep, Release: rel}, nil
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
		label := fmt.Sprintf("%s %s", dep.Application, VersionLabel(rel.Version, rel.DisplayVersion))
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

// RollbackVersion returns the version a Rollback without a version would
// deploy: the one that ran in env before the current one (see
// deploymentHistory). EINVALID if there is none.
func (e *Engine) RollbackVersion(ctx context.Context, app, env string) (int64, error) {
	if err := (&Rollback{Application: app, Environment: env}).Validate(); err != nil {
		return 0, err
	}
	var v int64
	err := e.store.View(ctx, func(tx Tx) error {
		c := &commandContext{engine: e, tx: tx, now: normalizeTime(e.now()), actor: SystemActor}
		var err error
		v, err = c.rollbackVersion(ctx, app, env)
		return err
	})
	return v, err
}

// rollbackVersion finds the version before the current one in the
// deployment history of app in env.
func (c *commandContext) rollbackVersion(ctx context.Context, app, env string) (int64, error) {
	if _, err := c.environment(ctx, env); err != nil {
		return 0, err
	}
	if _, err := c.tx.FindApplication(ctx, app); err != nil {
		return 0, err
	}
	dep, err := c.deployment(ctx, app, env)
	if err != nil {
		return 0, err
	}
	if dep.Version == nil {
		return 0, Errorf(EINVALID, "%s does not run in %s, so there is nothing to roll back", app, env).WithField("environment")
	}
	history, err := c.deploymentHistory(ctx, app, env)
	if err != nil {
		return 0, err
	}
	if len(history) == 0 || history[len(history)-1] != *dep.Version {
		history = append(history, *dep.Version) // state from before the event log (an import)
	}
	if len(history) < 2 {
		return 0, Errorf(EINVALID, "no version of %s ran in %s before %d: give the version to roll back to", app, env, *dep.Version).WithField("version")
	}
	return history[len(history)-2], nil
}

// deploymentHistory returns the versions that ran in env, the current
// one last, as far back as needed: it replays the newest events of app in
// env and reads further back only while that is not enough (an event of a
// release train carries a change for every application, so the whole log
// would be costly to read).
func (c *commandContext) deploymentHistory(ctx context.Context, app, env string) ([]int64, error) {
	for limit := 16; ; limit *= 4 {
		events, err := c.tx.FindEvents(ctx, EventFilter{Application: app, Environment: env, Limit: limit})
		if err != nil {
			return nil, err
		}
		complete := len(events) < limit
		slices.Reverse(events) // oldest first
		stack, exact := replayDeployments(events, app, env, complete)
		if complete || exact && len(stack) >= 2 {
			return stack, nil
		}
	}
}

// replayDeployments replays deployments of app in env as a stack of
// versions, the current one last. A deployment pushes its version; a
// rollback pops back to the version it deployed (if that is on the
// stack), so rolling back again goes further back instead of returning to
// the version just rolled back from; deleting the deployment (the
// environment was deleted) empties the stack. complete says that events
// start at the beginning; if not, a rollback to a version not on the
// stack makes the result inexact.
func replayDeployments(events []*Event, app, env string, complete bool) (stack []int64, exact bool) {
	exact = true
	for _, ev := range events {
		for _, ch := range ev.Changes {
			if ch.Application != app || ch.Environment != env {
				continue
			}
			switch ch.Op {
			case ChangeDeploymentDelete:
				stack, exact = stack[:0], true
			case ChangeDeploy:
				i := lastIndex(stack, ch.Version)
				if ev.Kind == KindRollback && i >= 0 {
					stack = stack[:i+1]
					continue
				}
				if ev.Kind == KindRollback && !complete {
					exact = false
				}
				stack = append(stack, ch.Version)
			}
		}
	}
	return stack, exact
}

// lastIndex returns the index of the last v in s, or -1.
func lastIndex(s []int64, v int64) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}
