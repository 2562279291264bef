package gitrepo

import (
	"fmt"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/golden"
)

// exportWith exports e's events through an exporter of its own that
// writes with open (nil: the exporter's own, the pack writer continuing
// its tail), committing in place, in batches of at most batch events.
func exportWith(t *testing.T, e *testEnv, open openWriterFunc, batch int) *testEnv {
	t.Helper()
	f := e.fork(t, true)
	if open != nil {
		f.x.openWriter = open
	}
	f.x.cfg.BatchSize = batch
	f.sync()
	return f
}

// TestExporterWritesTheSameCommitsWithBothWriters exports the package's
// scenarios through fast-import and through the pack writer as the
// exporter runs it (continuing a tail from batch to batch), in batches of
// several sizes, and requires the same history. Each scenario's events
// are recorded once, and every exporter reads them.
func TestExporterWritesTheSameCommitsWithBothWriters(t *testing.T) {
	t.Parallel()
	for _, sc := range []struct {
		name     string
		scenario func(e *testEnv)
	}{{"day", day}, {"every kind of event", everyKind}} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			events := newLocalTestEnv(t)
			sc.scenario(events)
			for _, batch := range []int{1, 7, 500} {
				t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
					t.Parallel()
					want := exportWith(t, events, openFastImport, batch)
					got := exportWith(t, events, nil, batch)
					w, g := want.git("rev-parse", "main"), got.git("rev-parse", "main")
					if w != g {
						t.Fatalf("main: pack writer %s, fast-import %s:\n%s", g, w, golden.FirstDifference(got.tree("main"), want.tree("main")))
					}
					fsck(t, got.remote)
				})
			}
		})
	}
}

// everyKind applies the commands of TestCommitOfEachEvent, one event
// each.
func everyKind(e *testEnv) {
	exp := e.now.Add(4 * time.Hour)
	for _, cmd := range []railyard.Command{
		envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}),
		envCmd("production", railyard.EnvironmentConfig{
			Upstream: &railyard.Upstream{Latest: true}, EnvironmentGroup: "prod",
			ArgoCD: &railyard.ArgoCDConfig{
				Destination:            railyard.ArgoCDDestination{Name: "prod-cluster", Namespace: "shop", ApplicationNamespace: "argocd"},
				SyncOptions:            []string{"CreateNamespace=true"},
				ApplicationAnnotations: map[string]string{"notifications.argoproj.io/subscribe.on-sync-failed.slack": "prod-alerts"},
			}}),
		releaseCmd("checkout", 1, "payments", "development", "production"),
		&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "peak"}, Message: "Peak hours", CILink: "https://ci.example.com/1", ExpiresAt: &exp},
		&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "debug"}, Message: "Debugging"},
		&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "audit"}, Message: "Audit"},
		releaseCmd("checkout", 2, "payments", "development", "production"),
		&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "debug"}},
		&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "audit"}},
		&railyard.Deploy{Application: "checkout", Environment: "production", Version: 2, LockBehavior: railyard.LockBehaviorIgnore},
		releaseCmd("checkout", 3, "shop", "development"),
		envCmd("production", railyard.EnvironmentConfig{
			Upstream: &railyard.Upstream{Latest: true}, EnvironmentGroup: "prod",
			ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Name: "prod-cluster", Namespace: "shop"}}}),
		&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}, Message: "Release freeze"},
		&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}},
		&railyard.CreateRelease{Application: "checkout", Version: 4, Undeploy: true, Manifests: map[string]string{"development": "", "production": ""}},
		&railyard.Deploy{Application: "checkout", Environment: "production", Version: 4, LockBehavior: railyard.LockBehaviorIgnore},
		&railyard.DeleteApplication{Name: "checkout"},
		&railyard.DeleteEnvironment{Name: "production"},
	} {
		e.must(cmd)
	}
}
