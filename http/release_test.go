package http

import (
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

func TestCreateRelease_CreatedDeploysToLatest(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	body := release(0)
	body.Application = "" // taken from the path
	var res railyard.Result
	a := ts.doJSON("POST", "/api/v1/applications/checkout/releases", body).wantStatus(t, 201)
	a.json(t, &res)
	if strings.Contains(string(a.body), "kind: ConfigMap") {
		t.Fatalf("the answer echoes the manifests: %s", a.body)
	}
	if p := string(res.Event.Payload); !strings.Contains(p, `"manifests":null`) || !strings.Contains(p, `"sourceCommitId":"`+commitA+`"`) {
		t.Fatalf("got payload %s, want the request without its manifests", p)
	}
	if len(res.Event.Changes) != 3 || res.Event.Changes[1].Release == nil || res.Event.Changes[1].Release.Version != 1 {
		t.Fatalf("got changes %+v, want application.put, release.create (with the release) and the deploy", res.Event.Changes)
	}
	events, _, err := ts.client.FindEvents(ctx, railyard.EventFilter{Limit: 1})
	noErr(t, err)
	if events[0].Changes[1].Release.Manifests["staging"] != manifestStg || len(events[0].Payload) < 100 {
		t.Fatalf("the event log lost the manifests or the payload")
	}
	if res.Outcome != railyard.OutcomeCreated || res.Release == nil || res.Release.Version != 1 || res.Event == nil {
		t.Fatalf("got %+v, want release 1 created with an event", res)
	}
	if res.Release.Manifests != nil {
		t.Fatalf("the result carries manifests; it should not (they can be megabytes)")
	}
	if got := strings.Join(res.Release.Environments, ","); got != "development,production,staging" {
		t.Fatalf("got environments %s, want development,production,staging", got)
	}
	ov, err := ts.client.Overview(ctx)
	noErr(t, err)
	cell := ov.Applications[0].Environments["development"]
	if cell.Version == nil || *cell.Version != 1 {
		t.Fatalf("development runs %v, want 1 (upstream.latest)", cell.Version)
	}
	if v := ov.Applications[0].Environments["staging"].Version; v != nil {
		t.Fatalf("staging runs %d, want nothing", *v)
	}
}

func TestCreateRelease_RepublishAndConflict(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	res, err := ts.client.CreateRelease(ctx, release(7))
	noErr(t, err)
	if res.Outcome != railyard.OutcomeCreated || res.Release.Version != 7 {
		t.Fatalf("got %+v, want release 7 created", res)
	}

	before := ts.state()
	var again railyard.Result
	ts.doJSON("POST", "/api/v1/applications/checkout/releases", release(7)).wantStatus(t, 200).json(t, &again)
	if again.Outcome != railyard.OutcomeUnchanged || again.Event != nil || again.Release.Version != 7 {
		t.Fatalf("got %+v, want unchanged release 7 without event", again)
	}
	ts.unchanged(before)

	changed := release(7)
	changed.Manifests["staging"] = strings.Replace(manifestStg, "env: staging", "env: staging-2", 1)
	e := ts.doJSON("POST", "/api/v1/applications/checkout/releases", changed).wantError(t, 409, railyard.ECONFLICT, "manifests")
	if !strings.Contains(e.Diff, "-  env: staging\n+  env: staging-2\n") || !strings.Contains(e.Diff, "manifests[staging]") {
		t.Fatalf("got diff %q, want the changed line of staging", e.Diff)
	}
	ts.unchanged(before)

	changed = release(7)
	changed.SourceMessage = "Something else"
	_, err = ts.client.CreateRelease(ctx, changed)
	wantError(t, err, railyard.ECONFLICT, "sourceMessage")
	ts.unchanged(before)

	res, err = ts.client.CreateRelease(ctx, release(0))
	noErr(t, err)
	if res.Release.Version != 8 {
		t.Fatalf("got version %d for an omitted version, want highest + 1 = 8", res.Release.Version)
	}
}

func TestFindRelease(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(3))
	rel, err := ts.client.FindRelease(ctx, "checkout", 3)
	noErr(t, err)
	if rel.Version != 3 || rel.Manifests["staging"] != manifestStg || rel.SourceCommitID != commitA || rel.Team != "payments" || !rel.CreatedAt.Equal(t0) {
		t.Fatalf("got %+v, want release 3 with its manifests and metadata", rel)
	}
	_, err = ts.client.FindRelease(ctx, "checkout", 4)
	wantError(t, err, railyard.ENOTFOUND, "")
	_, err = ts.client.FindRelease(ctx, "nothing", 1)
	wantError(t, err, railyard.ENOTFOUND, "")
	for _, v := range []string{"0", "-1", "abc", "1.5", "99999999999999999999"} {
		ts.do("GET", "/api/v1/applications/checkout/releases/"+v, nil, nil).wantError(t, 400, railyard.EINVALID, "version")
	}
}
