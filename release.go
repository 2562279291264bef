package railyard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/railyard-cd/railyard/internal/yamlcheck"
)

// Release is one immutable version of an application, with a manifest per
// environment it can be deployed to.
type Release struct {
	Application    string            `json:"application"`
	Version        int64             `json:"version"`
	Manifests      map[string]string `json:"manifests,omitempty"`
	Environments   []string          `json:"environments"`
	Team           string            `json:"team,omitempty"`
	SourceCommitID string            `json:"sourceCommitId,omitempty"`
	SourceAuthor   string            `json:"sourceAuthor,omitempty"`
	SourceMessage  string            `json:"sourceMessage,omitempty"`
	SourceBranch   string            `json:"sourceBranch,omitempty"`
	DisplayVersion string            `json:"displayVersion,omitempty"`
	CILink         string            `json:"ciLink,omitempty"`
	Undeploy       bool              `json:"undeploy,omitempty"`
	CreatedAt      time.Time         `json:"createdAt"`
}

// Release size limits; the HTTP layer enforces request-level limits.
const (
	DefaultMaxManifestBytes = 8 << 20
	MaxSourceMessageBytes   = 64 << 10
	maxShortFieldBytes      = 1000
)

var commitIDRE = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)

// commitPrefixRE matches a source commit id or a prefix of one used in queries.
var commitPrefixRE = commitIDRE

// HasManifest reports whether the release can be deployed to env.
func (r *Release) HasManifest(env string) bool {
	for _, e := range r.Environments {
		if e == env {
			return true
		}
	}
	return false
}

// Validate checks the release's own fields (not against the store). It
// names the field and the rule at fault. maxManifestBytes <= 0 means the
// default limit.
func (r *Release) Validate(maxManifestBytes int) error {
	if maxManifestBytes <= 0 {
		maxManifestBytes = DefaultMaxManifestBytes
	}
	if err := ValidateApplicationName(r.Application); err != nil {
		return err
	}
	if err := validateVersion(r.Version, true); err != nil {
		return err
	}
	if r.Team != "" {
		if err := ValidateTeamName(r.Team); err != nil {
			return err
		}
	}
	if r.SourceCommitID != "" && !commitIDRE.MatchString(r.SourceCommitID) {
		return Errorf(EINVALID, "sourceCommitId %q must be 7 to 40 hexadecimal characters", Truncate(r.SourceCommitID, maxQuoted)).WithField("sourceCommitId")
	}
	if err := r.validateText(); err != nil {
		return err
	}
	if len(r.Manifests) == 0 {
		return Errorf(EINVALID, "manifests: give a manifest for at least one environment").WithField("manifests")
	}
	// Environments often share one manifest: parse each distinct one once.
	// The first environment (in sorted order) with a bad manifest is named.
	var validated []string
	for _, env := range slices.Sorted(maps.Keys(r.Manifests)) {
		field := "manifests[" + env + "]"
		if err := ValidateEnvironmentName(env); err != nil {
			return Errorf(EINVALID, "%s: %s", field, ErrorMessage(err)).WithField(field)
		}
		m := r.Manifests[env]
		if len(m) > maxManifestBytes {
			return Errorf(ETOOLARGE, "%s is %d bytes; at most %d are allowed", field, len(m), maxManifestBytes).WithField(field)
		}
		if r.Undeploy {
			if m != "" {
				return Errorf(EINVALID, "%s must be empty in an undeploy release", field).WithField(field)
			}
			continue
		}
		if slices.Contains(validated, m) {
			continue
		}
		if err := ValidateManifestYAML(m); err != nil {
			return Errorf(EINVALID, "%s is not valid YAML: %v", field, err).WithField(field)
		}
		validated = append(validated, m)
	}
	return nil
}

// validateText checks the release's text fields: lengths, and the rules
// for text that reaches Git and terminals (see text.go). The source
// message is the only multi-line one.
func (r *Release) validateText() error {
	if len(r.DisplayVersion) > MaxDisplayVersionLength {
		return Errorf(EINVALID, "displayVersion %q is %d characters long; at most %d are allowed", Truncate(r.DisplayVersion, maxQuoted), len(r.DisplayVersion), MaxDisplayVersionLength).WithField("displayVersion")
	}
	for _, f := range []struct{ field, value string }{
		{"sourceAuthor", r.SourceAuthor}, {"sourceBranch", r.SourceBranch}, {"displayVersion", r.DisplayVersion},
	} {
		if len(f.value) > maxShortFieldBytes {
			return Errorf(EINVALID, "%s is longer than %d bytes", f.field, maxShortFieldBytes).WithField(f.field)
		}
		if err := validateLine(f.field, f.value); err != nil {
			return err
		}
	}
	if err := validateLink("ciLink", r.CILink); err != nil {
		return err
	}
	if len(r.SourceMessage) > MaxSourceMessageBytes {
		return Errorf(EINVALID, "sourceMessage is longer than %d bytes", MaxSourceMessageBytes).WithField("sourceMessage")
	}
	return validateMultiline("sourceMessage", r.SourceMessage)
}

// MaxVersion is the highest release version: 2^53-1, the largest integer
// that every JSON parser reads exactly (JavaScript's numbers are doubles),
// so a version survives every client and tool unchanged.
const MaxVersion = 1<<53 - 1

// validateVersion checks a version given by a user. optional allows 0,
// which means "choose for me" (the next version, the previous one).
func validateVersion(v int64, optional bool) error {
	switch {
	case v > MaxVersion:
		return Errorf(EINVALID, "version %d is too large: versions go up to %d (2^53-1)", v, int64(MaxVersion)).WithField("version")
	case v < 0 || (v == 0 && !optional):
		return Errorf(EINVALID, "version must be a positive integer, got %d", v).WithField("version")
	}
	return nil
}

// ParseVersion parses a version written as text (a path segment, a form
// field): the canonical decimal form only, digits without sign, spaces or
// leading zeros, from 1 to MaxVersion. "+5", " 5" and "05" are refused
// rather than read as 5, so that one version has one spelling (in URLs,
// in Git paths, in logs).
func ParseVersion(s string) (int64, error) {
	canonical := s != "" && s[0] != '0'
	for i := 0; canonical && i < len(s); i++ {
		canonical = s[i] >= '0' && s[i] <= '9'
	}
	if !canonical {
		return 0, Errorf(EINVALID, "version %q must be a positive integer written with digits only (no sign, spaces or leading zeros), such as 5", Truncate(s, maxQuoted)).WithField("version")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > MaxVersion {
		return 0, Errorf(EINVALID, "version %s is too large: versions go up to %d (2^53-1)", Truncate(s, maxQuoted), int64(MaxVersion)).WithField("version")
	}
	return v, nil
}

// ValidateManifestYAML checks that every document of a multi-document YAML
// stream parses and that no mapping repeats a key (see internal/yamlcheck
// for its fast path). The messages are yaml.v3's; a repeated key is quoted
// as far as a message quotes input.
func ValidateManifestYAML(manifest string) error {
	err := yamlcheck.Validate(manifest)
	var dup *yamlcheck.DuplicateKeyError
	if errors.As(err, &dup) {
		return &yamlcheck.DuplicateKeyError{Key: Truncate(dup.Key, maxQuoted), Line: dup.Line, FirstLine: dup.FirstLine}
	}
	return err
}

// FirstDifference compares two releases of the same application and
// version and returns the first field whose content differs ("" if they
// are identical). Creation time is not content.
func (r *Release) FirstDifference(o *Release) string {
	switch {
	case r.SourceCommitID != o.SourceCommitID:
		return "sourceCommitId"
	case r.SourceAuthor != o.SourceAuthor:
		return "sourceAuthor"
	case r.SourceMessage != o.SourceMessage:
		return "sourceMessage"
	case r.SourceBranch != o.SourceBranch:
		return "sourceBranch"
	case r.DisplayVersion != o.DisplayVersion:
		return "displayVersion"
	case r.Team != o.Team:
		return "team"
	case r.CILink != o.CILink:
		return "ciLink"
	case r.Undeploy != o.Undeploy:
		return "undeploy"
	}
	if len(r.Manifests) != len(o.Manifests) {
		return "manifests"
	}
	for env, m := range r.Manifests {
		if om, ok := o.Manifests[env]; !ok || om != m {
			return "manifests"
		}
	}
	return ""
}

// ReleaseFilter selects releases.
type ReleaseFilter struct {
	Application string
	// WithManifests loads the manifests too (they can be large).
	WithManifests bool
	// Limit caps the number of releases (newest first); 0 means no limit.
	Limit int
}

// versionString formats an optional version for messages.
func versionString(v *int64) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprint(*v)
}

// CreateRelease publishes a release. Version 0 means the application's
// highest version + 1. A new release is deployed automatically to every
// environment with upstream.latest that it has a manifest for.
type CreateRelease struct {
	Application    string            `json:"application"`
	Version        int64             `json:"version,omitempty"`
	Manifests      map[string]string `json:"manifests"`
	Team           string            `json:"team,omitempty"`
	SourceCommitID string            `json:"sourceCommitId,omitempty"`
	SourceAuthor   string            `json:"sourceAuthor,omitempty"`
	SourceMessage  string            `json:"sourceMessage,omitempty"`
	SourceBranch   string            `json:"sourceBranch,omitempty"`
	DisplayVersion string            `json:"displayVersion,omitempty"`
	CILink         string            `json:"ciLink,omitempty"`
	Undeploy       bool              `json:"undeploy,omitempty"`

	// maxManifestBytes is set by the engine before validation.
	maxManifestBytes int
}

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

// eventPayload leaves out the manifests: they are stored with the release
// and carried once by the event's release.create change, which is what the
// Git exporter reads. Repeating megabytes in the payload would double what
// every release writes.
func (cr *CreateRelease) eventPayload() any {
	p := *cr
	p.Manifests = nil
	return &p
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
	return fmt.Sprintf("Release %s %s", rel.Application, VersionLabel(rel.Version, rel.DisplayVersion))
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

// lineDiff returns a one-hunk unified diff of two texts: the common
// leading and trailing lines are cut, the differing middle is shown as
// removed and added lines. It is linear in the size of the texts, which
// matters for manifests of megabytes.
func lineDiff(a, b string) string {
	al := splitLines(a)
	bl := splitLines(b)
	pre := 0
	for pre < len(al) && pre < len(bl) && al[pre] == bl[pre] {
		pre++
	}
	suf := 0
	for suf < len(al)-pre && suf < len(bl)-pre && al[len(al)-1-suf] == bl[len(bl)-1-suf] {
		suf++
	}
	const context = 3
	start := max(pre-context, 0)
	aEnd := min(len(al)-suf+context, len(al))
	bEnd := min(len(bl)-suf+context, len(bl))
	var s strings.Builder
	fmt.Fprintf(&s, "@@ -%d,%d +%d,%d @@\n", start+1, aEnd-start, start+1, bEnd-start)
	for _, l := range al[start:pre] {
		s.WriteString(" " + l + "\n")
	}
	for _, l := range al[pre : len(al)-suf] {
		s.WriteString("-" + l + "\n")
	}
	for _, l := range bl[pre : len(bl)-suf] {
		s.WriteString("+" + l + "\n")
	}
	for _, l := range al[len(al)-suf : aEnd] {
		s.WriteString(" " + l + "\n")
	}
	return s.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
