package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// gitHTTPRemote serves a bare repository over Git's smart HTTP protocol
// (git http-backend, push allowed) on 127.0.0.1, and can be made to hang:
// while hung it accepts connections and never answers them, like a
// remote behind a broken network path. It is the remote of the chaos
// scenario's hung phase.
type gitHTTPRemote struct {
	ln   net.Listener
	srv  *http.Server
	repo string
	// served are the connections handed to the HTTP server.
	served chan net.Conn
	hung   atomic.Bool

	mu   sync.Mutex
	held []net.Conn
	wg   sync.WaitGroup
	done chan struct{}
}

// newGitHTTPRemote serves repo, a bare repository, at URL().
func newGitHTTPRemote(repo string) (*gitHTTPRemote, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &gitHTTPRemote{ln: ln, repo: repo, served: make(chan net.Conn), done: make(chan struct{})}
	backend := &cgi.Handler{
		Path: gitPath,
		Args: []string{"http-backend"},
		Dir:  filepath.Dir(repo),
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(repo),
			"GIT_HTTP_EXPORT_ALL=1",
			// Pushing over HTTP is off by default for anonymous users.
			"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.receivepack", "GIT_CONFIG_VALUE_0=true",
			"GIT_CONFIG_NOSYSTEM=1", "HOME=" + os.TempDir(),
		},
	}
	g.srv = &http.Server{Handler: withContentLength(backend), ReadHeaderTimeout: 30 * time.Second}
	g.wg.Go(func() { _ = g.srv.Serve(chanListener{g}) })
	g.wg.Go(g.accept)
	return g, nil
}

// URL is the repository's URL.
func (g *gitHTTPRemote) URL() string {
	return "http://" + g.ln.Addr().String() + "/" + filepath.Base(g.repo)
}

// setHung makes the remote hang (true) or answer again (false). Coming
// back, it drops the connections it held, as a network that recovers
// resets the connections that were stuck in it.
func (g *gitHTTPRemote) setHung(hung bool) {
	g.hung.Store(hung)
	if !hung {
		g.dropHeld()
	}
}

// accept hands connections to the HTTP server, or holds them while hung.
func (g *gitHTTPRemote) accept() {
	for {
		c, err := g.ln.Accept()
		if err != nil {
			return
		}
		if g.hung.Load() {
			g.mu.Lock()
			g.held = append(g.held, c)
			g.mu.Unlock()
			continue
		}
		select {
		case g.served <- c:
		case <-g.done:
			c.Close()
			return
		}
	}
}

// dropHeld closes the connections held while hung.
func (g *gitHTTPRemote) dropHeld() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.held {
		c.Close()
	}
	g.held = nil
}

// close stops the remote and closes every connection, held ones
// included, so that no git process waits on it any more.
func (g *gitHTTPRemote) close() error {
	err := g.ln.Close()
	close(g.done)
	g.dropHeld()
	_ = g.srv.Close()
	g.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// withContentLength reads a chunked request body into memory before
// passing the request on: CGI needs a Content-Length (net/http/cgi
// refuses chunked bodies with 400), and git sends pushes larger than its
// http.postBuffer (1 MiB) chunked.
func withContentLength(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body, r.ContentLength, r.TransferEncoding = io.NopCloser(bytes.NewReader(body)), int64(len(body)), nil
		}
		h.ServeHTTP(w, r)
	})
}

// chanListener is the net.Listener of the HTTP server: the connections
// the remote's accept loop hands over.
type chanListener struct{ g *gitHTTPRemote }

func (l chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.g.served:
		return c, nil
	case <-l.g.done:
		return nil, net.ErrClosed
	}
}

func (l chanListener) Close() error   { return nil }
func (l chanListener) Addr() net.Addr { return l.g.ln.Addr() }
