package http

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// seedTrains creates a pipeline with a group and two applications:
//
//	development (latest) → staging → production, production-jp (group prod)
//	adhoc (no upstream, group prod)
//
// checkout (payments) has manifests everywhere; cart (shop) everywhere
// but production-jp. Version 1 of both runs in development.
func (ts *testServer) seedTrains() {
	ts.t.Helper()
	up := func(env string) *railyard.Upstream { return &railyard.Upstream{Environment: env} }
	_, err := ts.engine.Apply(ctx, railyard.DefaultActor,
		&railyard.PutEnvironment{Name: "development", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}},
		&railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: up("development")}},
		&railyard.PutEnvironment{Name: "production", Config: railyard.EnvironmentConfig{Upstream: up("staging"), EnvironmentGroup: "prod"}},
		&railyard.PutEnvironment{Name: "production-jp", Config: railyard.EnvironmentConfig{Upstream: up("staging"), EnvironmentGroup: "prod"}},
		&railyard.PutEnvironment{Name: "adhoc", Config: railyard.EnvironmentConfig{EnvironmentGroup: "prod"}},
	)
	if err != nil {
		ts.t.Fatalf("seed environments: %v", err)
	}
	ts.seedRelease(trainRelease("checkout", 1))
	ts.seedRelease(trainRelease("cart", 1))
}

// trainRelease is a release for seedTrains' environments.
func trainRelease(app string, version int64) *railyard.CreateRelease {
	cr := &railyard.CreateRelease{Application: app, Version: version, Team: "payments", SourceBranch: "main",
		Manifests: map[string]string{"development": manifestDev, "staging": manifestStg, "production": manifestProd, "production-jp": manifestProd, "adhoc": manifestProd}}
	if app == "cart" {
		cr.Team = "shop"
		delete(cr.Manifests, "production-jp")
	}
	return cr
}

// trainOf decodes a train answer and checks its kind.
func trainOf(t *testing.T, a answer) *railyard.Result {
	t.Helper()
	var res railyard.Result
	a.wantStatus(t, 200).json(t, &res)
	if res.Kind != railyard.KindReleaseTrain || res.Train == nil {
		t.Fatalf("got %s, want a release-train result with a train", a.body)
	}
	return &res
}

// apps formats a train's applications as "env: app outcome from→to reason", one per line.
func apps(tr *railyard.TrainResult) string {
	var b strings.Builder
	v := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	for _, te := range tr.Environments {
		if te.SkipReason != "" {
			b.WriteString(te.Environment + ": skipped " + te.SkipReason + "\n")
		}
		for _, a := range te.Applications {
			b.WriteString(te.Environment + ": " + a.Application + " " + a.Outcome + " " + v(a.From) + "→" + v(a.To))
			if a.SkipReason != "" {
				b.WriteString(" " + a.SkipReason)
			}
			for _, bl := range a.Blockers {
				b.WriteString(" " + string(bl.Kind))
				if bl.Lock != nil {
					b.WriteString(":" + bl.Lock.ID)
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// runs returns the version app runs in env, 0 for none.
func (ts *testServer) runs(app, env string) int64 {
	ts.t.Helper()
	d, err := ts.engine.FindApplication(ctx, app)
	noErr(ts.t, err)
	if e := d.Environments[env]; e != nil && e.Version != nil {
		return *e.Version
	}
	return 0
}

func TestReleaseTrain_Environment(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()

	// An empty body (declared JSON) is a train for every team.
	res := trainOf(t, ts.doJSON("POST", "/api/v1/environments/staging/release-train", ""))
	if res.Outcome != railyard.OutcomeDeployed || res.Event == nil || res.Event.Kind != railyard.KindReleaseTrain {
		t.Fatalf("got outcome %q event %v, want deployed with a release-train event", res.Outcome, res.Event)
	}
	tr := res.Train
	if tr.Environment != "staging" || tr.Group != "" || tr.Team != "" || tr.DryRun || tr.Deployed != 2 || tr.Queued != 0 || tr.Skipped != 0 {
		t.Fatalf("got %+v, want staging, 2 deployed", tr)
	}
	equalString(t, "applications", apps(tr), "staging: cart deployed -→1\nstaging: checkout deployed -→1\n")
	if te := tr.Environments[0]; te.Upstream != "development" || te.Applications[1].Team != "payments" {
		t.Fatalf("got %+v, want upstream development and checkout's team", te)
	}
	equalString(t, "description", tr.Description, "Release train to staging from development: 2 deployed, 0 queued, 0 skipped")
	equalString(t, "event description", res.Event.Description, tr.Description+"\n\nDeploy cart 1 to staging\nDeploy checkout 1 to staging")
	if res.Event.Actor != railyard.DefaultActor {
		t.Fatalf("got actor %+v, want the default actor", res.Event.Actor)
	}
	if ts.runs("checkout", "staging") != 1 || ts.runs("cart", "staging") != 1 {
		t.Fatal("staging does not run version 1 of both applications")
	}

	// The same train again changes nothing and records nothing.
	before := ts.state()
	res = trainOf(t, ts.doJSON("POST", "/api/v1/environments/staging/release-train", `{}`))
	if res.Outcome != railyard.OutcomeUnchanged || res.Event != nil || res.Train.Skipped != 2 {
		t.Fatalf("got %+v, want unchanged, both already current", res)
	}
	equalString(t, "again", apps(res.Train), "staging: cart skipped 1→1 already-current\nstaging: checkout skipped 1→1 already-current\n")
	ts.unchanged(before)
}

func TestReleaseTrain_TeamFilterAndClient(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	res, err := ts.client.ReleaseTrain(ctx, railyard.ReleaseTrain{Environment: "staging", Team: "shop", CILink: "https://ci.example.com/7"}, false)
	noErr(t, err)
	equalString(t, "team shop", apps(res.Train), "staging: cart deployed -→1\n")
	equalString(t, "description", res.Train.Description, "Release train for team shop to staging from development: 1 deployed, 0 queued, 0 skipped")
	if res.Train.Team != "shop" || res.Event.Actor.Name != "Alice" {
		t.Fatalf("got team %q actor %+v, want shop and Alice", res.Train.Team, res.Event.Actor)
	}
	var payload railyard.ReleaseTrain
	noErr(t, json.Unmarshal(res.Event.Payload, &payload))
	if payload != (railyard.ReleaseTrain{Environment: "staging", Team: "shop", CILink: "https://ci.example.com/7"}) {
		t.Fatalf("got payload %+v, want the train with its ciLink", payload)
	}
	if ts.runs("checkout", "staging") != 0 {
		t.Fatal("a train for team shop deployed checkout of team payments")
	}
	// A team lock of the filtered team queues its application.
	_, err = ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "staging", Team: "payments", ID: "audit"}, Message: "Audit"})
	noErr(t, err)
	res, err = ts.client.ReleaseTrain(ctx, railyard.ReleaseTrain{Environment: "staging", Team: "payments"}, false)
	noErr(t, err)
	if res.Outcome != railyard.OutcomeQueued || res.Event == nil {
		t.Fatalf("got %+v, want queued with an event", res)
	}
	equalString(t, "team payments", apps(res.Train), "staging: checkout queued -→1 team:audit\n")
	bl := res.Train.Environments[0].Applications[0].Blockers[0]
	if bl.Lock.CreatedBy.Name != "Alice" || !strings.Contains(bl.Description, "Audit") {
		t.Fatalf("got blocker %+v, want whose lock and why", bl)
	}
}

func TestReleaseTrain_Group(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	trainOf(t, ts.doJSON("POST", "/api/v1/environments/staging/release-train", ""))
	_, err := ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "production-jp", ID: "freeze"}, Message: "Golden week"})
	noErr(t, err)

	res := trainOf(t, ts.doJSON("POST", "/api/v1/environment-groups/prod/release-train", `{"team":""}`))
	tr := res.Train
	if tr.Group != "prod" || tr.Environment != "" || tr.Deployed != 2 || tr.Queued != 1 || tr.Skipped != 1 || res.Outcome != railyard.OutcomeDeployed {
		t.Fatalf("got %+v, want group prod: 2 deployed, 1 queued, 1 skipped", tr)
	}
	got := apps(tr)
	for _, want := range []string{
		"production: cart deployed -→1\n",
		"production: checkout deployed -→1\n",
		"production-jp: cart skipped -→1 no-manifests-for-target\n",
		"production-jp: checkout queued -→1 environment:freeze\n",
		"adhoc: skipped environment-not-in-chain\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("group train lacks %q:\n%s", want, got)
		}
	}
	if len(tr.Environments) != 3 || tr.Description != "Release train to environment group prod from staging: 2 deployed, 1 queued, 1 skipped" {
		t.Fatalf("got %d environments, description %q", len(tr.Environments), tr.Description)
	}
	if ts.runs("checkout", "production") != 1 || ts.runs("checkout", "production-jp") != 0 {
		t.Fatal("the locked member stopped the other, or the lock did not hold")
	}

	// Through the client, by group.
	res2, err := ts.client.ReleaseTrain(ctx, railyard.ReleaseTrain{Group: "prod"}, false)
	noErr(t, err)
	if res2.Outcome != railyard.OutcomeUnchanged || res2.Event != nil || res2.Train.Queued != 1 {
		t.Fatalf("got %+v, want the queued version reported as queued again, without a change", res2)
	}
}

func TestReleaseTrain_DryRunChangesNothing(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	before := ts.state()
	res := trainOf(t, ts.doJSON("POST", "/api/v1/environments/staging/release-train", `{"dryRun":true,"team":"payments"}`))
	if res.Outcome != railyard.OutcomeUnchanged || res.Event != nil || !res.Train.DryRun {
		t.Fatalf("got %+v, want a prognosis: unchanged, no event, dryRun", res)
	}
	equalString(t, "plan", apps(res.Train), "staging: checkout deployed -→1\n")
	equalString(t, "description", res.Train.Description, "Prognosis: release train for team payments to staging from development: 1 to deploy")
	ts.unchanged(before)

	plan, err := ts.client.ReleaseTrain(ctx, railyard.ReleaseTrain{Group: "prod"}, true)
	noErr(t, err)
	if !plan.Train.DryRun || plan.Train.Group != "prod" || plan.Event != nil {
		t.Fatalf("got %+v, want the group's prognosis", plan)
	}
	promote, err := ts.client.ReleaseTrain(ctx, railyard.ReleaseTrain{Environment: "staging", Application: "cart"}, true)
	noErr(t, err)
	equalString(t, "promote prognosis", promote.Train.Description, "Prognosis: promote cart 1 to staging from development")
	ts.unchanged(before)

	// The prognosis is what the train then does.
	ran := trainOf(t, ts.doJSON("POST", "/api/v1/environments/staging/release-train", `{"team":"payments"}`))
	equalString(t, "train after prognosis", apps(ran.Train), apps(res.Train))
}

func TestReleaseTrain_BadInput(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	before := ts.state()
	env, group := "/api/v1/environments/staging/release-train", "/api/v1/environment-groups/prod/release-train"
	cases := []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"unknown environment", "/api/v1/environments/qa/release-train", ``, 404, railyard.ENOTFOUND, "environment"},
		{"unknown group", "/api/v1/environment-groups/eu/release-train", ``, 404, railyard.ENOTFOUND, "group"},
		{"invalid environment name", "/api/v1/environments/Staging/release-train", ``, 400, railyard.EINVALID, "environment"},
		{"invalid group name", "/api/v1/environment-groups/a_b/release-train", ``, 400, railyard.EINVALID, "group"},
		{"no upstream", "/api/v1/environments/adhoc/release-train", ``, 400, railyard.EINVALID, "environment"},
		{"invalid team", env, `{"team":"Pay Ments"}`, 400, railyard.EINVALID, "team"},
		{"unknown team", env, `{"team":"nobody"}`, 404, railyard.ENOTFOUND, "team"},
		{"unknown team, group", group, `{"team":"nobody"}`, 404, railyard.ENOTFOUND, "team"},
		{"malformed JSON", env, `{"team":`, 400, railyard.EINVALID, "body"},
		{"JSON array", env, `[]`, 400, railyard.EINVALID, "body"},
		{"unknown field", env, `{"teem":"payments"}`, 400, railyard.EINVALID, "teem"},
		{"scheduledAt", env, `{"scheduledAt":"2025-03-14T12:00:00Z"}`, 400, railyard.EINVALID, "scheduledAt"},
		{"application", env, `{"application":"checkout"}`, 400, railyard.EINVALID, "application"},
		{"dryRun not a boolean", env, `{"dryRun":"yes"}`, 400, railyard.EINVALID, "dryRun"},
		{"ciLink not a URL", env, `{"ciLink":"ftp://x"}`, 400, railyard.EINVALID, "ciLink"},
		{"dry run of unknown team", env, `{"team":"nobody","dryRun":true}`, 404, railyard.ENOTFOUND, "team"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts.doJSON("POST", c.path, c.body).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
	t.Run("no Content-Type", func(t *testing.T) {
		// A cross-site page can send this request without asking: refused.
		e := ts.do("POST", env, nil, nil).wantError(t, 415, railyard.EUNSUPPORTED, "Content-Type")
		if !strings.Contains(e.Message, "also when the body is empty") {
			t.Fatalf("got %q, want it to say the body may be empty but the type is needed", e.Message)
		}
		ts.do("POST", env, map[string]string{"Content-Type": "text/plain"}, strings.NewReader(`{}`)).wantError(t, 415, railyard.EUNSUPPORTED, "Content-Type")
		ts.unchanged(before)
	})
	t.Run("client", func(t *testing.T) {
		for _, tt := range []struct {
			train railyard.ReleaseTrain
			field string
		}{
			{railyard.ReleaseTrain{}, "environment"},
			{railyard.ReleaseTrain{Environment: "staging", Group: "prod"}, "group"},
			{railyard.ReleaseTrain{Application: "checkout"}, "environment"},
			{railyard.ReleaseTrain{Environment: "staging", ScheduledAt: &t0}, "scheduledAt"},
		} {
			_, err := ts.client.ReleaseTrain(ctx, tt.train, false)
			wantError(t, err, railyard.EINVALID, tt.field)
		}
		ts.unchanged(before)
	})
}

func TestPromote(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	ts.seedRelease(trainRelease("checkout", 2)) // development runs 2
	_, err := ts.engine.ApplyOne(ctx, railyard.DefaultActor, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1})
	noErr(t, err)

	res, err := ts.client.Promote(ctx, "checkout", "staging")
	noErr(t, err)
	if res.Outcome != railyard.OutcomeDeployed || res.Event == nil || res.Train.Application != "checkout" {
		t.Fatalf("got %+v, want checkout deployed", res)
	}
	equalString(t, "promotion", apps(res.Train), "staging: checkout deployed 1→2\n")
	equalString(t, "description", res.Event.Description, "Promote checkout 2 to staging from development (was 1)")
	if ts.runs("checkout", "staging") != 2 || ts.runs("cart", "staging") != 0 {
		t.Fatal("the promotion moved something else than checkout")
	}

	// Through history: the promotion is a release-train event of checkout in staging.
	events, _, err := ts.client.FindEvents(ctx, railyard.EventFilter{Application: "checkout", Environment: "staging", Kind: railyard.KindReleaseTrain})
	noErr(t, err)
	if len(events) != 1 || events[0].ID != res.Event.ID || events[0].Changes[0].Version != 2 || events[0].Changes[0].PreviousVersion != 1 {
		t.Fatalf("got events %+v, want the promotion 1 → 2", events)
	}

	// Again: already current; the raw route with an optional body.
	again := trainOf(t, ts.doJSON("POST", "/api/v1/applications/checkout/environments/staging/promote", ""))
	if again.Outcome != railyard.OutcomeUnchanged || again.Event != nil {
		t.Fatalf("got %+v, want unchanged", again)
	}
	equalString(t, "again", again.Train.Description, "Promote checkout 2 to staging from development: skipped (already-current)")

	// Blocked: queued, not refused.
	_, err = ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "production", Application: "checkout", ID: "hotfix"}, Message: "m"})
	noErr(t, err)
	queued := trainOf(t, ts.doJSON("POST", "/api/v1/applications/checkout/environments/production/promote", `{"ciLink":"https://ci.example.com/9"}`))
	if queued.Outcome != railyard.OutcomeQueued || queued.Event == nil {
		t.Fatalf("got %+v, want queued", queued)
	}
	equalString(t, "queued", queued.Train.Description, `Promote checkout 2 to production from staging: queued (blocked by application lock "hotfix")`)

	before := ts.state()
	for _, c := range []struct {
		path, body  string
		status      int
		code, field string
	}{
		{"/api/v1/applications/nothing/environments/staging/promote", ``, 404, railyard.ENOTFOUND, "application"},
		{"/api/v1/applications/checkout/environments/qa/promote", ``, 404, railyard.ENOTFOUND, "environment"},
		{"/api/v1/applications/checkout/environments/adhoc/promote", ``, 400, railyard.EINVALID, "environment"},
		{"/api/v1/applications/checkout/environments/staging/promote", `{"team":"payments"}`, 400, railyard.EINVALID, "team"},
		{"/api/v1/applications/checkout/environments/staging/promote", `{"version":1}`, 400, railyard.EINVALID, "version"},
	} {
		ts.doJSON("POST", c.path, c.body).wantError(t, c.status, c.code, c.field)
	}
	ts.unchanged(before)
}

// seedRollback deploys checkout 1, 2 and 3 to staging by hand.
func (ts *testServer) seedRollback() {
	ts.t.Helper()
	ts.seedTrains()
	for v := int64(1); v <= 3; v++ {
		if v > 1 {
			ts.seedRelease(trainRelease("checkout", v))
		}
		_, err := ts.engine.ApplyOne(ctx, railyard.DefaultActor, &railyard.Deploy{Application: "checkout", Environment: "staging", Version: v})
		noErr(ts.t, err)
	}
}

func TestRollback_ThroughHistory(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedRollback()

	var res railyard.Result
	ts.doJSON("POST", "/api/v1/applications/checkout/environments/staging/rollback", "").wantStatus(t, 200).json(t, &res)
	if res.Kind != railyard.KindRollback || res.Outcome != railyard.OutcomeDeployed || *res.Deployment.Version != 2 {
		t.Fatalf("got %+v, want checkout 2 deployed by a rollback", res)
	}
	equalString(t, "first rollback", res.Event.Description, "Roll back checkout in staging from 3 to 2")
	second, err := ts.client.Rollback(ctx, railyard.Rollback{Application: "checkout", Environment: "staging"})
	noErr(t, err)
	equalString(t, "second rollback", second.Event.Description, "Roll back checkout in staging from 2 to 1")

	before := ts.state()
	e := ts.doJSON("POST", "/api/v1/applications/checkout/environments/staging/rollback", `{}`).wantError(t, 400, railyard.EINVALID, "version")
	if !strings.Contains(e.Message, "no version of checkout ran in staging before 1") {
		t.Fatalf("got %q", e.Message)
	}
	ts.unchanged(before)

	to, err := ts.client.Rollback(ctx, railyard.Rollback{Application: "checkout", Environment: "staging", Version: 3})
	noErr(t, err)
	if *to.Deployment.Version != 3 || to.Event.Changes[0].PreviousVersion != 1 {
		t.Fatalf("got %+v, want 3 deployed over 1", to.Deployment)
	}
	events, _, err := ts.client.FindEvents(ctx, railyard.EventFilter{Application: "checkout", Environment: "staging", Kind: railyard.KindRollback})
	noErr(t, err)
	if len(events) != 3 || events[0].ID != to.Event.ID || events[0].Actor.Name != "Alice" {
		t.Fatalf("got %d rollback events, want 3, newest first by Alice", len(events))
	}
}

func TestRollback_BlockedAndRestricted(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedRollback()
	_, err := ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: "Black Friday"})
	noErr(t, err)

	before := ts.state()
	e := ts.doJSON("POST", "/api/v1/applications/checkout/environments/staging/rollback", `{"lockBehavior":"fail"}`).wantError(t, 423, railyard.ELOCKED, "")
	if len(e.Blockers) != 1 || e.Blockers[0].Lock == nil || e.Blockers[0].Lock.ID != "freeze" {
		t.Fatalf("got blockers %+v, want the freeze lock", e.Blockers)
	}
	_, err = ts.client.Rollback(ctx, railyard.Rollback{Application: "checkout", Environment: "staging"})
	if e := wantError(t, err, railyard.ELOCKED, ""); len(e.Blockers) != 1 {
		t.Fatalf("the client lost the blockers: %+v", e)
	}
	ts.unchanged(before)

	queued, err := ts.client.Rollback(ctx, railyard.Rollback{Application: "checkout", Environment: "staging", LockBehavior: railyard.LockBehaviorQueue})
	noErr(t, err)
	if queued.Outcome != railyard.OutcomeQueued || *queued.Deployment.QueuedVersion != 2 || *queued.Deployment.Version != 3 {
		t.Fatalf("got %+v, want 2 queued behind the lock", queued.Deployment)
	}

	// Version 3 comes from a branch the new restriction refuses: no
	// lockBehavior overrides that.
	ts.seedRelease(&railyard.CreateRelease{Application: "checkout", Version: 4, SourceBranch: "feature/x", Manifests: map[string]string{"staging": manifestStg}})
	_, err = ts.engine.ApplyOne(ctx, railyard.DefaultActor, &railyard.PutEnvironment{Name: "staging",
		Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}, BranchRestriction: "^main$"}})
	noErr(t, err)
	before = ts.state()
	for _, behavior := range []string{"fail", "queue", "ignore"} {
		e := ts.doJSON("POST", "/api/v1/applications/checkout/environments/staging/rollback", `{"version":4,"lockBehavior":"`+behavior+`"}`).wantError(t, 400, railyard.EINVALID, "version")
		if !strings.Contains(e.Message, `it comes from branch "feature/x"`) || !strings.Contains(e.Message, "cannot be overridden") {
			t.Fatalf("got %q, want the branch and the rule", e.Message)
		}
	}
	ts.unchanged(before)

	for _, c := range []struct {
		path, body  string
		status      int
		code, field string
	}{
		{"/api/v1/applications/checkout/environments/staging/rollback", `{"version":-1}`, 400, railyard.EINVALID, "version"},
		{"/api/v1/applications/checkout/environments/staging/rollback", `{"version":"2"}`, 400, railyard.EINVALID, "version"},
		{"/api/v1/applications/checkout/environments/staging/rollback", `{"lockBehavior":"force"}`, 400, railyard.EINVALID, "lockBehavior"},
		{"/api/v1/applications/checkout/environments/staging/rollback", `{"to":2}`, 400, railyard.EINVALID, "to"},
		{"/api/v1/applications/checkout/environments/staging/rollback", `{"version":99,"lockBehavior":"ignore"}`, 404, railyard.ENOTFOUND, ""},
		{"/api/v1/applications/checkout/environments/production/rollback", ``, 400, railyard.EINVALID, "environment"},
		{"/api/v1/applications/nothing/environments/staging/rollback", ``, 404, railyard.ENOTFOUND, ""},
		{"/api/v1/applications/checkout/environments/qa/rollback", ``, 404, railyard.ENOTFOUND, ""},
	} {
		ts.doJSON("POST", c.path, c.body).wantError(t, c.status, c.code, c.field)
	}
	ts.do("POST", "/api/v1/applications/checkout/environments/staging/rollback", nil, nil).wantError(t, 415, railyard.EUNSUPPORTED, "Content-Type")
	ts.unchanged(before)
}

// windowed makes production deny automatic deployments 09:00–10:00 UTC
// every day (t0 is 09:26:53).
func (ts *testServer) windowed() {
	ts.t.Helper()
	_, err := ts.engine.ApplyOne(ctx, railyard.DefaultActor, &railyard.PutEnvironment{Name: "production", Config: railyard.EnvironmentConfig{
		Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod",
		DeployWindows: []railyard.DeployWindow{{Kind: railyard.DeployWindowDeny, Schedule: "0 9 * * *", Duration: "1h"}}}})
	noErr(ts.t, err)
}

func TestDeployWindows(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	ts.windowed()
	st, err := ts.client.DeployWindowState(ctx, "production")
	noErr(t, err)
	until := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	if st.Allowed || len(st.Blockers) != 1 || st.Blockers[0].Kind != railyard.BlockerWindow || st.Blockers[0].Lock != nil ||
		st.Blockers[0].Window.Schedule != "0 9 * * *" || !st.Blockers[0].Until.Equal(until) || !st.NextChange.Equal(until) {
		t.Fatalf("got %+v, want blocked by the deny window until 10:00", st)
	}
	var open railyard.WindowState
	ts.do("GET", "/api/v1/environments/staging/deploy-windows", nil, nil).wantStatus(t, 200).json(t, &open)
	if !open.Allowed || open.Blockers != nil || open.NextChange != nil {
		t.Fatalf("got %+v, want always allowed", open)
	}
	ts.do("GET", "/api/v1/environments/qa/deploy-windows", nil, nil).wantError(t, 404, railyard.ENOTFOUND, "environment")
	ts.do("GET", "/api/v1/environments/QA/deploy-windows", nil, nil).wantError(t, 400, railyard.EINVALID, "environment")

	// A train into the closed window queues, with the window as blocker;
	// a rollback (a person's deploy) is refused with it.
	trainOf(t, ts.doJSON("POST", "/api/v1/environments/staging/release-train", ""))
	res := trainOf(t, ts.doJSON("POST", "/api/v1/environments/production/release-train", `{"team":"payments"}`))
	equalString(t, "windowed train", apps(res.Train), "production: checkout queued -→1 window\n")
	bl := res.Train.Environments[0].Applications[0].Blockers[0]
	if bl.Window == nil || bl.Window.Kind != "deny" || bl.Until == nil || !bl.Until.Equal(until) || bl.Lock != nil {
		t.Fatalf("got blocker %+v, want the deny window until 10:00", bl)
	}
}

func TestRollback_BlockedByWindow(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	for v := int64(1); v <= 2; v++ {
		if v > 1 {
			ts.seedRelease(trainRelease("checkout", v))
		}
		_, err := ts.engine.ApplyOne(ctx, railyard.DefaultActor, &railyard.Deploy{Application: "checkout", Environment: "production", Version: v})
		noErr(t, err)
	}
	ts.windowed()
	before := ts.state()
	e := ts.doJSON("POST", "/api/v1/applications/checkout/environments/production/rollback", "").wantError(t, 423, railyard.ELOCKED, "")
	if len(e.Blockers) != 1 || e.Blockers[0].Kind != railyard.BlockerWindow {
		t.Fatalf("got %+v, want the window", e.Blockers)
	}
	ts.unchanged(before)
	var res railyard.Result
	ts.doJSON("POST", "/api/v1/applications/checkout/environments/production/rollback", `{"lockBehavior":"ignore"}`).wantStatus(t, 200).json(t, &res)
	equalString(t, "override", res.Event.Description, `Roll back checkout in production from 2 to 1, overriding deny window "0 9 * * *"`)
}

func TestKuberpultReleaseTrain(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	header := map[string]string{"author-name": b64("Jörg"), "author-email": b64("joerg@example.com")}

	// Kuberpult's client: PUT, empty body, no Content-Type.
	a := ts.do("PUT", "/api/environments/staging/releasetrain?team=payments", header, nil).wantStatus(t, 200)
	var out struct {
		Target  string `json:"target"`
		Team    string `json:"team"`
		EventID int64  `json:"eventId"`
		railyard.TrainResult
	}
	a.json(t, &out)
	if out.Target != "staging" || out.Team != "payments" || out.EventID == 0 || out.Environment != "staging" || out.Deployed != 1 || out.DryRun {
		t.Fatalf("got %s, want target staging, team payments, an event and checkout deployed", a.body)
	}
	equalString(t, "kuberpult train", apps(&out.TrainResult), "staging: checkout deployed -→1\n")
	if !strings.HasPrefix(string(a.body), `{"target":"staging","team":"payments",`) {
		t.Fatalf("got %s, want Kuberpult's fields first", a.body)
	}
	events, _, err := ts.client.FindEvents(ctx, railyard.EventFilter{Limit: 1})
	noErr(t, err)
	if events[0].ID != out.EventID || events[0].Actor != (railyard.Actor{Name: "Jörg", Email: "joerg@example.com"}) {
		t.Fatalf("got event %+v, want the train by the decoded author", events[0])
	}

	// The older path, a JSON body with a ciLink and a field Kuberpult may add.
	a = ts.doJSON("PUT", "/environments/staging/releasetrain", `{"ciLink":"https://ci.example.com/3","other":1}`).wantStatus(t, 200)
	out = struct {
		Target  string `json:"target"`
		Team    string `json:"team"`
		EventID int64  `json:"eventId"`
		railyard.TrainResult
	}{}
	a.json(t, &out)
	if out.Target != "staging" || out.Team != "" || out.Deployed != 1 || out.Skipped != 1 {
		t.Fatalf("got %s, want cart deployed, checkout already current", a.body)
	}
	if !strings.Contains(string(a.body), `"team":"",`) {
		t.Fatalf("got %s, want team present and empty", a.body)
	}

	// The prognosis changes nothing.
	before := ts.state()
	a = ts.do("GET", "/api/environments/production/releasetrain/prognosis?team=payments", nil, nil).wantStatus(t, 200)
	var plan kuberpultTrainResponse
	a.json(t, &plan)
	if plan.Target != "production" || plan.Team != "payments" || plan.EventID != 0 || plan.TrainResult == nil || !plan.DryRun || plan.Deployed != 1 {
		t.Fatalf("got %s, want the plan for production", a.body)
	}
	ts.unchanged(before)

	// A group, with and without the /api prefix.
	for _, path := range []string{"/api/environment-groups/prod/releasetrain", "/environment-groups/prod/releasetrain?team="} {
		var g kuberpultTrainResponse
		ts.do("PUT", path, nil, nil).wantStatus(t, 200).json(t, &g)
		if g.Target != "prod" || g.Group != "prod" || len(g.Environments) != 3 {
			t.Fatalf("PUT %s: got %+v, want the group's train", path, g)
		}
	}
	if ts.runs("cart", "production") != 1 {
		t.Fatal("the group train did not deploy cart to production")
	}

	before = ts.state()
	cases := []struct {
		name, method, path, ct, body string
		status                       int
		code, field                  string
	}{
		{"misspelt team", "PUT", "/api/environments/staging/releasetrain?taem=payments", "", "", 400, railyard.EINVALID, "taem"},
		{"team twice", "PUT", "/api/environments/staging/releasetrain?team=a&team=b", "", "", 400, railyard.EINVALID, "team"},
		{"invalid team", "PUT", "/api/environments/staging/releasetrain?team=Pay%20Ments", "", "", 400, railyard.EINVALID, "team"},
		{"unknown team", "PUT", "/environments/staging/releasetrain?team=nobody", "", "", 404, railyard.ENOTFOUND, "team"},
		{"unknown environment", "PUT", "/api/environments/qa/releasetrain", "", "", 404, railyard.ENOTFOUND, "environment"},
		{"unknown group", "PUT", "/api/environment-groups/eu/releasetrain", "", "", 404, railyard.ENOTFOUND, "group"},
		{"no upstream", "PUT", "/api/environments/adhoc/releasetrain", "", "", 400, railyard.EINVALID, "environment"},
		{"malformed JSON", "PUT", "/api/environments/staging/releasetrain", "application/json", `{"ciLink":`, 400, railyard.EINVALID, "body"},
		{"ciLink wrong type", "PUT", "/api/environments/staging/releasetrain", "application/json", `{"ciLink":7}`, 400, railyard.EINVALID, "ciLink"},
		{"ciLink not a URL", "PUT", "/api/environments/staging/releasetrain", "application/json", `{"ciLink":"x"}`, 400, railyard.EINVALID, "ciLink"},
		{"text body", "PUT", "/api/environments/staging/releasetrain", "text/plain", `ciLink=x`, 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"prognosis unknown environment", "GET", "/api/environments/qa/releasetrain/prognosis", "", "", 404, railyard.ENOTFOUND, "environment"},
		{"prognosis misspelt team", "GET", "/api/environments/staging/releasetrain/prognosis?teams=x", "", "", 400, railyard.EINVALID, "teams"},
		{"POST is not a train", "POST", "/api/environments/staging/releasetrain", "", "", 405, codeMethodNotAllowed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header := map[string]string{}
			if c.ct != "" {
				header["Content-Type"] = c.ct
			}
			ts.do(c.method, c.path, header, strings.NewReader(c.body)).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
}

func TestBatch_ReleaseTrainWithoutScheduledAt(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	before := ts.state()
	ts.doJSON("POST", "/api/v1/batch", `{"commands":[{"kind":"release-train","params":{"environment":"staging","scheduledAt":"2025-03-14T09:00:00Z"}}]}`).
		wantError(t, 400, railyard.EINVALID, "commands[0].scheduledAt")
	ts.unchanged(before)
	var out batchResponse
	ts.doJSON("POST", "/api/v1/batch", `{"commands":[{"kind":"release-train","params":{"environment":"staging","team":"shop"}},{"kind":"rollback","params":{"application":"cart","environment":"development","version":1}}]}`).
		wantStatus(t, 200).json(t, &out)
	if len(out.Results) != 2 || out.Results[0].Train == nil || out.Results[0].Train.Deployed != 1 || out.Results[1].Outcome != railyard.OutcomeUnchanged {
		t.Fatalf("got %+v, want the train and an unchanged rollback", out.Results)
	}
}

func TestEvents_KindsOfTheDomain(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedTrains()
	trainOf(t, ts.doJSON("POST", "/api/v1/environments/staging/release-train", ""))
	for _, kind := range railyard.EventKinds() {
		_, _, err := ts.client.FindEvents(ctx, railyard.EventFilter{Kind: kind})
		noErr(t, err)
	}
	events, _, err := ts.client.FindEvents(ctx, railyard.EventFilter{Kind: railyard.KindReleaseTrain})
	noErr(t, err)
	if len(events) != 1 {
		t.Fatalf("got %d release-train events, want 1", len(events))
	}
	e := ts.do("GET", "/api/v1/events?kind=train", nil, nil).wantError(t, 400, railyard.EINVALID, "kind")
	if !strings.Contains(e.Message, "release-train, rollback, reconcile") {
		t.Fatalf("got %q, want the domain's kinds listed", e.Message)
	}
}

func TestOpenAPI_BlockerKindsIncludeWindow(t *testing.T) {
	ts := newTestServer(t, Options{})
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	ts.do("GET", "/api/v1/openapi.json", nil, nil).wantStatus(t, 200).json(t, &doc)
	enum := doc.Components.Schemas["Blocker"].Properties["kind"].Enum
	if !strings.Contains(strings.Join(enum, ","), string(railyard.BlockerWindow)) {
		t.Fatalf("Blocker.kind enumerates %v, want window among them", enum)
	}
	for _, name := range []string{"TrainResult", "TrainEnvironment", "TrainApplication", "WindowState", "KuberpultTrainResponse"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("no schema %s", name)
		}
	}
}

// equalString reports a difference between got and want.
func equalString(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s:\ngot:\n%s\nwant:\n%s", what, got, want)
	}
}

func TestOpenAPI_OptionalBodies(t *testing.T) {
	ts := newTestServer(t, Options{})
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct {
				Required bool `json:"required"`
			} `json:"requestBody"`
		} `json:"paths"`
	}
	ts.do("GET", "/api/v1/openapi.json", nil, nil).wantStatus(t, 200).json(t, &doc)
	for _, c := range []struct {
		method, path string
		required     bool
	}{
		{"post", "/api/v1/environments/{env}/release-train", false},
		{"post", "/api/v1/environment-groups/{group}/release-train", false},
		{"post", "/api/v1/applications/{app}/environments/{env}/promote", false},
		{"post", "/api/v1/applications/{app}/environments/{env}/rollback", false},
		{"put", "/api/environments/{env}/releasetrain", false},
		{"post", "/api/v1/applications/{app}/environments/{env}/deploy", true},
	} {
		op := doc.Paths[c.path][c.method]
		if op.RequestBody == nil || op.RequestBody.Required != c.required {
			t.Errorf("%s %s: requestBody %+v, want required %v", c.method, c.path, op.RequestBody, c.required)
		}
	}
}
