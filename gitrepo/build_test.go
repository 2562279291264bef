package gitrepo

import (
	"testing"

	"github.com/railyard-cd/railyard"
)

// TestDeployOfAManifestDeletedByHand deletes a release's manifest from the
// repository by hand, then deploys the release: the exporter takes the
// manifest from the database (ReleaseSource) and writes it into the
// environment; the release directory stays as the person left it.
func TestDeployOfAManifestDeletedByHand(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, newEnv func(testing.TB) *testEnv) {
		t.Parallel()
		e := newEnv(t)
		e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
		e.must(envCmd("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}))
		release := releaseCmd("checkout", 1, "payments", "development", "production")
		e.must(release)
		e.sync()

		const deleted = "applications/checkout/releases/1/environments/production/manifests.yaml"
		p := clonePerson(t, e)
		p.git("rm", "--quiet", deleted)
		p.git("commit", "--quiet", "-m", "Delete the production manifest of checkout 1")
		p.git("push", "--quiet", "origin", "main")

		e.must(&railyard.Deploy{Application: "checkout", Environment: "production", Version: 1})
		e.sync()
		assertTrailers(t, e, 4)
		got := e.git("show", "main:environments/production/applications/checkout/manifests/manifests.yaml")
		if want := release.Manifests["production"]; got != want {
			t.Errorf("production's manifest: got %q, want the database's %q", got, want)
		}
		if got := e.git("ls-tree", "-r", "--name-only", "main", "applications/checkout/releases/1/environments"); got != "applications/checkout/releases/1/environments/development/manifests.yaml\n" {
			t.Errorf("the release's manifests: got %q, want development's only (the deleted one is not restored)", got)
		}
		if got := e.git("log", "-1", "--format=%s", "main"); got != "Deploy checkout 1 (1.1) to production\n" {
			t.Errorf("last commit: got %q", got)
		}
		fsck(t, e.remote)
	})
}
