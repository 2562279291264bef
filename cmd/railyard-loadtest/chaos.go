package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The chaos scenario (--scenario chaos) checks Railyard's promise that an
// acknowledged change reaches Git exactly once, in order, whatever happens
// to the server and its remote. Under load, it kills `railyard serve` with
// SIGKILL several times and restarts it on the same data directory, then
// points it at a Git remote that accepts connections and never answers,
// checks that export status reports the stall, lets the remote answer
// again, checks that export recovers, and kills it once more. At the end
// it checks that every acknowledged release is in the remote, that the
// branch's first-parent history holds every event of the server exactly
// once and in order (Railyard's Railyard-Event commit trailers), and that
// `git fsck --strict` finds nothing. Unlike the other scenarios it reads
// Railyard's own export status (GET /api/v1/export-status) and trailers:
// it tests Railyard, not any Kuberpult-compatible server.

// eventTrailer is the commit trailer in which Railyard records the event
// a commit exports.
const eventTrailer = "Railyard-Event"

// chaosOptions are the flags of the chaos scenario.
type chaosOptions struct {
	// kills is the number of SIGKILLs under load before the hung phase.
	kills int
	// hang is how long the remote hangs (0: no hung phase); gitTimeout is
	// serve's --git-timeout meanwhile.
	hang       time.Duration
	gitTimeout time.Duration
}

// validate checks the chaos flags; the plan is --duration.
func (o chaosOptions) validate(plan time.Duration) error {
	switch {
	case plan <= 0:
		return errors.New("--scenario chaos needs a --duration: the plan of kills and the hung remote spans it")
	case o.kills < 0:
		return fmt.Errorf("--kills must not be negative, got %d", o.kills)
	case o.hang < 0:
		return fmt.Errorf("--hang must not be negative, got %s", o.hang)
	case o.gitTimeout <= 0:
		return fmt.Errorf("--hang-git-timeout must be positive, got %s", o.gitTimeout)
	}
	return nil
}

// ChaosReport is what the chaos scenario did and found.
type ChaosReport struct {
	// Kills counts the SIGKILLs sent to railyard serve, Restarts the
	// starts after the first.
	Kills    int `json:"kills"`
	Restarts int `json:"restarts"`
	// Events is the server's newest event id at the end; Commits the
	// commits of the branch's first-parent history, of which
	// CommitsWithoutEvent carry no Railyard-Event trailer.
	Events              int64 `json:"events"`
	Commits             int   `json:"commits"`
	CommitsWithoutEvent int   `json:"commitsWithoutEvent"`
	// DuplicateEvents are events with more than one commit, MissingEvents
	// events without one, OutOfOrder commits whose event does not follow
	// the previous commit's; DuplicateReleases are releases whose files
	// more than one commit added. Examples lists a few of each.
	DuplicateEvents   int      `json:"duplicateEvents"`
	MissingEvents     int      `json:"missingEvents"`
	OutOfOrder        int      `json:"outOfOrder"`
	DuplicateReleases int      `json:"duplicateReleases"`
	Examples          []string `json:"examples"`
	// Fsck is what `git fsck --strict` said about the remote and about
	// Railyard's work repository; empty when they are clean.
	Fsck string `json:"fsck"`
	// Hang is the hung-remote phase; null with --hang 0.
	Hang *HangReport `json:"hang"`
	// Failures are the steps of the scenario that did not happen as
	// planned (a restart that failed, a condition never met).
	Failures []string `json:"failures"`
}

// HangReport is the phase in which the remote accepted connections and
// never answered.
type HangReport struct {
	// Error says why the phase could not run (serve did not start with
	// the remote); the other fields are then empty.
	Error string `json:"error,omitempty"`
	// Seconds is how long the remote hung.
	Seconds float64 `json:"seconds"`
	// StallReported is set when export status showed lastError while
	// the remote hung: LastError is what it said, after
	// StallReportedAfterSeconds.
	StallReported             bool    `json:"stallReported"`
	StallReportedAfterSeconds float64 `json:"stallReportedAfterSeconds"`
	LastError                 string  `json:"lastError"`
	// PendingWhenBack is the number of events waiting for export when
	// the remote answered again.
	PendingWhenBack int64 `json:"pendingWhenBack"`
	// Recovered is set when, without a restart, export status showed
	// export moving on again with lastError cleared (while the load went
	// on), after RecoveredAfterSeconds.
	Recovered             bool    `json:"recovered"`
	RecoveredAfterSeconds float64 `json:"recoveredAfterSeconds"`
}

// exportStatus is the part of Railyard's GET /api/v1/export-status the
// scenario reads.
type exportStatus struct {
	LastEventID         int64  `json:"lastEventId"`
	LastExportedEventID int64  `json:"lastExportedEventId"`
	PendingEvents       int64  `json:"pendingEvents"`
	LastError           string `json:"lastError"`
}

// chaosRun is one run of the chaos scenario. The orchestrator goroutine
// owns it until it returns; then the caller does.
type chaosRun struct {
	m       *Main
	bin     string
	dataDir string
	log     *os.File
	relay   *relay
	// remote is the bare repository served pushes to; web serves it over
	// HTTP for the hung phase.
	remote string
	web    *gitHTTPRemote
	opts   chaosOptions
	plan   time.Duration
	srv    *railyardProcess
	// startEvent is the newest event when srv started.
	startEvent int64
	report     *ChaosReport
	status     *http.Client
}

// runChaos runs the chaos scenario in a new temporary directory.
func (m *Main) runChaos(ctx context.Context, sc scenario, c *cliOptions) (*Report, error) {
	bin, err := railyardBinary(c.railyardBin)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "railyard-loadtest-chaos-")
	if err != nil {
		return nil, err
	}
	ch := &chaosRun{m: m, bin: bin, dataDir: filepath.Join(tmp, "data"), remote: filepath.Join(tmp, "remote.git"),
		opts: c.chaos, plan: c.Duration, report: &ChaosReport{Examples: []string{}, Failures: []string{}},
		status: &http.Client{Timeout: 10 * time.Second}}
	defer ch.cleanup(tmp, c.keepData)
	if err := ch.setUp(ctx, tmp); err != nil {
		return nil, err
	}
	fmt.Fprintf(m.Stderr, "scenario chaos: %s\nscenario chaos: railyard serve (pid %d) behind %s, pushing to %s, data in %s\n",
		sc.title, ch.srv.PID(), ch.relay.URL(), ch.remote, ch.dataDir)
	o := c.Options
	o.Server, o.GitRemote, o.PID, o.Duration = ch.relay.URL(), ch.remote, 0, 0
	stop := make(chan struct{})
	o.Stop = stop
	orchCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ch.orchestrate(orchCtx, stop)
	}()
	rep, runErr := Run(ctx, o, m.Stderr)
	cancel()
	<-done
	if runErr != nil {
		return nil, runErr
	}
	ch.finish(ctx, c.GitTimeout)
	rep.Scenario = sc.name
	rep.Parameters.DurationSeconds = c.Duration.Seconds()
	rep.Chaos = ch.report
	rep.Targets = sc.targets(rep)
	if !targetsMet(rep.Targets) {
		ch.showLog()
	}
	return rep, nil
}

// railyardBinary finds the railyard binary of --railyard-bin.
func railyardBinary(flag string) (string, error) {
	if flag == "" {
		flag = "railyard"
	}
	bin, err := exec.LookPath(flag)
	if err != nil {
		return "", fmt.Errorf("--railyard-bin: %w (build it with `go build -o bin/railyard ./cmd/railyard`)", err)
	}
	return bin, nil
}

// setUp creates the remote, the relay and the HTTP remote, and starts the
// server.
func (ch *chaosRun) setUp(ctx context.Context, tmp string) error {
	if _, err := runGit(ctx, "", "init", "--quiet", "--bare", "--initial-branch=main", ch.remote); err != nil {
		return err
	}
	var err error
	// One log for every start: the servers write it in turn.
	if ch.log, err = os.OpenFile(filepath.Join(tmp, "serve.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return err
	}
	if ch.relay, err = newRelay(); err != nil {
		return err
	}
	if ch.web, err = newGitHTTPRemote(ch.remote); err != nil {
		return err
	}
	return ch.start(ctx, ch.remote)
}

// cleanup stops whatever still runs and removes the directory.
func (ch *chaosRun) cleanup(tmp string, keep bool) {
	if ch.srv != nil {
		ch.srv.kill()
	}
	if ch.relay != nil {
		ch.relay.close()
	}
	if ch.web != nil {
		ch.web.close()
	}
	if ch.log != nil {
		ch.log.Close()
	}
	if keep {
		fmt.Fprintf(ch.m.Stderr, "scenario chaos: data kept in %s\n", tmp)
		return
	}
	if err := removeData(tmp, ch.dataDir); err != nil {
		fmt.Fprintf(ch.m.Stderr, "scenario chaos: remove %s: %v\n", tmp, err)
	}
}

// start starts railyard serve pushing to remote, with extra flags, and
// points the relay at it.
func (ch *chaosRun) start(ctx context.Context, remote string, extra ...string) error {
	args := append([]string{"--git-remote", remote, "--argocd-repo-url", "https://git.example.com/manifests.git"}, extra...)
	srv, err := startRailyard(ctx, ch.bin, ch.dataDir, ch.log, args...)
	if err != nil {
		return err
	}
	ch.srv = srv
	ch.relay.setTarget(hostPort(srv.URL))
	st, err := ch.exportStatus(ctx)
	if err != nil {
		return err
	}
	ch.startEvent = st.LastEventID
	return nil
}

// restart kills the server with SIGKILL and starts it again.
func (ch *chaosRun) restart(ctx context.Context, remote string, extra ...string) error {
	ch.relay.setTarget("")
	ch.srv.kill()
	ch.srv = nil
	ch.report.Kills++
	if err := ch.start(ctx, remote, extra...); err != nil {
		return err
	}
	ch.report.Restarts++
	return nil
}

// fail records a step that did not go as planned.
func (ch *chaosRun) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	ch.report.Failures = append(ch.report.Failures, msg)
	fmt.Fprintf(ch.m.Stderr, "scenario chaos: %s\n", msg)
}

// orchestrate runs the plan while the load runs, and closes stop to end
// the load: the kills in the first half of the planned duration, then the
// hung phase, then load against a healthy server until the plan ends.
func (ch *chaosRun) orchestrate(ctx context.Context, stop chan<- struct{}) {
	defer close(stop)
	begin := time.Now()
	for i := range ch.opts.kills {
		if !waitUntil(ctx, begin.Add(ch.plan/2*time.Duration(i+1)/time.Duration(ch.opts.kills))) {
			return
		}
		// Kill under load: only once this server has accepted changes.
		if _, err := ch.waitStatus(ctx, 30*time.Second, "accepting changes", func(st exportStatus) bool { return st.LastEventID >= ch.startEvent+20 }); err != nil {
			ch.fail("kill %d: %v", i+1, err)
		}
		if err := ch.restart(ctx, ch.remote); err != nil {
			ch.fail("restart after kill %d: %v", i+1, err)
			return
		}
	}
	if ch.opts.hang > 0 {
		if !ch.hangPhase(ctx) {
			return
		}
	}
	waitUntil(ctx, begin.Add(ch.plan))
}

// hangPhase restarts the server against the HTTP remote while it hangs,
// checks that export status reports the stall, lets the remote answer
// and checks that export recovers without a restart, then kills the
// server and restarts it against the remote's path. It reports false if
// the server could not be started again.
func (ch *chaosRun) hangPhase(ctx context.Context) bool {
	h := &HangReport{}
	ch.report.Hang = h
	ch.web.setHung(true)
	began := time.Now()
	// Smaller batches keep every push well within the timeout once the
	// remote answers again, on a busy machine too.
	if err := ch.restart(ctx, ch.web.URL(), "--git-timeout", ch.opts.gitTimeout.String(), "--git-batch-size", "100"); err != nil {
		h.Error = err.Error()
		ch.fail("hung remote: %v", err)
		ch.web.setHung(false)
		if err := ch.start(ctx, ch.remote); err != nil {
			ch.fail("start after the hung phase: %v", err)
			return false
		}
		ch.report.Restarts++
		return true
	}
	if st, err := ch.waitStatus(ctx, ch.opts.hang+30*time.Second, "reporting the stall", func(st exportStatus) bool { return st.LastError != "" }); err == nil {
		h.StallReported, h.LastError = true, st.LastError
		h.StallReportedAfterSeconds = round2(time.Since(began).Seconds())
	} else {
		ch.fail("hung remote: export status never reported the stall: %v", err)
	}
	waitUntil(ctx, began.Add(ch.opts.hang))
	st, err := ch.exportStatus(ctx)
	if err != nil {
		ch.fail("hung remote: %v", err)
	}
	h.PendingWhenBack = st.PendingEvents
	ch.web.setHung(false)
	back := time.Now()
	h.Seconds = round2(back.Sub(began).Seconds())
	// Recovered: a push went through and export status says so, while
	// the load goes on (and export may still be catching up).
	if _, err := ch.waitStatus(ctx, time.Minute, "recovering", func(now exportStatus) bool {
		return now.LastError == "" && now.LastExportedEventID > st.LastExportedEventID
	}); err == nil {
		h.Recovered = true
		h.RecoveredAfterSeconds = round2(time.Since(back).Seconds())
	} else {
		ch.fail("hung remote: export did not recover once the remote answered again: %v", err)
	}
	if err := ch.restart(ctx, ch.remote); err != nil {
		ch.fail("restart after the hung phase: %v", err)
		return false
	}
	return true
}

// finish waits until the server has exported everything, stops it
// gracefully and checks the remote.
func (ch *chaosRun) finish(ctx context.Context, timeout time.Duration) {
	if ch.srv == nil {
		ch.fail("no server ran at the end")
		return
	}
	st, err := ch.waitStatus(ctx, timeout, "exporting every event", func(st exportStatus) bool {
		return st.LastError == "" && st.PendingEvents == 0
	})
	if err != nil {
		ch.fail("end: %v", err)
	}
	ch.report.Events = st.LastEventID
	if err := ch.srv.stop(time.Minute); err != nil {
		ch.fail("stop railyard serve: %v", err)
	}
	ch.srv = nil
	if err := checkHistory(ctx, ch.remote, "main", st.LastEventID, ch.report); err != nil {
		ch.fail("read the remote's history: %v", err)
	}
	var fsck []string
	for _, repo := range []string{ch.remote, filepath.Join(ch.dataDir, "git", "work.git")} {
		if out := gitFsck(ctx, repo); out != "" {
			fsck = append(fsck, repo+": "+out)
		}
	}
	ch.report.Fsck = strings.Join(fsck, "\n")
}

// exportStatus reads the server's export status.
func (ch *chaosRun) exportStatus(ctx context.Context) (exportStatus, error) {
	var st exportStatus
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ch.srv.URL+"/api/v1/export-status", nil)
	if err != nil {
		return st, err
	}
	resp, err := ch.status.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /api/v1/export-status: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// waitStatus polls export status until ok holds, at most timeout; the
// error names what was awaited and the last status seen.
func (ch *chaosRun) waitStatus(ctx context.Context, timeout time.Duration, what string, ok func(exportStatus) bool) (exportStatus, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var st exportStatus
	var err error
	for {
		if st, err = ch.exportStatus(ctx); err == nil && ok(st) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-deadline.C:
			if err != nil {
				return st, fmt.Errorf("not %s after %s: %w", what, timeout, err)
			}
			return st, fmt.Errorf("not %s after %s: export status %+v", what, timeout, st)
		case <-tick.C:
		}
	}
}

// waitUntil waits until t; false if ctx ended first.
func waitUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// showLog prints the end of the servers' log.
func (ch *chaosRun) showLog() {
	data, err := os.ReadFile(ch.log.Name())
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	fmt.Fprintf(ch.m.Stderr, "scenario chaos: the last lines of the servers' log:\n%s\n", strings.Join(lines[max(len(lines)-60, 0):], "\n"))
}

// checkHistory reads the first-parent history of branch in repo and
// counts, into r, the events it holds twice, out of order or not at all
// (of 1..events), and the releases whose files two commits added.
func checkHistory(ctx context.Context, repo, branch string, events int64, r *ChaosReport) error {
	out, err := runGit(ctx, repo, "log", "--first-parent", "--reverse",
		"--format=%H %(trailers:key="+eventTrailer+",valueonly,separator=%x2C)", "refs/heads/"+branch, "--")
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	var prev int64
	for line := range strings.Lines(out) {
		sha, trailer, _ := strings.Cut(strings.TrimSpace(line), " ")
		r.Commits++
		id, err := strconv.ParseInt(trailer, 10, 64)
		switch {
		case err != nil:
			r.CommitsWithoutEvent++
			r.example("commit %.12s carries no single %s trailer (%q)", sha, eventTrailer, trailer)
			continue
		case seen[id]:
			r.DuplicateEvents++
			r.example("event %d exported again in commit %.12s", id, sha)
		case id != prev+1:
			r.OutOfOrder++
			r.example("event %d follows event %d (commit %.12s)", id, prev, sha)
		}
		seen[id] = true
		prev = id
	}
	for id := int64(1); id <= events; id++ {
		if !seen[id] {
			r.MissingEvents++
			r.example("event %d has no commit", id)
		}
	}
	return countDuplicateReleases(ctx, repo, branch, r)
}

// countDuplicateReleases counts the releases whose files more than one
// commit of the first-parent history added.
func countDuplicateReleases(ctx context.Context, repo, branch string, r *ChaosReport) error {
	out, err := runGit(ctx, repo, "-c", "core.quotePath=off", "log", "--first-parent", "--no-renames",
		"--diff-filter=A", "--name-only", "--format=%x00", "refs/heads/"+branch, "--", "applications/")
	if err != nil {
		return err
	}
	added := map[releaseKey]int{}
	for commit := range strings.SplitSeq(out, "\x00") {
		for _, k := range parseReleasePaths(commit) {
			added[k]++
			if added[k] == 2 {
				r.DuplicateReleases++
				r.example("release %s added by more than one commit", k)
			}
		}
	}
	return nil
}

// example keeps up to 20 examples of what went wrong.
func (r *ChaosReport) example(format string, args ...any) {
	if len(r.Examples) < 20 {
		r.Examples = append(r.Examples, fmt.Sprintf(format, args...))
	}
}

// gitFsck runs git fsck --strict on repo and returns what it said, ""
// when it found nothing; a repository that does not exist is skipped.
func gitFsck(ctx context.Context, repo string) string {
	if _, err := os.Stat(repo); errors.Is(err, os.ErrNotExist) {
		return ""
	}
	cmd := exec.CommandContext(ctx, "git", "--git-dir", repo, "fsck", "--strict", "--no-dangling", "--no-progress")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	msg := strings.TrimSpace(out.String())
	if err != nil && msg == "" {
		msg = err.Error()
	}
	return msg
}

// chaosTargets judges a chaos report: nothing lost, duplicated or out of
// order, a clean repository, the stall reported and export recovered,
// and every step as planned.
func chaosTargets(rep *Report) []TargetResult {
	c := rep.Chaos
	if c == nil {
		return nil
	}
	lost := 0
	if e := rep.EndToEnd; e != nil {
		lost = e.Acknowledged - e.InGit
	}
	fsck := 0
	if c.Fsck != "" {
		fsck = len(strings.Split(c.Fsck, "\n"))
	}
	t := []TargetResult{
		exactly("acknowledged releases lost", float64(lost), 0, ""),
		exactly("events exported twice", float64(c.DuplicateEvents), 0, ""),
		exactly("releases exported twice", float64(c.DuplicateReleases), 0, ""),
		exactly("events exported out of order", float64(c.OutOfOrder), 0, ""),
		exactly("events missing from git", float64(c.MissingEvents), 0, ""),
		exactly("commits without an event", float64(c.CommitsWithoutEvent), 0, ""),
		exactly("git fsck --strict complaints", float64(fsck), 0, "lines"),
		exactly("steps not as planned", float64(len(c.Failures)), 0, ""),
	}
	if h := c.Hang; h != nil {
		t = append(t, exactly("stall shown in export status", float64(boolInt(h.StallReported)), 1, ""),
			exactly("export recovered without a restart", float64(boolInt(h.Recovered)), 1, ""))
	}
	return t
}

// exactly is the target got = want.
func exactly(name string, got, want float64, unit string) TargetResult {
	return TargetResult{Name: name, Want: fmt.Sprintf("= %g", want), Got: got, Unit: unit, Met: boolPtr(got == want)}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// targetsMet reports whether every measured target was met.
func targetsMet(targets []TargetResult) bool {
	for _, t := range targets {
		if t.Met != nil && !*t.Met {
			return false
		}
	}
	return true
}

// hostPort returns the host:port of a URL.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// writeChaos writes the chaos part of the table.
func (rep *Report) writeChaos(b *strings.Builder) {
	c := rep.Chaos
	if c == nil {
		return
	}
	fmt.Fprintf(b, "chaos:     %d SIGKILLs, %d restarts; %d events, %d commits on the first-parent history\n", c.Kills, c.Restarts, c.Events, c.Commits)
	fmt.Fprintf(b, "           events twice %d, missing %d, out of order %d; releases twice %d; commits without an event %d\n",
		c.DuplicateEvents, c.MissingEvents, c.OutOfOrder, c.DuplicateReleases, c.CommitsWithoutEvent)
	if h := c.Hang; h != nil {
		switch {
		case h.Error != "":
			fmt.Fprintf(b, "hung git:  not run: %s\n", h.Error)
		default:
			fmt.Fprintf(b, "hung git:  %.1f s; stall shown in export status: %t (after %.1f s: %q); %d events pending when the remote came back; recovered: %t (after %.1f s)\n",
				h.Seconds, h.StallReported, h.StallReportedAfterSeconds, h.LastError, h.PendingWhenBack, h.Recovered, h.RecoveredAfterSeconds)
		}
	}
	if c.Fsck != "" {
		fmt.Fprintf(b, "git fsck:  %s\n", c.Fsck)
	}
	for _, e := range c.Examples {
		fmt.Fprintf(b, "           %s\n", e)
	}
	for _, f := range c.Failures {
		fmt.Fprintf(b, "failed:    %s\n", f)
	}
}
