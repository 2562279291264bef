package railyard_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/syncbuf"
)

func (h *harness) reconcile() *railyard.Event {
	h.t.Helper()
	ev, err := h.eng.Reconcile(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func TestScheduledTrainsFireOncePerScheduleTime(t *testing.T) {
	h := trainHarness(t)
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"},
		ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * 1-5", TimeZone: "Europe/Berlin"}}})
	h.deploy("checkout", "staging", 1)
	run := func(since, until time.Time) []*railyard.Event {
		t.Helper()
		h.now = until
		events, err := h.eng.RunScheduledTrains(context.Background(), since, until)
		if err != nil {
			t.Fatal(err)
		}
		return events
	}
	noon := berlin("2026-11-02 12:00 CET")
	assertEqual(t, "before noon", len(run(noon.Add(-time.Hour), noon.Add(-time.Second))), 0)
	events := run(noon.Add(-time.Second), noon)
	assertEqual(t, "at noon", len(events), 1)
	ev := events[0]
	assertEqual(t, "actor", ev.Actor, railyard.SchedulerActor)
	assertEqual(t, "description", ev.Description, "Scheduled release train to production from staging: 1 deployed, 0 queued, 0 skipped\n\nDeploy checkout 1 to production")
	assertEqual(t, "reason", ev.Changes[0].Reason, "scheduled release train from staging")
	var payload railyard.ReleaseTrain
	if err := json.Unmarshal(ev.Payload, &payload); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "schedule time", payload.ScheduledAt.Equal(noon), true)

	// Staging moves on; an overlapping interval (a restart, a second
	// server) sees the same schedule time and does not run it again.
	h.deploy("checkout", "staging", 2)
	assertEqual(t, "overlap", len(run(noon.Add(-time.Minute), noon.Add(time.Minute))), 0)
	assertEqual(t, "production", h.state("checkout", "production"), "1/-")

	// Two days without the scheduler catch up with one train.
	events = run(noon.Add(time.Minute), berlin("2026-11-04 13:00 CET"))
	assertEqual(t, "catch up", len(events), 1)
	var caught railyard.ReleaseTrain
	_ = json.Unmarshal(events[0].Payload, &caught)
	assertEqual(t, "latest schedule time", caught.ScheduledAt.Equal(berlin("2026-11-04 12:00 CET")), true)
	assertEqual(t, "production", h.state("checkout", "production"), "2/-")

	// Weekends have no train.
	assertEqual(t, "weekend", len(run(berlin("2026-11-07 00:00 CET"), berlin("2026-11-08 23:59 CET"))), 0)
	_, err := h.eng.RunScheduledTrains(context.Background(), noon, noon)
	assertEqual(t, "empty interval", railyard.ErrorCode(err), railyard.EINVALID)
}

func TestScheduledTrainForOneTeam(t *testing.T) {
	h := trainHarness(t)
	h.release("search", 1, "discovery", "development", "staging", "production")
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"},
		ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "30 6 * * *", Team: "discovery"}}})
	h.deploy("checkout", "staging", 2)
	h.deploy("search", "staging", 1)
	at := utc("2026-11-03 06:30")
	h.now = at
	events, err := h.eng.RunScheduledTrains(context.Background(), at.Add(-time.Minute), at)
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "events", len(events), 1)
	// With its counts of 0 it would be 102 characters.
	assertEqual(t, "description", events[0].Description, "Scheduled release train for team discovery to production from staging: 1 deployed\n\nDeploy search 1 to production")
	assertEqual(t, "checkout untouched", h.state("checkout", "production"), "-/-")
}

func TestNextWakeup(t *testing.T) {
	h := windowHarness(t, officeHours)
	next := func() time.Time {
		t.Helper()
		w, err := h.eng.NextWakeup(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	assertEqual(t, "window closes", next(), berlin("2026-11-02 17:00 CET").UTC())
	exp := t0.Add(30 * time.Minute)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "short"}, Message: "m", ExpiresAt: &exp})
	assertEqual(t, "lock expires", next(), exp)
	h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"},
		ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "15 9 * * *"}}})
	assertEqual(t, "scheduled train", next(), utc("2026-11-02 09:15"))
}

func TestScheduledTrainNeverRunsEarly(t *testing.T) {
	h := trainHarness(t)
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"},
		ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 10 * * *"}}})
	h.deploy("checkout", "staging", 2)
	// The clock says 09:00; an interval reaching into the future does not
	// run the 10:00 train yet.
	events, err := h.eng.RunScheduledTrains(context.Background(), t0, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "early", len(events), 0)
	h.now = t0.Add(time.Hour)
	events, _ = h.eng.RunScheduledTrains(context.Background(), t0, h.now)
	assertEqual(t, "on time", len(events), 1)
}

// schedulerNow is when the scheduler tests start: a Friday, 09:00 UTC.
var schedulerNow = time.Date(2025, 11, 21, 9, 0, 0, 0, time.UTC)

// schedulerHarness has development (every new release) and staging, into
// which a release train is scheduled at 12:05 UTC every day, and a
// release of checkout for both.
func schedulerHarness(t *testing.T) (*harness, *testScheduler) {
	h := newHarness(t)
	sch := newTestScheduler(t, h, schedulerNow)
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"},
		ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "5 12 * * *"}}})
	return h, sch
}

// testScheduler drives a Scheduler on a harness's engine with a clock the
// test moves and ticks the test sends.
type testScheduler struct {
	t     *testing.T
	h     *harness
	now   atomic.Int64
	ticks chan time.Time
	log   *syncbuf.Buffer
	stop  func()
	// wake, if set, is the scheduler's wake-up timer.
	wake func(d time.Duration) <-chan time.Time
}

// newTestScheduler sets the engine's clock to start; the scheduler's
// goroutine reads it, so it is atomic.
func newTestScheduler(t *testing.T, h *harness, start time.Time) *testScheduler {
	ts := &testScheduler{t: t, h: h, ticks: make(chan time.Time), log: &syncbuf.Buffer{}}
	ts.now.Store(start.UnixNano())
	h.eng.Now = func() time.Time { return time.Unix(0, ts.now.Load()).UTC() }
	return ts
}

// start runs the scheduler's loop (without wake-ups unless wake is set:
// ticks only), its first run covering scheduled trains since catchUp
// before now.
func (ts *testScheduler) start(catchUp time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	sch := &railyard.Scheduler{Engine: ts.h.eng, Logger: slog.New(slog.NewTextHandler(ts.log, nil)), Wake: ts.wake}
	go func() {
		sch.Run(ctx, ts.h.eng.Now().Add(-catchUp), ts.ticks)
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
	h, sch := schedulerHarness(t)
	expires := schedulerNow.Add(time.Hour)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "night"},
		Message: "Nightly maintenance", ExpiresAt: &expires})
	h.release("checkout", 1, "", "development", "staging")
	assertEqual(t, "checkout in development", h.state("checkout", "development"), "-/1")

	// 12:00: the lock expired at 10:00; the train is due at 12:05.
	sch.now.Store(time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	sch.start(0)
	if want := "Remove expired locks: development (night); deploy queued checkout 1 to development"; !strings.Contains(sch.log.String(), want) {
		t.Errorf("log has no %q:\n%s", want, sch.log)
	}
	assertEqual(t, "checkout in development after expiry", h.state("checkout", "development"), "1/-")

	sch.tick(time.Date(2025, 11, 21, 12, 4, 59, 0, time.UTC))
	if strings.Contains(sch.log.String(), "scheduled release train") {
		t.Fatalf("the train ran before its time:\n%s", sch.log)
	}
	sch.tick(time.Date(2025, 11, 21, 12, 5, 3, 0, time.UTC))
	want := "Scheduled release train to staging from development: 1 deployed, 0 queued, 0 skipped"
	if !strings.Contains(sch.log.String(), want) {
		t.Errorf("log has no %q:\n%s", want, sch.log)
	}
	events, err := h.eng.FindEvents(context.Background(), railyard.EventFilter{Kind: railyard.KindReleaseTrain})
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
	if id, err := h.eng.LastEventID(context.Background()); err != nil || id != last {
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
			t.Parallel()
			h, sch := schedulerHarness(t)
			h.release("checkout", 1, "", "development", "staging")
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
	h, sch := schedulerHarness(t)
	sch.now.Store(time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano())
	h.release("checkout", 1, "", "development", "staging")

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
	expires := time.Date(2025, 11, 21, 12, 35, 0, 0, time.UTC)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "short"},
		Message: "m", ExpiresAt: &expires})
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
