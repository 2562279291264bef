package http

import (
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

func TestDeploy(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	ts.seedRelease(release(2))

	var res railyard.Result
	ts.doJSON("POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":1}`).wantStatus(t, 200).json(t, &res)
	if res.Kind != railyard.KindDeploy || res.Outcome != railyard.OutcomeDeployed || res.Deployment == nil || *res.Deployment.Version != 1 {
		t.Fatalf("got %+v, want version 1 deployed", res)
	}
	if res.Deployment.DeployedBy == nil || *res.Deployment.DeployedBy != railyard.DefaultActor || !res.Deployment.DeployedAt.Equal(t0) {
		t.Fatalf("got deployed by %v at %v, want the default actor at %v", res.Deployment.DeployedBy, res.Deployment.DeployedAt, t0)
	}

	again, err := ts.client.Deploy(ctx, railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1})
	noErr(t, err)
	if again.Outcome != railyard.OutcomeUnchanged || again.Event != nil {
		t.Fatalf("got %+v, want unchanged without event", again)
	}
	_, err = ts.client.Deploy(ctx, railyard.Deploy{Application: "checkout", Environment: "staging", Version: 9})
	wantError(t, err, railyard.ENOTFOUND, "")
	_, err = ts.client.Deploy(ctx, railyard.Deploy{Application: "checkout", Environment: "qa", Version: 1})
	wantError(t, err, railyard.ENOTFOUND, "")
}

func TestDeploy_LockedFailQueueIgnore(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	_, err := ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "staging", ID: "freeze"}, Message: "Black Friday"})
	noErr(t, err)
	_, err = ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "staging", Team: "payments", ID: "audit"}, Message: "Audit"})
	noErr(t, err)

	before := ts.state()
	e := ts.doJSON("POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":1,"lockBehavior":"fail"}`).wantError(t, 423, railyard.ELOCKED, "")
	if len(e.Blockers) != 2 {
		t.Fatalf("got %d blockers, want the environment lock and the team lock: %+v", len(e.Blockers), e.Blockers)
	}
	ids := e.Blockers[0].Lock.ID + "," + e.Blockers[1].Lock.ID
	if ids != "freeze,audit" || !strings.Contains(e.Blockers[0].Description, "Black Friday") {
		t.Fatalf("got blockers %s (%s), want freeze,audit with their messages", ids, e.Blockers[0].Description)
	}
	ts.unchanged(before)
	_, err = ts.client.Deploy(ctx, railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1})
	if e := wantError(t, err, railyard.ELOCKED, ""); len(e.Blockers) != 2 {
		t.Fatalf("the client lost the blockers: %+v", e)
	}
	ts.unchanged(before)

	res, err := ts.client.Deploy(ctx, railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1, LockBehavior: railyard.LockBehaviorQueue})
	noErr(t, err)
	if res.Outcome != railyard.OutcomeQueued || *res.Deployment.QueuedVersion != 1 || res.Deployment.Version != nil {
		t.Fatalf("got %+v, want version 1 queued", res)
	}
	res, err = ts.client.Deploy(ctx, railyard.Deploy{Application: "checkout", Environment: "staging", Version: 1, LockBehavior: railyard.LockBehaviorIgnore})
	noErr(t, err)
	if res.Outcome != railyard.OutcomeDeployed || *res.Deployment.Version != 1 || res.Deployment.QueuedVersion != nil {
		t.Fatalf("got %+v, want version 1 deployed and the queue cleared", res)
	}
}
