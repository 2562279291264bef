package gitrepo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
)

// httpRemote serves a bare repository over Git's smart HTTP protocol with
// the real `git http-backend` (push allowed) on 127.0.0.1, as a Git host
// does. hold, if set, is called before a push's pack is handed to git, so
// that a test can keep a push in flight.
type httpRemote struct {
	srv  *httptest.Server
	repo string
	mu   sync.Mutex
	hold func()
}

// newHTTPRemote serves the bare repository repo for t.
func newHTTPRemote(t testing.TB, repo string) *httpRemote {
	t.Helper()
	gitPath, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	h := &httpRemote{repo: repo}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Dir:  filepath.Dir(repo),
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(repo),
			"GIT_HTTP_EXPORT_ALL=1",
			// Pushing over HTTP is off by default for anonymous users.
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + t.TempDir(),
		},
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
			h.mu.Lock()
			hold := h.hold
			h.mu.Unlock()
			if hold != nil {
				hold()
			}
		}
		// CGI needs a Content-Length; git sends packs larger than its
		// http.postBuffer chunked.
		if r.ContentLength < 0 {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body, r.ContentLength, r.TransferEncoding = io.NopCloser(bytes.NewReader(body)), int64(len(body)), nil
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// URL is the repository's URL.
func (h *httpRemote) URL() string { return h.srv.URL + "/" + filepath.Base(h.repo) }

// setHold sets the function called before each push is received.
func (h *httpRemote) setHold(f func()) {
	h.mu.Lock()
	h.hold = f
	h.mu.Unlock()
}

// newPushEnv returns a testEnv whose exporter pushes to its remote over
// file:// or over HTTP (the returned httpRemote, nil for file).
func newPushEnv(t testing.TB, kind string) (*testEnv, *httpRemote) {
	t.Helper()
	e := newTestEnv(t)
	var web *httpRemote
	url := "file://" + e.remote
	if kind == "http" {
		web = newHTTPRemote(t, e.remote)
		url = web.URL()
	}
	e.x = newPushExporter(t, e, url)
	return e, web
}

// newPushExporter returns a fresh exporter of e's events pushing to url,
// as after a restart.
func newPushExporter(t testing.TB, e *testEnv, url string) *Exporter {
	t.Helper()
	x := NewExporter(e.eng, Config{
		Dir:       filepath.Join(e.dir, "work.git"),
		RemoteURL: url,
		BatchSize: 3,
		ArgoCD:    argocd.Options{RepoURL: "https://git.example.com/manifests.git", TargetRevision: "main"},
		Now:       func() time.Time { return e.now },
	})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return x
}

// TestPipelinedPushRealRemotes exports 20 events in batches of 3 to a
// remote reached over file:// and over the real git http-backend: the
// remote's branch is one commit per event, in order, each the child of
// the one before, and while a batch is pushed the next is built.
func TestPipelinedPushRealRemotes(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"file", "http"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e, _ := newPushEnv(t, kind)
			e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
			for v := int64(1); v <= 19; v++ {
				e.must(releaseCmd("checkout", v, "payments", "development"))
			}
			overlapped := 0
			e.x.failAt = func(step string) error {
				// A later batch is built before the push of the one
				// before it is settled.
				if step == stepStaged && e.x.base != "" && e.x.exported > e.x.status.LastExportedEventID {
					overlapped++
				}
				return nil
			}
			e.sync()
			assertTrailers(t, e, 20)
			if got := e.git("rev-list", "--count", "--first-parent", "main"); strings.TrimSpace(got) != "20" {
				t.Errorf("%s commits on the first-parent line, want 20", strings.TrimSpace(got))
			}
			if got := e.git("rev-list", "--count", "--merges", "main"); strings.TrimSpace(got) != "0" {
				t.Errorf("%s merges, want 0", strings.TrimSpace(got))
			}
			if overlapped != 6 { // batches 2…7 were built while the one before was pushed
				t.Errorf("%d batches built while the one before was pushed, want 6", overlapped)
			}
			st, err := e.x.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.LastExportedEventID != 20 || st.PendingEvents != 0 || st.Head != strings.TrimSpace(e.git("rev-parse", "main")) {
				t.Errorf("status after the export: %+v", st)
			}
		})
	}
}

// errCrash stands for the process dying.
var errCrash = errors.New("crash")

// TestCrashWhilePushInFlight stops the exporter while a batch is being
// pushed over HTTP and the next one is already built, once letting the
// push through and once killing it, then restarts: the remote ends with
// every event once, in order.
func TestCrashWhilePushInFlight(t *testing.T) {
	t.Parallel()
	for _, kill := range []bool{false, true} {
		name := "push completes"
		if kill {
			name = "push killed"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, web := newPushEnv(t, "http")
			e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
			for v := int64(1); v <= 8; v++ {
				e.must(releaseCmd("checkout", v, "payments", "development"))
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Every push waits at the remote until release is closed.
			arrived, release := make(chan struct{}, 1), make(chan struct{})
			web.setHold(func() {
				select {
				case arrived <- struct{}{}:
				default:
				}
				<-release
			})
			staged := 0
			e.x.failAt = func(step string) error {
				if step != stepStaged {
					return nil
				}
				if staged++; staged < 2 {
					return nil
				}
				// Batch 2 is built while batch 1's push is at the remote.
				<-arrived
				if kill {
					cancel()
				}
				close(release)
				return errCrash
			}
			err := e.x.Sync(ctx)
			if !errors.Is(err, errCrash) {
				t.Fatalf("sync: %v, want the crash", err)
			}
			web.setHold(nil)
			e.now = e.now.Add(time.Minute)
			e.x = newPushExporter(t, e, web.URL())
			e.sync()
			assertTrailers(t, e, 9)
		})
	}
}
