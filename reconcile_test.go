package railyard_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
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
