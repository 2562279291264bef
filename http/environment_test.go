package http

import (
	nethttp "net/http"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

func TestPutEnvironment_CreatedUpdatedUnchanged(t *testing.T) {
	ts := newTestServer(t, Options{})
	var res railyard.Result
	ts.doJSON("PUT", "/api/v1/environments/development", `{"upstream":{"latest":true}}`).wantStatus(t, 201).json(t, &res)
	if res.Kind != railyard.KindEnvironmentPut || res.Outcome != railyard.OutcomeCreated || res.Event == nil || res.Environment == nil {
		t.Fatalf("got %+v, want a created environment.put with event and environment", res)
	}
	if res.Environment.Name != "development" || !res.Environment.IsLatest() || !res.Environment.CreatedAt.Equal(t0) {
		t.Fatalf("got environment %+v, want development, latest, created at %v", res.Environment, t0)
	}
	if res.Event.Actor != railyard.DefaultActor {
		t.Fatalf("got actor %+v without author headers, want the default actor %+v", res.Event.Actor, railyard.DefaultActor)
	}

	res = railyard.Result{}
	ts.doJSON("PUT", "/api/v1/environments/development", `{"upstream":{"latest":true},"environmentGroup":"dev"}`).wantStatus(t, 200).json(t, &res)
	if res.Outcome != railyard.OutcomeUpdated || res.Event == nil {
		t.Fatalf("got %+v, want updated with an event", res)
	}

	res = railyard.Result{}
	ts.doJSON("PUT", "/api/v1/environments/development", `{"upstream":{"latest":true},"environmentGroup":"dev"}`).wantStatus(t, 200).json(t, &res)
	if res.Outcome != railyard.OutcomeUnchanged || res.Event != nil {
		t.Fatalf("got %+v, want unchanged without an event", res)
	}
}

func TestEnvironment_ClientRoundTrip(t *testing.T) {
	ts := newTestServer(t, Options{})
	envs, err := ts.client.FindEnvironments(ctx)
	noErr(t, err)
	if envs == nil || len(envs) != 0 {
		t.Fatalf("got %#v, want an empty, non-nil list", envs)
	}
	ts.do("GET", "/api/v1/environments", nil, nil).wantStatus(t, 200)
	if got := string(ts.do("GET", "/api/v1/environments", nil, nil).body); got != "{\"environments\":[]}\n" {
		t.Fatalf("got body %q, want an empty list, not null", got)
	}

	cfg := railyard.EnvironmentConfig{
		Upstream:         &railyard.Upstream{Latest: true},
		EnvironmentGroup: "dev",
		ArgoCD:           &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Server: "https://kubernetes.default.svc", Namespace: "apps"}},
		DeployWindows:    []railyard.DeployWindow{{Kind: "deny", Schedule: "0 9 * * 1-5", Duration: "2h", TimeZone: "Europe/Berlin"}},
	}
	res, err := ts.client.PutEnvironment(ctx, "development", cfg)
	noErr(t, err)
	if res.Outcome != railyard.OutcomeCreated || res.Event.Actor != ts.client.Actor {
		t.Fatalf("got outcome %q actor %+v, want created by %+v", res.Outcome, res.Event.Actor, ts.client.Actor)
	}
	env, err := ts.client.FindEnvironment(ctx, "development")
	noErr(t, err)
	if env.Name != "development" || env.Config.ArgoCD.Destination.Namespace != "apps" || env.Config.DeployWindows[0].TimeZone != "Europe/Berlin" {
		t.Fatalf("got %+v, want the configuration back", env)
	}
	envs, err = ts.client.FindEnvironments(ctx)
	noErr(t, err)
	if len(envs) != 1 || envs[0].Name != "development" {
		t.Fatalf("got %d environments, want development", len(envs))
	}

	res, err = ts.client.DeleteEnvironment(ctx, "development")
	noErr(t, err)
	if res.Outcome != railyard.OutcomeDeleted || res.Kind != railyard.KindEnvironmentDelete {
		t.Fatalf("got %+v, want a deleted environment.delete", res)
	}
	_, err = ts.client.FindEnvironment(ctx, "development")
	wantError(t, err, railyard.ENOTFOUND, "")
	ts.do("DELETE", "/api/v1/environments/development", nil, nil).wantError(t, nethttp.StatusNotFound, railyard.ENOTFOUND, "environment")
}

func TestDeleteEnvironment_UpstreamOfAnotherIsConflict(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	before := ts.state()
	_, err := ts.client.DeleteEnvironment(ctx, "staging")
	wantError(t, err, railyard.ECONFLICT, "")
	ts.unchanged(before)
}
