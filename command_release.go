package railyard

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Kind implements Command.
func (*CreateRelease) Kind() string { return KindReleaseCreate }

// release returns the release the command describes (version may be 0).
func (cr *CreateRelease) release() *Release {
	r := &Release{
		Application: cr.Application, Version: cr.Version, Manifests: cr.Manifests, Team: cr.Team,
		SourceCommitID: cr.SourceCommitID, SourceAuthor: cr.SourceAuthor, SourceMessage: cr.SourceMessage,
		SourceBranch: cr.SourceBranch, DisplayVersion: cr.DisplayVersion, CILink: cr.CILink, Undeploy: cr.Undeploy,
	}
	r.Environments = slices.Sorted(maps.Keys(cr.Manifests))
	return r
}

// Validate implements Command.
func (cr *CreateRelease) Validate() error {
	return cr.release().Validate(cr.maxManifestBytes)
}

func (cr *CreateRelease) apply(ctx context.Context, c *commandContext) (*Result, error) {
	rel := cr.release()
	envs, err := c.environments(ctx)
	if err != nil {
		return nil, err
	}
	for _, name := range rel.Environments {
		if _, ok := envs[name]; !ok {
			return nil, Errorf(EINVALID, "manifests[%s]: environment %q does not exist; create it first or leave out its manifest", name, name).WithField("manifests[" + name + "]")
		}
	}
	if rel.Version == 0 {
		max, err := c.tx.MaxReleaseVersion(ctx, rel.Application)
		if err != nil {
			return nil, err
		}
		if max >= MaxVersion {
			return nil, Errorf(ECONFLICT, "%s already has version %d, the highest allowed (2^53-1), so there is no next version: give an unused lower version explicitly", rel.Application, max).WithField("version")
		}
		rel.Version = max + 1
	} else {
		existing, err := c.tx.FindRelease(ctx, rel.Application, rel.Version, true)
		switch {
		case err == nil:
			return cr.republish(rel, existing)
		case ErrorCode(err) != ENOTFOUND:
			return nil, err
		}
	}
	if err := c.refuseRetiredVersion(ctx, rel); err != nil {
		return nil, err
	}
	app, err := c.ensureApplication(ctx, rel.Application, rel.Team)
	if err != nil {
		return nil, err
	}
	rel.CreatedAt = c.now
	if err := c.tx.CreateRelease(ctx, rel); err != nil {
		return nil, err
	}
	c.change(Change{Op: ChangeReleaseCreate, Application: rel.Application, Version: rel.Version, Release: rel, SourceCommitID: rel.SourceCommitID})

	deployed, queued, skipped, err := c.autoDeploy(ctx, rel, app.Team, envs)
	if err != nil {
		return nil, err
	}
	if err := c.cleanupReleases(ctx, rel.Application, rel.Version); err != nil {
		return nil, err
	}
	c.describeScaled(describeRelease(rel, deployed, queued, skipped), compactRelease(rel, deployed, queued, skipped),
		releaseDetails(deployed, queued, skipped))
	out := *rel
	out.Manifests = nil
	return &Result{Outcome: OutcomeCreated, Release: &out}, nil
}

// autoDeploy deploys a new release to every latest environment it has a
// manifest for, unless that would move the environment or its queue
// backwards, or a branch rule skips it; blocked environments queue it.
// It returns the environments deployed to, queued in and skipped, with
// why.
func (c *commandContext) autoDeploy(ctx context.Context, rel *Release, team string, envs map[string]*Environment) (deployed []string, queued, skipped labelGroups, err error) {
	for _, name := range rel.Environments {
		env := envs[name]
		if !env.IsLatest() {
			continue
		}
		dep, err := c.deployment(ctx, rel.Application, name)
		if err != nil {
			return nil, nil, nil, err
		}
		if (dep.Version != nil && *dep.Version >= rel.Version) || (dep.QueuedVersion != nil && *dep.QueuedVersion >= rel.Version) {
			continue // never move an environment, or its queue, backwards automatically
		}
		skip, err := c.autoDeploySkip(env, rel)
		if err != nil {
			return nil, nil, nil, err
		}
		if skip != "" {
			skipped.add(skip, name)
			continue
		}
		outcome, blockers, err := c.deployOrQueue(ctx, rel, team, name, "new release")
		if err != nil {
			return nil, nil, nil, err
		}
		if outcome == OutcomeDeployed {
			deployed = append(deployed, name)
		} else {
			queued.add(blockedWhy(blockers), name)
		}
	}
	return deployed, queued, skipped, nil
}

// republish answers a release whose version exists: unchanged if the
// content is identical, ECONFLICT naming the first differing field if not.
func (cr *CreateRelease) republish(rel, existing *Release) (*Result, error) {
	field := rel.FirstDifference(existing)
	if field == "" {
		out := *existing
		out.Manifests = nil
		return &Result{Outcome: OutcomeUnchanged, Release: &out}, nil
	}
	e := Errorf(ECONFLICT, "release %d of %s already exists with different content in %s; publish a new version instead", rel.Version, rel.Application, field).WithField(field)
	if field == "manifests" {
		e.Diff = manifestsDiff(existing.Manifests, rel.Manifests)
	}
	return nil, e
}

// describeRelease says what publishing a release did: "Release checkout
// 2, deploy to development, queue in qa (locked), skip sandbox
// (branch-restricted)".
func describeRelease(rel *Release, deployed []string, queued, skipped labelGroups) string {
	var b strings.Builder
	b.WriteString(releaseHead(rel))
	if len(deployed) > 0 {
		fmt.Fprintf(&b, ", deploy to %s", strings.Join(deployed, ", "))
	}
	if len(queued) > 0 {
		fmt.Fprintf(&b, ", queue in %s", queued)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, ", skip %s", skipped)
	}
	return b.String()
}

// releaseHead names the release: "Release checkout 2 (1.2)".
func releaseHead(rel *Release) string {
	if rel.Undeploy {
		return fmt.Sprintf("Release undeploy version %d of %s", rel.Version, rel.Application)
	}
	return fmt.Sprintf("Release %s %s", rel.Application, releaseLabel(rel))
}

// compactRelease says what publishing a release did in counts: "Release
// checkout 2, deploy to 12 environments, queue in 3, skip 1".
func compactRelease(rel *Release, deployed []string, queued, skipped labelGroups) string {
	var b strings.Builder
	b.WriteString(releaseHead(rel))
	if len(deployed) > 0 {
		fmt.Fprintf(&b, ", deploy to %s", countOf(len(deployed), "environment"))
	}
	if n := queued.len(); n > 0 {
		fmt.Fprintf(&b, ", queue in %s", FormatCount(n))
	}
	if n := skipped.len(); n > 0 {
		fmt.Fprintf(&b, ", skip %s", FormatCount(n))
	}
	return b.String()
}

// releaseDetails is one line per environment: "Deploy to development",
// "Queue in production (locked)", "Skip sandbox (branch-restricted)".
func releaseDetails(deployed []string, queued, skipped labelGroups) []string {
	var lines []string
	for _, env := range deployed {
		lines = append(lines, "Deploy to "+env)
	}
	for _, g := range queued {
		for _, env := range g.names {
			lines = append(lines, fmt.Sprintf("Queue in %s (%s)", env, g.label))
		}
	}
	for _, g := range skipped {
		for _, env := range g.names {
			lines = append(lines, fmt.Sprintf("Skip %s (%s)", env, g.label))
		}
	}
	return lines
}

// autoDeploySkip says why automation does not deploy a new release to the
// latest environment env: its upstream.branch does not match, or its
// branch restriction refuses the release; "" if neither.
func (c *commandContext) autoDeploySkip(env *Environment, rel *Release) (string, error) {
	ok, err := c.upstreamBranchMatches(env, rel)
	if err != nil || !ok {
		return "branch not matching upstream.branch", err
	}
	restricted, err := c.branchRestricted(env, rel)
	if err != nil || restricted {
		return SkipBranchRestricted, err
	}
	return "", nil
}

// labelGroups lists names grouped by a label, in first-seen order, and
// prints as "a, b (label1), c (label2)".
type labelGroups []labelGroup

type labelGroup struct {
	label string
	names []string
}

func (g *labelGroups) add(label, name string) {
	for i := range *g {
		if (*g)[i].label == label {
			(*g)[i].names = append((*g)[i].names, name)
			return
		}
	}
	*g = append(*g, labelGroup{label: label, names: []string{name}})
}

// len counts the names of every group.
func (g labelGroups) len() int {
	n := 0
	for _, lg := range g {
		n += len(lg.names)
	}
	return n
}

func (g labelGroups) String() string {
	parts := make([]string, len(g))
	for i, lg := range g {
		parts[i] = fmt.Sprintf("%s (%s)", strings.Join(lg.names, ", "), lg.label)
	}
	return strings.Join(parts, ", ")
}

// environments returns every environment by name.
func (c *commandContext) environments(ctx context.Context) (map[string]*Environment, error) {
	list, err := c.tx.FindEnvironments(ctx)
	if err != nil {
		return nil, err
	}
	envs := make(map[string]*Environment, len(list))
	if c.envs == nil {
		c.envs = make(map[string]*Environment, len(list))
	}
	for _, e := range list {
		envs[e.Name] = e
		c.envs[e.Name] = e
	}
	return envs, nil
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

// refuseRetiredVersion answers ECONFLICT if rel's version was used before
// and retired: a version number names one content for ever.
func (c *commandContext) refuseRetiredVersion(ctx context.Context, rel *Release) error {
	retired, err := c.tx.FindRetiredRelease(ctx, rel.Application, rel.Version)
	switch {
	case err == nil:
		return retiredVersionError(rel, retired)
	case ErrorCode(err) == ENOTFOUND:
		return nil
	default:
		return err
	}
}

// cleanupReleases retires the oldest releases of app beyond the newest
// KeepReleases, sparing every version deployed or queued somewhere, and
// the version just created: an old version number published now (a
// hotfix line) is not deleted by the event that created it, which would
// answer 201 for a release that is already gone and give the exporter a
// release to write and delete in one commit.
func (c *commandContext) cleanupReleases(ctx context.Context, app string, created int64) error {
	keep := c.engine.keepReleases()
	releases, err := c.tx.FindReleases(ctx, ReleaseFilter{Application: app})
	if err != nil {
		return err
	}
	if len(releases) <= keep {
		return nil
	}
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Application: app})
	if err != nil {
		return err
	}
	inUse := map[int64]bool{created: true}
	for _, d := range deps {
		if d.Version != nil {
			inUse[*d.Version] = true
		}
		if d.QueuedVersion != nil {
			inUse[*d.QueuedVersion] = true
		}
	}
	others := 0
	for _, r := range releases { // newest first
		if inUse[r.Version] {
			continue
		}
		others++
		if others <= keep {
			continue
		}
		if err := c.retireRelease(ctx, app, r.Version, RetiredByCleanup); err != nil {
			return err
		}
		c.change(Change{Op: ChangeReleaseDelete, Application: app, Version: r.Version, Reason: fmt.Sprintf("cleanup: keeping the newest %d releases", keep)})
	}
	return nil
}

// retireRelease deletes a release and records its version as retired.
func (c *commandContext) retireRelease(ctx context.Context, app string, version int64, reason string) error {
	return c.tx.RetireRelease(ctx, &RetiredRelease{Application: app, Version: version, Reason: reason, RetiredAt: c.now})
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

// manifestsDiff is a unified-style line diff of two manifest sets, per
// environment, for the 409 answer of a conflicting re-publish.
func manifestsDiff(old, new map[string]string) string {
	envs := map[string]bool{}
	for e := range old {
		envs[e] = true
	}
	for e := range new {
		envs[e] = true
	}
	names := make([]string, 0, len(envs))
	for e := range envs {
		names = append(names, e)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, e := range names {
		if old[e] == new[e] {
			continue
		}
		fmt.Fprintf(&b, "--- existing/manifests[%s]\n+++ new/manifests[%s]\n", e, e)
		b.WriteString(lineDiff(old[e], new[e]))
	}
	return b.String()
}
