package main

import (
	"context"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/railyard-cd/railyard/internal/syncbuf"
)

// TestServeRefusesLeakingCredentials starts serve with credentials where
// they would travel in clear or be published: a usage error naming the
// flag, before anything is opened.
func TestServeRefusesLeakingCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--git-remote", "http://s3cret@git.example.com/m.git"},
			nil, "Error: --git-remote http://git.example.com/m.git has credentials in a plain http:// URL, where they travel in clear: use https://, " +
				"and give a token with --git-token (env RAILYARD_GIT_TOKEN) rather than in the URL\n"},
		{[]string{"--git-remote", "http://user:s3cret@git.example.com/m.git"},
			nil, "Error: --git-remote http://git.example.com/m.git has credentials in a plain http:// URL, where they travel in clear: use https://, " +
				"and give a token with --git-token (env RAILYARD_GIT_TOKEN) rather than in the URL\n"},
		{[]string{"--git-remote", "http://git.example.com/m.git"},
			map[string]string{"RAILYARD_GIT_TOKEN": "s3cret"}, "Error: --git-token would be sent to --git-remote http://git.example.com/m.git over plain http://, in clear: use https://\n"},
		{[]string{"--argocd-repo-url", "https://s3cret@git.example.com/m.git"},
			nil, "Error: --argocd-repo-url https://git.example.com/m.git has credentials: it is written into every Argo CD document of the manifest repository. " +
				"Give it without them, and configure Argo CD's access to the repository in Argo CD (a repository secret)\n"},
		{[]string{"--git-timeout", "0s"}, nil, "Error: --git-timeout must be positive, got 0s\n"},
		{nil, map[string]string{"RAILYARD_GIT_TIMEOUT": "soon"}, "Error: RAILYARD_GIT_TIMEOUT \"soon\" is not a duration: use for example 2m or 30s\n"},
	} {
		dataDir := filepath.Join(t.TempDir(), "data")
		code, stderr := runServeBriefly(t, tc.env, append([]string{"--data-dir", dataDir, "--listen", "127.0.0.1:0"}, tc.args...)...)
		if code != exitUsage {
			t.Errorf("serve %s: exit code %d, want %d", strings.Join(tc.args, " "), code, exitUsage)
		}
		if !strings.HasPrefix(stderr, tc.want) {
			t.Errorf("serve %s:\ngot  %q\nwant %q", strings.Join(tc.args, " "), stderr, tc.want)
		}
		if strings.Contains(stderr, "s3cret") {
			t.Errorf("the secret is shown: %q", stderr)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("serve %s created the data directory", strings.Join(tc.args, " "))
		}
	}
}

// runServeBriefly runs serve in-process with env and args, stopping it
// after a few seconds if it starts (a test that expects a refusal then
// fails instead of hanging), and returns its exit code and standard error.
func runServeBriefly(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := m.Run(ctx, append([]string{"serve"}, args...))
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return m.ReportError(err), stderr.String()
}

// hungListener accepts TCP connections on 127.0.0.1 and never answers.
func hungListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// waitStatus polls the export status until ok holds, failing after a
// minute.
func waitStatus(t *testing.T, c *rhttp.Client, what string, ok func(*railyard.ExportStatus) bool) *railyard.ExportStatus {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		st, err := c.ExportStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %+v", what, st)
		}
	}
	return nil
}

// get returns the body of GET url, which must answer 200.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return string(body)
}

// TestServeGitTimeout runs serve against a remote that accepts
// connections and never answers, with the git timeout from the
// environment: the API keeps serving, and the stall shows in the export
// status and the metrics.
func TestServeGitTimeout(t *testing.T) {
	t.Parallel()
	remote := "http://" + hungListener(t) + "/m.git"
	url, log, stop := startServe(t, map[string]string{"RAILYARD_GIT_TIMEOUT": "1s"},
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0", "--git-remote", remote)
	c := rhttp.NewClient(url)
	c.Actor = railyard.Actor{Name: "CI", Email: "ci@example.com"}
	st := waitStatus(t, c, "the stall", func(st *railyard.ExportStatus) bool { return st.GitTimeouts > 0 })
	want := "git ls-remote of " + remote + " timed out after 1s"
	if st.State != railyard.ExportStateStalled || st.LastError != want {
		t.Errorf("status: %+v, want stalled with %q", st, want)
	}
	if _, err := c.PutEnvironment(context.Background(), "development", railyard.EnvironmentConfig{}); err != nil {
		t.Errorf("the API does not serve while git hangs: %v", err)
	}
	metrics := get(t, url+"/metrics")
	for _, line := range []string{"railyard_export_up 0\n", `railyard_export_state{state="stalled"} 1` + "\n"} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
	if !strings.Contains(log.String(), `msg="git export failed" component=git-export error="`+want+`" state=stalled`) {
		t.Errorf("log:\n%s", log)
	}
}

// gitHTTPSServer serves the bare repository repo over https at /m.git,
// answering 503 while failing is set, and returns its address and a CA
// file that trusts it.
func gitHTTPSServer(t *testing.T, repo string, failing *atomic.Bool) (host, caFile string) {
	t.Helper()
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", repo).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if out, err := exec.Command("git", "-C", repo, "config", "http.receivepack", "true").CombinedOutput(); err != nil {
		t.Fatalf("git config: %v\n%s", err, out)
	}
	gitPath, _ := exec.LookPath("git")
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Root: "/m.git",
		Env: []string{"GIT_PROJECT_ROOT=" + repo, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=railyard", "GIT_CONFIG_NOSYSTEM=1"}}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(srv.URL, "https://"), caFile
}

// TestServeNeverShowsTheToken exports to a remote whose URL carries a
// token as its user name, through a failure and a recovery: the token
// never appears in the export status, the metrics, the web UI, the log,
// or any file or commit of the repository (the remote and the built-in
// Git server's), and Argo CD is told the URL without it.
func TestServeNeverShowsTheToken(t *testing.T) {
	t.Parallel()
	const token = "ghp_S3cretT0ken"
	repo := filepath.Join(t.TempDir(), "m.git")
	var failing atomic.Bool
	failing.Store(true)
	host, caFile := gitHTTPSServer(t, repo, &failing)
	url, log, stop := startServe(t, nil, "--data-dir", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0",
		"--git-remote", "https://"+token+"@"+host+"/m.git", "--git-ca-file", caFile)
	c := rhttp.NewClient(url)
	c.Actor = railyard.Actor{Name: "CI", Email: "ci@example.com"}
	ctx := context.Background()
	if _, err := c.PutEnvironment(ctx, "development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRelease(ctx, &railyard.CreateRelease{Application: "checkout", Team: "payments",
		Manifests: map[string]string{"development": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\n"}}); err != nil {
		t.Fatal(err)
	}
	var seen []string // everything Railyard showed
	show := func() {
		seen = append(seen, get(t, url+"/api/v1/export-status"), get(t, url+"/metrics"), get(t, url+"/"))
	}
	waitStatus(t, c, "the failure", func(st *railyard.ExportStatus) bool { return st.LastError != "" })
	show()
	if !strings.Contains(seen[0], "The requested URL returned error: 503") {
		t.Errorf("export status while the remote fails: %s", seen[0])
	}
	failing.Store(false)
	waitStatus(t, c, "the export", func(st *railyard.ExportStatus) bool {
		return st.PendingEvents == 0 && st.State == railyard.ExportStateOK
	})
	show()
	served := filepath.Join(t.TempDir(), "served.git")
	if out, err := exec.Command("git", "clone", "--quiet", "--bare", url+"/git/manifests.git", served).CombinedOutput(); err != nil {
		t.Fatalf("git clone from the built-in server: %v\n%s", err, out)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
	seen = append(seen, log.String(), repositoryText(t, repo), repositoryText(t, served))
	for i, s := range seen {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, token) {
				t.Errorf("the token is shown (%d): %s", i, line)
			}
		}
	}
	app := repositoryFile(t, repo, "argocd/v1alpha1/development/checkout.yaml")
	if want := "repoURL: https://" + host + "/m.git\n"; !strings.Contains(app, want) {
		t.Errorf("Argo CD Application lacks %q:\n%s", want, app)
	}
}

// repositoryText is every commit message and every file of every commit
// of the bare repository repo.
func repositoryText(t *testing.T, repo string) string {
	t.Helper()
	var b strings.Builder
	for _, args := range [][]string{
		{"log", "--all", "--format=%an %ae %cn %ce%n%B"},
		{"log", "--all", "-p", "--format="},
	} {
		out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		b.Write(out)
	}
	return b.String()
}

// repositoryFile is a file of main in the bare repository repo.
func repositoryFile(t *testing.T, repo, path string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", repo, "show", "main:"+path).CombinedOutput()
	if err != nil {
		t.Fatalf("git show %s: %v\n%s", path, err, out)
	}
	return string(out)
}
