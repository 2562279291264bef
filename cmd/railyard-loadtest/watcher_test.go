package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// gitRepos is a bare repository ("the remote") and a work tree that
// commits and pushes to it.
type gitRepos struct {
	t    *testing.T
	bare string
	work string
}

func newGitRepos(t *testing.T) *gitRepos {
	t.Helper()
	dir := t.TempDir()
	g := &gitRepos{t: t, bare: filepath.Join(dir, "remote.git"), work: filepath.Join(dir, "work")}
	g.git("", "init", "--quiet", "--bare", "--initial-branch=main", g.bare)
	g.git("", "init", "--quiet", "--initial-branch=main", g.work)
	return g
}

// git runs git in dir ("" for none).
func (g *gitRepos) git(dir string, args ...string) string {
	g.t.Helper()
	if dir != "" {
		args = append([]string{"-C", dir}, args...)
	}
	cmd := exec.Command("git", append([]string{"-c", "user.name=T", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// commit writes files (path → content, "" deletes) and commits them.
func (g *gitRepos) commit(files map[string]string) {
	g.t.Helper()
	for path, content := range files {
		p := filepath.Join(g.work, path)
		if content == "" {
			if err := os.RemoveAll(p); err != nil {
				g.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
	g.git(g.work, "add", "--all")
	g.git(g.work, "commit", "--quiet", "--message", "change")
}

func (g *gitRepos) push() { g.git(g.work, "push", "--quiet", g.bare, "main") }

func TestWatcher(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"local path", "file URL"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			g := newGitRepos(t)
			remote := g.bare
			if mode == "file URL" {
				remote = "file://" + g.bare
			}
			// The branch does not exist yet.
			w, err := openWatcher(ctx, remote, "main", t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			expectPoll(t, w, nil)

			g.commit(map[string]string{
				"applications/cart/releases/1/created_at":                       "now",
				"applications/cart/releases/1/environments/dev/manifests.yaml":  "a: 1\n",
				"applications/cart/releases/1/environments/prod/manifests.yaml": "a: 1\n",
				"environments/dev/applications/cart/manifests/manifests.yaml":   "a: 1\n",
				"applications/cart/team":                                        "shop",
			})
			g.push()
			expectPoll(t, w, []string{"cart/1"})
			expectPoll(t, w, nil)

			// Three commits in one poll: a new release, a release deleted
			// (not an arrival), an unrelated change and a second application.
			g.commit(map[string]string{"applications/cart/releases/2/created_at": "now"})
			g.commit(map[string]string{"applications/cart/releases/1": "", "README.md": "hello"})
			g.commit(map[string]string{
				"applications/checkout/releases/10/created_at":  "now",
				"applications/checkout/releases/10/undeploy":    "x",
				"applications/checkout/releases/notanumber/foo": "x",
			})
			g.push()
			expectPoll(t, w, []string{"cart/2", "checkout/10"})

			// Polls on another branch's changes see nothing.
			g.git(g.work, "push", "--quiet", g.bare, "main:other")
			expectPoll(t, w, nil)
		})
	}
}

func TestWatcherStartsAtTheCurrentHead(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	g.commit(map[string]string{"applications/cart/releases/1/created_at": "now"})
	g.push()
	w, err := openWatcher(context.Background(), g.bare, "main", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	expectPoll(t, w, nil)
	g.commit(map[string]string{"applications/cart/releases/2/created_at": "now"})
	g.push()
	expectPoll(t, w, []string{"cart/2"})
}

func TestWatcherFollowsARewrittenBranch(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	g.commit(map[string]string{"applications/cart/releases/1/created_at": "now"})
	g.push()
	w, err := openWatcher(context.Background(), g.bare, "main", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Replace the branch with an unrelated history, and drop the old
	// commit from the remote: the watcher walks the new history whole.
	g.git(g.work, "checkout", "--quiet", "--orphan", "fresh")
	g.git(g.work, "rm", "--quiet", "-r", "--cached", ".")
	g.commit(map[string]string{"applications/cart/releases/1": "", "applications/search/releases/3/created_at": "now"})
	g.git(g.work, "push", "--quiet", "--force", g.bare, "fresh:main")
	g.git(g.bare, "reflog", "expire", "--expire=now", "--all")
	g.git(g.bare, "gc", "--quiet", "--prune=now")
	expectPoll(t, w, []string{"search/3"})
}

func expectPoll(t *testing.T, w *watcher, want []string) {
	t.Helper()
	keys, _, err := w.poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, 0, len(keys))
	for _, k := range keys {
		got = append(got, k.String())
	}
	slices.Sort(got)
	if want == nil {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("poll saw %v, want %v", got, want)
	}
}
