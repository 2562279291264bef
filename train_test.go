package railyard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

// releaseFrom publishes a release of app built from branch.
func (h *harness) releaseFrom(app string, version int64, team, branch string, envs ...string) *railyard.Result {
	h.t.Helper()
	cmd := releaseCmd(app, version, team, envs...)
	cmd.SourceBranch = branch
	return h.must(cmd)
}

// deploy deploys a version by hand, ignoring locks and windows.
func (h *harness) deploy(app, env string, version int64) {
	h.t.Helper()
	h.must(&railyard.Deploy{Application: app, Environment: env, Version: version, LockBehavior: railyard.LockBehaviorIgnore})
}

// train runs a release train and returns its result.
func (h *harness) train(t *railyard.ReleaseTrain) *railyard.Result {
	h.t.Helper()
	res := h.must(t)
	if res.Train == nil {
		h.t.Fatalf("release train without a train result")
	}
	return res
}

// entry returns what a train did with app in env.
func entry(t testing.TB, r *railyard.TrainResult, env, app string) *railyard.TrainApplication {
	t.Helper()
	for _, te := range r.Environments {
		if te.Environment != env {
			continue
		}
		for _, a := range te.Applications {
			if a.Application == app {
				return a
			}
		}
	}
	t.Fatalf("train result has no entry for %s in %s", app, env)
	return nil
}

// outcomes summarizes a train result as "env/app=outcome[:reason]" lines.
func outcomes(r *railyard.TrainResult) string {
	var lines []string
	for _, te := range r.Environments {
		if te.SkipReason != "" {
			lines = append(lines, fmt.Sprintf("%s=%s", te.Environment, te.SkipReason))
		}
		for _, a := range te.Applications {
			s := fmt.Sprintf("%s/%s=%s", te.Environment, a.Application, a.Outcome)
			if a.SkipReason != "" {
				s += ":" + a.SkipReason
			}
			lines = append(lines, s)
		}
	}
	return strings.Join(lines, " ")
}

// trainHarness sets up development (latest) → staging → production with
// checkout (team payments) released as 1 and 2 to all three.
func trainHarness(t *testing.T) *harness {
	h := newHarness(t).chain()
	h.release("checkout", 1, "payments", "development", "staging", "production")
	h.release("checkout", 2, "payments", "development", "staging", "production")
	return h
}

func TestTrainSkipAndQueueMatrix(t *testing.T) {
	const prod = "production"
	lock := func(cl *railyard.CreateLock) func(h *harness) { return func(h *harness) { h.must(cl) } }
	windows := func(ws ...railyard.DeployWindow) func(h *harness) {
		return func(h *harness) {
			h.put(prod, railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, DeployWindows: ws})
		}
	}
	cases := []struct {
		name    string
		setup   func(h *harness)
		outcome string // deployed, queued or skipped:<reason>
		state   string // checkout in production afterwards
		// blockers are the kinds of what a queued version waits for.
		blockers string
	}{
		{name: "deployed", setup: func(h *harness) { h.deploy("checkout", "staging", 2); h.deploy("checkout", prod, 1) }, outcome: "deployed", state: "2/-"},
		{name: "deployed for the first time", setup: func(h *harness) { h.deploy("checkout", "staging", 2) }, outcome: "deployed", state: "2/-"},
		{name: "deployed backwards to what the upstream runs", setup: func(h *harness) { h.deploy("checkout", "staging", 1); h.deploy("checkout", prod, 2) }, outcome: "deployed", state: "1/-"},
		{name: "already current", setup: func(h *harness) { h.deploy("checkout", "staging", 2); h.deploy("checkout", prod, 2) }, outcome: "skipped:already-current", state: "2/-"},
		{name: "no upstream version", setup: func(h *harness) { h.deploy("checkout", prod, 1) }, outcome: "skipped:no-upstream-version", state: "1/-"},
		{name: "no manifests for target", setup: func(h *harness) {
			h.release("checkout", 3, "payments", "development", "staging")
			h.deploy("checkout", "staging", 3)
			h.deploy("checkout", prod, 1)
		}, outcome: "skipped:no-manifests-for-target", state: "1/-"},
		{name: "branch restricted", setup: func(h *harness) {
			h.put(prod, railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, BranchRestriction: "^release/"})
			h.deploy("checkout", "staging", 2)
		}, outcome: "skipped:branch-restricted", state: "-/-"},
		{name: "environment lock", setup: func(h *harness) {
			h.deploy("checkout", "staging", 2)
			h.deploy("checkout", prod, 1)
			lock(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: prod, ID: "freeze"}, Message: "m"})(h)
		}, outcome: "queued", state: "1/2", blockers: "environment"},
		{name: "application lock", setup: func(h *harness) {
			h.deploy("checkout", "staging", 2)
			lock(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: prod, Application: "checkout", ID: "bug"}, Message: "m"})(h)
		}, outcome: "queued", state: "-/2", blockers: "application"},
		{name: "team lock", setup: func(h *harness) {
			h.deploy("checkout", "staging", 2)
			lock(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: prod, Team: "payments", ID: "audit"}, Message: "m"})(h)
		}, outcome: "queued", state: "-/2", blockers: "team"},
		{name: "deny window open", setup: func(h *harness) {
			h.deploy("checkout", "staging", 2)
			windows(deny("0 9 * * *", "1h", ""))(h)
		}, outcome: "queued", state: "-/2", blockers: "window"},
		{name: "outside the allow window", setup: func(h *harness) {
			h.deploy("checkout", "staging", 2)
			windows(allow("0 22 * * *", "1h", ""))(h)
		}, outcome: "queued", state: "-/2", blockers: "window"},
		{name: "inside the allow window", setup: func(h *harness) {
			h.deploy("checkout", "staging", 2)
			windows(allow("0 8 * * *", "2h", ""))(h)
		}, outcome: "deployed", state: "2/-"},
		{name: "lock and window", setup: func(h *harness) {
			h.deploy("checkout", "staging", 2)
			windows(deny("0 9 * * *", "1h", ""))(h)
			lock(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: prod, ID: "freeze"}, Message: "m"})(h)
		}, outcome: "queued", state: "-/2", blockers: "environment,window"},
		{name: "queue replaced by the upstream version", setup: func(h *harness) {
			h.deploy("checkout", "staging", 1)
			lock(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: prod, ID: "freeze"}, Message: "m"})(h)
			h.must(&railyard.Deploy{Application: "checkout", Environment: prod, Version: 2, LockBehavior: railyard.LockBehaviorQueue})
		}, outcome: "queued", state: "-/1", blockers: "environment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := trainHarness(t)
			tc.setup(h)
			before := h.lastEventID()
			res := h.train(&railyard.ReleaseTrain{Environment: prod})
			got := outcomes(res.Train)
			want := "production/checkout=" + tc.outcome
			assertEqual(t, "outcomes", got, want)
			assertEqual(t, "state", h.state("checkout", prod), tc.state)
			var kinds []string
			for _, b := range entry(t, res.Train, prod, "checkout").Blockers {
				kinds = append(kinds, string(b.Kind))
			}
			assertEqual(t, "blockers", strings.Join(kinds, ","), tc.blockers)
			if strings.HasPrefix(tc.outcome, "skipped") {
				assertEqual(t, "outcome", res.Outcome, railyard.OutcomeUnchanged)
				assertEqual(t, "no event", h.lastEventID(), before)
				return
			}
			counts := map[string]string{"deployed": "1 deployed, 0 queued, 0 skipped", "queued": "0 deployed, 1 queued, 0 skipped"}[tc.outcome]
			assertEqual(t, "description", res.Train.Description, "Release train to production from staging: "+counts)
			assertEqual(t, "event summary", res.Event.Summary(), res.Train.Description)
			assertEqual(t, "one event", h.lastEventID(), before+1)
			assertEqual(t, "event kind", res.Event.Kind, railyard.KindReleaseTrain)
		})
	}
}

func TestTrainEntryShowsFromAndTo(t *testing.T) {
	h := trainHarness(t)
	h.deploy("checkout", "staging", 2)
	h.deploy("checkout", "production", 1)
	res := h.train(&railyard.ReleaseTrain{Environment: "production"})
	e := entry(t, res.Train, "production", "checkout")
	assertEqual(t, "from → to", fmt.Sprintf("%s → %s", ptr(e.From), ptr(e.To)), "1 → 2")
	assertEqual(t, "team", e.Team, "payments")
	ch := res.Event.Changes[0]
	assertEqual(t, "change", fmt.Sprintf("%s %d (was %d): %s", ch.Op, ch.Version, ch.PreviousVersion, ch.Reason), "deployment.deploy 2 (was 1): release train from staging")
	// The same train again finds everything current: no event.
	res = h.train(&railyard.ReleaseTrain{Environment: "production"})
	assertEqual(t, "second train", outcomes(res.Train), "production/checkout=skipped:already-current")
	if res.Event != nil {
		t.Errorf("a train that changed nothing recorded event %d", res.Event.ID)
	}
}

func TestBlockedTrainAgainChangesNothing(t *testing.T) {
	h := trainHarness(t)
	h.deploy("checkout", "staging", 2)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}, Message: "m"})
	h.train(&railyard.ReleaseTrain{Environment: "production"})
	before := h.lastEventID()
	res := h.train(&railyard.ReleaseTrain{Environment: "production"})
	assertEqual(t, "outcome", outcomes(res.Train), "production/checkout=queued")
	assertEqual(t, "no second event", h.lastEventID(), before)
	// When the lock goes, the queued version is deployed.
	h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production", ID: "freeze"}})
	assertEqual(t, "state", h.state("checkout", "production"), "2/-")
}

func TestGroupTrainWithOneEnvironmentLocked(t *testing.T) {
	h := newHarness(t).chain()
	up := &railyard.Upstream{Environment: "staging"}
	h.put("de-prod", railyard.EnvironmentConfig{Upstream: up, EnvironmentGroup: "prod"})
	h.put("jp-prod", railyard.EnvironmentConfig{Upstream: up, EnvironmentGroup: "prod"})
	h.put("lab-prod", railyard.EnvironmentConfig{EnvironmentGroup: "prod"})
	all := []string{"development", "staging", "de-prod", "jp-prod", "lab-prod"}
	h.release("checkout", 1, "payments", all...)
	h.release("search", 1, "discovery", all...)
	h.deploy("checkout", "staging", 1)
	h.deploy("search", "staging", 1)
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "jp-prod", ID: "golden-week"}, Message: "holidays"})
	before := h.lastEventID()

	res := h.train(&railyard.ReleaseTrain{Group: "prod"})
	assertEqual(t, "outcomes", outcomes(res.Train),
		"lab-prod=environment-not-in-chain de-prod/checkout=deployed de-prod/search=deployed jp-prod/checkout=queued jp-prod/search=queued")
	assertEqual(t, "one event", h.lastEventID(), before+1)
	// The whole summary would be 149 characters: the members and the
	// environment skipped move to the details.
	assertEqual(t, "description", res.Event.Description, `Release train to environment group prod from staging: 2 deployed, 2 queued, 0 skipped

Skip environment lab-prod (environment-not-in-chain)
Deploy checkout 1 to de-prod
Deploy search 1 to de-prod
Queue checkout 1 in jp-prod (blocked by environment lock "golden-week")
Queue search 1 in jp-prod (blocked by environment lock "golden-week")`)
	assertEqual(t, "de-prod", h.state("checkout", "de-prod"), "1/-")
	assertEqual(t, "jp-prod", h.state("checkout", "jp-prod"), "-/1")
	b := entry(t, res.Train, "jp-prod", "search").Blockers[0]
	assertEqual(t, "blocker", b.Description, `environment lock "golden-week" on jp-prod by Alice: holidays`)
	assertEqual(t, "blocker lock owner", b.Lock.CreatedBy, alice)
}

func TestTrainTeamFilterAgainstTeamLocks(t *testing.T) {
	h := newHarness(t).chain()
	for _, app := range []struct{ name, team string }{{"checkout", "payments"}, {"cart", "payments"}, {"search", "discovery"}} {
		h.release(app.name, 1, app.team, "development", "staging", "production")
		h.deploy(app.name, "staging", 1)
	}
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "production", Team: "payments", ID: "audit"}, Message: "audit"})

	res := h.train(&railyard.ReleaseTrain{Environment: "production", Team: "discovery"})
	assertEqual(t, "discovery", outcomes(res.Train), "production/search=deployed")
	assertEqual(t, "description", res.Event.Description, "Release train for team discovery to production from staging: 1 deployed, 0 queued, 0 skipped\n\nDeploy search 1 to production")

	res = h.train(&railyard.ReleaseTrain{Environment: "production", Team: "payments"})
	assertEqual(t, "payments", outcomes(res.Train), "production/cart=queued production/checkout=queued")
	assertEqual(t, "search untouched", h.state("search", "production"), "1/-")

	h.release("search", 2, "", "development", "staging", "production")
	h.deploy("search", "staging", 2)
	res = h.train(&railyard.ReleaseTrain{Environment: "production"})
	assertEqual(t, "everyone", outcomes(res.Train), "production/cart=queued production/checkout=queued production/search=deployed")
}

func TestTrainFromLatestReleases(t *testing.T) {
	h := newHarness(t)
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true, Branch: "^main$"}})
	h.releaseFrom("checkout", 1, "payments", "main", "development")
	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "l"}, Message: "m"})
	h.releaseFrom("checkout", 2, "payments", "main", "development")
	h.releaseFrom("checkout", 3, "payments", "feature/x", "development")
	h.releaseFrom("search", 1, "discovery", "feature/y", "development")
	h.must(&railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "development", ID: "l"}})
	h.deploy("checkout", "development", 1)
	// The newest release from a branch matching upstream.branch is 2;
	// search has none.
	res := h.train(&railyard.ReleaseTrain{Environment: "development"})
	assertEqual(t, "outcomes", outcomes(res.Train), "development/checkout=deployed")
	assertEqual(t, "description", res.Event.Description, "Release train to development from the latest releases: 1 deployed, 0 queued, 0 skipped\n\nDeploy checkout 2 to development (was 1)")
	assertEqual(t, "state", h.state("checkout", "development"), "2/-")
}

func TestPromote(t *testing.T) {
	h := trainHarness(t)
	h.release("search", 1, "discovery", "development", "staging", "production")
	h.deploy("checkout", "staging", 2)
	h.deploy("search", "staging", 1)
	h.deploy("checkout", "production", 1)
	res := h.train(&railyard.ReleaseTrain{Environment: "production", Application: "checkout"})
	assertEqual(t, "only checkout", outcomes(res.Train), "production/checkout=deployed")
	assertEqual(t, "description", res.Event.Description, "Promote checkout 2 to production from staging (was 1)")
	assertEqual(t, "reason", res.Event.Changes[0].Reason, "promotion from staging")
	assertEqual(t, "search not promoted", h.state("search", "production"), "-/-")

	res = h.train(&railyard.ReleaseTrain{Environment: "production", Application: "checkout"})
	assertEqual(t, "again", res.Train.Description, "Promote checkout 2 to production from staging: skipped (already-current)")

	h.must(&railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "production", Application: "search", ID: "bug"}, Message: "m"})
	res = h.train(&railyard.ReleaseTrain{Environment: "production", Application: "search"})
	assertEqual(t, "queued", res.Event.Description, `Promote search 1 to production from staging: queued (blocked by application lock "bug")`)
	assertEqual(t, "state", h.state("search", "production"), "-/1")

	// Promoting into staging takes development's version: the latest release.
	h.release("checkout", 3, "payments", "development", "staging", "production")
	res = h.train(&railyard.ReleaseTrain{Environment: "staging", Application: "checkout"})
	assertEqual(t, "from development", res.Event.Description, "Promote checkout 3 to staging from development (was 2)")
}

func TestPrognosisEqualsTrainAndChangesNothing(t *testing.T) {
	h := newHarness(t).chain()
	h.put("de-prod", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod", BranchRestriction: "^main$"})
	h.put("jp-prod", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod",
		DeployWindows: []railyard.DeployWindow{deny("0 9 * * *", "1h", "")}})
	envs := []string{"development", "staging", "de-prod", "jp-prod"}
	h.release("checkout", 1, "payments", envs...)
	h.releaseFrom("cart", 1, "payments", "hotfix", envs...)
	h.release("search", 1, "discovery", "development", "staging")
	h.release("ads", 1, "discovery", envs...)
	for _, app := range []string{"checkout", "cart", "search"} {
		h.deploy(app, "staging", 1)
	}
	h.deploy("ads", "de-prod", 1)
	for _, tc := range []*railyard.ReleaseTrain{
		{Group: "prod"}, {Environment: "jp-prod"}, {Group: "prod", Team: "payments"}, {Environment: "de-prod", Application: "cart"},
	} {
		t.Run(fmt.Sprintf("%+v", *tc), func(t *testing.T) {
			before := h.snapshot()
			cp := *tc
			prognosis, err := h.eng.Prognosis(context.Background(), &cp)
			if err != nil {
				t.Fatal(err)
			}
			assertEqual(t, "state after prognosis", h.snapshot(), before)
			if !prognosis.DryRun || !strings.HasPrefix(prognosis.Description, "Prognosis: ") {
				t.Errorf("prognosis %q is not marked as a dry run", prognosis.Description)
			}
			res := h.train(tc)
			prognosis.DryRun, prognosis.Description = false, res.Train.Description
			assertEqual(t, "prognosis equals train", jsonString(t, prognosis), jsonString(t, res.Train))
		})
	}
}

func jsonString(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTrainBadInputChangesNothing(t *testing.T) {
	h := trainHarness(t)
	h.put("adhoc", railyard.EnvironmentConfig{EnvironmentGroup: "lab"})
	h.deploy("checkout", "staging", 2)
	cases := []struct {
		name  string
		train *railyard.ReleaseTrain
		code  string
		field string
	}{
		{"no target", &railyard.ReleaseTrain{}, railyard.EINVALID, "environment"},
		{"both targets", &railyard.ReleaseTrain{Environment: "production", Group: "prod"}, railyard.EINVALID, "group"},
		{"bad environment name", &railyard.ReleaseTrain{Environment: "../prod"}, railyard.EINVALID, "environment"},
		{"bad group name", &railyard.ReleaseTrain{Group: "Prod"}, railyard.EINVALID, "group"},
		{"bad team name", &railyard.ReleaseTrain{Environment: "production", Team: "A Team"}, railyard.EINVALID, "team"},
		{"bad application name", &railyard.ReleaseTrain{Environment: "production", Application: "a/b"}, railyard.EINVALID, "application"},
		{"bad ci link", &railyard.ReleaseTrain{Environment: "production", CILink: "ftp://x"}, railyard.EINVALID, "ciLink"},
		{"unknown environment", &railyard.ReleaseTrain{Environment: "nope"}, railyard.ENOTFOUND, "environment"},
		{"unknown group", &railyard.ReleaseTrain{Group: "nope"}, railyard.ENOTFOUND, "group"},
		{"unknown team", &railyard.ReleaseTrain{Environment: "production", Team: "nobody"}, railyard.ENOTFOUND, "team"},
		{"unknown application", &railyard.ReleaseTrain{Environment: "production", Application: "nope"}, railyard.ENOTFOUND, "application"},
		{"no upstream", &railyard.ReleaseTrain{Environment: "adhoc"}, railyard.EINVALID, "environment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := h.snapshot()
			err := h.fail(tc.code, tc.train)
			assertEqual(t, "field", err.Field, tc.field)
			assertEqual(t, "state", h.snapshot(), before)
			_, perr := h.eng.Prognosis(context.Background(), tc.train)
			assertEqual(t, "prognosis code", railyard.ErrorCode(perr), tc.code)
		})
	}
	err := h.fail(railyard.EINVALID, &railyard.ReleaseTrain{Environment: "adhoc"})
	assertEqual(t, "message", err.Message, "environment adhoc has no upstream, so a release train has nothing to take versions from: set upstream.environment or upstream.latest in its configuration")
	// A group whose only member has no upstream is no error: the member is skipped.
	res := h.train(&railyard.ReleaseTrain{Group: "lab"})
	assertEqual(t, "lab", outcomes(res.Train), "adhoc=environment-not-in-chain")
	assertEqual(t, "lab description", res.Train.Description, "Release train to environment group lab: 0 deployed, 0 queued, 0 skipped")
}

func TestTrainThroughBatchAndDecode(t *testing.T) {
	cmd, err := railyard.DecodeCommand(railyard.KindReleaseTrain, []byte(`{"environment":"production","team":"payments"}`))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "decoded", *cmd.(*railyard.ReleaseTrain), railyard.ReleaseTrain{Environment: "production", Team: "payments"})
	_, err = railyard.DecodeCommand(railyard.KindReleaseTrain, []byte(`{"environment":"production","dryRun":true}`))
	assertEqual(t, "unknown field", railyard.ErrorCode(err), railyard.EINVALID)
	cmd, err = railyard.DecodeCommand(railyard.KindRollback, []byte(`{"application":"checkout","environment":"production"}`))
	if err != nil {
		t.Fatal(err)
	}
	assertEqual(t, "rollback", cmd.Kind(), railyard.KindRollback)
}
