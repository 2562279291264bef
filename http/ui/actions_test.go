package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/golden"
)

// followFlash loads the page a POST redirected to and returns its body,
// which carries the flash message.
func followFlash(t *testing.T, c *client, res response) string {
	t.Helper()
	wantStatus(t, "POST", res, http.StatusSeeOther)
	return c.get(res.header.Get("Location")).body
}

func TestFormsWithoutCSRFTokenAreRefused(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client().identify(alice)
	for _, path := range []string{"/ui/identity", "/ui/apps/checkout/deploy", "/ui/apps/checkout/locks", "/ui/envs/staging/locks",
		"/ui/envs/staging/train", "/ui/locks/delete", "/ui/apps/checkout/rollback", "/ui/apps/checkout/promote"} {
		res := c.post(path, url.Values{"csrf": {"forged"}, "env": {"staging"}, "version": {"3"}, "message": {"x"}})
		wantStatus(t, "POST "+path+" with a forged token", res, http.StatusForbidden)
		wantContains(t, path, res.body, "This form has expired")
	}
	// A token from another browser (another CSRF cookie) is refused too.
	other := f.client()
	res := c.post("/ui/envs/staging/train", url.Values{"csrf": {other.token()}})
	wantStatus(t, "token of another browser", res, http.StatusForbidden)
	if ev := lastEvent(t, f); ev.Kind == railyard.KindReleaseTrain && ev.Actor == alice {
		t.Errorf("a refused form changed something: %s", ev.Description)
	}
}

func TestActionsAskWhoYouAreFirst(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client()
	res := c.post("/ui/envs/staging/train", url.Values{"next": {"/envs/staging"}})
	wantStatus(t, "train without identity", res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/ui/identity?next=%2Fenvs%2Fstaging" {
		t.Errorf("redirect to %q, want the identity form returning to /envs/staging", loc)
	}
	body := c.get(res.header.Get("Location")).body
	wantContains(t, "identity page", body, "Before you change anything, tell Railyard who you are")

	res = c.post("/ui/identity", url.Values{"name": {""}, "email": {"not an address"}, "next": {"/envs/staging"}})
	wantStatus(t, "invalid identity", res, http.StatusBadRequest)
	wantContains(t, "invalid identity", res.body, "Enter your name", "Enter an e-mail address", `value="not an address"`, `aria-invalid="true"`)

	res = c.post("/ui/identity", url.Values{"name": {"Carol"}, "email": {"carol@example.com"}, "next": {"https://evil.example.com/"}})
	wantStatus(t, "identity", res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/" {
		t.Errorf("identity redirected to %q: only local paths are followed", loc)
	}
	wantContains(t, "after identity", c.get("/").body, "Acting as <strong>Carol</strong>", "Thanks, Carol")

	body = followFlash(t, c, c.post("/ui/envs/staging/train", url.Values{}))
	wantContains(t, "train", body, "Release train to staging from development: 0 deployed, 1 queued, 2 skipped")
	if ev := lastEvent(t, f); ev.Actor != (railyard.Actor{Name: "Carol", Email: "carol@example.com"}) {
		t.Errorf("the train was recorded as %v, want Carol", ev.Actor)
	}
}

func lastEvent(t *testing.T, f *fixture) *railyard.Event {
	t.Helper()
	evs, err := f.eng.FindEvents(context.Background(), railyard.EventFilter{Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("no event: %v", err)
	}
	return evs[0]
}

func TestDeployBlockedByLockShowsBlockersThenDeploysAnyway(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client().identify(alice)
	res := c.post("/ui/apps/checkout/deploy", url.Values{"env": {"staging"}, "version": {"3"}})
	wantStatus(t, "blocked deploy", res, http.StatusLocked)
	blocked := fragment(t, res.body, `<section class="blocked"`, "</section>")
	golden.Equal(t, "testdata/deploy_blocked.html", csrfRE.ReplaceAllString(blocked, `name="csrf" value="TOKEN"`))
	if got := f.state("checkout", "staging"); got != "2/-" {
		t.Fatalf("a blocked deploy changed staging: %s", got)
	}
	body := followFlash(t, c, c.post("/ui/apps/checkout/deploy", url.Values{"env": {"staging"}, "version": {"3"}, "lockBehavior": {"ignore"}}))
	wantContains(t, "deploy anyway", body, `Deploy checkout 3 (1.2.0) to staging, overriding application lock`)
	if got := f.state("checkout", "staging"); got != "3/-" {
		t.Errorf("after deploy anyway staging runs %s, want 3/-", got)
	}
}

func TestDeployQueueAndRollback(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client().identify(alice)
	body := followFlash(t, c, c.post("/ui/apps/checkout/deploy", url.Values{"env": {"staging"}, "version": {"3"}, "lockBehavior": {"queue"}}))
	wantContains(t, "queue", body, "Queue checkout 3 (1.2.0) in staging (blocked by application lock")
	if got := f.state("checkout", "staging"); got != "2/3" {
		t.Errorf("staging: %s, want 2/3", got)
	}
	body = followFlash(t, c, c.post("/ui/apps/checkout/rollback", url.Values{"env": {"development"}}))
	wantContains(t, "rollback", body, "Roll back checkout in development from 3 to 2 (1.1.0)")
	body = followFlash(t, c, c.post("/ui/apps/checkout/rollback", url.Values{"env": {"staging"}}))
	wantContains(t, "rollback without history", body, "flash-error", "no version of checkout ran in staging before 2")
	body = followFlash(t, c, c.post("/ui/apps/checkout/deploy", url.Values{"env": {"development"}, "version": {"2"}}))
	wantContains(t, "deploy of the running version", body, "Nothing changed: checkout 2 already runs in development.")
}

func TestPromoteAndReleaseTrain(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client().identify(alice)
	body := followFlash(t, c, c.post("/ui/apps/cart/promote", url.Values{"env": {"de-prod"}}))
	wantContains(t, "promote blocked by a team lock", body, "Promote cart 1 to de-prod from staging: queued")
	page := c.get("/envs/staging")
	wantContains(t, "prognosis", page.body, "0 to deploy, 1 to queue, 2 to skip", "db-migration")
	body = followFlash(t, c, c.post("/ui/envs/staging/train", url.Values{}))
	wantContains(t, "train", body, "Release train to staging from development: 0 deployed, 1 queued, 2 skipped")
	body = followFlash(t, c, c.post("/ui/envs/development/train", url.Values{"team": {"payments"}}))
	wantContains(t, "train without change", body, "Nothing changed. Release train for team payments to development from the latest releases: 1 skipped")
}

func TestLockFormsKeepInputAndShowErrors(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client().identify(alice)
	res := c.post("/ui/apps/checkout/locks", url.Values{"env": {"development"}, "id": {"bad id"}, "message": {"Load test"}, "expires": {"2h"}})
	wantStatus(t, "invalid lock id", res, http.StatusBadRequest)
	wantContains(t, "invalid lock id", res.body, `<details class="action" open id="lock-development">`, `value="bad id"`, `value="Load test"`, `value="2h"`,
		`<p class="field-error" id="lock-development-id-error">`, "is not valid")
	res = c.post("/ui/apps/checkout/locks", url.Values{"env": {"development"}, "message": {"  "}, "expires": {"soon"}})
	wantStatus(t, "invalid expiry", res, http.StatusBadRequest)
	wantContains(t, "invalid expiry", res.body, `id="lock-development-expires-error"`, `&#34;soon&#34; is not a duration`, `value="soon"`)
	res = c.post("/ui/envs/de-prod/locks", url.Values{"kind": {"team"}, "message": {"Audit"}})
	wantStatus(t, "team lock without a team", res, http.StatusBadRequest)
	wantContains(t, "team lock without a team", res.body, "Choose the team to lock.", `value="Audit"`, `value="team" checked`)

	body := followFlash(t, c, c.post("/ui/apps/checkout/locks", url.Values{"env": {"development"}, "id": {"load-test"}, "message": {"Load test"}, "expires": {"2h"}}))
	wantContains(t, "application lock", body, "Lock checkout in development (load-test): Load test", "(until 2026-11-02 13:35:00 UTC)")
	body = followFlash(t, c, c.post("/ui/envs/de-prod/locks", url.Values{"kind": {"environment-group"}, "id": {"release-freeze"}, "message": {"Freeze"}}))
	wantContains(t, "group lock", body, "Lock environment group prod (release-freeze)")
	body = followFlash(t, c, c.post("/ui/envs/jp-prod/locks", url.Values{"kind": {"team"}, "team": {"payments"}, "message": {"Payments audit"}}))
	wantContains(t, "team lock with a generated id", body, "Lock team payments in jp-prod (ui-20261102-113500-")

	del := url.Values{"kind": {"application"}, "env": {"development"}, "app": {"checkout"}, "id": {"load-test"}, "next": {"/locks?kind=application"}}
	res = c.post("/ui/locks/delete", del)
	wantStatus(t, "delete", res, http.StatusSeeOther)
	if loc := res.header.Get("Location"); loc != "/locks?kind=application" {
		t.Errorf("delete returned to %q", loc)
	}
	wantContains(t, "delete", c.get("/locks").body, "Unlock checkout in development (load-test)")
	wantContains(t, "delete again", followFlash(t, c, c.post("/ui/locks/delete", del)), "Lock load-test in development no longer exists")
}

func TestStalePagesSayWhatIsGone(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client().identify(alice)
	for _, path := range []string{"/apps/nothing", "/envs/nowhere", "/apps/Bad_Name", "/no/such/page"} {
		res := c.get(path)
		wantStatus(t, "GET "+path, res, http.StatusNotFound)
	}
	wantContains(t, "unknown app", c.get("/apps/nothing").body, "It may have been deleted")
	// The application went away while its page was open.
	res := c.post("/ui/apps/gone/deploy", url.Values{"env": {"staging"}, "version": {"1"}})
	wantStatus(t, "deploy of a deleted application", res, http.StatusNotFound)
	res = c.post("/ui/apps/gone/locks", url.Values{"env": {"staging"}, "message": {"x"}})
	wantStatus(t, "lock of a deleted application", res, http.StatusNotFound)
	res = c.post("/ui/envs/gone/train", url.Values{})
	wantStatus(t, "train into a deleted environment", res, http.StatusNotFound)
	res = c.post("/ui/apps/checkout/deploy", url.Values{"env": {"staging"}, "version": {"x"}})
	wantStatus(t, "deploy of version x", res, http.StatusBadRequest)
	res = c.post("/ui/apps/checkout/deploy", url.Values{"env": {"staging"}, "version": {"99"}})
	wantStatus(t, "deploy of a version that does not exist", res, http.StatusNotFound)
}

func TestHistoryFilterErrorsStayNextToTheField(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client()
	res := c.get("/history?commit=xyz&since=yesterday")
	wantStatus(t, "invalid filters", res, http.StatusBadRequest)
	wantContains(t, "invalid filters", res.body, `id="history-since-error"`, `value="yesterday"`)
	res = c.get("/history?commit=xyz")
	wantStatus(t, "invalid commit", res, http.StatusBadRequest)
	wantContains(t, "invalid commit", res.body, `id="history-commit-error"`, "7 to 40 hexadecimal", `value="xyz"`)
	res = c.get("/history?since=2026-11-02T10:30&until=2026-11-02T11:10&actor=bob@example.com")
	wantStatus(t, "time range", res, http.StatusOK)
	wantContains(t, "time range", res.body, "Release train to staging", "Lock jp-prod (freeze): Golden week freeze")
	if strings.Contains(res.body, "Release checkout") {
		t.Errorf("the time range and actor filter let through a release by Alice")
	}
}

func TestExportBanner(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client()
	if body := c.get("/").body; strings.Contains(body, `class="banner"`) {
		t.Fatal("banner without an export")
	}
	f.mu.Lock()
	f.export = railyard.ExportStatus{Enabled: true, PendingEvents: 3, OldestPendingSeconds: 2}
	f.mu.Unlock()
	if body := c.get("/").body; strings.Contains(body, `class="banner"`) {
		t.Error("banner for an export 2 s behind")
	}
	f.mu.Lock()
	f.export = railyard.ExportStatus{Enabled: true, PendingEvents: 3, OldestPendingSeconds: 125}
	f.mu.Unlock()
	wantContains(t, "lag", c.get("/").body, "Git export lags.", "3 change(s) wait for export to Git, the oldest for 2 min")
	f.mu.Lock()
	f.export = railyard.ExportStatus{Enabled: true, LastError: "push: connection refused"}
	f.mu.Unlock()
	wantContains(t, "error", c.get("/").body, "Git export is failing.", "<code>push: connection refused</code>")
}

// TestVersionFieldsHaveOneSpelling reads a form's version as the API
// reads one in a path (railyard.ParseVersion): canonical digits only, so
// "02" is not version 2 here either, and nothing changes.
func TestVersionFieldsHaveOneSpelling(t *testing.T) {
	f := newFixture(t).seed()
	c := f.client().identify(alice)
	for _, tc := range []struct{ path, env, version string }{
		{"/ui/apps/checkout/deploy", "development", "02"},
		{"/ui/apps/checkout/deploy", "development", "-2"},
		{"/ui/apps/checkout/deploy", "development", ""},
		{"/ui/apps/checkout/rollback", "development", "02"},
		{"/ui/apps/checkout/rollback", "development", "0"},
	} {
		res := c.post(tc.path, url.Values{"env": {tc.env}, "version": {tc.version}})
		wantStatus(t, tc.path+" version "+tc.version, res, http.StatusBadRequest)
		wantContains(t, tc.path+" version "+tc.version, res.body,
			"version &#34;"+tc.version+"&#34; must be a positive integer written with digits only (no sign, spaces or leading zeros), such as 5")
	}
	if got := f.state("checkout", "development"); got != "3/-" {
		t.Errorf("development runs %s after refused versions, want 3/-", got)
	}
	res := c.post("/ui/apps/checkout/deploy", url.Values{"env": {"development"}, "version": {"9007199254740992"}})
	wantStatus(t, "version past MaxVersion", res, http.StatusBadRequest)
	wantContains(t, "version past MaxVersion", res.body, "version 9007199254740992 is too large: versions go up to 9007199254740991 (2^53-1)")
}
