package http

import (
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

// newRequest builds a request for tests that call handlers directly.
func newRequest(t *testing.T, method, path string) *nethttp.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}

// examplePath fills a pattern's wildcards with valid values.
func examplePath(pattern string) string {
	r := strings.NewReplacer("{$}", "", "{env}", "staging", "{group}", "prod", "{app}", "checkout", "{team}", "payments", "{id}", "x", "{version}", "1")
	return r.Replace(pattern)
}

func TestHome(t *testing.T) {
	ts := newTestServer(t, Options{})
	a := ts.do("GET", "/", nil, nil).wantStatus(t, 200)
	if ct := a.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("got Content-Type %q", ct)
	}
	body := string(a.body)
	for _, want := range []string{"Railyard is running", `href="/api/v1/overview"`, `href="/api/v1/openapi.json"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	ts.do("GET", "/index.html", nil, nil).wantError(t, 404, railyard.ENOTFOUND, "")
	ts.do("POST", "/", nil, nil).wantError(t, 405, codeMethodNotAllowed, "")
}

func TestHealth(t *testing.T) {
	ts := newTestServer(t, Options{})
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := string(ts.do("GET", path, nil, nil).wantStatus(t, 200).body); got != "{\"status\":\"ok\"}\n" {
			t.Errorf("%s: got %q", path, got)
		}
	}
	noErr(t, ts.client.Health(ctx))
}

func TestReadyz_StoreDown(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.expectInternal = true
	// Closing the store makes every read fail; liveness stays up.
	noErr(t, ts.db.Close())
	ts.dbClosed = true
	a := ts.do("GET", "/readyz", nil, nil).wantStatus(t, 503)
	if !strings.Contains(string(a.body), `"status":"unavailable"`) {
		t.Fatalf("got %s", a.body)
	}
	ts.do("GET", "/healthz", nil, nil).wantStatus(t, 200)
	e := ts.do("GET", "/api/v1/overview", nil, nil).wantError(t, 500, railyard.EINTERNAL, "")
	if e.Message != "Internal error." {
		t.Fatalf("got %q, want the generic message (internals stay in the log)", e.Message)
	}
	if log := ts.log.String(); !strings.Contains(log, "request failed") || !strings.Contains(log, "route=\"GET /api/v1/overview\"") {
		t.Fatalf("the internal error was not logged with its route:\n%s", log)
	}
}
