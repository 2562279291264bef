package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in
// different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `railyard serve` in-process with env as its environment
// and returns the URL it printed, its log, and a function that stops it
// and returns Run's error.
func startServe(t *testing.T, env map[string]string, args ...string) (url string, log *syncBuffer, stop func() error) {
	t.Helper()
	pr, pw := io.Pipe()
	log = &syncBuffer{}
	m := &Main{Stdout: pw, Stderr: log, Getenv: func(k string) string { return env[k] }, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx, append([]string{"serve"}, args...))
		pw.Close()
		done <- err
	}()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			t.Fatal("serve did not stop within a minute of its context being cancelled")
			return nil
		}
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v (Run: %v)\nlog:\n%s", err, stop(), log)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "Railyard listening on ")
	if !ok {
		t.Fatalf("serve printed %q, want \"Railyard listening on <url>\"", line)
	}
	return url, log, stop
}

// TestServe starts the server in-process from environment variables, uses
// it, and stops it as a signal would, checking for a clean shutdown.
func TestServe(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	url, log, stop := startServe(t, map[string]string{"RAILYARD_DATA_DIR": dataDir, "RAILYARD_LISTEN": "127.0.0.1:0"}, "--log-format", "json")

	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz: %s", resp.Status)
	}
	c := newCLI(t, url)
	equal(t, "env apply", c.ok("env", "apply", "-f", writeFile(t, t.TempDir(), "envs.yaml", environmentsYAML)),
		"created environment development\ncreated environment staging\ncreated environment production\n")

	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
	info, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("data directory mode = %o, want 700", perm)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "railyard.db")); err != nil {
		t.Errorf("database: %v", err)
	}
	for _, want := range []string{`"msg":"serving"`, `"msg":"shutting down"`, `"msg":"stopped"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log has no %s:\n%s", want, log)
		}
	}

	// The data survives a restart.
	// (--lock-expiry-interval is the former name of --reconcile-interval.)
	url, log, stop = startServe(t, nil, "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--lock-expiry-interval", "1h", "--train-catch-up", "0s")
	if got := newCLI(t, url).ok("env", "list", "-o", "json"); strings.Count(got, `"name":`) != 3 {
		t.Errorf("after restart, env list:\n%s", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v\nlog:\n%s", err, log)
	}
}

// TestServeAddressInUse checks that a taken port is reported with a hint
// about --listen, before the data directory is created.
func TestServeAddressInUse(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	dataDir := filepath.Join(t.TempDir(), "data")
	stderr := newCLI(t, "").fail(exitError, "serve", "--data-dir", dataDir, "--listen", addr)
	equal(t, "stderr", stderr, "Error: cannot listen on "+addr+" (--listen): the address is already in use\n"+
		"Hint: another program (another railyard serve?) listens on "+addr+": stop it, or choose another address with --listen or RAILYARD_LISTEN (port 0 picks a free one, and serve prints its URL)\n")
	if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the data directory was created (%v): serve must listen first", err)
	}
}

// schedulerEnvironments schedule a release train into staging at 12:05
// UTC every day.
const schedulerEnvironments = `- name: development
  config: {upstream: {latest: true}}
- name: staging
  config:
    upstream: {environment: development}
    releaseTrains: [{schedule: "5 12 * * *"}]
`

// testScheduler drives a scheduler on a test server with a clock the test
// moves and ticks the test sends.
type testScheduler struct {
	t     *testing.T
	srv   *testServer
	now   atomic.Int64
	ticks chan time.Time
	log   *syncBuffer
	stop  func()
	// wake, if set, is the scheduler's wake-up timer.
	wake func(d time.Duration) <-chan time.Time
}

// newTestScheduler sets the server's clock to start.
func newTestScheduler(t *testing.T, srv *testServer, start time.Time) *testScheduler {
	ts := &testScheduler{t: t, srv: srv, ticks: make(chan time.Time), log: &syncBuffer{}}
	ts.now.Store(start.UnixNano())
	srv.Engine.Now = func() time.Time { return time.Unix(0, ts.now.Load()).UTC() }
	return ts
}

// start runs the scheduler's loop (without wake-ups: ticks only), its
// first run covering scheduled trains since catchUp before now.
func (ts *testScheduler) start(catchUp time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sch := &scheduler{engine: ts.srv.Engine, logger: slog.New(slog.NewTextHandler(ts.log, nil)), wake: ts.wake}
	go func() {
		sch.run(ctx, ts.srv.Engine.Now().Add(-catchUp), ts.ticks)
		close(done)
	}()
	ts.stop = func() { cancel(); <-done }
	ts.t.Cleanup(ts.stop)
	ts.settle()
}

// settle returns once the loop has finished its run and waits again: the
// loop takes a tick only when it is back in its select.
func (ts *testScheduler) settle() { ts.ticks <- time.Time{} }

// tick moves the clock to at and lets the loop run once.
func (ts *testScheduler) tick(at time.Time) {
	ts.now.Store(at.UnixNano())
	ts.ticks <- at
	ts.settle()
}

// TestScheduler checks that the scheduler's loop removes an expired lock
// and deploys what was queued behind it, and runs a scheduled release
// train once at its time, as the scheduler.
func TestScheduler(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	sch := newTestScheduler(t, srv, testNow)
	c := newCLI(t, srv.URL)
	dir := t.TempDir()
	c.ok("env", "apply", "-f", writeFile(t, dir, "envs.yaml", schedulerEnvironments))
	c.ok("lock", "env", "development", "night", "-m", "Nightly maintenance", "--expires-in", "1h")
	equal(t, "release", c.ok("release", "checkout", "--manifest", "development="+writeFile(t, dir, "m.yaml", manifest("1")), "--manifest", "staging="+filepath.Join(dir, "m.yaml")),
		"created release checkout 1; queued in development (blocked by environment lock \"night\")\n")

	// 12:00: the lock expired at 10:00; the train is due at 12:05.
	sch.now.Store(time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	sch.start(0)
	if want := "Remove expired locks: development (night); deploy queued checkout 1 to development"; !strings.Contains(sch.log.String(), want) {
		t.Errorf("log has no %q:\n%s", want, sch.log)
	}
	if got := c.ok("status"); !strings.Contains(got, "checkout     -     1            -") {
		t.Errorf("status after expiry:\n%s", got)
	}

	sch.tick(time.Date(2025, 11, 21, 12, 4, 59, 0, time.UTC))
	if strings.Contains(sch.log.String(), "scheduled release train") {
		t.Fatalf("the train ran before its time:\n%s", sch.log)
	}
	sch.tick(time.Date(2025, 11, 21, 12, 5, 3, 0, time.UTC))
	want := "Scheduled release train to staging from development: 1 deployed, 0 queued, 0 skipped"
	if !strings.Contains(sch.log.String(), want) {
		t.Errorf("log has no %q:\n%s", want, sch.log)
	}
	events, err := srv.Engine.FindEvents(context.Background(), railyard.EventFilter{Kind: railyard.KindReleaseTrain})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 11, 21, 12, 5, 0, 0, time.UTC)
	var payload railyard.ReleaseTrain
	if len(events) != 1 || events[0].Actor != railyard.SchedulerActor || json.Unmarshal(events[0].Payload, &payload) != nil ||
		payload.ScheduledAt == nil || !payload.ScheduledAt.Equal(at) {
		t.Fatalf("got events %+v, want one train by the scheduler for 12:05", events)
	}

	// Later ticks do not run it again.
	last := events[0].ID
	sch.tick(time.Date(2025, 11, 21, 12, 6, 0, 0, time.UTC))
	sch.tick(time.Date(2025, 11, 22, 11, 0, 0, 0, time.UTC))
	if id, err := srv.Engine.LastEventID(context.Background()); err != nil || id != last {
		t.Fatalf("got last event %d (%v), want %d: nothing new", id, err, last)
	}
	sch.stop()
	if strings.Contains(sch.log.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", sch.log)
	}
}

// TestScheduler_CatchUp checks that the first run catches up with a train
// that fired within the catch-up time before the start, and only then.
func TestScheduler_CatchUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		catchUp time.Duration
		ran     bool
	}{{time.Hour, true}, {10 * time.Minute, false}, {0, false}} {
		t.Run(tt.catchUp.String(), func(t *testing.T) {
			srv := newTestServer(t)
			sch := newTestScheduler(t, srv, testNow)
			c := newCLI(t, srv.URL)
			dir := t.TempDir()
			c.ok("env", "apply", "-f", writeFile(t, dir, "envs.yaml", schedulerEnvironments))
			m := writeFile(t, dir, "m.yaml", manifest("1"))
			c.ok("release", "checkout", "--manifest", "development="+m, "--manifest", "staging="+m)
			// Started at 12:30; the train was due at 12:05.
			sch.now.Store(time.Date(2025, 11, 21, 12, 30, 0, 0, time.UTC).UnixNano())
			sch.start(tt.catchUp)
			ran := strings.Contains(sch.log.String(), "Scheduled release train to staging")
			if ran != tt.ran {
				t.Fatalf("catch-up %s: train ran %v, want %v\n%s", tt.catchUp, ran, tt.ran, sch.log)
			}
		})
	}
}

// TestScheduler_WakesUpWhenDue checks that between ticks the scheduler
// sleeps until the engine's next wake-up: here the scheduled train.
func TestScheduler_WakesUpWhenDue(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	sch := newTestScheduler(t, srv, time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC))
	c := newCLI(t, srv.URL)
	dir := t.TempDir()
	c.ok("env", "apply", "-f", writeFile(t, dir, "envs.yaml", schedulerEnvironments))
	m := writeFile(t, dir, "m.yaml", manifest("1"))
	c.ok("release", "checkout", "--manifest", "development="+m, "--manifest", "staging="+m)

	requested := make(chan time.Duration, 10)
	timer := make(chan time.Time)
	sch.wake = func(d time.Duration) <-chan time.Time {
		requested <- d
		return timer
	}
	// latest returns the last wake-up the loop asked for.
	latest := func() time.Duration {
		d := <-requested
		for len(requested) > 0 {
			d = <-requested
		}
		return d
	}
	sch.start(0)
	if d := latest(); d != 5*time.Minute {
		t.Fatalf("the scheduler asked to wake up in %s, want 5m (the train at 12:05)", d)
	}
	sch.now.Store(time.Date(2025, 11, 21, 12, 5, 0, 0, time.UTC).UnixNano())
	timer <- time.Time{} // the timer fires; no tick
	sch.settle()
	if want := "Scheduled release train to staging from development: 1 deployed"; !strings.Contains(sch.log.String(), want) {
		t.Errorf("log has no %q:\n%s", want, sch.log)
	}
	if d := latest(); d != 24*time.Hour {
		t.Errorf("after the train, the scheduler asked to wake up in %s, want 24h (the next train)", d)
	}
	// A change of the state may bring the wake-up forward: a lock that
	// expires before the next train.
	c.ok("lock", "env", "staging", "short", "-m", "m", "--expires-at", "2025-11-21T12:35:00Z")
	// (The loop may still be answering the signal of its own train.)
	deadline := time.After(10 * time.Second)
	for d := time.Duration(0); d != 30*time.Minute; {
		select {
		case d = <-requested:
		case <-deadline:
			t.Fatalf("after a lock that expires at 12:35, the scheduler last asked to wake up in %s, want 30m", d)
		}
	}
}
