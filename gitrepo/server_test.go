package gitrepo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

func TestHTTPServerClone(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.must(releaseCmd("checkout", 1, "payments", "development"))
	e.sync()

	srv := httptest.NewServer(NewHTTPHandler("/git/manifests.git", e.x.Dir()))
	defer srv.Close()

	clone := filepath.Join(t.TempDir(), "clone")
	g := &gitcli.Git{Dir: t.TempDir()}
	if _, err := g.Run(context.Background(), "clone", "--quiet", srv.URL+"/git/manifests.git", clone); err != nil {
		t.Fatalf("git clone: %v", err)
	}
	target, err := os.Readlink(filepath.Join(clone, "environments/development/applications/checkout/version"))
	if err != nil {
		t.Fatal(err)
	}
	if target != "../../../../applications/checkout/releases/1" {
		t.Errorf("version symlink: got %q", target)
	}
	cg := &gitcli.Git{Dir: clone}
	refs, _ := cg.Run(context.Background(), "ls-remote", srv.URL+"/git/manifests.git")
	if strings.Contains(refs, "refs/railyard") || strings.Contains(refs, "refs/remotes") {
		t.Errorf("the server shows work refs:\n%s", refs)
	}
	head, _ := cg.Run(context.Background(), "rev-parse", "HEAD")
	remoteHead := e.git("rev-parse", "main")
	if head != remoteHead {
		t.Errorf("clone HEAD %s, remote main %s", head, remoteHead)
	}

	// Pushing through the server is refused.
	os.WriteFile(filepath.Join(clone, "README.md"), []byte("hi\n"), 0o644)
	cg.Run(context.Background(), "add", "README.md")
	cg.Run(context.Background(), "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x")
	if _, err := cg.Run(context.Background(), "push", "origin", "HEAD:main"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("push through the built-in server: got %v, want a 403 refusal", err)
	}
	resp, err := http.Get(srv.URL + "/git/manifests.git/info/refs?service=git-receive-pack")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("receive-pack advertisement: got %d, want 403", resp.StatusCode)
	}
	for _, p := range []string{"/git/manifests.git/../../config", "/git/manifests.git/objects/../config"} {
		req, _ := http.NewRequest("GET", srv.URL+"/", nil)
		req.URL.Path = p // sent as is, not cleaned by the client
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: got %d, want 400", p, resp.StatusCode)
		}
	}
}

// TestHTTPServerRelativeDir serves a repository given by a relative path,
// as serve's default data directory ./railyard-data gives it.
func TestHTTPServerRelativeDir(t *testing.T) {
	e := newLocalTestEnv(t)
	e.must(envCmd("development", railyard.EnvironmentConfig{}))
	e.sync()
	t.Chdir(e.dir)
	srv := httptest.NewServer(NewHTTPHandler("/git/manifests.git", "work.git"))
	defer srv.Close()
	g := &gitcli.Git{Dir: t.TempDir()}
	if _, err := g.Run(context.Background(), "clone", "--quiet", srv.URL+"/git/manifests.git", "clone"); err != nil {
		t.Fatalf("git clone: %v", err)
	}
	got, _ := (&gitcli.Git{Dir: filepath.Join(g.Dir, "clone")}).Run(context.Background(), "rev-parse", "HEAD")
	if want := e.git("rev-parse", "main"); got != want {
		t.Errorf("clone HEAD %q, main %q", got, want)
	}
}
