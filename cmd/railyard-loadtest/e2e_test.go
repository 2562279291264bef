package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// railyardBin is the railyard binary the tests share, built on first use
// and removed by TestMain.
var railyardBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if railyardBin.dir != "" {
		os.RemoveAll(railyardBin.dir)
	}
	os.Exit(code)
}

// buildRailyard returns the railyard binary built from ../railyard: once
// for all the tests of the package.
func buildRailyard(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds railyard and runs it as a process: skipped with -short")
	}
	railyardBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "railyard-loadtest-bin-")
		if err != nil {
			railyardBin.err = err
			return
		}
		railyardBin.dir, railyardBin.path = dir, filepath.Join(dir, "railyard")
		if out, err := exec.Command("go", "build", "-buildvcs=false", "-o", railyardBin.path, "../railyard").CombinedOutput(); err != nil {
			railyardBin.err = fmt.Errorf("go build ../railyard: %v\n%s", err, out)
		}
	})
	if railyardBin.err != nil {
		t.Fatal(railyardBin.err)
	}
	return railyardBin.path
}

// startTestServer runs `railyard serve` in a temporary directory until
// the test ends.
func startTestServer(t *testing.T, bin string) *railyardProcess {
	t.Helper()
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startRailyard(context.Background(), bin, filepath.Join(dir, "data"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.stop(time.Minute); err != nil {
			t.Errorf("stop railyard: %v", err)
		}
		// Before t.TempDir's removal, which a detached git gc would race.
		waitGitQuiet(srv.DataDir, time.Minute)
		log.Close()
		if t.Failed() {
			data, _ := os.ReadFile(log.Name())
			t.Logf("server log:\n%s", data)
		}
	})
	return srv
}

// TestRunAgainstRailyard runs a short load against a real Railyard and
// checks the report against what the server and its Git remote hold:
// nothing acknowledged is lost, and the counts match the event log. It
// runs alone (not in parallel), since it checks the throughput of an open
// loop.
func TestRunAgainstRailyard(t *testing.T) {
	srv := startTestServer(t, buildRailyard(t))
	remote := filepath.Join(srv.DataDir, "git", "manifests.git")
	opts := DefaultOptions()
	opts.Server = srv.URL
	opts.Apps = 20
	opts.Clients = 8
	opts.Releases = 200
	opts.Prepopulate = 20
	opts.ManifestSize = 2048
	opts.Mix = Mix{Releases: 80, Locks: 15, Trains: 5}
	opts.Setup = SetupChain
	opts.GitRemote = remote
	opts.GitTimeout = time.Minute
	opts.PID = srv.PID()
	opts.Progress = true
	var progress bytes.Buffer
	rep, err := Run(context.Background(), opts, &progress)
	if err != nil {
		t.Fatal(err)
	}

	rel := rep.Operations["release"]
	if rel.Requests != 200 || rel.OK != 200 || len(rel.Errors) != 0 || rep.Counts.ReleasesCreated != 200 {
		t.Fatalf("releases: %d requests, %d ok, errors %v (%v), %d created; want 200 created without errors",
			rel.Requests, rel.OK, rel.Errors, rel.ErrorSamples, rep.Counts.ReleasesCreated)
	}
	if pre := rep.Prepopulate; pre == nil || pre.Created != 20 {
		t.Errorf("prepopulate = %+v, want 20 created", pre)
	}
	for _, name := range []string{"lock-create", "lock-delete"} {
		if o := rep.Operations[name]; o.Requests != o.OK || len(o.Errors) != 0 {
			t.Errorf("%s: %d requests, %d ok, errors %v %v", name, o.Requests, o.OK, o.Errors, o.ErrorSamples)
		}
	}
	if rep.Counts.LocksCreated == 0 {
		t.Errorf("no lock was created with locks=15 in the mix: %+v", rep.Counts)
	}
	// Railyard may or may not have the Kuberpult train endpoint: either
	// trains work, or the tool noticed the 404 and stopped sending them.
	if tr := rep.Operations["train"]; !rep.TrainsUnsupported && tr.OK != tr.Requests {
		t.Errorf("trains: %d of %d ok, errors %v %v, and not reported unsupported", tr.OK, tr.Requests, tr.Errors, tr.ErrorSamples)
	}

	e := rep.EndToEnd
	if e == nil || e.Acknowledged != 200 || e.InGit != 200 || e.TimedOut || e.LatencyMs == nil || e.FinalExportLagMs == nil || e.PollErrors != 0 {
		t.Fatalf("end to end = %+v, want all 200 in git", e)
	}
	if rep.Memory == nil || rep.Memory.PeakRSSMiB <= 0 || rep.Memory.VmHWMMiB == nil {
		t.Errorf("memory = %+v, want figures for pid %d", rep.Memory, srv.PID())
	}
	if !strings.Contains(progress.String(), "[prepopulate") && !strings.Contains(progress.String(), "[run") && rep.DurationSeconds > 1.5 {
		t.Errorf("no progress line in a run of %.1f s:\n%s", rep.DurationSeconds, progress.String())
	}

	// Nothing lost: every release acknowledged is in the remote's tree.
	tree := gitTree(t, remote)
	for n := range 220 {
		path := fmt.Sprintf("applications/%s/releases/%d/created_at", appName(n%20), 1+n/20)
		if !tree[path] {
			t.Errorf("acknowledged release %d is not in the remote: no %s", n, path)
		}
	}

	// The counts match the server's event log.
	want := map[string]int{
		"release.create": 220,
		"lock.create":    rep.Counts.LocksCreated,
		"lock.delete":    rep.Counts.LocksDeleted + rep.Counts.LocksDeletedAtEnd,
	}
	for kind, n := range want {
		if got := countEvents(t, srv.URL, kind); got != n {
			t.Errorf("%s events: server has %d, the report says %d", kind, got, n)
		}
	}

	// An open loop against the same server: versions from 100 on.
	open := DefaultOptions()
	open.Server, open.Apps, open.ManifestSize = srv.URL, 20, 2048
	open.Rate, open.Duration, open.FirstVersion = 100, time.Second, 100
	open.GitRemote, open.GitTimeout = remote, time.Minute
	orep, err := Run(context.Background(), open, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 100 scheduled in the second; a loaded machine may fall behind.
	if c := orep.Counts.ReleasesCreated; c < 50 || c > 101 || len(orep.Errors) != 0 {
		t.Errorf("open loop at 100/s for 1 s: %d releases created, errors %v", c, orep.Errors)
	}
	if e := orep.EndToEnd; e.InGit != orep.Counts.ReleasesCreated || e.TimedOut {
		t.Errorf("open loop: %d of %d in git", e.InGit, orep.Counts.ReleasesCreated)
	}
	if orep.DurationSeconds < 0.99 {
		t.Errorf("open loop ran %.2f s, want 1", orep.DurationSeconds)
	}

	// Both renderings work; the JSON is the documented schema.
	var table, js bytes.Buffer
	if err := rep.writeTable(&table); err != nil || !strings.Contains(table.String(), "release") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
	if err := rep.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || doc["schema"] != ReportSchema {
		t.Errorf("JSON report: %v, schema %v", err, doc["schema"])
	}
}

// TestScenarioCommand runs the command line of a scenario, shortened, as a
// user would: it starts its own server and prints the JSON report.
func TestScenarioCommand(t *testing.T) {
	t.Parallel()
	bin := buildRailyard(t)
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	code := m.Run(context.Background(), []string{"--scenario", "a", "--railyard-bin", bin, "--releases", "100", "--apps", "50", "--manifest-size", "1024", "-o", "json"})
	if code != exitOK {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if rep.Scenario != "a" || rep.Counts.ReleasesCreated != 100 || rep.EndToEnd == nil || rep.EndToEnd.InGit != 100 || len(rep.Targets) != 3 || rep.Memory == nil {
		t.Errorf("report = %s", stdout.String())
	}
	if rep.Parameters.Clients != 32 || rep.Parameters.Apps != 50 {
		t.Errorf("clients %d, apps %d: want scenario a's 32 clients and the 50 apps given", rep.Parameters.Clients, rep.Parameters.Apps)
	}
}

// gitTree lists the files of the remote's main branch.
func gitTree(t *testing.T, gitDir string) map[string]bool {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", gitDir, "ls-tree", "-r", "--name-only", "main", "applications/").Output()
	if err != nil {
		t.Fatalf("git ls-tree: %v", err)
	}
	files := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		files[strings.TrimSuffix(line, "\n")] = true
	}
	return files
}

// countEvents counts the server's events of a kind, page by page.
func countEvents(t *testing.T, server, kind string) int {
	t.Helper()
	n := 0
	q := url.Values{"kind": {kind}, "limit": {"1000"}}
	for {
		resp, err := http.Get(server + "/api/v1/events?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Events []json.RawMessage `json:"events"`
			Next   *int64            `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/v1/events: %d, %v", resp.StatusCode, err)
		}
		n += len(page.Events)
		if page.Next == nil {
			return n
		}
		q.Set("before", fmt.Sprint(*page.Next))
	}
}

// TestSlowBodiesScenario runs the slow-bodies attack, shortened and with
// short server timeouts, as a user would: the server lets every kind of
// attacking connection go, answers the ordinary clients throughout and
// stays small.
func TestSlowBodiesScenario(t *testing.T) {
	bin := buildRailyard(t)
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	code := m.Run(context.Background(), []string{"--scenario", "slow-bodies", "--railyard-bin", bin, "-o", "json",
		"--duration", "4s", "--attack-baseline", "1s", "--rate", "10", "--attack-announce", "6", "--attack-slow", "2", "--attack-idle", "2",
		"--serve-arg=--body-timeout=1s", "--serve-arg=--idle-timeout=1s"})
	if code != exitOK {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	if rep.Scenario != "slow-bodies" || rep.Attack == nil || rep.Attack.Baseline == nil || rep.Memory == nil {
		t.Fatalf("report = %s", stdout.String())
	}
	for kind, answer := range map[string]string{attackAnnounce: "408", attackSlow: "408", attackIdle: "closed"} {
		c := rep.Attack.Connections[kind]
		if c == nil || c.ClosedByServer == 0 || c.Answers[answer] != c.ClosedByServer || c.HeldMs == nil || c.HeldMs.Max > 3000 {
			t.Errorf("%s: %+v, want every connection let go with %s within 3 s", kind, c, answer)
		}
	}
	if n := sumErrors(rep.Errors); n != 0 || rep.Counts.ReleasesCreated == 0 {
		t.Errorf("the ordinary clients: %d errors, %d releases created", n, rep.Counts.ReleasesCreated)
	}
	for _, target := range rep.Targets {
		if target.Met != nil && !*target.Met {
			t.Errorf("target missed: %+v", target)
		}
	}
}

// TestScenarioRemoteBacklog runs scenario a pushing to a bare repository
// served by the real git http-backend, after a backlog published while
// the remote was unreachable: the report has the catch-up, and the
// remote's history is every event once, in order.
func TestScenarioRemoteBacklog(t *testing.T) {
	t.Parallel()
	bin := buildRailyard(t)
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr}
	code := m.Run(context.Background(), []string{"--scenario", "a", "--railyard-bin", bin, "--remote", "http", "--backlog", "60",
		"--releases", "40", "--apps", "20", "--clients", "4", "--manifest-size", "1024", "--keep-data", "-o", "json"})
	if code != exitOK {
		t.Fatalf("exit code %d\nstderr:\n%s", code, stderr.String())
	}
	var rep Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	// 3 environments set up, 60 releases in the backlog.
	b := rep.Backlog
	if rep.Remote != "http" || b == nil || b.Releases != 60 || b.Events != 63 || b.DrainSeconds <= 0 || b.EventsPerSecond <= 0 {
		t.Fatalf("report: remote %q, backlog %+v", rep.Remote, b)
	}
	if rep.Counts.ReleasesCreated != 40 || rep.EndToEnd == nil || rep.EndToEnd.InGit != 40 || rep.EndToEnd.TimedOut {
		t.Errorf("measured run: %d created, end to end %+v", rep.Counts.ReleasesCreated, rep.EndToEnd)
	}
	// The data directory is kept: its remote is named on stderr.
	dir := regexp.MustCompile(`data kept in (\S+)`).FindStringSubmatch(stderr.String())
	if dir == nil {
		t.Fatalf("stderr names no data directory:\n%s", stderr.String())
	}
	t.Cleanup(func() { os.RemoveAll(dir[1]) })
	var h ChaosReport
	if err := checkHistory(context.Background(), filepath.Join(dir[1], "remote.git"), "main", 103, &h); err != nil {
		t.Fatal(err)
	}
	if h.Commits != 103 || h.MissingEvents+h.DuplicateEvents+h.OutOfOrder+h.CommitsWithoutEvent != 0 {
		t.Errorf("remote history: %+v", h)
	}
}
