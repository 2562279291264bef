package railyard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// rollbackHarness runs checkout 1, 2, 3, 4 in production, one after the
// other.
func rollbackHarness(t *testing.T) *harness {
	h := newHarness(t).chain()
	for v := int64(1); v <= 4; v++ {
		h.release("checkout", v, "payments", "development", "staging", "production")
		h.deploy("checkout", "production", v)
	}
	return h
}

func (h *harness) rollbackVersion(app, env string) int64 {
	h.t.Helper()
	v, err := h.eng.RollbackVersion(context.Background(), app, env)
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

func TestRollbackWalksBackThroughHistory(t *testing.T) {
	h := rollbackHarness(t)
	assertEqual(t, "rollback target", h.rollbackVersion("checkout", "production"), int64(3))
	res := h.must(&railyard.Rollback{Application: "checkout", Environment: "production"})
	assertEqual(t, "description", res.Event.Description, "Roll back checkout in production from 4 to 3")
	assertEqual(t, "kind", res.Event.Kind, railyard.KindRollback)
	assertEqual(t, "reason", res.Event.Changes[0].Reason, "rollback")
	assertEqual(t, "state", h.state("checkout", "production"), "3/-")

	// Rolling back again goes further back, not forward to 4.
	h.must(&railyard.Rollback{Application: "checkout", Environment: "production"})
	assertEqual(t, "second rollback", h.state("checkout", "production"), "2/-")

	// A deployment after a rollback is history too: deploy 4, then the
	// version before it is 2 (what ran before 4 this time).
	h.deploy("checkout", "production", 4)
	assertEqual(t, "after a new deployment", h.rollbackVersion("checkout", "production"), int64(2))

	// An explicit version is a rollback to it; the history pops back to it.
	res = h.must(&railyard.Rollback{Application: "checkout", Environment: "production", Version: 1})
	assertEqual(t, "explicit", res.Event.Description, "Roll back checkout in production from 4 to 1")
	err := h.fail(railyard.EINVALID, &railyard.Rollback{Application: "checkout", Environment: "production"})
	assertEqual(t, "nothing before the first", err.Message, "no version of checkout ran in production before 1: give the version to roll back to")
	assertEqual(t, "field", err.Field, "version")
}

func TestRollbackFollowsLockBehavior(t *testing.T) {
	for _, tc := range []struct {
		behavior railyard.LockBehavior
		code     string
		state    string
		desc     string
	}{
		{"", railyard.ELOCKED, "4/-", ""},
		{railyard.LockBehaviorFail, railyard.ELOCKED, "4/-", ""},
		{railyard.LockBehaviorQueue, "", "4/3", `Queue rollback of checkout in production to 3 (blocked by environment lock "freeze")`},
		{railyard.LockBehaviorIgnore, "", "3/-", `Roll back checkout in production from 4 to 3, overriding environment lock "freeze"`},
	} {
		t.Run(string(tc.behavior), func(t *testing.T) {
			h := rollbackHarness(t)
			h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}, Message: "m"})
			cmd := &railyard.Rollback{Application: "checkout", Environment: "production", LockBehavior: tc.behavior}
			if tc.code != "" {
				before := h.snapshot()
				err := h.fail(tc.code, cmd)
				assertEqual(t, "blockers", len(err.Blockers), 1)
				assertEqual(t, "unchanged", h.snapshot(), before)
				return
			}
			res := h.must(cmd)
			assertEqual(t, "state", h.state("checkout", "production"), tc.state)
			assertEqual(t, "description", res.Event.Description, tc.desc)
		})
	}
}

func TestRollbackBadInput(t *testing.T) {
	h := rollbackHarness(t)
	h.eng.KeepReleases = 1
	h.release("checkout", 5, "payments", "development") // cleans up 1 (and keeps 4, deployed)
	before := h.snapshot()
	cases := []struct {
		name  string
		cmd   *railyard.Rollback
		code  string
		field string
	}{
		{"bad application", &railyard.Rollback{Application: "Checkout", Environment: "production"}, railyard.EINVALID, "application"},
		{"negative version", &railyard.Rollback{Application: "checkout", Environment: "production", Version: -1}, railyard.EINVALID, "version"},
		{"bad behaviour", &railyard.Rollback{Application: "checkout", Environment: "production", LockBehavior: "force"}, railyard.EINVALID, "lockBehavior"},
		{"unknown environment", &railyard.Rollback{Application: "checkout", Environment: "nope"}, railyard.ENOTFOUND, ""},
		{"unknown application", &railyard.Rollback{Application: "nope", Environment: "production"}, railyard.ENOTFOUND, ""},
		{"not running there", &railyard.Rollback{Application: "checkout", Environment: "staging"}, railyard.EINVALID, "environment"},
		{"cleaned up release", &railyard.Rollback{Application: "checkout", Environment: "production", Version: 1}, railyard.ENOTFOUND, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := h.fail(tc.code, tc.cmd)
			assertEqual(t, "field", err.Field, tc.field)
			assertEqual(t, "state", h.snapshot(), before)
		})
	}
	// Walk back to 2, whose release is gone after the cleanup.
	h.must(&railyard.Rollback{Application: "checkout", Environment: "production"})
	assertEqual(t, "at 3", h.state("checkout", "production"), "3/-")
	h.deploy("checkout", "production", 4)
	h.must(&railyard.Rollback{Application: "checkout", Environment: "production", Version: 3})
	err := h.fail(railyard.ENOTFOUND, &railyard.Rollback{Application: "checkout", Environment: "production"})
	assertEqual(t, "message", err.Message, "checkout 2 ran in production before, but its release has been cleaned up: give a version that still exists")
}

// TestRollbackReadsFurtherBackWhenNeeded rolls back past the newest events:
// the history is read in growing pages until the answer is certain.
func TestRollbackReadsFurtherBackWhenNeeded(t *testing.T) {
	h := newHarness(t).chain()
	h.eng.KeepReleases = 100
	for v := int64(1); v <= 30; v++ {
		h.release("checkout", v, "payments", "production")
		h.deploy("checkout", "production", v)
	}
	h.must(&railyard.Rollback{Application: "checkout", Environment: "production", Version: 2})
	assertEqual(t, "before 2", h.rollbackVersion("checkout", "production"), int64(1))
	h.deploy("checkout", "production", 30)
	assertEqual(t, "before 30", h.rollbackVersion("checkout", "production"), int64(2))
}

// blockerSetups are the lock situations of the matrix, for checkout (team
// payments) in an environment env. blocking is how many locks hold it back.
var blockerSetups = []struct {
	name     string
	locks    func(env string) []*railyard.CreateLock
	expire   bool // advance the clock past every lock's expiry
	blocking int
}{
	{name: "no lock", locks: func(string) []*railyard.CreateLock { return nil }},
	{name: "environment lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: env, ID: "freeze"}, Message: "black friday"}}
	}},
	{name: "application lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: env, Application: "checkout", ID: "bug"}, Message: "investigating"}}
	}},
	{name: "team lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: env, Team: "payments", ID: "audit"}, Message: "audit"}}
	}},
	{name: "group lock", blocking: 1, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockGroup, Group: "grp", ID: "grp-freeze"}, Message: "group freeze"}}
	}},
	{name: "all three kinds", blocking: 3, locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{
			{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: env, ID: "freeze"}, Message: "m"},
			{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: env, Application: "checkout", ID: "bug"}, Message: "m"},
			{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: env, Team: "payments", ID: "audit"}, Message: "m"},
		}
	}},
	{name: "lock of another application", locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: env, Application: "search", ID: "x"}, Message: "m"}}
	}},
	{name: "lock of another team", locks: func(env string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: env, Team: "discovery", ID: "x"}, Message: "m"}}
	}},
	{name: "lock in another environment", locks: func(string) []*railyard.CreateLock {
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "other", ID: "x"}, Message: "m"}}
	}},
	{name: "expired lock", expire: true, locks: func(env string) []*railyard.CreateLock {
		exp := t0.Add(time.Hour)
		return []*railyard.CreateLock{{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: env, ID: "short"}, Message: "m", ExpiresAt: &exp}}
	}},
}

// matrixHarness sets up environment target (in group grp), an unrelated
// environment other, checkout (team payments) and search (team discovery).
func matrixHarness(t *testing.T, target railyard.EnvironmentConfig) *harness {
	h := newHarness(t)
	target.EnvironmentGroup = "grp"
	h.put("other", railyard.EnvironmentConfig{})
	h.put("target", target)
	h.release("search", 1, "discovery", "target", "other")
	return h
}

func TestManualDeployLockMatrix(t *testing.T) {
	behaviors := []railyard.LockBehavior{"", railyard.LockBehaviorFail, railyard.LockBehaviorQueue, railyard.LockBehaviorIgnore}
	for _, setup := range blockerSetups {
		for _, behavior := range behaviors {
			t.Run(fmt.Sprintf("%s/%s", setup.name, behavior), func(t *testing.T) {
				h := matrixHarness(t, railyard.EnvironmentConfig{})
				h.release("checkout", 1, "payments", "target")
				h.release("checkout", 2, "payments", "target")
				h.must(&railyard.Deploy{Application: "checkout", Environment: "target", Version: 1})
				for _, l := range setup.locks("target") {
					h.must(l)
				}
				if setup.expire {
					h.now = t0.Add(2 * time.Hour)
				}
				before := h.snapshot()
				cmd := &railyard.Deploy{Application: "checkout", Environment: "target", Version: 2, LockBehavior: behavior}
				blocked := setup.blocking > 0
				switch {
				case !blocked:
					res := h.must(cmd)
					assertEqual(t, "outcome", res.Outcome, railyard.OutcomeDeployed)
					assertEqual(t, "state", h.state("checkout", "target"), "2/-")
					assertEqual(t, "description", res.Event.Description, "Deploy checkout 2 to target")
				case behavior == "" || behavior == railyard.LockBehaviorFail:
					err := h.fail(railyard.ELOCKED, cmd)
					assertEqual(t, "blockers", len(err.Blockers), setup.blocking)
					if !strings.Contains(err.Message, "cannot be deployed to target: blocked by") {
						t.Errorf("message %q does not say what blocks", err.Message)
					}
					assertEqual(t, "state after refusal", h.snapshot(), before)
				case behavior == railyard.LockBehaviorQueue:
					res := h.must(cmd)
					assertEqual(t, "outcome", res.Outcome, railyard.OutcomeQueued)
					assertEqual(t, "state", h.state("checkout", "target"), "1/2")
					assertEqual(t, "queued because", len(res.Deployment.QueuedBecause), setup.blocking)
				case behavior == railyard.LockBehaviorIgnore:
					res := h.must(cmd)
					assertEqual(t, "outcome", res.Outcome, railyard.OutcomeDeployed)
					assertEqual(t, "state", h.state("checkout", "target"), "2/-")
					ch := res.Event.Changes[0]
					assertEqual(t, "overridden blockers", len(ch.Blockers), setup.blocking)
					if !strings.HasPrefix(res.Event.Description, "Deploy checkout 2 to target, overriding ") {
						t.Errorf("description %q does not name the overridden locks", res.Event.Description)
					}
				}
			})
		}
	}
}

func TestAutomaticDeployLockMatrix(t *testing.T) {
	for _, setup := range blockerSetups {
		t.Run(setup.name, func(t *testing.T) {
			h := matrixHarness(t, railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
			h.release("checkout", 1, "payments", "target")
			assertEqual(t, "first release", h.state("checkout", "target"), "1/-")
			for _, l := range setup.locks("target") {
				h.must(l)
			}
			if setup.expire {
				h.now = t0.Add(2 * time.Hour)
			}
			res := h.release("checkout", 2, "payments", "target")
			if setup.blocking == 0 {
				assertEqual(t, "state", h.state("checkout", "target"), "2/-")
				assertEqual(t, "description", res.Event.Description, "Release checkout 2, deploy to target")
				return
			}
			assertEqual(t, "state", h.state("checkout", "target"), "1/2")
			assertEqual(t, "description", res.Event.Description, "Release checkout 2, queue in target (locked)")
			// A newer release replaces the queue: last deployment wins.
			h.release("checkout", 3, "payments", "target")
			assertEqual(t, "queue replaced", h.state("checkout", "target"), "1/3")
		})
	}
}

func TestQueueDeployedWhenLastBlockerGoes(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development")
	h.release("cart", 1, "payments", "development")
	h.release("search", 1, "discovery", "development")
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "env"}, Message: "m"})
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "app"}, Message: "m"})
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "team"}, Message: "m"})
	h.release("checkout", 2, "", "development")
	h.release("cart", 2, "", "development")
	h.release("search", 2, "", "development")
	want := map[string]string{"checkout": "1/2", "cart": "1/2", "search": "1/2"}
	for app, s := range want {
		assertEqual(t, app, h.state(app, "development"), s)
	}

	// The environment lock goes: search is free, cart still has its team
	// lock, checkout its team and application locks.
	res := h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "env"}})
	assertEqual(t, "description", res.Event.Description, "Unlock development (env), deploy queued search 2 to development")
	assertEqual(t, "search", h.state("search", "development"), "2/-")
	assertEqual(t, "cart", h.state("cart", "development"), "1/2")
	assertEqual(t, "checkout", h.state("checkout", "development"), "1/2")
	ev := h.lastEvent()
	assertEqual(t, "actor of queue deploy", ev.Actor, alice)
	assertEqual(t, "change reason", ev.Changes[1].Reason, "queued version, last blocker removed")

	h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "development", Team: "payments", ID: "team"}})
	assertEqual(t, "cart", h.state("cart", "development"), "2/-")
	assertEqual(t, "checkout still app-locked", h.state("checkout", "development"), "1/2")

	h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "development", Application: "checkout", ID: "app"}})
	assertEqual(t, "checkout", h.state("checkout", "development"), "2/-")
}

func TestQueueClearedByDeploy(t *testing.T) {
	h := newHarness(t).chain()
	for v := int64(1); v <= 3; v++ {
		h.release("checkout", v, "payments", "staging")
	}
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1})
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "l"}, Message: "m"})
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3, LockBehavior: railyard.LockBehaviorQueue})
	assertEqual(t, "queued 3", h.state("checkout", "staging"), "1/3")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 2, LockBehavior: railyard.LockBehaviorIgnore})
	assertEqual(t, "older deploy keeps newer queue", h.state("checkout", "staging"), "2/3")
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3, LockBehavior: railyard.LockBehaviorIgnore})
	assertEqual(t, "deploying the queued version clears the queue", h.state("checkout", "staging"), "3/-")

	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 2, LockBehavior: railyard.LockBehaviorQueue})
	h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3, LockBehavior: railyard.LockBehaviorQueue})
	assertEqual(t, "queueing the running version over an older queue", h.state("checkout", "staging"), "3/-")
	before := h.lastEventID()
	res := h.must(&railyard.Deploy{Application: "checkout", Environment: "staging", Version: 3})
	assertEqual(t, "deploying the running version", res.Outcome, railyard.OutcomeUnchanged)
	assertEqual(t, "no event", h.lastEventID(), before)
}

func TestAutomaticDeployNeverMovesTheQueueBackwards(t *testing.T) {
	h := newHarness(t).chain()
	h.release("checkout", 2, "payments", "development")
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "l"}, Message: "m"})
	h.release("checkout", 5, "payments", "development")
	h.release("checkout", 3, "payments", "development")
	assertEqual(t, "queue keeps the newest", h.state("checkout", "development"), "2/5")
}
