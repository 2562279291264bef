package railyard_test

import (
	"testing"

	"github.com/railyard-cd/railyard"
)

// branchHarness: production takes only main and release branches;
// checkout 1 comes from main and runs there, 2 from feature/x runs in
// staging.
func branchHarness(t *testing.T) *harness {
	h := newHarness(t).chain()
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, BranchRestriction: "^(main|release/.*)$"})
	h.releaseFrom("checkout", 1, "payments", "main", "development", "staging", "production")
	h.releaseFrom("checkout", 2, "payments", "feature/x", "development", "staging", "production")
	h.deploy("checkout", "production", 1)
	h.deploy("checkout", "staging", 2)
	return h
}

func TestBranchRestrictionRefusesEveryManualDeploy(t *testing.T) {
	const want = `checkout 2 cannot be deployed to production: it comes from branch "feature/x", and production only takes releases whose branch matches "^(main|release/.*)$" (branchRestriction); this cannot be overridden`
	for _, tc := range []struct {
		name string
		cmd  railyard.Command
	}{
		{"deploy", &railyard.Deploy{Application: "checkout", Environment: "production", Version: 2}},
		{"deploy queue", &railyard.Deploy{Application: "checkout", Environment: "production", Version: 2, LockBehavior: railyard.LockBehaviorQueue}},
		{"deploy ignore", &railyard.Deploy{Application: "checkout", Environment: "production", Version: 2, LockBehavior: railyard.LockBehaviorIgnore}},
		{"rollback ignore", &railyard.Rollback{Application: "checkout", Environment: "production", Version: 2, LockBehavior: railyard.LockBehaviorIgnore}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := branchHarness(t)
			h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}, Message: "m"})
			before := h.snapshot()
			err := h.fail(railyard.EINVALID, tc.cmd)
			assertEqual(t, "message", err.Message, want)
			assertEqual(t, "field", err.Field, "version")
			assertEqual(t, "unchanged", h.snapshot(), before)
		})
	}
}

func TestBranchRestrictionSkipsAutomation(t *testing.T) {
	h := branchHarness(t)
	res := h.train(&railyard.ReleaseTrain{Environment: "production"})
	e := entry(t, res.Train, "production", "checkout")
	assertEqual(t, "train", e.SkipReason, railyard.SkipBranchRestricted)
	assertEqual(t, "detail", e.Detail, `it comes from branch "feature/x"; production takes only branches matching "^(main|release/.*)$"`)
	assertEqual(t, "state", h.state("checkout", "production"), "1/-")

	// A latest environment with a restriction skips the new release.
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}, BranchRestriction: "^main$"})
	rel := h.releaseFrom("checkout", 3, "", "feature/y", "development")
	assertEqual(t, "release", rel.Event.Description, "Release checkout 3, skip development (branch-restricted)")
	assertEqual(t, "development", h.state("checkout", "development"), "2/-")
}

func TestBranchRestrictionAddedWhileQueued(t *testing.T) {
	h := newHarness(t).chain()
	h.releaseFrom("checkout", 1, "payments", "feature/x", "development", "staging", "production")
	h.deploy("checkout", "staging", 1)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}, Message: "m"})
	h.train(&railyard.ReleaseTrain{Environment: "production"})
	assertEqual(t, "queued", h.state("checkout", "production"), "-/1")
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, BranchRestriction: "^main$"})
	res := h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}})
	assertEqual(t, "unlock does not deploy it", res.Event.Description, "Unlock production (freeze)")
	assertEqual(t, "still queued", h.state("checkout", "production"), "-/1")
	ev := h.reconcile()
	assertEqual(t, "reconcile drops it", ev.Description, "Drop queued checkout 1 in production (branch-restricted)")
	assertEqual(t, "dropped", h.state("checkout", "production"), "-/-")
}

func TestUpstreamBranch(t *testing.T) {
	h := newHarness(t)
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Branch: "^main$"}})
	h.put("preview", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	res := h.releaseFrom("checkout", 1, "payments", "main", "development", "preview")
	assertEqual(t, "main", res.Event.Description, "Release checkout 1, deploy to development, preview")
	res = h.releaseFrom("checkout", 2, "", "feature/x", "development", "preview")
	assertEqual(t, "feature", res.Event.Description, "Release checkout 2, deploy to preview, skip development (branch not matching upstream.branch)")
	assertEqual(t, "development", h.state("checkout", "development"), "1/-")
	// upstream.branch limits automation only: a person may deploy it.
	h.must(&railyard.Deploy{Application: "checkout", Environment: "development", Version: 2})
	assertEqual(t, "by hand", h.state("checkout", "development"), "2/-")
}
