package railyard

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

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
		at := normalizeTime(*t.ScheduledAt)
		t.ScheduledAt = &at
		ran, err := c.scheduledTrainRan(ctx, t)
		if err != nil || ran {
			return &Result{Outcome: OutcomeUnchanged}, err
		}
	}
	plan, err := c.planTrain(ctx, t, false)
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
		Application: t.Application, DryRun: dryRun, ScheduledAt: t.ScheduledAt, Environments: []*TrainEnvironment{}}}
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
		upstream, err = c.upstreamVersions(ctx, src, t.Application)
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
		entry, step, err := c.planApplication(ctx, env, apps[name], up, ok, current[name], reason)
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
// env, and the step that does it (nil if nothing changes).
func (c *commandContext) planApplication(ctx context.Context, env *Environment, app *Application, up upstreamVersion, hasUp bool, dep *Deployment, reason string) (*TrainApplication, *trainStep, error) {
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
		var err error
		if rel, err = c.tx.FindRelease(ctx, app.Name, to, false); err != nil {
			return nil, nil, fmt.Errorf("upstream release of %s: %w", app.Name, err)
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

// describeTrain says what a train did (or, dry run, would do) in words:
// "Release train to production from staging: 12 deployed, 1 queued,
// 3 skipped", and in details what it skipped, deployed and queued. When
// that does not fit a summary line, the summary leaves out, until it
// fits, the members of a group and the environments skipped, then the
// counts of 0, then the upstream.
func describeTrain(r *TrainResult) Description {
	if d, ok := describePromotion(r); ok {
		return d
	}
	summary := firstFitting(trainSummary(r, trainFull), trainSummary(r, trainNoMembers),
		trainSummary(r, trainNoMembers|trainNoZeros), trainSummary(r, trainNoMembers|trainNoZeros|trainNoUpstream))
	if r.DryRun {
		return NewDescription(summary) // a prognosis is no event: its details would go nowhere
	}
	return NewDescription(summary, trainDetails(r)...)
}

// trainSummaryForm says what a train's summary leaves out to fit.
type trainSummaryForm int

const (
	trainFull trainSummaryForm = 0
	// trainNoMembers leaves out the members of a group and the
	// environments skipped.
	trainNoMembers trainSummaryForm = 1 << iota
	// trainNoZeros leaves out counts of 0.
	trainNoZeros
	// trainNoUpstream leaves out where the versions come from.
	trainNoUpstream
)

// trainSummary is the summary line of a train in the given form.
func trainSummary(r *TrainResult, form trainSummaryForm) string {
	members := form&trainNoMembers == 0
	var b strings.Builder
	switch {
	case r.Application != "":
		fmt.Fprintf(&b, "Promote %s", r.Application)
	case r.ScheduledAt != nil:
		b.WriteString("Scheduled release train")
	default:
		b.WriteString("Release train")
	}
	if r.Team != "" {
		fmt.Fprintf(&b, " for team %s", r.Team)
	}
	b.WriteString(" to " + describeTarget(r, members))
	if up := commonUpstream(r); form&trainNoUpstream == 0 && up != "" {
		b.WriteString(" from " + describeUpstream(up))
	}
	b.WriteString(": " + trainCounts(r, form&trainNoZeros != 0))
	for _, te := range r.Environments {
		if members && te.SkipReason != "" {
			fmt.Fprintf(&b, "; %s skipped (%s)", te.Environment, te.SkipReason)
		}
	}
	if r.DryRun {
		return prognosisOf(b.String())
	}
	return b.String()
}

// trainCounts says how many applications a train deployed, queued and
// skipped (or would): "1,204 deployed, 1 queued, 0 skipped"; noZeros
// leaves out counts of 0 unless all are.
func trainCounts(r *TrainResult, noZeros bool) string {
	verbs := [3]string{"deployed", "queued", "skipped"}
	if r.DryRun {
		verbs = [3]string{"to deploy", "to queue", "to skip"}
	}
	counts := [3]int{r.Deployed, r.Queued, r.Skipped}
	noZeros = noZeros && counts != [3]int{}
	var parts []string
	for i, n := range counts {
		if n > 0 || !noZeros {
			parts = append(parts, FormatCount(n)+" "+verbs[i])
		}
	}
	return strings.Join(parts, ", ")
}

// trainDetails is one line per environment skipped and per application
// deployed or queued, in pipeline order: "Skip environment adhoc
// (environment-not-in-chain)", "Deploy checkout 5 to production (was
// 4)", "Queue cart 3 in production (blocked by environment lock
// "freeze")".
func trainDetails(r *TrainResult) []string {
	var lines []string
	for _, te := range r.Environments {
		if te.SkipReason != "" {
			lines = append(lines, fmt.Sprintf("Skip environment %s (%s)", te.Environment, te.SkipReason))
		}
		for _, a := range te.Applications {
			if l := trainApplicationLine(te.Environment, a); l != "" {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// trainApplicationLine says what a train did with one application, or
// "" if it skipped it.
func trainApplicationLine(env string, a *TrainApplication) string {
	switch a.Outcome {
	case OutcomeDeployed:
		l := fmt.Sprintf("Deploy %s %s to %s", a.Application, versionString(a.To), env)
		if a.From != nil {
			l += fmt.Sprintf(" (was %d)", *a.From)
		}
		return l
	case OutcomeQueued:
		return fmt.Sprintf("Queue %s %s in %s (blocked by %s)", a.Application, versionString(a.To), env, blockerNames(a.Blockers))
	}
	return ""
}

// prognosisOf turns "Release train to …" into "Prognosis: release train
// to …".
func prognosisOf(s string) string {
	return "Prognosis: " + strings.ToLower(s[:1]) + s[1:]
}

// describePromotion says what a promotion into one environment did:
// "Promote checkout 5 to production from staging (was 4)"; blockers that
// do not fit are counted, and named in the details.
func describePromotion(r *TrainResult) (Description, bool) {
	if r.Application == "" || len(r.Environments) != 1 || len(r.Environments[0].Applications) != 1 {
		return Description{}, false
	}
	te, a := r.Environments[0], r.Environments[0].Applications[0]
	var b strings.Builder
	fmt.Fprintf(&b, "Promote %s", a.Application)
	if a.To != nil {
		fmt.Fprintf(&b, " %d", *a.To)
	}
	fmt.Fprintf(&b, " to %s from %s", te.Environment, describeUpstream(te.Upstream))
	head := b.String()
	var full, compact string
	switch a.Outcome {
	case OutcomeDeployed:
		if a.From != nil {
			head += fmt.Sprintf(" (was %d)", *a.From)
		}
		full, compact = head, head
	case OutcomeQueued:
		full = head + ": queued (blocked by " + blockerNames(a.Blockers) + ")"
		compact = head + ": queued (blocked by " + countBlockers(a.Blockers) + ")"
	default:
		full = head + ": skipped (" + a.SkipReason + ")"
		compact = full
	}
	if r.DryRun {
		full, compact = prognosisOf(full), prognosisOf(compact)
	}
	if fits(full) {
		return NewDescription(full), true
	}
	var details []string
	if !r.DryRun {
		details = blockerDetails("Blocked by", a.Blockers)
	}
	return NewDescription(compact, details...), true
}

// describeTarget names the target: "production" or "environment group
// prod (de-prod, jp-prod)"; without members, "environment group prod".
func describeTarget(r *TrainResult, members bool) string {
	if r.Group == "" {
		return r.Environment
	}
	if !members {
		return "environment group " + r.Group
	}
	names := make([]string, len(r.Environments))
	for i, te := range r.Environments {
		names[i] = te.Environment
	}
	return fmt.Sprintf("environment group %s (%s)", r.Group, strings.Join(names, ", "))
}

// commonUpstream returns the upstream all planned environments share, or
// "" if they differ.
func commonUpstream(r *TrainResult) string {
	from := ""
	for _, te := range r.Environments {
		switch {
		case te.SkipReason != "":
		case from == "":
			from = te.Upstream
		case from != te.Upstream:
			return ""
		}
	}
	return from
}
