package railyard_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// officeHours is production's allow window: weekdays 09:00–17:00 Berlin
// time. t0 (Monday 2026-11-02 09:00 UTC) is 10:00 CET, inside it.
var officeHours = allow("0 9 * * 1-5", "8h", "Europe/Berlin")

// windowHarness is trainHarness with production open only in office hours.
func windowHarness(t *testing.T, windows ...railyard.DeployWindow) *harness {
	h := trainHarness(t)
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, DeployWindows: windows})
	return h
}

func (h *harness) reconcile() *railyard.Event {
	h.t.Helper()
	ev, err := h.eng.Reconcile(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return ev
}

func TestQueuedByWindowDeployedWhenItOpens(t *testing.T) {
	h := windowHarness(t, officeHours)
	h.deploy("checkout", "staging", 2)
	h.now = berlin("2026-11-02 18:00 CET")
	res := h.train(&railyard.ReleaseTrain{Environment: "production"})
	assertEqual(t, "queued", outcomes(res.Train), "production/checkout=queued")
	b := res.Train.Environments[0].Applications[0].Blockers[0]
	assertEqual(t, "blocker", b.Description, `deploy window: outside every allow window; next: allow window "0 9 * * 1-5" for 8h (Europe/Berlin); deploys allowed again at 2026-11-03T08:00:00Z`)
	assertEqual(t, "blocker window", *b.Window, officeHours)

	h.now = berlin("2026-11-03 08:59 CET")
	if ev := h.reconcile(); ev != nil {
		t.Fatalf("reconcile while the window is closed recorded %q", ev.Description)
	}
	assertEqual(t, "still queued", h.state("checkout", "production"), "-/2")

	h.now = berlin("2026-11-03 09:00 CET")
	ev := h.reconcile()
	if ev == nil {
		t.Fatal("no event when the window opened")
	}
	assertEqual(t, "actor", ev.Actor, railyard.SystemActor)
	assertEqual(t, "kind", ev.Kind, railyard.KindReconcile)
	assertEqual(t, "description", ev.Description, "Deploy queued checkout 2 to production (deploy window opened)")
	assertEqual(t, "reason", ev.Changes[0].Reason, "deploy window opened")
	assertEqual(t, "deployed by", h.state("checkout", "production"), "2/-")
	if ev := h.reconcile(); ev != nil {
		t.Errorf("second reconcile recorded %q", ev.Description)
	}
}

func TestWindowAndLockTogether(t *testing.T) {
	lock := &railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "production", ID: "freeze", Message: "m"}
	unlock := &railyard.DeleteLock{LockKind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}

	t.Run("lock goes while the window is closed", func(t *testing.T) {
		h := windowHarness(t, officeHours)
		h.deploy("checkout", "staging", 2)
		h.must(lock)
		h.now = berlin("2026-11-02 18:00 CET")
		h.train(&railyard.ReleaseTrain{Environment: "production"})
		res := h.must(unlock)
		assertEqual(t, "unlock deploys nothing", res.Event.Description, "Unlock production (freeze)")
		assertEqual(t, "queued", h.state("checkout", "production"), "-/2")
		h.now = berlin("2026-11-03 09:30 CET")
		assertEqual(t, "window opens", h.reconcile().Changes[0].Reason, "deploy window opened")
		assertEqual(t, "deployed", h.state("checkout", "production"), "2/-")
	})
	t.Run("window opens while locked", func(t *testing.T) {
		h := windowHarness(t, officeHours)
		h.deploy("checkout", "staging", 2)
		h.must(lock)
		h.now = berlin("2026-11-02 18:00 CET")
		h.train(&railyard.ReleaseTrain{Environment: "production"})
		h.now = berlin("2026-11-03 09:30 CET")
		if ev := h.reconcile(); ev != nil {
			t.Fatalf("reconcile deployed through a lock: %q", ev.Description)
		}
		res := h.must(unlock)
		assertEqual(t, "unlock deploys", res.Event.Description, "Unlock production (freeze), deploy queued checkout 2 to production")
	})
	t.Run("expired lock in a closed window", func(t *testing.T) {
		h := windowHarness(t, officeHours)
		h.deploy("checkout", "staging", 2)
		exp := berlin("2026-11-02 17:30 CET")
		h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "production", ID: "short", Message: "m", ExpiresAt: &exp})
		h.train(&railyard.ReleaseTrain{Environment: "production"})
		h.now = berlin("2026-11-02 18:00 CET")
		ev := h.reconcile()
		assertEqual(t, "lock removed only", ev.Description, "Remove expired locks: production (short)")
		assertEqual(t, "still queued", h.state("checkout", "production"), "-/2")
		h.now = berlin("2026-11-03 09:00 CET")
		assertEqual(t, "deployed at opening", h.reconcile().Description, "Deploy queued checkout 2 to production (deploy window opened)")
	})
	t.Run("expired lock in an open window", func(t *testing.T) {
		h := windowHarness(t, officeHours)
		h.deploy("checkout", "staging", 2)
		exp := t0.Add(time.Hour)
		h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "production", ID: "short", Message: "m", ExpiresAt: &exp})
		h.train(&railyard.ReleaseTrain{Environment: "production"})
		h.now = t0.Add(2 * time.Hour)
		ev := h.reconcile()
		assertEqual(t, "description", ev.Description, "Remove expired locks: production (short); deploy queued checkout 2 to production")
		assertEqual(t, "reason", ev.Changes[1].Reason, "queued version, last blocker removed")
	})
}

func TestManualDeployInClosedWindow(t *testing.T) {
	lunch := deny("0 9 * * *", "1h", "")
	for _, tc := range []struct {
		behavior railyard.LockBehavior
		state    string
	}{{"", "1/-"}, {railyard.LockBehaviorFail, "1/-"}, {railyard.LockBehaviorQueue, "1/2"}, {railyard.LockBehaviorIgnore, "2/-"}} {
		t.Run(string(tc.behavior), func(t *testing.T) {
			h := windowHarness(t, lunch)
			h.deploy("checkout", "production", 1)
			before := h.snapshot()
			cmd := &railyard.Deploy{Application: "checkout", Environment: "production", Version: 2, LockBehavior: tc.behavior}
			switch tc.behavior {
			case "", railyard.LockBehaviorFail:
				err := h.fail(railyard.ELOCKED, cmd)
				assertEqual(t, "blocker kind", err.Blockers[0].Kind, railyard.BlockerWindow)
				if !strings.Contains(err.Message, `blocked by deploy window: inside deny window "0 9 * * *" for 1h (UTC)`) {
					t.Errorf("message %q does not name the window", err.Message)
				}
				assertEqual(t, "unchanged", h.snapshot(), before)
			case railyard.LockBehaviorQueue:
				res := h.must(cmd)
				assertEqual(t, "description", res.Event.Description, `Queue checkout 2 in production (blocked by deny window "0 9 * * *")`)
			case railyard.LockBehaviorIgnore:
				res := h.must(cmd)
				assertEqual(t, "description", res.Event.Description, `Deploy checkout 2 to production, overriding deny window "0 9 * * *"`)
				assertEqual(t, "recorded", res.Event.Changes[0].Blockers[0].Window.Schedule, "0 9 * * *")
				assertEqual(t, "reason", res.Event.Changes[0].Reason, `manual, overriding deny window "0 9 * * *"`)
			}
			assertEqual(t, "state", h.state("checkout", "production"), tc.state)
		})
	}
}

func TestNewReleaseQueuedByWindow(t *testing.T) {
	h := newHarness(t)
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true},
		DeployWindows: []railyard.DeployWindow{deny("0 9 * * *", "1h", "")}})
	res := h.release("checkout", 1, "payments", "development")
	assertEqual(t, "description", res.Event.Description, "Release checkout 1, queue in development (deploy window closed)")
	h.now = t0.Add(time.Hour)
	assertEqual(t, "deployed when it opens", h.reconcile().Description, "Deploy queued checkout 1 to development (deploy window opened)")
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
	h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "staging", ID: "short", Message: "m", ExpiresAt: &exp})
	assertEqual(t, "lock expires", next(), exp)
	h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"},
		ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "15 9 * * *"}}})
	assertEqual(t, "scheduled train", next(), utc("2026-11-02 09:15"))
}

func TestPromotionConfigRules(t *testing.T) {
	h := trainHarness(t)
	up := &railyard.Upstream{Environment: "staging"}
	cases := []struct {
		name  string
		cfg   railyard.EnvironmentConfig
		field string
	}{
		{"window @every", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{allow("@every 1h", "1h", "")}}, "deployWindows[0].schedule"},
		{"window TZ prefix", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{allow("TZ=Asia/Tokyo 0 9 * * *", "1h", "")}}, "deployWindows[0].schedule"},
		{"window negative duration", railyard.EnvironmentConfig{DeployWindows: []railyard.DeployWindow{allow("0 9 * * *", "-1h", "")}}, "deployWindows[0].duration"},
		{"train without upstream", railyard.EnvironmentConfig{ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *"}}}, "releaseTrains[0]"},
		{"train bad cron", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * *"}}}, "releaseTrains[0].schedule"},
		{"train bad zone", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *", TimeZone: "Europe/Atlantis"}}}, "releaseTrains[0].timeZone"},
		{"train bad team", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *", Team: "Payments"}}}, "releaseTrains[0].team"},
		{"train second entry", railyard.EnvironmentConfig{Upstream: up, ReleaseTrains: []railyard.ScheduledTrain{{Schedule: "0 12 * * *"}, {Schedule: "@every 5m"}}}, "releaseTrains[1].schedule"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot()
			err := h.fail(railyard.EINVALID, &railyard.PutEnvironment{Name: "production", Config: tc.cfg})
			assertEqual(t, "field", err.Field, tc.field)
			if !strings.HasPrefix(err.Message, tc.field) {
				t.Errorf("message %q does not start with the field", err.Message)
			}
			assertEqual(t, "state", h.snapshot(), before)
		})
	}
}

func TestDeployWindowState(t *testing.T) {
	h := windowHarness(t, officeHours)
	st, err := h.eng.DeployWindowState(context.Background(), "production")
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "allowed", st.Allowed, true)
	assertEqual(t, "until", *st.NextChange, utc("2026-11-02 16:00"))
	st, _ = h.eng.DeployWindowState(context.Background(), "staging")
	assertEqual(t, "no windows", st.Allowed && st.NextChange == nil, true)
	_, err = h.eng.DeployWindowState(context.Background(), "nope")
	assertEqual(t, "unknown", railyard.ErrorCode(err), railyard.ENOTFOUND)
}

func TestQueueOutsideAllowWindowAndWindowRemoved(t *testing.T) {
	h := windowHarness(t, officeHours)
	h.now = berlin("2026-11-02 20:00 CET")
	res := h.must(&railyard.Deploy{Application: "checkout", Environment: "production", Version: 2, LockBehavior: railyard.LockBehaviorQueue})
	assertEqual(t, "description", res.Event.Description, `Queue checkout 2 in production (blocked by outside allow window "0 9 * * 1-5")`)
	// Without windows, nothing blocks any more: Reconcile deploys it.
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}})
	ev := h.reconcile()
	assertEqual(t, "reconcile", ev.Description, "Deploy queued checkout 2 to production")
	assertEqual(t, "reason", ev.Changes[0].Reason, "queued version, last blocker removed")
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
