package http

import (
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

func TestApplications(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	if got := string(ts.do("GET", "/api/v1/applications", nil, nil).wantStatus(t, 200).body); got != "{\"applications\":[]}\n" {
		t.Fatalf("got %q, want an empty list", got)
	}
	ts.seedRelease(release(1))
	ts.seedRelease(release(2))

	apps, err := ts.client.FindApplications(ctx)
	noErr(t, err)
	if len(apps) != 1 || apps[0].Name != "checkout" || apps[0].Team != "payments" || !apps[0].CreatedAt.Equal(t0) {
		t.Fatalf("got %+v, want checkout of payments", apps)
	}
	detail, err := ts.client.FindApplication(ctx, "checkout")
	noErr(t, err)
	if len(detail.Releases) != 2 || detail.Releases[0].Version != 2 || detail.Releases[0].Manifests != nil {
		t.Fatalf("got releases %+v, want 2 then 1, without manifests", detail.Releases)
	}
	if len(detail.Environments) != 3 || *detail.Environments["development"].Version != 2 || detail.Environments["production"].Version != nil {
		t.Fatalf("got environments %+v, want development at 2 and production empty", detail.Environments)
	}
	_, err = ts.client.FindApplication(ctx, "cart")
	wantError(t, err, railyard.ENOTFOUND, "")
}

func TestDeleteApplication(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))

	before := ts.state()
	ts.do("DELETE", "/api/v1/applications/checkout", nil, nil).wantError(t, 409, railyard.ECONFLICT, "")
	ts.unchanged(before)

	ts.seedRelease(&railyard.CreateRelease{Application: "checkout", Version: 2, Undeploy: true, Manifests: map[string]string{"development": ""}})
	res, err := ts.client.DeleteApplication(ctx, "checkout")
	noErr(t, err)
	if res.Outcome != railyard.OutcomeDeleted || res.Kind != railyard.KindApplicationDelete {
		t.Fatalf("got %+v, want a deleted application.delete", res)
	}
	_, err = ts.client.FindApplication(ctx, "checkout")
	wantError(t, err, railyard.ENOTFOUND, "")
	_, err = ts.client.DeleteApplication(ctx, "checkout")
	wantError(t, err, railyard.ENOTFOUND, "")
}
