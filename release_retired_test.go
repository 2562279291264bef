package railyard_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/gitrepo"
)

// releaseEachMinute publishes versions from..to of app to development, a
// minute apart.
func (h *harness) releaseEachMinute(app string, from, to int64) {
	h.t.Helper()
	for v := from; v <= to; v++ {
		h.release(app, v, "payments", "development")
		h.now = h.now.Add(time.Minute)
	}
}

// Issue 10: after 22 releases the cleanup has deleted version 1, and
// publishing version 1 again answered 201 and broke every later export.
// A version, once used, is never used again: 409, naming the field, with
// when it was published and cleaned up, whether or not the content is
// the same; automatic versions go on above it.
func TestRepublishCleanedUpVersion(t *testing.T) {
	t.Parallel()
	h := newHarness(t).chain()
	h.releaseEachMinute("boom", 1, 22)
	ev := h.lastEvent()
	assertEqual(t, "cleanup of the 22nd release", fmt.Sprint(ev.Changes[len(ev.Changes)-1].Op, " ", ev.Changes[len(ev.Changes)-1].Version), "release.delete 1")
	before, lastID := h.snapshot(), h.lastEventID()

	other := releaseCmd("boom", 1, "payments", "development")
	other.Manifests["development"] += "  replicas: \"3\"\n"
	err := h.fail(railyard.ECONFLICT, other)
	assertEqual(t, "message", err.Message, "version 1 of boom was published on 2026-11-02T09:00:00Z and cleaned up on 2026-11-02T09:21:00Z; versions are never reused: publish a new version")
	assertEqual(t, "field", err.Field, "version")

	err = h.fail(railyard.ECONFLICT, releaseCmd("boom", 1, "payments", "development"))
	assertEqual(t, "message of an identical re-publish", err.Message, "version 1 of boom was published on 2026-11-02T09:00:00Z and cleaned up on 2026-11-02T09:21:00Z; versions are never reused, not even for the same content: publish it as a new version")
	assertEqual(t, "field", err.Field, "version")
	assertEqual(t, "state after the refusals", h.snapshot(), before)
	assertEqual(t, "events after the refusals", h.lastEventID(), lastID)

	res := h.must(releaseCmd("boom", 0, "payments", "development"))
	assertEqual(t, "automatic version", res.Release.Version, int64(23))
}

// Publishing an old version number for the first time (a hotfix line)
// while the newest KeepReleases are newer used to delete it in the very
// event that created it: a 201 for a release already gone, and an event
// the exporter could not write. The new release is spared until the next
// one, and every event exports.
func TestCleanupSparesTheNewRelease(t *testing.T) {
	t.Parallel()
	h := newHarness(t).chain()
	h.eng.KeepReleases = 3
	x := newLocalExporter(t, h)
	h.releaseEachMinute("checkout", 2, 5)
	res := h.must(releaseCmd("checkout", 1, "payments", "development"))
	assertEqual(t, "outcome", res.Outcome, railyard.OutcomeCreated)
	assertEqual(t, "changes of the old version's event", changeList(h.lastEvent()), "release.create 1")
	if _, err := h.eng.FindRelease(context.Background(), "checkout", 1); err != nil {
		t.Fatalf("release 1 after publishing it: %v", err)
	}
	h.release("checkout", 6, "payments", "development")
	assertEqual(t, "changes of the next release's event", changeList(h.lastEvent()),
		"release.create 6, deployment.deploy 6, release.delete 2, release.delete 1")
	if err := x.Sync(context.Background()); err != nil {
		t.Fatalf("export: %v", err)
	}
	assertEqual(t, "releases in Git", gitLsTree(t, x.Dir(), "main", "applications/checkout/releases/"), "3 4 5 6")
}

// Deleting an application retires its versions: an application created
// again under the same name continues the numbering and refuses them.
func TestDeleteApplicationRetiresVersions(t *testing.T) {
	t.Parallel()
	h := newHarness(t).chain()
	h.releaseEachMinute("checkout", 1, 1)
	h.must(&railyard.CreateRelease{Application: "checkout", Undeploy: true, Manifests: map[string]string{"development": ""}})
	h.now = h.now.Add(time.Hour)
	h.must(&railyard.DeleteApplication{Name: "checkout"})
	assertEqual(t, "changes of the deletion", changeList(h.lastEvent()), "deployment.delete 0, application.delete 0")

	err := h.fail(railyard.ECONFLICT, releaseCmd("checkout", 1, "payments", "development"))
	assertEqual(t, "message", err.Message, "version 1 of checkout was published on 2026-11-02T09:00:00Z and deleted with its application on 2026-11-02T10:01:00Z; versions are never reused, not even for the same content: publish it as a new version")
	assertEqual(t, "field", err.Field, "version")
	res := h.must(releaseCmd("checkout", 0, "payments", "development"))
	assertEqual(t, "automatic version of the new application", res.Release.Version, int64(3))
}

// changeList prints an event's changes as "op version, …".
func changeList(ev *railyard.Event) string {
	var parts []string
	for _, ch := range ev.Changes {
		parts = append(parts, fmt.Sprintf("%s %d", ch.Op, ch.Version))
	}
	return strings.Join(parts, ", ")
}

// newLocalExporter returns an exporter of h's events that commits in
// place, as serve does without --git-remote.
func newLocalExporter(t *testing.T, h *harness) *gitrepo.Exporter {
	t.Helper()
	x := gitrepo.NewExporter(h.eng, gitrepo.Config{
		Dir:    filepath.Join(t.TempDir(), "manifests.git"),
		ArgoCD: argocd.Options{RepoURL: "https://git.example.com/manifests.git", TargetRevision: "main"},
		Now:    func() time.Time { return h.now },
	})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return x
}

// gitLsTree returns the names in a directory of a bare repository's
// branch, separated by spaces.
func gitLsTree(t *testing.T, dir, branch, path string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "ls-tree", "--name-only", branch, path).Output()
	if err != nil {
		t.Fatalf("git ls-tree %s: %v", path, err)
	}
	var names []string
	for _, line := range strings.Fields(string(out)) {
		names = append(names, strings.TrimPrefix(line, path))
	}
	return strings.Join(names, " ")
}

// A release's digest changes with every field FirstDifference compares,
// and with the version; not with the creation time or Environments.
func TestReleaseDigest(t *testing.T) {
	t.Parallel()
	base := func() *railyard.Release {
		return &railyard.Release{Application: "checkout", Version: 3, Team: "payments", SourceCommitID: "0123456789abcdef",
			SourceAuthor: "Ada", SourceMessage: "fix", SourceBranch: "main", DisplayVersion: "1.2.3", CILink: "https://ci.example.com/1",
			Manifests: map[string]string{"dev": "a: 1\n", "prod": "a: 2\n"}, CreatedAt: t0}
	}
	want := base().Digest()
	if !strings.HasPrefix(want, "sha256:") || len(want) != len("sha256:")+64 {
		t.Fatalf("digest %q: want sha256: and 64 hexadecimal characters", want)
	}
	same := base()
	same.CreatedAt, same.Environments = t0.Add(time.Hour), []string{"dev", "prod"}
	assertEqual(t, "digest with another creation time", same.Digest(), want)
	changes := map[string]func(r *railyard.Release){
		"application":    func(r *railyard.Release) { r.Application = "cart" },
		"version":        func(r *railyard.Release) { r.Version = 4 },
		"team":           func(r *railyard.Release) { r.Team = "" },
		"sourceCommitId": func(r *railyard.Release) { r.SourceCommitID = "0123456789abcdee" },
		"sourceAuthor":   func(r *railyard.Release) { r.SourceAuthor = "Bob" },
		"sourceMessage":  func(r *railyard.Release) { r.SourceMessage = "fix!" },
		"sourceBranch":   func(r *railyard.Release) { r.SourceBranch = "" },
		"displayVersion": func(r *railyard.Release) { r.DisplayVersion = "1.2.4" },
		"ciLink":         func(r *railyard.Release) { r.CILink = "" },
		"undeploy":       func(r *railyard.Release) { r.Undeploy = true },
		"a manifest":     func(r *railyard.Release) { r.Manifests["prod"] = "a: 3\n" },
		"an environment": func(r *railyard.Release) { r.Manifests["qa"] = "a: 1\n" },
		"environment names": func(r *railyard.Release) {
			r.Manifests = map[string]string{"dev": "a: 2\n", "prod": "a: 1\n"}
		},
		// Lengths come first: moving text from one field to the next
		// changes the digest.
		"field boundaries": func(r *railyard.Release) { r.SourceAuthor, r.SourceMessage = "Adaf", "ix" },
	}
	for name, change := range changes {
		r := base()
		change(r)
		if r.Digest() == want {
			t.Errorf("changing %s kept the digest %s", name, want)
		}
	}
}
