package railyard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

func allow(schedule, duration, zone string) railyard.DeployWindow {
	return railyard.DeployWindow{Kind: railyard.DeployWindowAllow, Schedule: schedule, Duration: duration, TimeZone: zone}
}

func deny(schedule, duration, zone string) railyard.DeployWindow {
	return railyard.DeployWindow{Kind: railyard.DeployWindowDeny, Schedule: schedule, Duration: duration, TimeZone: zone}
}

// utc parses "2006-01-02 15:04" as UTC.
func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// berlin parses "2006-01-02 15:04 MST" (CET or CEST) in Europe/Berlin, so
// that a test names which side of a clock change it means.
func berlin(s string) time.Time {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	t, err := time.ParseInLocation("2006-01-02 15:04 MST", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func TestEvaluateDeployWindows(t *testing.T) {
	const bln = "Europe/Berlin"
	office := []railyard.DeployWindow{allow("0 9 * * 1-5", "8h", bln)}
	night := []railyard.DeployWindow{deny("0 22 * * *", "10h", "")}
	lunch := []railyard.DeployWindow{allow("0 8 * * *", "10h", ""), deny("0 12 * * *", "1h", "")}
	twoAllows := []railyard.DeployWindow{allow("0 9 * * *", "1h", ""), allow("0 15 * * *", "1h", "")}
	weekend := []railyard.DeployWindow{deny("0 0 * * 6", "48h", "")}
	cases := []struct {
		name    string
		windows []railyard.DeployWindow
		at      time.Time
		allowed bool
		next    time.Time // zero: no change within a year
		// blockers lists the kinds of the blocking windows, in order.
		blockers string
	}{
		{"no windows", nil, utc("2026-11-02 09:00"), true, time.Time{}, ""},
		{"inside office hours", office, berlin("2026-11-02 10:00 CET"), true, berlin("2026-11-02 17:00 CET"), ""},
		{"at the opening minute", office, berlin("2026-11-02 09:00 CET"), true, berlin("2026-11-02 17:00 CET"), ""},
		{"at the closing minute", office, berlin("2026-11-02 17:00 CET"), false, berlin("2026-11-03 09:00 CET"), "allow"},
		{"friday evening waits for monday", office, berlin("2026-11-06 18:00 CET"), false, berlin("2026-11-09 09:00 CET"), "allow"},

		{"night window crosses midnight: evening", night, utc("2026-11-02 23:00"), false, utc("2026-11-03 08:00"), "deny"},
		{"night window crosses midnight: early morning", night, utc("2026-11-03 03:00"), false, utc("2026-11-03 08:00"), "deny"},
		{"night window: closed at its end", night, utc("2026-11-03 08:00"), true, utc("2026-11-03 22:00"), ""},
		{"night window: a minute before", night, utc("2026-11-02 21:59"), true, utc("2026-11-02 22:00"), ""},

		{"overlap: allowed before lunch", lunch, utc("2026-11-02 11:00"), true, utc("2026-11-02 12:00"), ""},
		{"overlap: deny inside allow", lunch, utc("2026-11-02 12:30"), false, utc("2026-11-02 13:00"), "deny"},
		{"overlap: after lunch", lunch, utc("2026-11-02 13:00"), true, utc("2026-11-02 18:00"), ""},
		{"overlap: outside the allow window", lunch, utc("2026-11-02 19:00"), false, utc("2026-11-03 08:00"), "allow"},

		{"two allow windows: between them", twoAllows, utc("2026-11-02 12:00"), false, utc("2026-11-02 15:00"), "allow"},
		{"two allow windows: in the second", twoAllows, utc("2026-11-02 15:30"), true, utc("2026-11-02 16:00"), ""},

		{"deny only: weekend", weekend, utc("2026-11-08 12:00"), false, utc("2026-11-09 00:00"), "deny"},
		{"deny only: weekday", weekend, utc("2026-11-06 12:00"), true, utc("2026-11-07 00:00"), ""},

		{"duration longer than period: always open", []railyard.DeployWindow{allow("0 * * * *", "90m", "")}, utc("2026-11-02 09:59"), true, time.Time{}, ""},
		{"daily for 36h: always open", []railyard.DeployWindow{allow("0 0 * * *", "36h", "")}, utc("2026-11-02 23:59"), true, time.Time{}, ""},
		{"overlapping deny openings: always closed", []railyard.DeployWindow{deny("0 */2 * * *", "3h", "")}, utc("2026-11-02 09:00"), false, time.Time{}, "deny"},
		{"long deny over a short gap", []railyard.DeployWindow{deny("0 0 * * 1", "167h", "")}, utc("2026-11-08 23:30"), true, utc("2026-11-09 00:00"), ""},
		{"allow window that never opens", []railyard.DeployWindow{allow("0 0 30 2 *", "1h", "")}, utc("2026-11-02 09:00"), false, time.Time{}, "allow"},

		// Spring forward in Berlin: 2026-03-29 02:00 CET → 03:00 CEST.
		{"spring: 02:30 fires at the jump", []railyard.DeployWindow{deny("30 2 * * *", "1h", bln)}, berlin("2026-03-29 03:30 CEST"), false, berlin("2026-03-29 04:00 CEST"), "deny"},
		{"spring: just before the jump", []railyard.DeployWindow{deny("30 2 * * *", "1h", bln)}, berlin("2026-03-29 01:59 CET"), true, berlin("2026-03-29 03:00 CEST"), ""},
		{"spring: day before", []railyard.DeployWindow{deny("30 2 * * *", "1h", bln)}, berlin("2026-03-28 02:45 CET"), false, berlin("2026-03-28 03:30 CET"), "deny"},
		{"spring: day after", []railyard.DeployWindow{deny("30 2 * * *", "1h", bln)}, berlin("2026-03-30 02:15 CEST"), true, berlin("2026-03-30 02:30 CEST"), ""},
		{"spring: night lasts 10 real hours", []railyard.DeployWindow{deny("0 22 * * *", "10h", bln)}, berlin("2026-03-29 08:30 CEST"), false, berlin("2026-03-29 09:00 CEST"), "deny"},
		{"spring: office hours in summer time", office[:1], berlin("2026-03-30 09:00 CEST"), true, berlin("2026-03-30 17:00 CEST"), ""},
		{"spring: office closed before 09:00 summer time", office[:1], berlin("2026-03-30 08:30 CEST"), false, berlin("2026-03-30 09:00 CEST"), "allow"},

		// Fall back in Berlin: 2026-10-25 03:00 CEST → 02:00 CET.
		{"fall: 02:30 opens at its first occurrence", []railyard.DeployWindow{deny("30 2 * * *", "1h", bln)}, berlin("2026-10-25 02:45 CEST"), false, berlin("2026-10-25 02:30 CET"), "deny"},
		{"fall: still open in the repeated hour", []railyard.DeployWindow{deny("30 2 * * *", "1h", bln)}, berlin("2026-10-25 02:10 CET"), false, berlin("2026-10-25 02:30 CET"), "deny"},
		{"fall: not again at the second 02:30", []railyard.DeployWindow{deny("30 2 * * *", "1h", bln)}, berlin("2026-10-25 02:45 CET"), true, berlin("2026-10-26 02:30 CET"), ""},
		{"fall: night lasts 10 real hours", []railyard.DeployWindow{deny("0 22 * * *", "10h", bln)}, berlin("2026-10-25 06:59 CET"), false, berlin("2026-10-25 07:00 CET"), "deny"},
		{"fall: hourly window opens once in the repeated hour", []railyard.DeployWindow{allow("0 * * * *", "30m", bln)}, berlin("2026-10-25 02:10 CET"), false, berlin("2026-10-25 03:00 CET"), "allow"},

		// New York jumps at 02:00 EST → 03:00 EDT (07:00 UTC).
		{"new york: 02:30 fires at the jump", []railyard.DeployWindow{deny("30 2 * * *", "1h", "America/New_York")}, utc("2026-03-08 07:10"), false, utc("2026-03-08 08:00"), "deny"},
		// Lord Howe moves its clocks by 30 minutes: 02:00 → 02:30 on 2026-10-04
		// (15:30 UTC).
		{"lord howe: 02:15 fires at the jump", []railyard.DeployWindow{deny("15 2 * * *", "1h", "Australia/Lord_Howe")}, utc("2026-10-03 15:40"), false, utc("2026-10-03 16:30"), "deny"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := railyard.EvaluateDeployWindows(tc.windows, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			assertEqual(t, "allowed", st.Allowed, tc.allowed)
			got := time.Time{}
			if st.NextChange != nil {
				got = *st.NextChange
			}
			if !got.Equal(tc.next) {
				t.Errorf("next change: got %v, want %v", got.UTC(), tc.next.UTC())
			}
			var kinds []string
			for _, b := range st.Blockers {
				assertEqual(t, "blocker kind", b.Kind, railyard.BlockerWindow)
				if b.Window == nil || !strings.HasPrefix(b.Description, "deploy window: ") {
					t.Errorf("blocker %+v does not name its window", b)
					continue
				}
				kinds = append(kinds, b.Window.Kind)
			}
			assertEqual(t, "blockers", strings.Join(kinds, ","), tc.blockers)
		})
	}
}

func TestWindowBlockerDescription(t *testing.T) {
	st, err := railyard.EvaluateDeployWindows([]railyard.DeployWindow{
		allow("0 9 * * 1-5", "8h", "Europe/Berlin"), deny("0 12 * * *", "1h", ""),
	}, utc("2026-11-02 12:30"))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "blockers", len(st.Blockers), 1)
	assertEqual(t, "description", st.Blockers[0].Description,
		`deploy window: inside deny window "0 12 * * *" for 1h (UTC), open since 2026-11-02T12:00:00Z; deploys allowed again at 2026-11-02T13:00:00Z`)
	assertEqual(t, "until", *st.Blockers[0].Until, utc("2026-11-02 13:00"))

	st, _ = railyard.EvaluateDeployWindows([]railyard.DeployWindow{allow("0 9 * * 1-5", "8h", "Europe/Berlin")}, utc("2026-11-07 10:00"))
	assertEqual(t, "description", st.Blockers[0].Description,
		`deploy window: outside every allow window; next: allow window "0 9 * * 1-5" for 8h (Europe/Berlin); deploys allowed again at 2026-11-09T08:00:00Z`)
}

func TestEvaluateDeployWindowsRejectsInvalid(t *testing.T) {
	for _, w := range []railyard.DeployWindow{
		allow("@every 1h", "1h", ""), allow("TZ=Asia/Tokyo 0 9 * * *", "1h", ""), allow("0 9 * *", "1h", ""),
		allow("0 9 * * *", "0s", ""), allow("0 9 * * *", "1h", "Mars/Base"), {Kind: "sometimes", Schedule: "0 9 * * *", Duration: "1h"},
	} {
		_, err := railyard.EvaluateDeployWindows([]railyard.DeployWindow{w}, t0)
		assertEqual(t, w.Schedule+" code", railyard.ErrorCode(err), railyard.EINVALID)
	}
}

// officeHours is production's allow window: weekdays 09:00–17:00 Berlin
// time. t0 (Monday 2026-11-02 09:00 UTC) is 10:00 CET, inside it.
var officeHours = allow("0 9 * * 1-5", "8h", "Europe/Berlin")

// windowHarness is trainHarness with production open only in office hours.
func windowHarness(t *testing.T, windows ...railyard.DeployWindow) *harness {
	h := trainHarness(t)
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, DeployWindows: windows})
	return h
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
	lock := &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}, Message: "m"}
	unlock := &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}}

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
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "short"}, Message: "m", ExpiresAt: &exp})
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
		h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "short"}, Message: "m", ExpiresAt: &exp})
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
