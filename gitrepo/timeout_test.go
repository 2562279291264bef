package gitrepo

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// Modes of a flakyRemote.
const (
	remoteHangs     = iota // accepts connections and never answers
	remoteHangsPush        // serves fetches, never answers a push
	remoteServes           // serves the repository
)

// flakyRemote is a Git server over HTTP on a real TCP listener on
// 127.0.0.1, which the test switches between the modes above.
type flakyRemote struct {
	url  string
	repo string
	mode atomic.Int32

	mu   sync.Mutex
	held []net.Conn // connections accepted in remoteHangs mode
}

// newFlakyRemote serves a new bare repository, in remoteHangs mode.
func newFlakyRemote(t *testing.T) *flakyRemote {
	t.Helper()
	r := &flakyRemote{repo: filepath.Join(t.TempDir(), "m.git")}
	if err := InitBare(context.Background(), r.repo, "main"); err != nil {
		t.Fatal(err)
	}
	if _, err := (&gitcli.Git{Dir: r.repo}).Run(context.Background(), "config", "http.receivepack", "true"); err != nil {
		t.Fatal(err)
	}
	gitPath, _ := exec.LookPath("git")
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Root: "/m.git",
		Env: append(gitcli.BaseEnv(), "GIT_PROJECT_ROOT="+r.repo, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=railyard")}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		push := req.URL.Query().Get("service") == "git-receive-pack" || strings.HasSuffix(req.URL.Path, "/git-receive-pack")
		if push && r.mode.Load() == remoteHangsPush {
			<-req.Context().Done() // until the client goes away
			return
		}
		backend.ServeHTTP(w, req)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.url = "http://" + ln.Addr().String() + "/m.git"
	toServer := &chanListener{addr: ln.Addr(), conns: make(chan net.Conn), done: make(chan struct{})}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if r.mode.Load() == remoteHangs {
				r.mu.Lock()
				r.held = append(r.held, c)
				r.mu.Unlock()
				continue
			}
			select {
			case toServer.conns <- c:
			case <-toServer.done:
				c.Close()
			}
		}
	}()
	go srv.Serve(toServer)
	t.Cleanup(func() {
		ln.Close()
		srv.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, c := range r.held {
			c.Close()
		}
	})
	return r
}

// takeHeld returns the connections held so far.
func (r *flakyRemote) takeHeld() []net.Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	held := r.held
	r.held = nil
	return held
}

// chanListener is a net.Listener whose connections come from a channel.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// TestHungRemoteTimesOut exports to a remote that accepts connections and
// never answers, then to one that never answers a push: each git command
// is killed at its deadline with every process it started, and the stall
// shows in the export status. Then the remote works and export catches
// up, with the status healthy again.
func TestHungRemoteTimesOut(t *testing.T) {
	t.Parallel()
	const timeout = 3 * time.Second // long enough for a fetch on a loaded machine
	e := newTestEnv(t)
	remote := newFlakyRemote(t)
	e.remote = remote.repo
	e.x = NewExporter(e.eng, Config{Dir: filepath.Join(e.dir, "w.git"), RemoteURL: remote.url, GitTimeout: timeout,
		Now: func() time.Time { return e.now }})
	if err := e.x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.must(releaseCmd("checkout", 1, "payments", "development"))

	wantStalled := func(want string, timeouts int64) {
		t.Helper()
		err := syncWithin(t, e.x, time.Minute)
		if err == nil || err.Error() != want {
			t.Fatalf("sync: got %v, want %s", err, want)
		}
		st, err := e.x.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.State != railyard.ExportStateStalled || st.LastError != want || st.GitTimeouts != timeouts ||
			st.ConsecutiveFailures != timeouts || st.PendingEvents != 2 {
			t.Errorf("status: %+v", st)
		}
	}
	wantStalled("git ls-remote of "+remote.url+" timed out after 3s", 1)
	// git ls-remote ran git-remote-http, which held the connection: it
	// was killed too, so the connection is closed.
	held := remote.takeHeld()
	if len(held) == 0 {
		t.Fatal("git never connected")
	}
	for _, c := range held {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("the connection of the killed git stays open: %v", err)
		}
	}

	remote.mode.Store(remoteHangsPush)
	wantStalled("git push to "+remote.url+" timed out after 3s", 2)

	remote.mode.Store(remoteServes)
	e.x.git.Timeout = time.Minute // a working push must not race the short deadline on a loaded machine
	if err := syncWithin(t, e.x, time.Minute); err != nil {
		t.Fatal(err)
	}
	st, _ := e.x.Status(context.Background())
	if st.State != railyard.ExportStateOK || st.LastError != "" || st.LastErrorAt != nil || st.ConsecutiveFailures != 0 ||
		st.GitTimeouts != 2 || st.PendingEvents != 0 {
		t.Errorf("status once the remote works: %+v", st)
	}
	assertTrailers(t, e, 2)
}

// syncWithin runs Sync, failing the test if it has not returned within d
// (the exporter must never hang).
func syncWithin(t *testing.T, x *Exporter, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- x.Sync(context.Background()) }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Sync hangs after %s", d)
		return nil
	}
}
