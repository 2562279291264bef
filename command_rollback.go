package railyard

import (
	"context"
	"fmt"
	"slices"
)

// Kind implements Command.
func (*Rollback) Kind() string { return KindRollback }

// Validate implements Command.
func (r *Rollback) Validate() error {
	if err := ValidateApplicationName(r.Application); err != nil {
		return err
	}
	if err := ValidateEnvironmentName(r.Environment); err != nil {
		return err
	}
	if r.Version < 0 {
		return Errorf(EINVALID, "version must be a positive integer, or 0 for the version that ran before the current one; got %d", r.Version).WithField("version")
	}
	if err := validateVersion(r.Version, true); err != nil {
		return err
	}
	switch r.LockBehavior {
	case "", LockBehaviorFail, LockBehaviorQueue, LockBehaviorIgnore:
	default:
		return Errorf(EINVALID, "lockBehavior %q is not valid: use \"fail\", \"queue\" or \"ignore\"", r.LockBehavior).WithField("lockBehavior")
	}
	return nil
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
	m, err := c.manualDeploy(ctx, manualRequest{app: r.Application, env: r.Environment, version: version, behavior: r.LockBehavior, reason: "rollback"})
	if err != nil {
		return nil, err
	}
	label := releaseLabel(m.rel)
	switch {
	case m.res.Outcome == OutcomeQueued:
		c.describeQueued(fmt.Sprintf("Queue rollback of %s in %s to %s", r.Application, r.Environment, label), m.blockers)
	case m.deployed:
		c.describeOverride("Roll back "+r.Application+" in "+r.Environment+" from "+versionString(m.previous)+" to "+label, m.blockers)
	}
	return m.res, nil
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
