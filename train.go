package railyard

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Skip reasons of a release train, for one application in one environment
// (or, SkipEnvironmentNotInChain, for a whole environment of a group).
const (
	// SkipAlreadyCurrent: the target already runs the upstream's version.
	SkipAlreadyCurrent = "already-current"
	// SkipNoUpstreamVersion: the upstream environment runs no version of
	// the application (for a target fed by every new release: it has no
	// release, none from a branch matching upstream.branch).
	SkipNoUpstreamVersion = "no-upstream-version"
	// SkipNoManifestsForTarget: the upstream's release has no manifest for
	// the target, so it cannot be deployed there.
	SkipNoManifestsForTarget = "no-manifests-for-target"
	// SkipBranchRestricted: the target's branchRestriction refuses the
	// release's source branch.
	SkipBranchRestricted = "branch-restricted"
	// SkipEnvironmentNotInChain: a member of a group train has no
	// upstream, so there is nothing to take versions from.
	SkipEnvironmentNotInChain = "environment-not-in-chain"
)

// OutcomeSkipped is the outcome of an application a train left alone.
const OutcomeSkipped = "skipped"

// UpstreamLatest is the TrainEnvironment.Upstream of a target fed by every
// new release (upstream.latest): its versions are the latest releases.
const UpstreamLatest = "latest"

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

// TrainResult is what a release train did or, as a prognosis, would do:
// an entry for every environment and every application it looked at.
type TrainResult struct {
	// Environment or Group is the target the train was asked for.
	Environment string `json:"environment,omitempty"`
	Group       string `json:"group,omitempty"`
	// Team and Application are the filters given, if any.
	Team        string `json:"team,omitempty"`
	Application string `json:"application,omitempty"`
	// DryRun is true for a prognosis: nothing was changed.
	DryRun bool `json:"dryRun"`
	// ScheduledAt is the schedule time of a train the scheduler ran.
	ScheduledAt *time.Time `json:"scheduledAt,omitempty"`
	// Environments are the target environments in pipeline order.
	Environments []*TrainEnvironment `json:"environments"`
	// Deployed, Queued and Skipped count applications over every
	// environment.
	Deployed int `json:"deployed"`
	Queued   int `json:"queued"`
	Skipped  int `json:"skipped"`
	// Description says it in one line of at most MaxSummaryLength
	// characters: "Release train to production from staging: 1,204
	// deployed, 1 queued, 3 skipped". It is the summary of the event's
	// description, whose details list the environments skipped and the
	// applications deployed and queued.
	Description string `json:"description"`
}

// TrainEnvironment is one target environment of a train.
type TrainEnvironment struct {
	Environment string `json:"environment"`
	// Upstream is where its versions come from: an environment's name,
	// or UpstreamLatest; "" if it has no upstream.
	Upstream string `json:"upstream,omitempty"`
	// SkipReason is set (SkipEnvironmentNotInChain) when the whole
	// environment was skipped; Applications is then empty.
	SkipReason   string              `json:"skipReason,omitempty"`
	Applications []*TrainApplication `json:"applications"`
}

// TrainApplication is what a train did with one application in one
// environment.
type TrainApplication struct {
	Application string `json:"application"`
	Team        string `json:"team,omitempty"`
	// Outcome is OutcomeDeployed, OutcomeQueued or OutcomeSkipped.
	Outcome string `json:"outcome"`
	// From is the version that ran in the target before (null: none);
	// To is the upstream's version (null: none).
	From *int64 `json:"from"`
	To   *int64 `json:"to"`
	// Blockers are the locks and windows a queued version waits for.
	Blockers []Blocker `json:"blockers,omitempty"`
	// SkipReason is one of the Skip constants when Outcome is skipped.
	SkipReason string `json:"skipReason,omitempty"`
	// Detail says more about a skip, e.g. the branch and the rule.
	Detail string `json:"detail,omitempty"`
}

// ScheduledTrain is a release train into the environment that Railyard's
// scheduler runs every time Schedule fires (a cron expression on the wall
// clock of TimeZone, UTC if empty), optionally for one team.
type ScheduledTrain struct {
	Schedule string `json:"schedule"`
	TimeZone string `json:"timeZone,omitempty"`
	Team     string `json:"team,omitempty"`
}

func (st ScheduledTrain) validate(field string, up *Upstream) error {
	if up == nil {
		return Errorf(EINVALID, "%s: a scheduled release train needs an upstream (upstream.environment or upstream.latest) to take versions from", field).WithField(field)
	}
	if err := validateSchedule(field, st.Schedule, st.TimeZone); err != nil {
		return err
	}
	if st.Team != "" {
		if err := ValidateTeamName(st.Team); err != nil {
			return Errorf(EINVALID, "%s.%s", field, ErrorMessage(err)).WithField(field + ".team")
		}
	}
	return nil
}

// Kind implements Command.
func (*ReleaseTrain) Kind() string { return KindReleaseTrain }

// Validate implements Command.
func (t *ReleaseTrain) Validate() error {
	switch {
	case t.Environment == "" && t.Group == "":
		return Errorf(EINVALID, "environment: give the environment (or the environment group) the release train goes to").WithField("environment")
	case t.Environment != "" && t.Group != "":
		return Errorf(EINVALID, "group: give either an environment or an environment group, not both").WithField("group")
	case t.Environment != "":
		if err := ValidateEnvironmentName(t.Environment); err != nil {
			return err
		}
	default:
		if err := validateLabel("group", t.Group, MaxEnvironmentNameLength); err != nil {
			return err
		}
	}
	if t.Team != "" {
		if err := ValidateTeamName(t.Team); err != nil {
			return err
		}
	}
	if t.Application != "" {
		if err := ValidateApplicationName(t.Application); err != nil {
			return err
		}
	}
	return validateLink("ciLink", t.CILink)
}

func (t *ReleaseTrain) apply(ctx context.Context, c *commandContext) (*Result, error) {
	if t.ScheduledAt != nil {
		t.normalize()
		ran, err := c.scheduledTrainRan(ctx, t)
		if err != nil || ran {
			return &Result{Outcome: OutcomeUnchanged}, err
		}
	}
	plan, err := c.currentTrainPlan(ctx, t)
	if err != nil {
		return nil, err
	}
	for _, s := range plan.steps {
		if len(s.blockers) > 0 {
			err = c.queue(ctx, s.dep, s.rel, s.blockers, s.reason)
		} else {
			err = c.deploy(ctx, s.dep, s.rel, s.reason, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	r := plan.result
	outcome := OutcomeUnchanged
	switch {
	case r.Deployed > 0:
		outcome = OutcomeDeployed
	case len(plan.steps) > 0:
		outcome = OutcomeQueued
	}
	if len(c.changes) > 0 {
		c.description = plan.description.String()
	}
	return &Result{Outcome: outcome, Train: r}, nil
}

// normalize sets ScheduledAt to the stored form of its time, so that the
// train compares equal to the one recorded for the same schedule time.
func (t *ReleaseTrain) normalize() {
	if t.ScheduledAt != nil {
		at := normalizeTime(*t.ScheduledAt)
		t.ScheduledAt = &at
	}
}

// Prognosis computes what the release train would do now, without
// changing anything and without an event: the same plan the command
// applies. Errors are those of the command (EINVALID, ENOTFOUND).
func (e *Engine) Prognosis(ctx context.Context, t *ReleaseTrain) (*TrainResult, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	var res *TrainResult
	err := e.store.View(ctx, func(tx Tx) error {
		c := &commandContext{engine: e, tx: tx, now: normalizeTime(e.now()), actor: SystemActor}
		plan, err := c.planTrain(ctx, t, true)
		if err != nil {
			return err
		}
		res = plan.result
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// trainPlan is a train computed against the current state: the result to
// report and the steps that make it true.
type trainPlan struct {
	result *TrainResult
	steps  []trainStep
	// description is the event's; its summary is result.Description.
	description Description
	// targets are the target environments, in the order of
	// result.Environments; apps the applications the train may move.
	targets []*Environment
	apps    map[string]*Application
	// releases are the upstream releases read, and upstreams the versions
	// of each upstream environment: both shared by the targets.
	releases  map[releaseKey]*Release
	upstreams map[string]map[string]upstreamVersion
}

// trainStep deploys rel (or queues it behind blockers) in dep.
type trainStep struct {
	dep      *Deployment
	rel      *Release
	blockers []Blocker
	reason   string
}

// upstreamVersion is the version a train takes for one application; rel
// is loaded already when the source listed releases.
type upstreamVersion struct {
	version int64
	rel     *Release
}

// planTrain computes the train from the state before it: every target
// environment is planned from what its upstream runs now, even when
// another member of the group is that upstream.
func (c *commandContext) planTrain(ctx context.Context, t *ReleaseTrain, dryRun bool) (*trainPlan, error) {
	targets, err := c.trainTargets(ctx, t)
	if err != nil {
		return nil, err
	}
	apps, err := c.trainApplications(ctx, t)
	if err != nil {
		return nil, err
	}
	plan := &trainPlan{result: &TrainResult{Environment: t.Environment, Group: t.Group, Team: t.Team,
		Application: t.Application, DryRun: dryRun, ScheduledAt: t.ScheduledAt, Environments: []*TrainEnvironment{}},
		targets: targets, apps: apps, releases: map[releaseKey]*Release{}, upstreams: map[string]map[string]upstreamVersion{}}
	for _, env := range targets {
		if err := c.planEnvironment(ctx, t, env, apps, plan); err != nil {
			return nil, err
		}
	}
	plan.description = describeTrain(plan.result)
	plan.result.Description = plan.description.Summary
	return plan, nil
}

// trainTargets returns the target environment, or the members of the
// group in pipeline order. A single target must have an upstream.
func (c *commandContext) trainTargets(ctx context.Context, t *ReleaseTrain) ([]*Environment, error) {
	if t.Environment != "" {
		env, err := c.environment(ctx, t.Environment)
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "environment %q not found", t.Environment).WithField("environment")
		}
		if err != nil {
			return nil, err
		}
		if env.Config.Upstream == nil {
			return nil, Errorf(EINVALID, "environment %s has no upstream, so a release train has nothing to take versions from: set upstream.environment or upstream.latest in its configuration", env.Name).WithField("environment")
		}
		if up := env.UpstreamEnvironment(); up != "" {
			if _, err := c.environment(ctx, up); ErrorCode(err) == ENOTFOUND {
				return nil, Errorf(EINVALID, "upstream.environment %q of %s does not exist", up, env.Name).WithField("upstream.environment")
			} else if err != nil {
				return nil, err
			}
		}
		return []*Environment{env}, nil
	}
	envs, err := c.environments(ctx)
	if err != nil {
		return nil, err
	}
	// Sort them all: an environment's place depends on its upstreams.
	all := slices.Collect(maps.Values(envs))
	SortEnvironments(all)
	var members []*Environment
	for _, e := range all {
		if e.Config.EnvironmentGroup == t.Group {
			members = append(members, e)
		}
	}
	if len(members) == 0 {
		return nil, Errorf(ENOTFOUND, "environment group %q not found: no environment has environmentGroup %q", t.Group, t.Group).WithField("group")
	}
	return members, nil
}

// trainApplications returns the applications the train may move, by
// name: all, those of Team, or the one Application. A team that owns no
// application or an unknown application is ENOTFOUND, so that a typo does
// not pass as "nothing to do".
func (c *commandContext) trainApplications(ctx context.Context, t *ReleaseTrain) (map[string]*Application, error) {
	var list []*Application
	if t.Application != "" {
		app, err := c.tx.FindApplication(ctx, t.Application)
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "application %q not found", t.Application).WithField("application")
		}
		if err != nil {
			return nil, err
		}
		list = []*Application{app}
	} else {
		var err error
		if list, err = c.tx.FindApplications(ctx); err != nil {
			return nil, err
		}
	}
	apps := make(map[string]*Application, len(list))
	for _, a := range list {
		if t.Team == "" || a.Team == t.Team {
			apps[a.Name] = a
		}
	}
	if t.Team != "" && len(apps) == 0 && t.Application == "" {
		return nil, Errorf(ENOTFOUND, "team %q not found: no application belongs to it", t.Team).WithField("team")
	}
	return apps, nil
}

// planEnvironment plans one target environment into plan.
func (c *commandContext) planEnvironment(ctx context.Context, t *ReleaseTrain, env *Environment, apps map[string]*Application, plan *trainPlan) error {
	te := &TrainEnvironment{Environment: env.Name, Applications: []*TrainApplication{}}
	plan.result.Environments = append(plan.result.Environments, te)
	var upstream map[string]upstreamVersion
	var err error
	switch src := env.UpstreamEnvironment(); {
	case env.IsLatest():
		te.Upstream = UpstreamLatest
		upstream, err = c.latestVersions(ctx, env, t.Application)
	case src != "":
		if _, err := c.environment(ctx, src); ErrorCode(err) == ENOTFOUND {
			te.SkipReason = SkipEnvironmentNotInChain
			return nil
		}
		te.Upstream = src
		// The members of a group mostly share their upstream: read it once.
		if upstream = plan.upstreams[src]; upstream == nil {
			upstream, err = c.upstreamVersions(ctx, src, t.Application)
			plan.upstreams[src] = upstream
		}
	default:
		te.SkipReason = SkipEnvironmentNotInChain
		return nil
	}
	if err != nil {
		return err
	}
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Environment: env.Name, Application: t.Application})
	if err != nil {
		return err
	}
	current := make(map[string]*Deployment, len(deps))
	for _, d := range deps {
		current[d.Application] = d
	}
	reason := trainReason(t, te.Upstream)
	for _, name := range trainCandidates(apps, upstream, deps, t.Application) {
		up, ok := upstream[name]
		entry, step, err := c.planApplication(ctx, env, apps[name], up, ok, current[name], reason, plan.releases)
		if err != nil {
			return err
		}
		te.Applications = append(te.Applications, entry)
		if step != nil {
			plan.steps = append(plan.steps, *step)
		}
		switch entry.Outcome {
		case OutcomeDeployed:
			plan.result.Deployed++
		case OutcomeQueued:
			plan.result.Queued++
		default:
			plan.result.Skipped++
		}
	}
	return nil
}

// trainCandidates lists, by name, the applications a train looks at in
// one environment: those the upstream has a version of and those that
// run or wait in the target (which are skipped without an upstream
// version), limited to apps; or just the one application asked for.
func trainCandidates(apps map[string]*Application, upstream map[string]upstreamVersion, target []*Deployment, only string) []string {
	if only != "" {
		if _, ok := apps[only]; ok {
			return []string{only}
		}
		return nil
	}
	names := make(map[string]bool, len(upstream))
	for name := range upstream {
		if apps[name] != nil {
			names[name] = true
		}
	}
	for _, d := range target {
		if apps[d.Application] != nil && (d.Version != nil || d.QueuedVersion != nil) {
			names[d.Application] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// upstreamVersions returns what runs in the upstream environment src (of
// one application, if only is set).
func (c *commandContext) upstreamVersions(ctx context.Context, src, only string) (map[string]upstreamVersion, error) {
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Environment: src, Application: only})
	if err != nil {
		return nil, err
	}
	versions := make(map[string]upstreamVersion, len(deps))
	for _, d := range deps {
		if d.Version != nil {
			versions[d.Application] = upstreamVersion{version: *d.Version}
		}
	}
	return versions, nil
}

// latestVersions returns, for a target fed by every new release, the
// newest release of every application (or of only) whose source branch
// matches the target's upstream.branch.
func (c *commandContext) latestVersions(ctx context.Context, env *Environment, only string) (map[string]upstreamVersion, error) {
	releases, err := c.tx.FindReleases(ctx, ReleaseFilter{Application: only})
	if err != nil {
		return nil, err
	}
	versions := make(map[string]upstreamVersion)
	for _, r := range releases {
		if _, ok := versions[r.Application]; ok {
			continue // newest first: the first match per application wins
		}
		ok, err := c.upstreamBranchMatches(env, r)
		if err != nil {
			return nil, err
		}
		if ok {
			versions[r.Application] = upstreamVersion{version: r.Version, rel: r}
		}
	}
	return versions, nil
}

// planApplication decides what the train does with one application in
// env, and the step that does it (nil if nothing changes). releases
// keeps the releases read, by application and version.
func (c *commandContext) planApplication(ctx context.Context, env *Environment, app *Application, up upstreamVersion, hasUp bool, dep *Deployment, reason string, releases map[releaseKey]*Release) (*TrainApplication, *trainStep, error) {
	entry := &TrainApplication{Application: app.Name, Team: app.Team, Outcome: OutcomeSkipped}
	if dep == nil {
		dep = &Deployment{Application: app.Name, Environment: env.Name}
	}
	if dep.Version != nil {
		v := *dep.Version
		entry.From = &v
	}
	if !hasUp {
		entry.SkipReason = SkipNoUpstreamVersion
		return entry, nil, nil
	}
	to := up.version
	entry.To = &to
	if dep.Version != nil && *dep.Version == to {
		entry.SkipReason = SkipAlreadyCurrent
		return entry, nil, nil
	}
	rel := up.rel
	if rel == nil {
		// The members of a group mostly share their upstream: one read
		// of a release for all of them.
		key := releaseKey{app.Name, to}
		if rel = releases[key]; rel == nil {
			var err error
			if rel, err = c.tx.FindRelease(ctx, app.Name, to, false); err != nil {
				return nil, nil, fmt.Errorf("upstream release of %s: %w", app.Name, err)
			}
			releases[key] = rel
		}
	}
	if !rel.HasManifest(env.Name) {
		entry.SkipReason = SkipNoManifestsForTarget
		return entry, nil, nil
	}
	restricted, err := c.branchRestricted(env, rel)
	if err != nil {
		return nil, nil, err
	}
	if restricted {
		entry.SkipReason = SkipBranchRestricted
		entry.Detail = fmt.Sprintf("%s; %s takes only branches matching %q", describeBranch(rel), env.Name, env.Config.BranchRestriction)
		return entry, nil, nil
	}
	blockers, err := c.blockers(ctx, app.Name, app.Team, env.Name)
	if err != nil {
		return nil, nil, err
	}
	if len(blockers) == 0 {
		entry.Outcome = OutcomeDeployed
		return entry, &trainStep{dep: dep, rel: rel, reason: reason}, nil
	}
	entry.Outcome, entry.Blockers = OutcomeQueued, blockers
	if dep.QueuedVersion != nil && *dep.QueuedVersion == to {
		return entry, nil, nil // already waiting: queueing it again changes nothing
	}
	return entry, &trainStep{dep: dep, rel: rel, blockers: blockers, reason: reason}, nil
}

// trainReason is recorded on each change: "release train from staging".
func trainReason(t *ReleaseTrain, upstream string) string {
	what := "release train"
	switch {
	case t.Application != "":
		what = "promotion"
	case t.ScheduledAt != nil:
		what = "scheduled release train"
	}
	return what + " from " + describeUpstream(upstream)
}

func describeUpstream(upstream string) string {
	if upstream == UpstreamLatest {
		return "the latest releases"
	}
	return upstream
}

// scheduledTrainRan reports whether the scheduler's train for this
// schedule time already has an event.
func (c *commandContext) scheduledTrainRan(ctx context.Context, t *ReleaseTrain) (bool, error) {
	since := *t.ScheduledAt
	events, err := c.tx.FindEvents(ctx, EventFilter{Kind: KindReleaseTrain, Actor: SchedulerActor.Name, Since: &since})
	if err != nil {
		return false, err
	}
	for _, ev := range events {
		var done ReleaseTrain
		if err := json.Unmarshal(ev.Payload, &done); err != nil {
			return false, fmt.Errorf("event %d payload: %w", ev.ID, err)
		}
		if done.ScheduledAt != nil && done.ScheduledAt.Equal(*t.ScheduledAt) &&
			done.Environment == t.Environment && done.Group == t.Group && done.Team == t.Team && done.Application == t.Application {
			return true, nil
		}
	}
	return false, nil
}
