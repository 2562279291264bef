package gitrepo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
	"github.com/railyard-cd/railyard/internal/golden"
)

// commitDump shows one commit: its header and every path it changed, with
// the new content of added and modified files.
func (e *testEnv) commitDump(ref string) string {
	e.t.Helper()
	var b strings.Builder
	b.WriteString(e.git("show", "-s", "--format=author: %an <%ae> %ad%ncommitter: %cn <%ce> %cd%n%n%B", "--date=iso-strict", ref))
	raw := e.git("diff-tree", "-r", "--no-commit-id", "--raw", "--root", ref)
	cat, err := gitcli.OpenCatFile(context.Background(), &gitcli.Git{Dir: e.remote})
	if err != nil {
		e.t.Fatal(err)
	}
	defer cat.Close()
	for _, line := range strings.Split(strings.TrimSpace(raw), "\n") {
		if line == "" {
			continue
		}
		meta, path, _ := strings.Cut(line, "\t")
		f := strings.Fields(meta) // :oldmode newmode oldsha newsha status
		status, mode, sha := f[4], f[1], f[3]
		if status == "D" {
			fmt.Fprintf(&b, "D %s\n", path)
			continue
		}
		fmt.Fprintf(&b, "%s %s %s\n", status, mode, path)
		obj, err := cat.Read(sha)
		if err != nil {
			e.t.Fatal(err)
		}
		if mode == pack.ModeSymlink.String() {
			fmt.Fprintf(&b, "  -> %s\n", obj.Data)
			continue
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(obj.Data), "\n"), "\n") {
			fmt.Fprintf(&b, "  | %s\n", l)
		}
	}
	return b.String()
}

// TestCommitOfEachEvent applies one command of every kind and checks the
// commit each one exports against a golden file. It commits in place: a
// push does not change a commit (TestLocalRepositoryMatchesRemote), and
// costs a dozen git processes per event.
func TestCommitOfEachEvent(t *testing.T) {
	t.Parallel()
	e := newLocalTestEnv(t)
	exp := e.now.Add(4 * time.Hour)
	steps := []struct {
		name string
		cmd  railyard.Command
	}{
		{"environment-create", envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})},
		{"environment-create-argocd", envCmd("production", railyard.EnvironmentConfig{
			Upstream: &railyard.Upstream{Latest: true}, EnvironmentGroup: "prod",
			ArgoCD: &railyard.ArgoCDConfig{
				Destination:            railyard.ArgoCDDestination{Name: "prod-cluster", Namespace: "shop", ApplicationNamespace: "argocd"},
				SyncOptions:            []string{"CreateNamespace=true"},
				ApplicationAnnotations: map[string]string{"notifications.argoproj.io/subscribe.on-sync-failed.slack": "prod-alerts"},
			}})},
		{"release-auto-deploy", releaseCmd("checkout", 1, "payments", "development", "production")},
		{"lock-environment", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "peak"}, Message: "Peak hours", CILink: "https://ci.example.com/1", ExpiresAt: &exp}},
		{"lock-application", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "debug"}, Message: "Debugging"}},
		{"lock-team", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "audit"}, Message: "Audit"}},
		{"release-queued", releaseCmd("checkout", 2, "payments", "development", "production")},
		{"unlock-application", &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "debug"}}},
		{"unlock-team-deploys-queue", &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "audit"}}},
		{"deploy-manual-ignore", &railyard.Deploy{Application: "checkout", Environment: "production", Version: 2, LockBehavior: railyard.LockBehaviorIgnore}},
		{"team-change", releaseCmd("checkout", 3, "shop", "development")},
		{"environment-update", envCmd("production", railyard.EnvironmentConfig{
			Upstream: &railyard.Upstream{Latest: true}, EnvironmentGroup: "prod",
			ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Name: "prod-cluster", Namespace: "shop"}}})},
		{"lock-group", &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}, Message: "Release freeze"}},
		{"unlock-group", &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "prod", ID: "freeze"}}},
		{"undeploy-release", &railyard.CreateRelease{Application: "checkout", Version: 4, Undeploy: true, Manifests: map[string]string{"development": "", "production": ""}}},
		{"undeploy-production", &railyard.Deploy{Application: "checkout", Environment: "production", Version: 4, LockBehavior: railyard.LockBehaviorIgnore}},
		{"application-delete", &railyard.DeleteApplication{Name: "checkout"}},
		{"environment-delete", &railyard.DeleteEnvironment{Name: "production"}},
	}
	for i, step := range steps {
		e.must(step.cmd)
		e.sync()
		golden.Equal(t, fmt.Sprintf("testdata/commits/%02d-%s.golden", i+1, step.name), e.commitDump("main"))
	}
	golden.Equal(t, "testdata/commits/final-tree.golden", e.tree("main"))
	assertTrailers(t, e, len(steps))
}

// assertTrailers checks that the remote holds every event exactly once,
// in order.
func assertTrailers(t *testing.T, e *testEnv, n int) {
	t.Helper()
	out := e.git("log", "--reverse", "--format=%(trailers:key="+EventTrailer+",valueonly,separator=%x2C)", "main")
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l)
		}
	}
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprint(i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("event trailers in the remote history: got %v, want %v", got, want)
	}
}

// day replays a realistic day of a platform team.
func day(e *testEnv) {
	at := func(hhmm string) {
		t, _ := time.Parse("15:04", hhmm)
		e.now = time.Date(2026, 11, 2, t.Hour(), t.Minute(), 0, 0, time.UTC)
	}
	at("07:00")
	e.must(
		envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}),
		envCmd("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}),
		envCmd("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"},
			ArgoCD: &railyard.ArgoCDConfig{Layout: railyard.ArgoCDLayoutSingleFile, Destination: railyard.ArgoCDDestination{Server: "https://prod.example.com", Namespace: "shop"}}}),
	)
	for _, app := range []struct{ name, team string }{{"checkout", "payments"}, {"cart", "payments"}, {"search", "discovery"}} {
		e.must(releaseCmd(app.name, 1, app.team, "development", "staging", "production"))
		e.must(&railyard.Deploy{Application: app.name, Environment: "staging", Version: 1})
		e.must(&railyard.Deploy{Application: app.name, Environment: "production", Version: 1})
	}
	at("09:30")
	e.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "search", ID: "reindex"}, Message: "Reindexing, do not touch"})
	e.must(releaseCmd("search", 2, "discovery", "development", "staging", "production"))
	e.must(releaseCmd("checkout", 2, "payments", "development", "staging", "production"))
	at("11:00")
	lunch := time.Date(2026, 11, 2, 13, 0, 0, 0, time.UTC)
	e.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "peak"}, Message: "Lunch peak", ExpiresAt: &lunch})
	e.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 2})
	e.must(&railyard.Deploy{Application: "checkout", Environment: "production", Version: 2, LockBehavior: railyard.LockBehaviorQueue})
	at("13:05")
	if _, err := e.eng.ExpireLocks(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	at("14:00")
	e.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "search", ID: "reindex"}})
	e.must(&railyard.CreateRelease{Application: "cart", Undeploy: true, Manifests: map[string]string{"development": "", "staging": "", "production": ""}})
	e.must(&railyard.Deploy{Application: "cart", Environment: "staging", Version: 2},
		&railyard.Deploy{Application: "cart", Environment: "production", Version: 2})
	e.must(&railyard.DeleteApplication{Name: "cart"})
	at("16:00")
	e.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "staging", Team: "payments", ID: "weekend"}, Message: "Weekend"})
	e.must(releaseCmd("checkout", 3, "payments", "development", "staging", "production"))
}

func TestScenarioDay(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	day(e)
	e.sync()
	golden.Equal(t, "testdata/day/tree.golden", e.tree("main"))
	golden.Equal(t, "testdata/day/log.golden", e.git("log", "--reverse", "--format=%ad %an: %s", "--date=format:%H:%M", "main"))
}

// TestRestartExactlyOnce crashes the exporter at each step of a push, and
// after a plain restart, and checks that a new exporter exports every
// event exactly once, to the same tree. The day's events are recorded
// once; each case exports them to repositories of its own.
func TestRestartExactlyOnce(t *testing.T) {
	t.Parallel()
	events := newLocalTestEnv(t)
	day(events)
	n := int(lastID(t, events))
	for _, local := range []bool{false, true} {
		t.Run(modeName(local), func(t *testing.T) {
			t.Parallel()
			ref := events.fork(t, local)
			ref.sync()
			wantTree := ref.tree("main")
			for _, step := range []string{stepBuilt, stepPushed, "none"} {
				t.Run(step, func(t *testing.T) {
					t.Parallel()
					testRestartAt(t, events.fork(t, local), step, n, wantTree)
				})
			}
		})
	}
}

// testRestartAt exports e's n events in batches of 7, crashing at step
// three times and restarting after each sync, and requires wantTree.
func testRestartAt(t *testing.T, e *testEnv, step string, n int, wantTree string) {
	e.x.cfg.BatchSize = 7 // several pushes
	crashes := 0
	failAt := func(s string) error {
		if s == step && crashes < 3 {
			crashes++
			return fmt.Errorf("injected crash at %s", s)
		}
		return nil
	}
	e.x.failAt = failAt
	for i := 0; i < 3; i++ {
		if err := e.x.Sync(context.Background()); err == nil && step != "none" {
			t.Fatalf("sync %d: want the injected crash", i)
		}
		e.x = e.newExporter() // the process restarts
		e.x.cfg.BatchSize = 7
		e.x.failAt = failAt
	}
	e.sync()
	if step != "none" && crashes != 3 {
		t.Errorf("crashes: got %d, want 3", crashes)
	}
	assertTrailers(t, e, n)
	if got := e.tree("main"); got != wantTree {
		t.Errorf("tree after restarts differs:\n%s", golden.FirstDifference(got, wantTree))
	}
}

func lastID(t *testing.T, e *testEnv) int64 {
	t.Helper()
	id, err := e.eng.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// pushForeign commits a file to the remote's branch from another clone.
func pushForeign(t *testing.T, remote, file, content string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "other")
	g := &gitcli.Git{Dir: filepath.Dir(dir)}
	ctx := context.Background()
	if _, err := g.Run(ctx, "clone", "--quiet", remote, dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &gitcli.Git{Dir: dir}
	for _, args := range [][]string{
		{"add", file},
		{"-c", "user.name=Someone", "-c", "user.email=someone@example.com", "commit", "--quiet", "-m", "Add " + file},
		{"push", "--quiet", "origin", "HEAD:main"},
	} {
		if _, err := c.Run(ctx, args...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestForeignCommitIsKept moves the branch under the exporter: a rejected
// push, or in a local repository a failed compare-and-swap, rebuilds the
// batch on the foreign commit.
func TestForeignCommitIsKept(t *testing.T) {
	t.Parallel()
	forEachMode(t, testForeignCommitIsKept)
}

func testForeignCommitIsKept(t *testing.T, newEnv func(testing.TB) *testEnv) {
	t.Parallel()
	e := newEnv(t)
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.must(releaseCmd("checkout", 1, "payments", "development"))
	e.sync()
	pushForeign(t, e.remote, "README.md", "# Manifests\n")
	e.must(releaseCmd("checkout", 2, "payments", "development"))
	e.must(releaseCmd("checkout", 3, "payments", "development"))
	e.sync()
	assertTrailers(t, e, 4)
	log := e.git("log", "--reverse", "--format=%an: %s", "main")
	want := "Alice: Create environment development\nAlice: Release checkout 1 (1.1), deploy to development\nSomeone: Add README.md\n" +
		"Alice: Release checkout 2 (1.2), deploy to development\nAlice: Release checkout 3 (1.3), deploy to development\n"
	if log != want {
		t.Errorf("history:\ngot\n%swant\n%s", log, want)
	}
	if got := e.git("show", "main:README.md"); got != "# Manifests\n" {
		t.Errorf("README.md: got %q", got)
	}
	if got := e.git("show", "main:environments/development/applications/checkout/version"); got != "../../../../applications/checkout/releases/3" {
		t.Errorf("version: got %q", got)
	}
}

func TestRemoteDownAndBack(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.sync()
	away := e.remote + ".away"
	if err := os.Rename(e.remote, away); err != nil {
		t.Fatal(err)
	}
	for v := int64(1); v <= 5; v++ {
		e.must(releaseCmd("checkout", v, "payments", "development"))
	}
	err := e.x.Sync(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "cannot push to the manifest repository "+e.remote+": ") {
		t.Fatalf("sync with the remote away: got %v", err)
	}
	st, err := e.x.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.PendingEvents != 5 || st.LastExportedEventID != 1 || st.LastEventID != 6 || !strings.Contains(st.LastError, "does not appear to be a git repository") {
		t.Errorf("status while down: %+v", st)
	}
	if st.OldestPendingSeconds != 5*60 {
		t.Errorf("oldest pending: got %v s, want 300", st.OldestPendingSeconds)
	}
	if err := os.Rename(away, e.remote); err != nil {
		t.Fatal(err)
	}
	e.sync()
	assertTrailers(t, e, 6)
	st, _ = e.x.Status(context.Background())
	if st.PendingEvents != 0 || st.LastError != "" || st.LastPushAt == nil {
		t.Errorf("status after recovery: %+v", st)
	}
}

func TestBadRemotes(t *testing.T) {
	t.Parallel()
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		e.x = NewExporter(e.eng, Config{Dir: filepath.Join(e.dir, "w.git"), RemoteURL: "http://127.0.0.1:1/nothing.git"})
		if err := e.x.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.must(envCmd("development", railyard.EnvironmentConfig{}))
		err := e.x.Sync(context.Background())
		if err == nil || !strings.HasPrefix(err.Error(), "cannot reach the manifest repository http://127.0.0.1:1/nothing.git: ") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("credentials are never shown", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		e.x = NewExporter(e.eng, Config{Dir: filepath.Join(e.dir, "w.git"), RemoteURL: "https://user:s3cret-token@127.0.0.1:1/x.git", Token: "other-s3cret"})
		if err := e.x.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.must(envCmd("development", railyard.EnvironmentConfig{}))
		err := e.x.Sync(context.Background())
		st, _ := e.x.Status(context.Background())
		for _, s := range []string{err.Error(), st.LastError, st.Remote} {
			if strings.Contains(s, "s3cret") {
				t.Errorf("a secret leaked: %q", s)
			}
		}
	})
	t.Run("missing branch", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		pushForeign(t, e.remote, "README.md", "x\n")
		e.x.cfg.Branch = "manifests"
		e.must(envCmd("development", railyard.EnvironmentConfig{}))
		err := e.x.Sync(context.Background())
		want := `branch "manifests" does not exist in ` + e.remote + ` (it has main): create it, or configure one of those branches`
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	})
	t.Run("history replaced", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		e.must(envCmd("development", railyard.EnvironmentConfig{}))
		e.sync()
		os.RemoveAll(e.remote)
		if err := InitBare(context.Background(), e.remote, "main"); err != nil {
			t.Fatal(err)
		}
		pushForeign(t, e.remote, "README.md", "another history\n")
		e.must(envCmd("staging", railyard.EnvironmentConfig{}))
		for i := 0; i < 2; i++ { // and after a restart
			err := e.x.Sync(context.Background())
			if err == nil || !strings.Contains(err.Error(), "does not contain Railyard's last pushed commit") {
				t.Fatalf("got %v", err)
			}
			e.x = e.newExporter()
		}
		if got := e.git("rev-list", "--count", "main"); got != "1\n" {
			t.Errorf("the replaced branch was written to: %s commits", got)
		}
	})
	t.Run("database older than repository", func(t *testing.T) {
		t.Parallel()
		e := newTestEnv(t)
		e.must(envCmd("development", railyard.EnvironmentConfig{}), envCmd("staging", railyard.EnvironmentConfig{}))
		e.sync()
		other := newTestEnv(t) // a fresh database pointed at the same remote
		other.x = NewExporter(other.eng, Config{Dir: filepath.Join(other.dir, "w.git"), RemoteURL: e.remote})
		if err := other.x.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		other.must(envCmd("qa", railyard.EnvironmentConfig{}))
		err := other.x.Sync(context.Background())
		head := e.git("rev-parse", "--short=12", "main")[:12]
		if err == nil || !strings.HasPrefix(err.Error(), "the manifest repository holds event 2 (commit "+head+") but the database's newest event is 1: "+
			"the database is not the one that wrote the repository (restored from an older backup?)") {
			t.Errorf("got %v", err)
		}
		if st, _ := other.x.Status(context.Background()); st.State != railyard.ExportStateStopped || st.LastError != err.Error() {
			t.Errorf("status: got state %q, lastError %q", st.State, st.LastError)
		}
		// New changes bring the database up to the repository's event
		// id: its events 1 and 2 are not the repository's, and exporting
		// after them would lose them.
		other.now = t0.Add(time.Hour)
		other.must(envCmd("qa2", railyard.EnvironmentConfig{}))
		err = other.x.Sync(context.Background())
		want := "the manifest repository's event 2 (commit " + head + ") happened at 2026-11-02T09:00:00Z, the database's event 2 at 2026-11-02T10:00:00Z: " +
			"the database is not the one that wrote the repository"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want %s…", err, want)
		}
		if got := e.git("rev-list", "--count", "main"); got != "2\n" {
			t.Errorf("the repository was written to: %s commits", got)
		}
	})
}

// TestLocalRepositoryMatchesRemote exports the day into a local
// repository, as serve does by default, and requires the very commits a
// push to a remote gives, the branch and nothing else published, and
// no work ref left visible to clients.
func TestLocalRepositoryMatchesRemote(t *testing.T) {
	t.Parallel()
	events := newLocalTestEnv(t)
	day(events)
	remote, local := events.fork(t, false), events.fork(t, true)
	for _, e := range []*testEnv{remote, local} {
		e.x.cfg.BatchSize = 7
		e.sync()
	}
	if w, g := remote.git("rev-parse", "main"), local.git("rev-parse", "main"); w != g {
		t.Fatalf("main: local %s, remote %s:\n%s", g, w, golden.FirstDifference(local.tree("main"), remote.tree("main")))
	}
	if got, want := local.git("for-each-ref", "--format=%(refname)", "refs/heads"), "refs/heads/main\n"; got != want {
		t.Errorf("branches: got %q, want %q", got, want)
	}
	if got := local.git("config", "--get-all", "uploadpack.hideRefs"); got != "refs/railyard\nrefs/remotes\n" {
		t.Errorf("hidden refs: got %q", got)
	}
	st, err := local.x.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Remote != local.remote || st.PendingEvents != 0 || st.Head != strings.TrimSpace(local.git("rev-parse", "main")) {
		t.Errorf("status: %+v", st)
	}
	fsck(t, local.remote)
}

// TestRunRepacksInBackground runs the exporter as serve does and checks
// that after RepackEvery batches a background repack rolls their packs
// into one, with the history intact.
func TestRunRepacksInBackground(t *testing.T) {
	t.Parallel()
	e := newLocalTestEnv(t)
	e.x.cfg.RepackEvery = 4
	e.x.cfg.BatchSize = 1 // a pack per event
	repacked := make(chan error, 1)
	e.x.afterRepack = func(err error) { repacked <- err }
	repo := e.remote
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	for v := int64(1); v <= 3; v++ {
		e.must(releaseCmd("checkout", v, "payments", "development"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.x.Run(ctx); close(done) }()
	if err := <-repacked; err != nil {
		t.Fatalf("repack: %v", err)
	}
	cancel()
	<-done
	// The last batch's tail was kept out of the repack, which rolled the
	// rest into one pack; Run released the tail when it stopped.
	if got := packs(t, repo); len(got) != 2 {
		t.Errorf("packs after the repack: got %v, want the tail and one more", got)
	}
	if keeps, _ := filepath.Glob(filepath.Join(repo, "objects", "pack", "*.keep")); len(keeps) != 0 {
		t.Errorf(".keep files after Run: %v, want none", keeps)
	}
	assertTrailers(t, e, 4)
	fsck(t, repo)
}
