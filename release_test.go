package railyard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

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
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "l"}, Message: "m"})
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
