package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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
	return getExportStatus(ctx, ch.status, ch.srv.URL)
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

// hostPort returns the host:port of a URL.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
