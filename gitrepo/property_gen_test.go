package gitrepo_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/railyard-cd/railyard"
)

// The generator of the export property (property_test.go). It produces
// commands against a small pool of names, so that they mostly meet
// existing environments, applications and locks and are accepted, mixed
// with the boundary values and hostile text that attacks on the server
// used: the largest versions, long and Unicode text, multi-line messages,
// control characters, invalid UTF-8, lines that look like Railyard's
// commit trailer, poison Argo CD settings. Rejected commands are fine;
// the property is about the accepted ones.

// Name pools; the last of each is as long as a name may be, and some are
// names of the repository's own files and directories.
var (
	propEnvs   = []string{"development", "staging", "prod-eu", "prod-us", "qa", "argocd", "e2345678901234567890123"}
	propGroups = []string{"production", "canary"}
	propApps   = []string{"checkout", "cart", "search", "a", "locks", "version", "a23456789012345678901234567890123456789"}
	propTeams  = []string{"payments", "shop", "team", "t23456789012345678901234567890123456789"}
	propLocks  = []string{"freeze", "peak", "a.b_c-D9", "L" + strings.Repeat("x", 99)}
)

// Boundary versions: JSON's exact integer limit and past it, powers of
// two, and the largest int64, after which an automatic version overflows.
var propBigVersions = []int64{1<<31 - 1, 1 << 32, 1<<53 - 1, 1 << 53, 1 << 62, math.MaxInt64 - 1, math.MaxInt64}

// propGen generates the commands of one run from its random source. It
// reads the engine's state to pick versions that exist.
type propGen struct {
	rng *rand.Rand
	eng *railyard.Engine
	now func() time.Time
	// serial makes generated manifests differ from each other.
	serial int
	// avoid names the classes of input left out (see propAvoidClasses).
	avoid map[string]bool
}

// Classes of input a run can leave out (-avoid), to explore past a
// known failure while its fix is under way.
var propAvoidClasses = map[string]string{
	"control":     "control characters, NUL and invalid UTF-8 in text fields",
	"big-version": "versions near or past the int64 limit, and negative ones",
	"argocd":      "Argo CD annotation keys, sync options and namespaces that Kubernetes refuses",
	"cleaned-up":  "publishing a version below the newest 20 kept ones (cleanup removed it, or it never existed)",
}

// weights returns weights with those of the avoided classes set to 0:
// classes[i] is the class of weights[i], "" for none.
func (g *propGen) weights(weights []int, classes map[int]string) []int {
	out := slices.Clone(weights)
	for i, class := range classes {
		if g.avoid[class] {
			out[i] = 0
		}
	}
	return out
}

// chance reports true with probability p.
func (g *propGen) chance(p float64) bool { return g.rng.Float64() < p }

// pick returns one of items.
func pick[T any](g *propGen, items ...T) T { return items[g.rng.IntN(len(items))] }

// weighted returns the index of the weight chosen, with probability
// weight/total.
func (g *propGen) weighted(weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// name returns a name from pool, or now and then one that breaks the
// naming rules.
func (g *propGen) name(pool []string) string {
	if g.chance(0.02) {
		return pick(g, "Bad_Name", "", "x-", strings.Repeat("n", 40), "ünï", "a/b", "..")
	}
	return pick(g, pool...)
}

// env returns an environment name: mostly one that exists.
func (g *propGen) env() string {
	envs, _ := g.eng.FindEnvironments(context.Background())
	if len(envs) == 0 || g.chance(0.15) {
		return g.name(propEnvs)
	}
	return pick(g, envs...).Name
}

// app returns an application name: mostly one that exists.
func (g *propGen) app() string {
	apps, _ := g.eng.FindApplications(context.Background())
	if len(apps) == 0 || g.chance(0.3) {
		return g.name(propApps)
	}
	return pick(g, apps...).Name
}

// envNames returns the names of the environments that exist, and
// sometimes one that does not.
func (g *propGen) envNames() []string {
	envs, _ := g.eng.FindEnvironments(context.Background())
	var names []string
	for _, e := range envs {
		names = append(names, e.Name)
	}
	if len(names) == 0 || g.chance(0.05) {
		names = append(names, g.name(propEnvs))
	}
	return names
}

// group returns an environment group name: mostly one that exists.
func (g *propGen) group() string {
	envs, _ := g.eng.FindEnvironments(context.Background())
	var groups []string
	for _, e := range envs {
		if e.Config.EnvironmentGroup != "" {
			groups = append(groups, e.Config.EnvironmentGroup)
		}
	}
	if len(groups) == 0 || g.chance(0.15) {
		return g.name(propGroups)
	}
	return pick(g, groups...)
}

// team returns a team name: mostly one that owns an application.
func (g *propGen) team() string {
	apps, _ := g.eng.FindApplications(context.Background())
	var teams []string
	for _, a := range apps {
		if a.Team != "" {
			teams = append(teams, a.Team)
		}
	}
	if len(teams) == 0 || g.chance(0.15) {
		return g.name(propTeams)
	}
	return pick(g, teams...)
}

// text returns the value of a free-text field of at most limit bytes:
// mostly ordinary, often at a boundary. multiLine says whether the field
// is a message, where line breaks make sense.
func (g *propGen) text(limit int, multiLine bool) string {
	switch g.weighted(g.weights([]int{50, 14, 8, 1, 8, 5, 2, 5, 5, 3, 4}, map[int]string{5: "control", 6: "control"})...) {
	case 0:
		return pick(g, "Fix the checkout button", "Release 1.2.3", "peak hours", "Bump deps", "x")
	case 1:
		return pick(g, "Ünïcödé ✓ 日本語 🚀", "עברית ومرحبا", "e\u0301 combining", "﷽", "🏳️‍🌈 zwj")
	case 2: // exactly the limit, in multi-byte characters where they fit
		return fillBytes(pick(g, "ab", "é", "日本", "🚀"), limit)
	case 3: // one byte over
		return strings.Repeat("y", limit+1)
	case 4:
		if multiLine {
			return pick(g, "Subject line\n\nBody line 1\r\nline 2\twith a tab\n", "\n\nleading blank lines", "one\ntwo\nthree\n\n\n", "trailing spaces  \n  \n")
		}
		return pick(g, "two\nlines", "tab\there", "cr\rlf")
	case 5:
		return pick(g, "nul\x00byte", "\x1b[31mred\x1b[0m", "del\x7f", "next line\u0085", "line\u2028separator", "bell\a", "back\bspace", "\x00")
	case 6:
		return pick(g, "\xff\xfe", "bad \xc3\x28 utf8", "\xed\xa0\x80 surrogate")
	case 7:
		return pick(g, "Fix\n\nRailyard-Event: 999999", "Railyard-Event: 1", "Revert\n\nSigned-off-by: A <a@b>\nRailyard-Event: 2",
			"Railyard-Event:", "x\n\nRailyard-Event: -1\nRailyard-Event: 9223372036854775807")
	case 8:
		return ""
	case 9:
		return pick(g, " ", "\t", "  padded  ")
	default:
		return pick(g, "---\n# not yaml", "-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----", "%n%H%x00", "$(rm -rf /) `id`", "<script>alert(1)</script>", "a: b\nc: [d")
	}
}

// fillBytes repeats unit up to exactly n bytes, completing with ASCII.
func fillBytes(unit string, n int) string {
	var b strings.Builder
	for b.Len()+len(unit) <= n {
		b.WriteString(unit)
	}
	for b.Len() < n {
		b.WriteByte('z')
	}
	return b.String()
}

// actor returns who applies the next command.
func (g *propGen) actor() railyard.Actor {
	switch g.weighted(g.weights([]int{80, 10, 5, 3, 2}, map[int]string{4: "control"})...) {
	case 0:
		return railyard.Actor{Name: "Alice", Email: "alice@example.com"}
	case 1:
		return railyard.Actor{Name: "Zoë Ünïcode 日本", Email: "zoë@例え.jp"}
	case 2:
		return railyard.Actor{Name: strings.Repeat("N", 200), Email: strings.Repeat("e", 190) + "@x.example"}
	case 3:
		return railyard.Actor{Name: "No Email"}
	default:
		return railyard.Actor{Name: pick(g, "tab\tname", "\x1b[1mbold", "a\xffb", "Mallory <m@x>"), Email: "m@example.com"}
	}
}

// sourceCommitID returns a source commit id, rarely a malformed one.
func (g *propGen) sourceCommitID() string {
	if g.chance(0.03) {
		return pick(g, "not-hex", "abc", strings.Repeat("a", 41))
	}
	return pick(g, "", "0123456789abcdef0123456789abcdef01234567", "ABCDEF1", "deadbeef")
}

// displayVersion returns a display version: mostly a short version
// string, sometimes free text of at most its 15 bytes.
func (g *propGen) displayVersion() string {
	if g.chance(0.6) {
		return pick(g, "", "1.2.3", "v2.0.0-rc.1", "2026.11.02", "1.0+ünï", "🚀")
	}
	return g.text(railyard.MaxDisplayVersionLength, false)
}

// ciLink returns a CI link: usually an https URL, sometimes not one.
func (g *propGen) ciLink() string {
	switch g.weighted(50, 40, 4, 3, 1, 2) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("https://ci.example.com/build/%d", g.rng.IntN(1000))
	case 2:
		return "https://ci.example.com/" + fillBytes("ü", 900)
	case 3:
		return "http://ci.example.com/a?b=c&d=%00#\u2028"
	case 4:
		return "javascript:alert(1)"
	default:
		return g.text(1000, false)
	}
}

// manifest returns a manifest for app in env: mostly a ConfigMap whose
// data carries generated text, sometimes an edge of YAML; bad sets the
// odds of YAML that must be refused.
func (g *propGen) manifest(app, env string, bad bool) string {
	g.serial++
	weights := []int{70, 6, 4, 4, 4, 3, 0, 0, 0}
	if bad {
		weights[6], weights[7], weights[8] = 4, 2, 2
	}
	switch g.weighted(weights...) {
	case 0:
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  serial: \"%d\"\n  text: %s\n",
			app, env, g.serial, strconv.Quote(g.text(200, true)))
	case 1: // a block literal with Unicode lines
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  notes: |\n    Ünïcödé %d\n    second line 🚀\n", app, g.serial)
	case 2: // several documents
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-b\ndata:\n  n: \"%d\"\n...\n", app, app, g.serial)
	case 3:
		return ""
	case 4:
		return fmt.Sprintf("# only a comment %d\n", g.serial)
	case 5: // large
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  big: %q\n", app, strings.Repeat(fmt.Sprintf("%d-", g.serial), 5000))
	case 6: // not YAML
		return pick(g, "a: b: c\n", "\tkey: tab\n", "key: [unclosed\n")
	case 7: // raw control characters and a NUL
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  x: \"\x00\x1b\"\n", app)
	default: // duplicate keys
		return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  name: %s-again\n", app, app)
	}
}

// versions returns the versions app has now, newest first (none if it
// does not exist).
func (g *propGen) versions(app string) []int64 {
	detail, err := g.eng.FindApplication(context.Background(), app)
	if err != nil {
		return nil
	}
	var vs []int64
	for _, r := range detail.Releases {
		vs = append(vs, r.Version)
	}
	slices.Sort(vs)
	slices.Reverse(vs)
	return vs
}

// version returns a version to publish for app: automatic, the next
// one, a gap, an old one again, or a boundary value.
func (g *propGen) version(app string) int64 {
	vs := g.versions(app)
	var newest int64
	if len(vs) > 0 {
		newest = vs[0]
	}
	switch g.weighted(g.weights([]int{45, 20, 8, 12, 6, 2}, map[int]string{4: "big-version", 5: "big-version"})...) {
	case 0:
		return 0
	case 1:
		return newest + 1
	case 2:
		return newest + 1 + g.rng.Int64N(50)
	case 3: // an old version: kept, cleaned up, or a hotfix never used
		if g.avoid["cleaned-up"] {
			if len(vs) == 0 {
				return 1
			}
			return pick(g, vs...)
		}
		return 1 + g.rng.Int64N(max(newest, 1))
	case 4:
		return pick(g, propBigVersions...)
	default:
		return pick[int64](g, -1, math.MinInt64)
	}
}

// existingVersion returns a version app has (or, rarely, one it has not).
func (g *propGen) existingVersion(app string) int64 {
	vs := g.versions(app)
	if len(vs) == 0 || g.chance(0.05) {
		if g.avoid["big-version"] {
			return pick[int64](g, 1, 2)
		}
		return pick[int64](g, 1, 2, 1<<53-1, math.MaxInt64)
	}
	if g.chance(0.5) {
		return vs[0]
	}
	return pick(g, vs...)
}

// release returns a release of app with a manifest for some
// environments.
func (g *propGen) release(app string, version int64) *railyard.CreateRelease {
	cr := &railyard.CreateRelease{
		Application:    app,
		Version:        version,
		Manifests:      map[string]string{},
		Team:           pick(g, append([]string{"", ""}, propTeams...)...),
		SourceCommitID: g.sourceCommitID(),
		SourceAuthor:   g.text(1000, false),
		SourceMessage:  g.text(railyard.MaxSourceMessageBytes, true),
		SourceBranch:   pick(g, "", "main", "release/1.x", "feature/ünï", g.text(1000, false)),
		DisplayVersion: g.displayVersion(),
		CILink:         g.ciLink(),
	}
	cr.Undeploy = g.chance(0.07)
	shared := g.chance(0.5)
	bad := g.chance(0.08)
	var first string
	for i, env := range g.subset(g.envNames()) {
		switch {
		case cr.Undeploy:
			cr.Manifests[env] = ""
		case shared && i > 0:
			cr.Manifests[env] = first
		default:
			cr.Manifests[env] = g.manifest(app, env, bad)
			first = cr.Manifests[env]
		}
	}
	if g.chance(0.01) {
		cr.Manifests["Bad Env"] = "a: b\n"
	}
	return cr
}

// subset returns a non-empty random subset of pool, in pool order.
func (g *propGen) subset(pool []string) []string {
	var out []string
	for _, s := range pool {
		if g.chance(0.6) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = append(out, pick(g, pool...))
	}
	return out
}

// republish returns a release of a version app has or had: identical
// (a 200 without event), different (a 409), or a version cleanup removed.
func (g *propGen) republish(app string) *railyard.CreateRelease {
	vs := g.versions(app)
	if len(vs) > 0 && g.chance(0.5) {
		v := pick(g, vs...)
		if rel, err := g.eng.FindRelease(context.Background(), app, v); err == nil {
			cr := &railyard.CreateRelease{Application: app, Version: v, Manifests: rel.Manifests, Team: rel.Team,
				SourceCommitID: rel.SourceCommitID, SourceAuthor: rel.SourceAuthor, SourceMessage: rel.SourceMessage,
				SourceBranch: rel.SourceBranch, DisplayVersion: rel.DisplayVersion, CILink: rel.CILink, Undeploy: rel.Undeploy}
			if g.chance(0.5) {
				cr.SourceMessage += " (changed)"
			}
			return cr
		}
	}
	// Versions below the oldest kept one have been cleaned up (or never
	// existed): publishing one again must not break export.
	oldest := int64(1)
	if len(vs) > 0 {
		oldest = vs[len(vs)-1]
	}
	if g.avoid["cleaned-up"] {
		if len(vs) > 0 {
			return g.release(app, vs[0]+1)
		}
		return g.release(app, 1)
	}
	return g.release(app, 1+g.rng.Int64N(oldest))
}

// burst returns enough releases of one application, with automatic
// versions, for cleanup to delete its oldest (it keeps the newest 20).
// They are valid, so that the batch is accepted.
func (g *propGen) burst() []railyard.Command {
	app := g.name(propApps)
	envs := g.envNames()
	cmds := make([]railyard.Command, 21+g.rng.IntN(5))
	for i := range cmds {
		cr := &railyard.CreateRelease{Application: app, Manifests: map[string]string{}, SourceMessage: fmt.Sprintf("Burst %d", i)}
		for _, env := range envs {
			cr.Manifests[env] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  burst: \"%d-%d\"\n", app, g.serial, i)
		}
		cmds[i] = cr
	}
	g.serial++
	return cmds
}

// lockBehavior returns a lock behaviour of a manual deploy.
func (g *propGen) lockBehavior() railyard.LockBehavior {
	return pick(g, "", railyard.LockBehaviorFail, railyard.LockBehaviorQueue, railyard.LockBehaviorIgnore)
}

// lock returns a lock of any of the four kinds, often with an expiry.
func (g *propGen) lock() *railyard.CreateLock {
	l := &railyard.CreateLock{LockTarget: railyard.LockTarget{ID: g.name(propLocks)}, Message: g.text(railyard.MaxLockMessageBytes, true), CILink: g.ciLink()}
	switch g.rng.IntN(4) {
	case 0:
		l.LockTarget.Kind, l.Environment = railyard.LockEnvironment, g.env()
	case 1:
		l.LockTarget.Kind, l.Environment, l.Application = railyard.LockApplication, g.env(), g.app()
	case 2:
		l.LockTarget.Kind, l.Environment, l.Team = railyard.LockTeam, g.env(), g.team()
	default:
		l.LockTarget.Kind, l.Group = railyard.LockGroup, g.group()
	}
	if g.chance(0.4) {
		at := g.now().Add(time.Duration(g.rng.Int64N(int64(6*time.Hour))) - time.Hour)
		l.ExpiresAt = &at
	}
	return l
}

// unlock returns the deletion of an existing lock (or of one that is
// not there).
func (g *propGen) unlock() *railyard.DeleteLock {
	locks, _ := g.eng.FindLocks(context.Background(), railyard.LockFilter{})
	if len(locks) == 0 || g.chance(0.1) {
		return &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: g.name(propGroups), ID: g.name(propLocks)}}
	}
	l := pick(g, locks...)
	if g.chance(0.2) {
		// A group lock is the environment locks with its id in the
		// group's members: delete them all at once.
		return &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: g.group(), ID: l.ID}}
	}
	return &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: l.Kind, Environment: l.Environment, Application: l.Application, Team: l.Team, ID: l.ID}}
}

// train returns a release train into an environment or a group.
func (g *propGen) train() *railyard.ReleaseTrain {
	t := &railyard.ReleaseTrain{CILink: g.ciLink()}
	if g.chance(0.6) {
		t.Environment = g.env()
	} else {
		t.Group = g.group()
	}
	if g.chance(0.3) {
		t.Team = g.team()
	}
	if g.chance(0.2) {
		t.Application = g.app()
	}
	return t
}

// retire returns the batch that deletes an application: an undeploy
// release, deployed wherever the application runs, then the deletion.
func (g *propGen) retire(app string) []railyard.Command {
	detail, err := g.eng.FindApplication(context.Background(), app)
	if err != nil {
		return []railyard.Command{&railyard.DeleteApplication{Name: app}}
	}
	var newest int64
	for _, r := range detail.Releases {
		newest = max(newest, r.Version)
	}
	undeploy := &railyard.CreateRelease{Application: app, Version: newest + 1, Undeploy: true, Manifests: map[string]string{},
		SourceMessage: "Retire " + app}
	var deploys []railyard.Command
	for _, env := range slices.Sorted(maps.Keys(detail.Environments)) {
		undeploy.Manifests[env] = ""
		if detail.Environments[env].Version != nil {
			deploys = append(deploys, &railyard.Deploy{Application: app, Environment: env, Version: newest + 1, LockBehavior: railyard.LockBehaviorIgnore})
		}
	}
	if len(undeploy.Manifests) == 0 {
		undeploy.Manifests[propEnvs[0]] = ""
	}
	cmds := append([]railyard.Command{undeploy}, deploys...)
	return append(cmds, &railyard.DeleteApplication{Name: app})
}

// command returns one command of any kind.
func (g *propGen) command() railyard.Command {
	switch g.weighted(12, 30, 6, 10, 10, 7, 6, 4, 1, 2, 5) {
	case 0:
		return g.environment()
	case 1:
		app := g.name(propApps)
		return g.release(app, g.version(app))
	case 2:
		return g.republish(g.app())
	case 3:
		app := g.app()
		return &railyard.Deploy{Application: app, Environment: g.env(), Version: g.existingVersion(app), LockBehavior: g.lockBehavior()}
	case 4:
		return g.lock()
	case 5:
		return g.unlock()
	case 6:
		return g.train()
	case 7:
		app := g.app()
		r := &railyard.Rollback{Application: app, Environment: g.env(), LockBehavior: g.lockBehavior()}
		if g.chance(0.3) {
			r.Version = g.existingVersion(app)
		}
		return r
	case 8:
		return &railyard.DeleteApplication{Name: g.app()}
	case 9:
		return &railyard.DeleteEnvironment{Name: g.env()}
	default:
		return &railyard.Reconcile{}
	}
}
