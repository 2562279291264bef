package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestChaos runs the chaos scenario as CI does: about 30 s of load with
// four SIGKILLs of railyard serve, a Git remote that hangs for 5 s, and
// one more SIGKILL after it recovered. Nothing acknowledged may be lost,
// exported twice or out of order, git fsck must be clean, and export
// status must show the stall and its end.
func TestChaos(t *testing.T) {
	t.Parallel()
	bin := buildRailyard(t)
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	code := m.Run(context.Background(), []string{"--scenario", "chaos", "--railyard-bin", bin, "-o", "json"})
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("exit code %d, no JSON report: %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout.String(), stderr.String())
	}
	defer func() {
		if t.Failed() {
			var table strings.Builder
			rep.writeTable(&table)
			t.Logf("report:\n%s\nstderr:\n%s", table.String(), stderr.String())
		}
	}()
	c, e := rep.Chaos, rep.EndToEnd
	if c == nil || e == nil {
		t.Fatalf("chaos %v, end to end %v: want both", c, e)
	}
	// The load: releases acknowledged before, between and after the kills.
	if e.Acknowledged < 500 {
		t.Errorf("%d releases acknowledged in 30 s at 100 operations/s: want at least 500", e.Acknowledged)
	}
	if e.InGit != e.Acknowledged || e.TimedOut || len(e.Missing) != 0 {
		t.Errorf("%d of %d acknowledged releases reached the remote, missing %v", e.InGit, e.Acknowledged, e.Missing)
	}
	if c.Kills != 6 || c.Restarts != 6 {
		t.Errorf("%d SIGKILLs and %d restarts: want 6 of each (4 under load, then one into the hung remote and one after it)", c.Kills, c.Restarts)
	}
	if c.Events < int64(e.Acknowledged) || int64(c.Commits) != c.Events {
		t.Errorf("%d events and %d commits for %d acknowledged releases: want one commit per event", c.Events, c.Commits, e.Acknowledged)
	}
	if c.DuplicateEvents != 0 || c.MissingEvents != 0 || c.OutOfOrder != 0 || c.DuplicateReleases != 0 || c.CommitsWithoutEvent != 0 {
		t.Errorf("history: %d events twice, %d missing, %d out of order, %d releases twice, %d commits without an event: %v",
			c.DuplicateEvents, c.MissingEvents, c.OutOfOrder, c.DuplicateReleases, c.CommitsWithoutEvent, c.Examples)
	}
	if c.Fsck != "" {
		t.Errorf("git fsck --strict: %s", c.Fsck)
	}
	if len(c.Failures) != 0 {
		t.Errorf("steps not as planned: %q", c.Failures)
	}
	// The hung remote needs serve's --git-timeout: the stall must show in
	// export status, and export must recover without a restart.
	if h := c.Hang; h == nil || h.Error != "" || !h.StallReported || h.LastError == "" || h.PendingWhenBack == 0 || !h.Recovered {
		t.Errorf("hung remote: %+v; want the stall shown (lastError set, events pending) and export recovered", h)
	}
	if code != exitOK || !targetsMet(rep.Targets) {
		t.Errorf("exit code %d, targets %+v; want 0, all met", code, rep.Targets)
	}
}

// TestCheckHistory checks the chaos scenario's judge on a history with
// every fault it counts: an event exported twice (a cherry-pick), one out
// of order, one missing, a commit that is not Railyard's and a release
// added twice.
func TestCheckHistory(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	commit := func(files map[string]string, msg string) string {
		t.Helper()
		for path, content := range files {
			p := filepath.Join(g.work, path)
			if content == "" {
				if err := os.RemoveAll(p); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		g.git(g.work, "add", "--all")
		g.git(g.work, "commit", "--quiet", "--allow-empty", "--message", msg)
		return strings.TrimSpace(g.git(g.work, "rev-parse", "HEAD"))
	}
	commit(map[string]string{"applications/a/releases/1/manifests/dev.yaml": "a: 1\n"}, "Release a 1\n\nRailyard-Event: 1")
	commit(map[string]string{"applications/a/releases/1": ""}, "Clean up a 1\n\nRailyard-Event: 2")
	commit(map[string]string{"applications/a/releases/1/manifests/dev.yaml": "a: 1\n"}, "Release a 1 again\n\nRailyard-Event: 3")
	again := commit(nil, "Clean up a 1\n\nRailyard-Event: 2")
	five := commit(nil, "Lock dev\n\nRailyard-Event: 5")
	foreign := commit(nil, "A person's commit")
	g.push()

	var r ChaosReport
	if err := checkHistory(context.Background(), g.bare, "main", 5, &r); err != nil {
		t.Fatal(err)
	}
	want := ChaosReport{Commits: 6, CommitsWithoutEvent: 1, DuplicateEvents: 1, MissingEvents: 1, OutOfOrder: 1, DuplicateReleases: 1,
		Examples: []string{
			"event 2 exported again in commit " + again[:12],
			"event 5 follows event 2 (commit " + five[:12] + ")",
			"commit " + foreign[:12] + ` carries no single Railyard-Event trailer ("")`,
			"event 4 has no commit",
			"release a/1 added by more than one commit",
		}}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("checkHistory:\n got %+v\nwant %+v", r, want)
	}
	if targets := chaosTargets(&Report{Chaos: &r, EndToEnd: &EndToEnd{Acknowledged: 3, InGit: 2}}); targetsMet(targets) {
		t.Errorf("targets %+v met by a history with every fault", targets)
	}
}

// TestGitHTTPRemote checks the chaos scenario's remote: pushes over HTTP
// work, large (chunked) ones too; while hung it holds connections without
// answering; back, it drops them and answers again.
func TestGitHTTPRemote(t *testing.T) {
	t.Parallel()
	g := newGitRepos(t)
	remote, err := newGitHTTPRemote(g.bare)
	if err != nil {
		t.Fatal(err)
	}
	defer remote.close()
	// Incompressible and over git's 1 MiB http.postBuffer: git sends the
	// push chunked.
	big := make([]byte, 2<<20)
	rand.NewChaCha8([32]byte{1}).Read(big)
	g.commit(map[string]string{"big": string(big)})
	g.git(g.work, "push", "--quiet", remote.URL(), "main")
	head := strings.TrimSpace(g.git(g.work, "rev-parse", "HEAD"))
	if got := strings.TrimSpace(g.git(g.bare, "rev-parse", "main")); got != head {
		t.Fatalf("after a push over HTTP the remote's main is %q, want %q", got, head)
	}

	remote.setHung(true)
	lsRemote := exec.Command("git", "ls-remote", remote.URL())
	lsRemote.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	if err := lsRemote.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- lsRemote.Wait() }()
	held := func() int {
		remote.mu.Lock()
		defer remote.mu.Unlock()
		return len(remote.held)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for held() == 0 {
		select {
		case err := <-exited:
			t.Fatalf("git ls-remote of a hung remote ended: %v", err)
		case <-tick.C:
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("git ls-remote ended while the remote held its connection: %v", err)
	default:
	}
	remote.setHung(false)
	if err := <-exited; err == nil {
		t.Error("git ls-remote succeeded on a connection the remote dropped, want a failure")
	}
	if out := g.git("", "ls-remote", remote.URL(), "refs/heads/main"); !strings.HasPrefix(out, head+"\t") {
		t.Errorf("ls-remote once the remote is back: %q, want main at %s", out, head)
	}
}

// TestRelay checks the relay in front of the chaos scenario's server:
// it forwards to the current target, refuses while there is none, and
// follows a new one.
func TestRelay(t *testing.T) {
	t.Parallel()
	serve := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }))
		t.Cleanup(s.Close)
		return s
	}
	first, second := serve("first"), serve("second")
	r, err := newRelay()
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	get := func() (string, error) {
		// A new connection each time, as after a restart.
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(r.URL())
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return string(body), err
	}
	if _, err := get(); err == nil {
		t.Error("a request before any target succeeded, want a transport error")
	}
	r.setTarget(hostPort(first.URL))
	if got, err := get(); got != "first" || err != nil {
		t.Errorf("through the relay to the first server: %q, %v", got, err)
	}
	r.setTarget("")
	if _, err := get(); err == nil {
		t.Error("a request while the server is down succeeded, want a transport error")
	}
	r.setTarget(hostPort(second.URL))
	if got, err := get(); got != "second" || err != nil {
		t.Errorf("through the relay to the second server: %q, %v", got, err)
	}
}
