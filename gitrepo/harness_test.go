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
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack/packtest"
	"github.com/railyard-cd/railyard/sqlite"
)

var (
	alice = railyard.Actor{Name: "Alice", Email: "alice@example.com"}
	t0    = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

// testEnv is an engine over real SQLite, a remote bare repository and an
// exporter between them, with a clock the test moves. In a local testEnv
// the exporter's repository is the published one, and remote names it.
type testEnv struct {
	t      testing.TB
	db     *sqlite.DB
	eng    *railyard.Engine
	now    time.Time
	dir    string
	remote string
	local  bool
	x      *Exporter
}

// newLocalTestEnv is newTestEnv whose exporter commits in place, as serve
// does without --git-remote.
func newLocalTestEnv(t testing.TB) *testEnv {
	t.Helper()
	return newTestEnvMode(t, true)
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	return newTestEnvMode(t, false)
}

// forEachMode runs test with a remote testEnv and with a local one (test
// calls t.Parallel if it may run beside the other).
func forEachMode(t *testing.T, test func(t *testing.T, newEnv func(testing.TB) *testEnv)) {
	t.Run(modeName(false), func(t *testing.T) { test(t, newTestEnv) })
	t.Run(modeName(true), func(t *testing.T) { test(t, newLocalTestEnv) })
}

// modeName names a test's mode: "local" for an exporter committing in
// place, "remote" for one pushing to a remote.
func modeName(local bool) string {
	if local {
		return "local"
	}
	return "remote"
}

func newTestEnvMode(t testing.TB, local bool) *testEnv {
	t.Helper()
	e := openTestEnv(t, t.TempDir(), t0)
	e.attach(local)
	return e
}

// openTestEnv opens the database in dir (created if missing) and an
// engine over it whose clock starts at now.
func openTestEnv(t testing.TB, dir string, now time.Time) *testEnv {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(dir, "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := &testEnv{t: t, db: db, dir: dir, now: now}
	e.eng = railyard.NewEngine(db)
	e.eng.Now = func() time.Time { return e.now }
	return e
}

// newFixture returns a testEnv that build has filled, with its database
// closed: the fixture of copyTo, built once for several tests.
func newFixture(t testing.TB, local bool, build func(e *testEnv)) *testEnv {
	t.Helper()
	f := newTestEnvMode(t, local)
	build(f)
	if err := f.db.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// copyTo returns a copy of the fixture f for t: its database and
// repositories copied into a directory of t's, with an engine and an
// exporter over the copies. The exporter has synced, so that it holds the
// branch as f's did.
func (f *testEnv) copyTo(t testing.TB) *testEnv {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(f.dir)); err != nil {
		t.Fatal(err)
	}
	e := openTestEnv(t, dir, f.now)
	e.attach(f.local)
	e.sync()
	return e
}

// attach gives e its repositories, in e.dir, and an exporter to them.
func (e *testEnv) attach(local bool) {
	e.t.Helper()
	e.local, e.remote = local, filepath.Join(e.dir, "remote.git")
	if local {
		e.remote = filepath.Join(e.dir, "work.git")
	} else if _, err := os.Stat(e.remote); err == nil {
		// a copy's
	} else if err := InitBare(context.Background(), e.remote, "main"); err != nil {
		e.t.Fatal(err)
	}
	e.x = e.newExporter()
}

// fork returns a testEnv of t over e's engine, with repositories of its
// own: another exporter of the same events, which the test does not add
// to any more (the engine's clock stays e's).
func (e *testEnv) fork(t testing.TB, local bool) *testEnv {
	t.Helper()
	f := &testEnv{t: t, eng: e.eng, now: e.now, dir: t.TempDir()}
	f.attach(local)
	return f
}

// newExporter returns a fresh exporter over the same repositories, as
// after a restart.
func (e *testEnv) newExporter() *Exporter {
	e.t.Helper()
	remote := e.remote
	if e.local {
		remote = ""
	}
	x := NewExporter(e.eng, Config{
		Dir:       filepath.Join(e.dir, "work.git"),
		RemoteURL: remote,
		ArgoCD:    argocd.Options{RepoURL: "https://git.example.com/manifests.git", TargetRevision: "main"},
		Now:       func() time.Time { return e.now },
	})
	if err := x.Open(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return x
}

func (e *testEnv) must(cmds ...railyard.Command) {
	e.t.Helper()
	if _, err := e.eng.Apply(context.Background(), alice, cmds...); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	e.now = e.now.Add(time.Minute)
}

func (e *testEnv) sync() {
	e.t.Helper()
	if err := e.x.Sync(context.Background()); err != nil {
		e.t.Fatalf("sync: %v", err)
	}
}

// git runs git in the remote repository.
func (e *testEnv) git(args ...string) string {
	e.t.Helper()
	out, err := (&gitcli.Git{Dir: e.remote}).Run(context.Background(), args...)
	if err != nil {
		e.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// tree dumps the remote branch: every path with its mode, and every file's
// content or symlink's target, indented.
func (e *testEnv) tree(ref string) string {
	e.t.Helper()
	return dumpTree(e.t, e.remote, ref, "")
}

func dumpTree(t testing.TB, repo, ref, under string) string {
	t.Helper()
	g := &gitcli.Git{Dir: repo}
	args := []string{"ls-tree", "-r", "--format=%(objectmode) %(objectname) %(path)", ref}
	if under != "" {
		args = append(args, "--", under)
	}
	out, err := g.Run(context.Background(), args...)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := gitcli.OpenCatFile(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, " ", 3)
		obj, err := cat.Read(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", parts[0], parts[2])
		content := string(obj.Data)
		if parts[0] == pack.ModeSymlink.String() {
			fmt.Fprintf(&b, "  -> %s\n", content)
			continue
		}
		for _, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
			fmt.Fprintf(&b, "  | %s\n", l)
		}
	}
	return b.String()
}

// fsck checks the repository dir as strictly as Git can.
func fsck(t testing.TB, dir string) {
	t.Helper()
	if _, err := (&gitcli.Git{Dir: dir}).Run(context.Background(), "fsck", "--strict", "--no-dangling", "--no-progress"); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
}

// packs returns the pack files of the repository dir.
func packs(t testing.TB, dir string) []string {
	t.Helper()
	packs, err := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	return packs
}

// openFastImport is the tests' other openWriterFunc: the oracle, whose
// commits the pack writer's must equal.
func openFastImport(ctx context.Context, g *gitcli.Git, ref string, base pack.ID) (treeWriter, error) {
	f, err := packtest.Open(ctx, g, ref, base)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func envCmd(name string, cfg railyard.EnvironmentConfig) *railyard.PutEnvironment {
	return &railyard.PutEnvironment{Name: name, Config: cfg}
}

func releaseCmd(app string, version int64, team string, envs ...string) *railyard.CreateRelease {
	m := map[string]string{}
	for _, env := range envs {
		m[env] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  env: %s\n  version: \"%d\"\n", app, env, version)
	}
	return &railyard.CreateRelease{Application: app, Version: version, Team: team, Manifests: m,
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567", SourceAuthor: "Alice <alice@example.com>",
		SourceMessage: "Fix the checkout button", SourceBranch: "main", DisplayVersion: fmt.Sprintf("1.%d", version)}
}
