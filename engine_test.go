package railyard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// blockerSetups are the lock situations of the matrix, for checkout (team
// payments) in an environment env. blocking is how many locks hold it back.
var blockerSetups = []struct {
	name     string
	locks    func(env string) []*railyard.CreateLock
	expire   bool // advance the clock past every lock's expiry
	blocking int
}{
	{name: "no lock", locks: func(string) []*railyard.CreateLock { return nil }},
	{name: "environment lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockKind: railyard.LockEnvironment, Environment: env, ID: "freeze", Message: "black friday"}}
	}},
	{name: "application lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockKind: railyard.LockApplication, Environment: env, Application: "checkout", ID: "bug", Message: "investigating"}}
	}},
	{name: "team lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockKind: railyard.LockTeam, Environment: env, Team: "payments", ID: "audit", Message: "audit"}}
	}},
	{name: "group lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockKind: railyard.LockGroup, Group: "grp", ID: "grp-freeze", Message: "group freeze"}}
	}},
	{name: "all three kinds", blocking: 3, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{
			{LockKind: railyard.LockEnvironment, Environment: env, ID: "freeze", Message: "m"},
			{LockKind: railyard.LockApplication, Environment: env, Application: "checkout", ID: "bug", Message: "m"},
			{LockKind: railyard.LockTeam, Environment: env, Team: "payments", ID: "audit", Message: "m"},
		}
	}},
	{name: "lock of another application", locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockKind: railyard.LockApplication, Environment: env, Application: "search", ID: "x", Message: "m"}}
	}},
	{name: "lock of another team", locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockKind: railyard.LockTeam, Environment: env, Team: "discovery", ID: "x", Message: "m"}}
	}},
	{name: "lock in another environment", locks: func(string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockKind: railyard.LockEnvironment, Environment: "other", ID: "x", Message: "m"}}
	}},
	{name: "expired lock", expire: true, locks: func(env string) []*railyard.CreateLock {
		exp := t0.Add(time.Hour)
		return []*railyard.CreateLock{{LockKind: railyard.LockEnvironment, Environment: env, ID: "short", Message: "m", ExpiresAt: &exp}}
	}},
}

// matrixHarness sets up environment target (in group grp), an unrelated
// environment other, checkout (team payments) and search (team discovery).
func matrixHarness(t *testing.T, target railyard.EnvironmentConfig) *harness {
	h := newHarness(t)
	target.EnvironmentGroup = "grp"
	h.put("other", railyard.EnvironmentConfig{})
	h.put("target", target)
	h.release("search", 1, "discovery", "target", "other")
	return h
}

func TestManualDeployLockMatrix(t *testing.T) {
	behaviors := []railyard.LockBehavior{"", railyard.LockBehaviorFail, railyard.LockBehaviorQueue, railyard.LockBehaviorIgnore}
	for _, setup := range blockerSetups {
		for _, behavior := range behaviors {
			t.Run(fmt.Sprintf("%s/%s", setup.name, behavior), func(t *testing.T) {
				h := matrixHarness(t, railyard.EnvironmentConfig{})
				h.release("checkout", 1, "payments", "target")
				h.release("checkout", 2, "payments", "target")
				h.must(&railyard.Deploy{Application: "checkout", Environment: "target", Version: 1})
				for _, l := range setup.locks("target") {
					h.must(l)
				}
				if setup.expire {
					h.now = t0.Add(2 * time.Hour)
				}
				before := h.snapshot()
				cmd := &railyard.Deploy{Application: "checkout", Environment: "target", Version: 2, LockBehavior: behavior}
				blocked := setup.blocking > 0
				switch {
				case !blocked:
					res := h.must(cmd)
					assertEqual(t, "outcome", res.Outcome, railyard.OutcomeDeployed)
					assertEqual(t, "state", h.state("checkout", "target"), "2/-")
					assertEqual(t, "description", res.Event.Description, "Deploy checkout 2 to target")
				case behavior == "" || behavior == railyard.LockBehaviorFail:
					err := h.fail(railyard.ELOCKED, cmd)
					assertEqual(t, "blockers", len(err.Blockers), setup.blocking)
					if !strings.Contains(err.Message, "cannot be deployed to target: blocked by") {
						t.Errorf("message %q does not say what blocks", err.Message)
					}
					assertEqual(t, "state after refusal", h.snapshot(), before)
				case behavior == railyard.LockBehaviorQueue:
					res := h.must(cmd)
					assertEqual(t, "outcome", res.Outcome, railyard.OutcomeQueued)
					assertEqual(t, "state", h.state("checkout", "target"), "1/2")
					assertEqual(t, "queued because", len(res.Deployment.QueuedBecause), setup.blocking)
				case behavior == railyard.LockBehaviorIgnore:
					res := h.must(cmd)
					assertEqual(t, "outcome", res.Outcome, railyard.OutcomeDeployed)
					assertEqual(t, "state", h.state("checkout", "target"), "2/-")
					ch := res.Event.Changes[0]
					assertEqual(t, "overridden blockers", len(ch.Blockers), setup.blocking)
					if !strings.HasPrefix(res.Event.Description, "Deploy checkout 2 to target, overriding ") {
						t.Errorf("description %q does not name the overridden locks", res.Event.Description)
					}
				}
			})
		}
	}
}

func TestAutomaticDeployLockMatrix(t *testing.T) {
	for _, setup := range blockerSetups {
		t.Run(setup.name, func(t *testing.T) {
			h := matrixHarness(t, railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
			h.release("checkout", 1, "payments", "target")
			assertEqual(t, "first release", h.state("checkout", "target"), "1/-")
			for _, l := range setup.locks("target") {
				h.must(l)
			}
			if setup.expire {
				h.now = t0.Add(2 * time.Hour)
			}
			res := h.release("checkout", 2, "payments", "target")
			if setup.blocking == 0 {
				assertEqual(t, "state", h.state("checkout", "target"), "2/-")
				assertEqual(t, "description", res.Event.Description, "Release checkout 2, deploy to target")
				return
			}
			assertEqual(t, "state", h.state("checkout", "target"), "1/2")
			assertEqual(t, "description", res.Event.Description, "Release checkout 2, queue in target (locked)")
			// A newer release replaces the queue: last deployment wins.
			h.release("checkout", 3, "payments", "target")
			assertEqual(t, "queue replaced", h.state("checkout", "target"), "1/3")
		})
	}
}

func TestQueueDeployedWhenLastBlockerGoes(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	h.release("cart", 1, "payments", "development")
	h.release("search", 1, "discovery", "development")
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "development", ID: "env", Message: "m"})
	h.must(&railyard.CreateLock{LockKind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "app", Message: "m"})
	h.must(&railyard.CreateLock{LockKind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "team", Message: "m"})
	h.release("checkout", 2, "", "development")
	h.release("cart", 2, "", "development")
	h.release("search", 2, "", "development")
	want := map[string]string{"checkout": "1/2", "cart": "1/2", "search": "1/2"}
	for app, s := range want {
		assertEqual(t, app, h.state(app, "development"), s)
	}

	// The environment lock goes: search is free, cart still has its team
	// lock, checkout its team and application locks.
	res := h.must(&railyard.DeleteLock{LockKind: railyard.LockEnvironment, Environment: "development", ID: "env"})
	assertEqual(t, "description", res.Event.Description, "Unlock development (env), deploy queued search 2 to development")
	assertEqual(t, "search", h.state("search", "development"), "2/-")
	assertEqual(t, "cart", h.state("cart", "development"), "1/2")
	assertEqual(t, "checkout", h.state("checkout", "development"), "1/2")
	ev := h.lastEvent()
	assertEqual(t, "actor of queue deploy", ev.Actor, alice)
	assertEqual(t, "change reason", ev.Changes[1].Reason, "queued version, last blocker removed")

	h.must(&railyard.DeleteLock{LockKind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "team"})
	assertEqual(t, "cart", h.state("cart", "development"), "2/-")
	assertEqual(t, "checkout still app-locked", h.state("checkout", "development"), "1/2")

	h.must(&railyard.DeleteLock{LockKind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "app"})
	assertEqual(t, "checkout", h.state("checkout", "development"), "2/-")
}

func TestGroupLock(t *testing.T) {
	h := newHarness(t).chain()
	h.put("de-prod", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod"})
	h.put("jp-prod", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod"})
	res := h.must(&railyard.CreateLock{LockKind: railyard.LockGroup, Group: "prod", ID: "freeze", Message: "release freeze"})
	assertEqual(t, "locks created", len(res.Locks), 2)
	assertEqual(t, "description", res.Event.Description, "Lock environment group prod (freeze): release freeze")
	locks, err := h.eng.FindLocks(context.Background(), railyard.LockFilter{ID: "freeze"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range locks {
		got = append(got, fmt.Sprintf("%s:%s", l.Kind, l.Environment))
	}
	assertEqual(t, "locks", strings.Join(got, ","), "environment:de-prod,environment:jp-prod")

	// Removing the lock from one member by hand leaves the other; deleting
	// the group lock then removes what is left.
	h.must(&railyard.DeleteLock{LockKind: railyard.LockEnvironment, Environment: "de-prod", ID: "freeze"})
	h.must(&railyard.DeleteLock{LockKind: railyard.LockGroup, Group: "prod", ID: "freeze"})
	locks, _ = h.eng.FindLocks(context.Background(), railyard.LockFilter{})
	assertEqual(t, "locks left", len(locks), 0)
	h.fail(railyard.ENOTFOUND, &railyard.DeleteLock{LockKind: railyard.LockGroup, Group: "prod", ID: "freeze"})
	h.fail(railyard.ENOTFOUND, &railyard.CreateLock{LockKind: railyard.LockGroup, Group: "nope", ID: "x", Message: "m"})
}

func TestLockExpiry(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	exp := t0.Add(30 * time.Minute)
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "development", ID: "short", Message: "m", ExpiresAt: &exp})
	h.release("checkout", 2, "payments", "development")
	assertEqual(t, "queued", h.state("checkout", "development"), "1/2")

	h.now = exp.Add(-time.Microsecond)
	ev, err := h.eng.ExpireLocks(context.Background())
	if err != nil || ev != nil {
		t.Fatalf("before expiry: got event %v, err %v; want none", ev, err)
	}
	h.now = exp
	ev, err = h.eng.ExpireLocks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "actor", ev.Actor, railyard.SystemActor)
	assertEqual(t, "description", ev.Description, "Remove expired locks: development (short); deploy queued checkout 2 to development")
	assertEqual(t, "deployed", h.state("checkout", "development"), "2/-")

	h.fail(railyard.EINVALID, &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "development", ID: "past", Message: "m", ExpiresAt: &t0})
}

func TestQueueClearedByDeploy(t *testing.T) {
	h := newHarness(t).chain()
	for v := int64(1); v <= 3; v++ {
		h.release("checkout", v, "payments", "staging")
	}
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1})
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "l", Message: "m"})
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3, LockBehavior: railyard.LockBehaviorQueue})
	assertEqual(t, "queued 3", h.state("checkout", "staging"), "1/3")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 2, LockBehavior: railyard.LockBehaviorIgnore})
	assertEqual(t, "older deploy keeps newer queue", h.state("checkout", "staging"), "2/3")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3, LockBehavior: railyard.LockBehaviorIgnore})
	assertEqual(t, "deploying the queued version clears the queue", h.state("checkout", "staging"), "3/-")

	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 2, LockBehavior: railyard.LockBehaviorQueue})
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3, LockBehavior: railyard.LockBehaviorQueue})
	assertEqual(t, "queueing the running version over an older queue", h.state("checkout", "staging"), "3/-")
	before := h.lastEventID()
	res := h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3})
	assertEqual(t, "deploying the running version", res.Outcome, railyard.OutcomeUnchanged)
	assertEqual(t, "no event", h.lastEventID(), before)
}

func TestReleaseRules(t *testing.T) {
	h := newHarness(t).chain()
	r1 := h.release("checkout", 0, "payments", "development", "staging")
	assertEqual(t, "first auto version", r1.Release.Version, int64(1))
	assertEqual(t, "environments", strings.Join(r1.Release.Environments, ","), "development,staging")
	assertEqual(t, "description", r1.Event.Description, "Release checkout 1, deploy to development")
	h.release("checkout", 7, "payments", "development")
	r := h.release("checkout", 0, "payments", "development")
	assertEqual(t, "auto version after 7", r.Release.Version, int64(8))
	assertEqual(t, "staging untouched by a new release", h.state("checkout", "staging"), "-/-")

	// Identical re-publish: unchanged, no event.
	before := h.lastEventID()
	again := h.must(releaseCmd("checkout", 7, "payments", "development"))
	assertEqual(t, "re-publish outcome", again.Outcome, railyard.OutcomeUnchanged)
	if again.Event != nil || h.lastEventID() != before {
		t.Errorf("identical re-publish recorded an event")
	}

	// A release older than what runs is stored but not deployed.
	h.release("checkout", 5, "payments", "development")
	assertEqual(t, "no automatic downgrade", h.state("checkout", "development"), "8/-")

	// Conflicting re-publish names the first differing field.
	conflicts := []struct {
		field  string
		change func(*railyard.CreateRelease)
	}{
		{"sourceCommitId", func(c *railyard.CreateRelease) { c.SourceCommitID = "abcdef1" }},
		{"sourceAuthor", func(c *railyard.CreateRelease) { c.SourceAuthor = "Bob" }},
		{"sourceMessage", func(c *railyard.CreateRelease) { c.SourceMessage = "other" }},
		{"sourceBranch", func(c *railyard.CreateRelease) { c.SourceBranch = "feature" }},
		{"displayVersion", func(c *railyard.CreateRelease) { c.DisplayVersion = "1.0" }},
		{"team", func(c *railyard.CreateRelease) { c.Team = "other" }},
		{"ciLink", func(c *railyard.CreateRelease) { c.CILink = "https://ci.example.com/1" }},
		{"manifests", func(c *railyard.CreateRelease) { c.Manifests["development"] += "# changed\n" }},
		{"manifests", func(c *railyard.CreateRelease) { c.Manifests["staging"] = "a: b\n" }},
	}
	for _, tc := range conflicts {
		cmd := releaseCmd("checkout", 7, "payments", "development")
		tc.change(cmd)
		snap := h.snapshot()
		err := h.fail(railyard.ECONFLICT, cmd)
		assertEqual(t, "conflict field", err.Field, tc.field)
		assertEqual(t, "state after conflict", h.snapshot(), snap)
	}
	cmd := releaseCmd("checkout", 7, "payments", "development")
	cmd.Manifests["development"] = strings.Replace(cmd.Manifests["development"], "env: development", "env: dev", 1)
	err := h.fail(railyard.ECONFLICT, cmd)
	wantDiff := "--- existing/manifests[development]\n+++ new/manifests[development]\n@@ -3,4 +3,4 @@\n metadata:\n   name: checkout\n data:\n-  env: development\n+  env: dev\n"
	assertEqual(t, "diff", err.Diff, wantDiff)
}

func TestReleaseTeamMovesApplication(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	h.release("checkout", 2, "", "development")
	app, _ := h.eng.FindApplication(context.Background(), "checkout")
	assertEqual(t, "team kept when a release names none", app.Team, "payments")
	h.release("checkout", 3, "shop", "development")
	app, _ = h.eng.FindApplication(context.Background(), "checkout")
	assertEqual(t, "team moved", app.Team, "shop")
	// An identical re-publish of an old release does not move it back.
	before := h.lastEventID()
	h.must(releaseCmd("checkout", 1, "payments", "development"))
	app, _ = h.eng.FindApplication(context.Background(), "checkout")
	assertEqual(t, "team after re-publish", app.Team, "shop")
	assertEqual(t, "no event", h.lastEventID(), before)
}

func TestReleaseCleanup(t *testing.T) {
	h := newHarness(t).chain()
	h.eng.KeepReleases = 3
	h.release("checkout", 1, "payments", "development", "staging")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1})
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "l", Message: "m"})
	h.release("checkout", 2, "payments", "development", "staging")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 2, LockBehavior: railyard.LockBehaviorQueue})
	for v := int64(3); v <= 9; v++ {
		h.release("checkout", v, "payments", "development")
	}
	d, err := h.eng.FindApplication(context.Background(), "checkout")
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, r := range d.Releases {
		versions = append(versions, fmt.Sprint(r.Version))
	}
	// 9 runs in development, 1 in staging, 2 is queued there; of the
	// others the newest 3 (8, 7, 6) are kept.
	assertEqual(t, "kept releases", strings.Join(versions, ","), "9,8,7,6,2,1")
	ev := h.lastEvent()
	last := ev.Changes[len(ev.Changes)-1]
	assertEqual(t, "cleanup change", fmt.Sprintf("%s %d", last.Op, last.Version), "release.delete 5")
}

func TestUndeployAndDeleteApplication(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development", "staging")
	h.fail(railyard.EINVALID, &railyard.CreateRelease{Application: "checkout", Undeploy: true, Manifests: map[string]string{"development": "a: b"}})
	err := h.fail(railyard.ECONFLICT, &railyard.DeleteApplication{Name: "checkout"})
	assertEqual(t, "message", err.Message, "checkout still runs version 1 in development: release an undeploy version and deploy it to every environment before deleting the application")
	res := h.must(&railyard.CreateRelease{Application: "checkout", Undeploy: true, Manifests: map[string]string{"development": "", "staging": ""}})
	assertEqual(t, "undeploy description", res.Event.Description, "Release undeploy version 2 of checkout, deploy to development")
	h.must(&railyard.CreateLock{LockKind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "x", Message: "m"})
	res = h.must(&railyard.DeleteApplication{Name: "checkout"})
	assertEqual(t, "outcome", res.Outcome, railyard.OutcomeDeleted)
	h.fail(railyard.ENOTFOUND, &railyard.DeleteApplication{Name: "checkout"})
	locks, _ := h.eng.FindLocks(context.Background(), railyard.LockFilter{})
	assertEqual(t, "locks of the deleted application", len(locks), 0)
}

func TestBatchIsAtomic(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development", "staging")
	before := h.snapshot()
	_, err := h.eng.Apply(context.Background(), alice,
		&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1},
		&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "a", Message: "m"},
		&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 9},
	)
	assertEqual(t, "code", railyard.ErrorCode(err), railyard.ENOTFOUND)
	if !strings.HasPrefix(railyard.ErrorMessage(err), "command 3 (deploy): ") {
		t.Errorf("message %q does not name the failing command", railyard.ErrorMessage(err))
	}
	assertEqual(t, "state after failed batch", h.snapshot(), before)

	results, err := h.eng.Apply(context.Background(), bob,
		&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1},
		&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "a", Message: "m"},
	)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "events", results[1].Event.ID, results[0].Event.ID+1)
	assertEqual(t, "actor", results[1].Event.Actor, bob)

	cmds := make([]railyard.Command, railyard.MaxBatchCommands+1)
	for i := range cmds {
		cmds[i] = &railyard.DeleteEnvironment{Name: "x"}
	}
	_, err = h.eng.Apply(context.Background(), alice, cmds...)
	assertEqual(t, "too many", railyard.ErrorMessage(err), "commands: a batch holds at most 100 commands, got 101")
}

func TestEventsRecordEveryChange(t *testing.T) {
	h := newHarness(t)
	h.actor = bob
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	h.release("checkout", 1, "payments", "development")
	ev := h.lastEvent()
	assertEqual(t, "kind", ev.Kind, railyard.KindReleaseCreate)
	assertEqual(t, "actor", ev.Actor, bob)
	assertEqual(t, "time", ev.Time, t0)
	var ops []string
	for _, c := range ev.Changes {
		ops = append(ops, c.Op)
	}
	assertEqual(t, "changes", strings.Join(ops, ","), "application.put,release.create,deployment.deploy")
	if ev.Changes[1].Release == nil || ev.Changes[1].Release.Manifests["development"] == "" {
		t.Errorf("release.create change does not carry the manifests")
	}
	byCommit, err := h.eng.FindEvents(context.Background(), railyard.EventFilter{SourceCommitID: "0123456"})
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "events by source commit", len(byCommit), 1)
	byApp, _ := h.eng.FindEvents(context.Background(), railyard.EventFilter{Application: "checkout", Environment: "development"})
	assertEqual(t, "events by application and environment", len(byApp), 1)
}

func TestEnvironmentRules(t *testing.T) {
	h := newHarness(t).chain()
	up := func(env string) *railyard.Upstream { return &railyard.Upstream{Environment: env} }
	cases := []struct {
		name, env string
		cfg       railyard.EnvironmentConfig
		code      string
		field     string
	}{
		{"cycle", "development", railyard.EnvironmentConfig{Upstream: up("production")}, railyard.EINVALID, "upstream.environment"},
		{"self", "staging", railyard.EnvironmentConfig{Upstream: up("staging")}, railyard.EINVALID, "upstream.environment"},
		{"unknown upstream", "qa", railyard.EnvironmentConfig{Upstream: up("nope")}, railyard.EINVALID, "upstream.environment"},
		{"both", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Environment: "staging"}}, railyard.EINVALID, "upstream"},
		{"neither", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{}}, railyard.EINVALID, "upstream"},
		{"branch without latest", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging", Branch: "main"}}, railyard.EINVALID, "upstream.branch"},
		{"bad branch regexp", "qa", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Branch: "("}}, railyard.EINVALID, "upstream.branch"},
		{"bad group", "qa", railyard.EnvironmentConfig{EnvironmentGroup: "Prod"}, railyard.EINVALID, "environmentGroup"},
		{"bad name", "QA", railyard.EnvironmentConfig{}, railyard.EINVALID, "environment"},
		{"long name", strings.Repeat("a", 24), railyard.EnvironmentConfig{}, railyard.EINVALID, "environment"},
		{"bad window kind", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "maybe", Schedule: "0 9 * * *", Duration: "1h"}}}, railyard.EINVALID, "deployWindows[0].kind"},
		{"bad cron", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "allow", Schedule: "0 25 * * *", Duration: "1h"}}}, railyard.EINVALID, "deployWindows[0].schedule"},
		{"bad duration", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "allow", Schedule: "0 9 * * *", Duration: "soon"}}}, railyard.EINVALID, "deployWindows[0].duration"},
		{"bad zone", "qa", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{{Kind: "allow", Schedule: "0 9 * * *", Duration: "1h", TimeZone: "Mars/Olympus"}}}, railyard.EINVALID, "deployWindows[0].timeZone"},
		{"bad branch restriction", "qa", railyard.EnvironmentConfig{BranchRestriction: "[a-"}, railyard.EINVALID, "branchRestriction"},
		{"argocd without destination", "qa", railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{}}, railyard.EINVALID, "argocd.destination"},
		{"argocd bad layout", "qa", railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{Layout: "many", Destination: railyard.ArgoCDDestination{Server: "https://k"}}}, railyard.EINVALID, "argocd.layout"},
		{"argocd bad sync window", "qa", railyard.EnvironmentConfig{ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: "https://k"}, SyncWindows: []railyard.ArgoCDSyncWindow{{Kind: "allow", Schedule: "x", Duration: "1h"}}}}, railyard.EINVALID, "argocd.syncWindows[0].schedule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot()
			err := h.fail(tc.code, &railyard.PutEnvironment{Name: tc.env, Config: tc.cfg})
			assertEqual(t, "field", err.Field, tc.field)
			assertEqual(t, "state", h.snapshot(), before)
		})
	}

	res := h.must(&railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: up("development")}})
	assertEqual(t, "same config", res.Outcome, railyard.OutcomeUnchanged)
	res = h.must(&railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: up("development"), EnvironmentGroup: "pre"}})
	assertEqual(t, "changed config", res.Outcome, railyard.OutcomeUpdated)
	assertEqual(t, "created time kept", res.Environment.CreatedAt, t0)

	err := h.fail(railyard.ECONFLICT, &railyard.DeleteEnvironment{Name: "staging"})
	assertEqual(t, "delete upstream", err.Message, "environment staging is the upstream of production: change or delete production first")
	h.release("checkout", 1, "payments", "production")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "production", Version: 1})
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "production", ID: "l", Message: "m"})
	res = h.must(&railyard.DeleteEnvironment{Name: "production"})
	var ops []string
	for _, c := range res.Event.Changes {
		ops = append(ops, c.Op)
	}
	assertEqual(t, "delete changes", strings.Join(ops, ","), "lock.delete,deployment.delete,environment.delete")
	h.fail(railyard.ENOTFOUND, &railyard.DeleteEnvironment{Name: "production"})
}

func TestBadCommandsChangeNothing(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development", "staging")
	cases := []struct {
		name  string
		cmd   railyard.Command
		code  string
		field string
	}{
		{"release path escape", &railyard.CreateRelease{Application: "..", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release slash", &railyard.CreateRelease{Application: "a/b", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release uppercase", &railyard.CreateRelease{Application: "Checkout", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release unicode", &railyard.CreateRelease{Application: "chéckout", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release 200 characters", &railyard.CreateRelease{Application: strings.Repeat("a", 200), Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "application"},
		{"release negative version", &railyard.CreateRelease{Application: "a", Version: -1, Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "version"},
		{"release no manifests", &railyard.CreateRelease{Application: "a"}, railyard.EINVALID, "manifests"},
		{"release unknown environment", &railyard.CreateRelease{Application: "a", Manifests: map[string]string{"nope": "a: b"}}, railyard.EINVALID, "manifests[nope]"},
		{"release environment path escape", &railyard.CreateRelease{Application: "a", Manifests: map[string]string{"../x": "a: b"}}, railyard.EINVALID, "manifests[../x]"},
		{"release invalid yaml", &railyard.CreateRelease{Application: "a", Manifests: map[string]string{"development": "a: [b"}}, railyard.EINVALID, "manifests[development]"},
		{"release bad commit", &railyard.CreateRelease{Application: "a", SourceCommitID: "xyz", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "sourceCommitId"},
		{"release long display version", &railyard.CreateRelease{Application: "a", DisplayVersion: "1234567890123456", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "displayVersion"},
		{"release bad ci link", &railyard.CreateRelease{Application: "a", CILink: "javascript:alert(1)", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "ciLink"},
		{"release bad team", &railyard.CreateRelease{Application: "a", Team: "A Team", Manifests: map[string]string{"development": "a: b"}}, railyard.EINVALID, "team"},
		{"deploy version 0", &railyard.Deploy{Application: "checkout", Environment: "staging"}, railyard.EINVALID, "version"},
		{"deploy unknown version", &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 9}, railyard.ENOTFOUND, ""},
		{"deploy unknown application", &railyard.Deploy{Application: "nope", Environment: "staging", Version: 1}, railyard.ENOTFOUND, ""},
		{"deploy unknown environment", &railyard.Deploy{Application: "checkout", Environment: "nope", Version: 1}, railyard.ENOTFOUND, ""},
		{"deploy without manifest", &railyard.Deploy{Application: "checkout", Environment: "production", Version: 1}, railyard.EINVALID, "environment"},
		{"deploy bad behaviour", &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1, LockBehavior: "force"}, railyard.EINVALID, "lockBehavior"},
		{"lock bad id", &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "../x", Message: "m"}, railyard.EINVALID, "lockId"},
		{"lock dot id", &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "..", Message: "m"}, railyard.EINVALID, "lockId"},
		{"lock no message", &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "x"}, railyard.EINVALID, "message"},
		{"lock bad kind", &railyard.CreateLock{LockKind: "cluster", Environment: "staging", ID: "x", Message: "m"}, railyard.EINVALID, "kind"},
		{"lock missing application", &railyard.CreateLock{LockKind: railyard.LockApplication, Environment: "staging", ID: "x", Message: "m"}, railyard.EINVALID, "application"},
		{"lock stray team", &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", Team: "payments", ID: "x", Message: "m"}, railyard.EINVALID, "team"},
		{"lock unknown environment", &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "nope", ID: "x", Message: "m"}, railyard.ENOTFOUND, ""},
		{"lock unknown application", &railyard.CreateLock{LockKind: railyard.LockApplication, Environment: "staging", Application: "nope", ID: "x", Message: "m"}, railyard.ENOTFOUND, ""},
		{"lock unknown team", &railyard.CreateLock{LockKind: railyard.LockTeam, Environment: "staging", Team: "nope", ID: "x", Message: "m"}, railyard.ENOTFOUND, "team"},
		{"unlock missing", &railyard.DeleteLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "x"}, railyard.ENOTFOUND, "lockId"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot()
			err := h.fail(tc.code, tc.cmd)
			assertEqual(t, "field", err.Field, tc.field)
			assertEqual(t, "state", h.snapshot(), before)
		})
	}
}

func assertEqual[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestSubscribeSignalsCommits(t *testing.T) {
	h := newHarness(t)
	ch, cancel := h.eng.Subscribe()
	defer cancel()
	h.put("development", railyard.EnvironmentConfig{})
	select {
	case <-ch:
	default:
		t.Fatal("no signal after a commit with an event")
	}
	h.put("development", railyard.EnvironmentConfig{}) // unchanged: no event
	select {
	case <-ch:
		t.Fatal("signal after a command that recorded nothing")
	default:
	}
}

func TestAutomaticDeployNeverMovesTheQueueBackwards(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 2, "payments", "development")
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "development", ID: "l", Message: "m"})
	h.release("checkout", 5, "payments", "development")
	h.release("checkout", 3, "payments", "development")
	assertEqual(t, "queue keeps the newest", h.state("checkout", "development"), "2/5")
}

func TestReleasePayloadLeavesOutManifests(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	ev := h.lastEvent()
	if strings.Contains(string(ev.Payload), "ConfigMap") || !strings.Contains(string(ev.Payload), `"application":"checkout"`) {
		t.Errorf("payload: %s", ev.Payload)
	}
	if ev.Changes[1].Release.Manifests["development"] == "" {
		t.Errorf("the release.create change lost its manifests")
	}
}
