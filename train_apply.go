package railyard

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
)

// A release train over thousands of applications reads every deployment
// of its upstreams and targets and the release of every version it
// moves: hundreds of milliseconds. Planned inside its write transaction,
// it would hold the single writer that long, and every release published
// meanwhile would wait for it. So a train is planned on a read snapshot
// (Store.View) first, and its write transaction only checks the plan and
// writes it (docs/promotion.md, "Trains under load"):
//
//   - what the plan read that is not one application's (environments,
//     the locks and closed deploy windows of the target environments at
//     the time of the write) must be unchanged, else the train is planned
//     again on a new snapshot, and after maxSnapshotPlans inside the
//     write transaction, as before;
//   - the applications that events committed since the snapshot changed
//     (Tx.ChangedApplications) are planned again inside the transaction,
//     from the state there, which is cheap for a few of them.
//
// The result is the train planned on the state at its write, exactly as
// if it had been planned inside the transaction: one event, one commit,
// all or nothing.

// maxSnapshotPlans is how many times a train is planned on a snapshot
// before it is planned inside its write transaction.
const maxSnapshotPlans = 2

// errStalePlan rolls back a train whose snapshot plan no longer holds
// for reasons that are not one application's.
var errStalePlan = errors.New("release train: the plan's environments, locks or applications changed")

// preparedTrain is a release train planned on a read snapshot.
type preparedTrain struct {
	plan *trainPlan
	// lastEventID is the last event the snapshot had.
	lastEventID int64
	// envs are every environment in the snapshot.
	envs []*Environment
	// locks and windows are the target environments' locks (unexpired)
	// and closed windows at the plan's time, for those the plan looked
	// at: a plan's entries depend on them only there.
	locks   map[string][]*Lock
	windows map[string][]Blocker
}

// applyTrain applies a release train alone in its batch: planned on a
// snapshot, then checked and written in a short write transaction.
func (e *Engine) applyTrain(ctx context.Context, actor Actor, t *ReleaseTrain) ([]*Result, error) {
	t.normalize()
	for range maxSnapshotPlans {
		prepared, err := e.prepareTrain(ctx, t)
		if errors.Is(err, errStalePlan) {
			continue
		}
		if err != nil {
			// The write transaction plans it and reports the error the
			// state there gives.
			break
		}
		results, err := e.applyInTx(ctx, actor, []Command{t}, prepared)
		if !errors.Is(err, errStalePlan) {
			return results, err
		}
	}
	return e.applyInTx(ctx, actor, []Command{t}, nil)
}

// prepareTrain plans the train on a read snapshot and brings the plan up
// to date (catchUpTrain); errStalePlan if it went stale meanwhile.
func (e *Engine) prepareTrain(ctx context.Context, t *ReleaseTrain) (*preparedTrain, error) {
	var p *preparedTrain
	err := e.store.View(ctx, func(tx Tx) error {
		last, err := tx.LastEventID(ctx)
		if err != nil {
			return err
		}
		envs, err := tx.FindEnvironments(ctx)
		if err != nil {
			return err
		}
		c := &commandContext{engine: e, tx: tx, now: normalizeTime(e.now()), actor: SystemActor}
		plan, err := c.planTrain(ctx, t, false)
		if err != nil {
			return err
		}
		p = &preparedTrain{plan: plan, lastEventID: last, envs: envs, locks: c.locks, windows: c.windows}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if e.trainPlanned != nil {
		e.trainPlanned()
	}
	for range maxCatchUps {
		caughtUp, err := e.catchUpTrain(ctx, t, p)
		if err != nil || caughtUp {
			return p, err
		}
	}
	return p, nil
}

// Planning thousands of applications takes long enough for many
// releases to be published meanwhile; planning those again inside the
// write transaction would hold the writer for them. So they are planned
// again on a new snapshot first, until at most catchUpApplications
// changed since the last, or maxCatchUps times.
const (
	catchUpApplications = 8
	maxCatchUps         = 3
)

// catchUpTrain brings the prepared plan up to a new snapshot: it plans
// the applications changed since the plan's snapshot again. It reports
// whether few enough had changed to leave them to the write transaction.
func (e *Engine) catchUpTrain(ctx context.Context, t *ReleaseTrain, p *preparedTrain) (bool, error) {
	caughtUp := false
	err := e.store.View(ctx, func(tx Tx) error {
		last, err := tx.LastEventID(ctx)
		if err != nil {
			return err
		}
		changed, err := tx.ChangedApplications(ctx, p.lastEventID)
		if err != nil || len(changed) <= catchUpApplications {
			caughtUp = true
			return err
		}
		c := &commandContext{engine: e, tx: tx, now: normalizeTime(e.now()), actor: SystemActor}
		if err := c.checkPrepared(ctx, p); err != nil {
			return err
		}
		if _, err := c.replan(ctx, t, p.plan, changed); err != nil {
			return err
		}
		// The plan now holds for this snapshot, at this time: the locks
		// and windows checked above, and those the new entries read.
		p.lastEventID, p.locks, p.windows = last, c.locks, c.windows
		return nil
	})
	return caughtUp, err
}

// currentTrainPlan returns the train's plan on the transaction's state:
// the prepared plan, checked and brought up to date, or a new one.
func (c *commandContext) currentTrainPlan(ctx context.Context, t *ReleaseTrain) (*trainPlan, error) {
	p := c.prepared
	if p == nil {
		return c.planTrain(ctx, t, false)
	}
	if err := c.checkPrepared(ctx, p); err != nil {
		return nil, err
	}
	changed, err := c.tx.ChangedApplications(ctx, p.lastEventID)
	if err != nil || len(changed) == 0 {
		return p.plan, err
	}
	return c.replan(ctx, t, p.plan, changed)
}

// checkPrepared returns errStalePlan unless the environments, and the
// locks and closed windows of the targets the plan looked at, are now
// what they were on its snapshot at its time.
func (c *commandContext) checkPrepared(ctx context.Context, p *preparedTrain) error {
	envs, err := c.tx.FindEnvironments(ctx)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(envs, p.envs) {
		return errStalePlan
	}
	for env, locks := range p.locks {
		now, err := c.envLocks(ctx, env)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(now, locks) {
			return errStalePlan
		}
	}
	for env, windows := range p.windows {
		now, err := c.windowBlockers(ctx, env)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(now, windows) {
			return errStalePlan
		}
	}
	return nil
}

// stepKey names the step of one application in one environment.
type stepKey struct{ env, app string }

// replan plans the changed applications again on the transaction's state
// and puts their entries and steps in place of the plan's.
func (c *commandContext) replan(ctx context.Context, t *ReleaseTrain, plan *trainPlan, changed []string) (*trainPlan, error) {
	steps := make(map[stepKey]*trainStep, len(plan.steps))
	for i := range plan.steps {
		s := &plan.steps[i]
		steps[stepKey{s.dep.Environment, s.dep.Application}] = s
	}
	cache := &replanCache{upstream: map[string]map[string]upstreamVersion{}, releases: map[releaseKey]*Release{}}
	for _, name := range changed {
		app, err := c.replannedApplication(ctx, t, plan, name)
		if err != nil {
			return nil, err
		}
		if app == nil {
			continue // not one the train moves, then or now
		}
		clear(cache.upstream)
		for i, te := range plan.result.Environments {
			if te.SkipReason != "" {
				continue
			}
			entry, step, err := c.planOne(ctx, t, plan.targets[i], te, app, cache)
			if err != nil {
				return nil, err
			}
			te.Applications = spliceEntry(te.Applications, name, entry)
			key := stepKey{te.Environment, name}
			delete(steps, key)
			if step != nil {
				steps[key] = step
			}
		}
	}
	plan.steps = orderedSteps(plan.result, steps)
	countTrain(plan.result)
	plan.description = describeTrain(plan.result)
	plan.result.Description = plan.description.Summary
	return plan, nil
}

// replannedApplication returns the application name as the train sees it
// now, nil if the train does not move it (then and now). It returns
// errStalePlan if the set of applications the train moves changed (one
// created, deleted or moved to another team), which changes more than
// the application's entries (a team's train of no application fails).
func (c *commandContext) replannedApplication(ctx context.Context, t *ReleaseTrain, plan *trainPlan, name string) (*Application, error) {
	app, err := c.tx.FindApplication(ctx, name)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		app = nil
	case err != nil:
		return nil, err
	}
	moved := app != nil && (t.Team == "" || app.Team == t.Team) && (t.Application == "" || name == t.Application)
	before := plan.apps[name]
	switch {
	case before == nil && !moved:
		return nil, nil
	case before == nil || !moved || before.Team != app.Team:
		return nil, errStalePlan
	}
	return app, nil
}

// replanCache keeps what replan read for one application in every
// target: the members of a group share their upstream and releases.
type replanCache struct {
	// upstream maps an upstream environment's name to its versions of
	// the application being planned (cleared for the next one).
	upstream map[string]map[string]upstreamVersion
	// releases are read again, not taken from the snapshot's plan: the
	// application changed since.
	releases map[releaseKey]*Release
}

// releaseKey names a release.
type releaseKey struct {
	app     string
	version int64
}

// planOne plans one application in one target environment the way
// planEnvironment does: its entry (nil if the train does not look at
// it there) and its step.
func (c *commandContext) planOne(ctx context.Context, t *ReleaseTrain, env *Environment, te *TrainEnvironment, app *Application, cache *replanCache) (*TrainApplication, *trainStep, error) {
	up, ok, err := c.replanUpstream(ctx, env, app.Name, cache)
	if err != nil {
		return nil, nil, err
	}
	dep, err := c.tx.FindDeployment(ctx, app.Name, env.Name)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		dep = nil
	case err != nil:
		return nil, nil, err
	}
	waiting := dep != nil && (dep.Version != nil || dep.QueuedVersion != nil)
	if t.Application == "" && !ok && !waiting {
		return nil, nil, nil // see trainCandidates
	}
	return c.planApplication(ctx, env, app, up, ok, dep, trainReason(t, te.Upstream), cache.releases)
}

// replanUpstream returns the version of app a train takes into env, read
// once per upstream.
func (c *commandContext) replanUpstream(ctx context.Context, env *Environment, app string, cache *replanCache) (upstreamVersion, bool, error) {
	var versions map[string]upstreamVersion
	var err error
	if env.IsLatest() {
		// Depends on env's upstream.branch: not shared.
		versions, err = c.latestVersions(ctx, env, app)
	} else if src := env.UpstreamEnvironment(); cache.upstream[src] != nil {
		versions = cache.upstream[src]
	} else {
		versions, err = c.upstreamVersions(ctx, src, app)
		cache.upstream[src] = versions
	}
	up, ok := versions[app]
	return up, ok, err
}

// spliceEntry puts entry in place of the entry of app in entries (sorted
// by application), inserts it, or removes app's entry if entry is nil.
func spliceEntry(entries []*TrainApplication, app string, entry *TrainApplication) []*TrainApplication {
	i, found := slices.BinarySearchFunc(entries, app, func(e *TrainApplication, name string) int {
		return strings.Compare(e.Application, name)
	})
	switch {
	case found && entry != nil:
		entries[i] = entry
	case found:
		entries = slices.Delete(entries, i, i+1)
	case entry != nil:
		entries = slices.Insert(entries, i, entry)
	}
	return entries
}

// orderedSteps lists the steps in the order planTrain makes them: by
// environment, then application.
func orderedSteps(r *TrainResult, steps map[stepKey]*trainStep) []trainStep {
	list := make([]trainStep, 0, len(steps))
	for _, te := range r.Environments {
		for _, a := range te.Applications {
			if s, ok := steps[stepKey{te.Environment, a.Application}]; ok {
				list = append(list, *s)
			}
		}
	}
	return list
}

// countTrain counts the outcomes of a train's entries.
func countTrain(r *TrainResult) {
	r.Deployed, r.Queued, r.Skipped = 0, 0, 0
	for _, te := range r.Environments {
		for _, a := range te.Applications {
			switch a.Outcome {
			case OutcomeDeployed:
				r.Deployed++
			case OutcomeQueued:
				r.Queued++
			default:
				r.Skipped++
			}
		}
	}
}
