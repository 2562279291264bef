package railyard_test

import (
	"context"
	"testing"

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
			h.must(&railyard.CreateLock{LockKind: railyard.LockEnvironment, Environment: "production", ID: "freeze", Message: "m"})
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
