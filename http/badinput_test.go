package http

import (
	"bytes"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

// badNames are names no environment, application, team or group may have.
var badNames = []string{"..", ".", "a/b", "UPPER", "ä", strings.Repeat("a", 200), "-a", "a_b", "a b", ""}

func TestBadNames_ThroughTheClient(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	before := ts.state()
	for _, name := range badNames {
		if name == "" {
			continue // an empty segment is a different route
		}
		t.Run(truncate(name, 20), func(t *testing.T) {
			_, err := ts.client.PutEnvironment(ctx, name, railyard.EnvironmentConfig{})
			wantError(t, err, railyard.EINVALID, "environment")
			_, err = ts.client.FindEnvironment(ctx, name)
			wantError(t, err, railyard.EINVALID, "environment")
			_, err = ts.client.DeleteEnvironment(ctx, name)
			wantError(t, err, railyard.EINVALID, "environment")
			cr := release(0)
			cr.Application = name
			_, err = ts.client.CreateRelease(ctx, cr)
			wantError(t, err, railyard.EINVALID, "application")
			_, err = ts.client.FindApplication(ctx, name)
			wantError(t, err, railyard.EINVALID, "application")
			_, err = ts.client.DeleteApplication(ctx, name)
			wantError(t, err, railyard.EINVALID, "application")
			_, err = ts.client.FindRelease(ctx, name, 1)
			wantError(t, err, railyard.EINVALID, "application")
			_, err = ts.client.Deploy(ctx, railyard.Deploy{Application: name, Environment: "staging", Version: 1})
			wantError(t, err, railyard.EINVALID, "application")
			_, err = ts.client.Deploy(ctx, railyard.Deploy{Application: "checkout", Environment: name, Version: 1})
			wantError(t, err, railyard.EINVALID, "environment")
			_, err = ts.client.CreateLock(ctx, railyard.CreateLock{LockKind: railyard.LockTeam, Environment: "staging", Team: name, ID: "x", Message: "m"})
			wantError(t, err, railyard.EINVALID, "team")
			_, err = ts.client.CreateLock(ctx, railyard.CreateLock{LockKind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "/" + name, Message: "m"})
			wantError(t, err, railyard.EINVALID, "lockId")
			_, _, err = ts.client.FindEvents(ctx, railyard.EventFilter{Application: name})
			wantError(t, err, railyard.EINVALID, "application")
			cr = release(0)
			cr.Manifests = map[string]string{name: manifestDev}
			_, err = ts.client.CreateRelease(ctx, cr)
			wantError(t, err, railyard.EINVALID, "manifests["+name+"]")
			ts.unchanged(before)
		})
	}
}

func TestBadInput_JSONAPI(t *testing.T) {
	ts := newTestServer(t, Options{MaxRequestBytes: 16 << 10, MaxManifestBytes: 1 << 10})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	ts.seedRelease(release(2))
	before := ts.state()
	bigManifest := fmt.Sprintf(`{"manifests":{"staging":%q}}`, strings.Repeat("a: b\n", 300))
	cases := []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"malformed JSON", "PUT", "/api/v1/environments/qa", `{"upstream":`, 400, railyard.EINVALID, "body"},
		{"trailing data", "PUT", "/api/v1/environments/qa", `{} {}`, 400, railyard.EINVALID, "body"},
		{"empty body", "PUT", "/api/v1/environments/qa", ``, 400, railyard.EINVALID, "body"},
		{"JSON array", "PUT", "/api/v1/environments/qa", `[]`, 400, railyard.EINVALID, "body"},
		{"unknown field", "PUT", "/api/v1/environments/qa", `{"upstrem":{"latest":true}}`, 400, railyard.EINVALID, "upstrem"},
		{"wrong type", "PUT", "/api/v1/environments/qa", `{"upstream":{"latest":"yes"}}`, 400, railyard.EINVALID, "upstream.latest"},
		{"unknown upstream", "PUT", "/api/v1/environments/qa", `{"upstream":{"environment":"uat"}}`, 400, railyard.EINVALID, "upstream.environment"},
		{"upstream cycle", "PUT", "/api/v1/environments/development", `{"upstream":{"environment":"production"}}`, 400, railyard.EINVALID, "upstream.environment"},
		{"both upstreams", "PUT", "/api/v1/environments/qa", `{"upstream":{"latest":true,"environment":"staging"}}`, 400, railyard.EINVALID, "upstream"},
		{"bad deploy window", "PUT", "/api/v1/environments/qa", `{"deployWindows":[{"kind":"deny","schedule":"never","duration":"2h"}]}`, 400, railyard.EINVALID, "deployWindows[0].schedule"},
		{"release body application differs", "POST", "/api/v1/applications/checkout/releases", `{"application":"cart","manifests":{"staging":"a: b"}}`, 400, railyard.EINVALID, "application"},
		{"release missing manifests", "POST", "/api/v1/applications/checkout/releases", `{"version":3}`, 400, railyard.EINVALID, "manifests"},
		{"release manifest not YAML", "POST", "/api/v1/applications/checkout/releases", `{"manifests":{"staging":"a: [b"}}`, 400, railyard.EINVALID, "manifests[staging]"},
		{"release manifest tab YAML", "POST", "/api/v1/applications/checkout/releases", `{"manifests":{"staging":"a:\n\t- b"}}`, 400, railyard.EINVALID, "manifests[staging]"},
		{"release unknown environment", "POST", "/api/v1/applications/checkout/releases", `{"manifests":{"qa":"a: b"}}`, 400, railyard.EINVALID, "manifests[qa]"},
		{"release negative version", "POST", "/api/v1/applications/checkout/releases", `{"version":-1,"manifests":{"staging":"a: b"}}`, 400, railyard.EINVALID, "version"},
		{"release version a string", "POST", "/api/v1/applications/checkout/releases", `{"version":"3","manifests":{"staging":"a: b"}}`, 400, railyard.EINVALID, "version"},
		{"release unknown field", "POST", "/api/v1/applications/checkout/releases", `{"manifest":{"staging":"a: b"}}`, 400, railyard.EINVALID, "manifest"},
		{"release commit id", "POST", "/api/v1/applications/checkout/releases", `{"sourceCommitId":"xyz","manifests":{"staging":"a: b"}}`, 400, railyard.EINVALID, "sourceCommitId"},
		{"release manifest over the limit", "POST", "/api/v1/applications/checkout/releases", bigManifest, 413, railyard.ETOOLARGE, "manifests[staging]"},
		{"body over the limit", "PUT", "/api/v1/environments/qa", `{"branchRestriction":"` + strings.Repeat("x", 17<<10) + `"}`, 413, railyard.ETOOLARGE, "body"},
		{"deploy version 0", "POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":0}`, 400, railyard.EINVALID, "version"},
		{"deploy version -1", "POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":-1}`, 400, railyard.EINVALID, "version"},
		{"deploy version abc", "POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":"abc"}`, 400, railyard.EINVALID, "version"},
		{"deploy missing version", "POST", "/api/v1/applications/checkout/environments/staging/deploy", `{}`, 400, railyard.EINVALID, "version"},
		{"deploy bad lock behavior", "POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":1,"lockBehavior":"force"}`, 400, railyard.EINVALID, "lockBehavior"},
		{"deploy unknown field", "POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":1,"environment":"production"}`, 400, railyard.EINVALID, "environment"},
		{"deploy unknown environment", "POST", "/api/v1/applications/checkout/environments/qa/deploy", `{"version":1}`, 404, railyard.ENOTFOUND, ""},
		{"deploy unknown application", "POST", "/api/v1/applications/cart/environments/staging/deploy", `{"version":1}`, 404, railyard.ENOTFOUND, ""},
		{"deploy unknown version", "POST", "/api/v1/applications/checkout/environments/staging/deploy", `{"version":3}`, 404, railyard.ENOTFOUND, ""},
		{"get unknown environment", "GET", "/api/v1/environments/qa", ``, 404, railyard.ENOTFOUND, ""},
		{"get unknown application", "GET", "/api/v1/applications/cart", ``, 404, railyard.ENOTFOUND, ""},
		{"delete unknown application", "DELETE", "/api/v1/applications/cart", ``, 404, railyard.ENOTFOUND, ""},
		{"release version 0", "GET", "/api/v1/applications/checkout/releases/0", ``, 400, railyard.EINVALID, "version"},
		{"release version -1", "GET", "/api/v1/applications/checkout/releases/-1", ``, 400, railyard.EINVALID, "version"},
		{"release version abc", "GET", "/api/v1/applications/checkout/releases/abc", ``, 400, railyard.EINVALID, "version"},
		{"literal .. in path", "GET", "/api/v1/applications/../environments", ``, 400, railyard.EINVALID, "path"},
		{"literal . in path", "DELETE", "/api/v1/environments/./staging", ``, 400, railyard.EINVALID, "path"},
		{"double slash", "GET", "/api/v1//environments", ``, 400, railyard.EINVALID, "path"},
		{"escaped ..", "DELETE", "/api/v1/environments/%2E%2E", ``, 400, railyard.EINVALID, "environment"},
		{"escaped slash", "DELETE", "/api/v1/environments/a%2Fb", ``, 400, railyard.EINVALID, "environment"},
		{"unicode name", "GET", "/api/v1/applications/%C3%A4", ``, 400, railyard.EINVALID, "application"},
		{"unknown route", "GET", "/api/v1/nothing", ``, 404, railyard.ENOTFOUND, ""},
		{"trailing slash", "GET", "/api/v1/environments/", ``, 404, railyard.ENOTFOUND, ""},
		{"wrong method", "PATCH", "/api/v1/environments/staging", `{}`, 405, codeMethodNotAllowed, ""},
		{"wrong method on collection", "POST", "/api/v1/environments", `{}`, 405, codeMethodNotAllowed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" || c.method == "PUT" || c.method == "POST" {
				body = c.body
			}
			ts.doJSON(c.method, c.path, body).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
}

func TestBadInput_LimitMessageNamesTheLimit(t *testing.T) {
	ts := newTestServer(t, Options{MaxRequestBytes: 1000})
	e := ts.doJSON("PUT", "/api/v1/environments/qa", `{"branchRestriction":"`+strings.Repeat("x", 2000)+`"}`).wantError(t, 413, railyard.ETOOLARGE, "body")
	if !strings.Contains(e.Message, "1000 bytes") {
		t.Fatalf("got %q, want it to name the limit of 1000 bytes", e.Message)
	}
	// Without a Content-Length (chunked), the limit is found while reading.
	chunked := func(s string) io.Reader { return io.MultiReader(strings.NewReader(s)) }
	json := map[string]string{"Content-Type": "application/json"}
	ts.do("PUT", "/api/v1/environments/qa", json, chunked(`{"branchRestriction":"`+strings.Repeat("x", 2000)+`"}`)).wantError(t, 413, railyard.ETOOLARGE, "body")
	ts.do("PUT", "/environments/qa/locks/x", json, chunked(`{"message":"`+strings.Repeat("x", 2000)+`"}`)).wantError(t, 413, railyard.ETOOLARGE, "body")
	ct, body := multipartBody(t, []formPart{{"application", "", "a"}, {"source_message", "", strings.Repeat("x", 2000)}})
	ts.do("POST", "/release", map[string]string{"Content-Type": ct}, chunked(string(body))).wantError(t, 413, railyard.ETOOLARGE, "body")
	ts.do("POST", "/release", map[string]string{"Content-Type": ct}, bytes.NewReader(body)).wantError(t, 413, railyard.ETOOLARGE, "body")
	if id, err := ts.engine.LastEventID(ctx); err != nil || id != 0 {
		t.Fatalf("got last event %d, %v: want nothing recorded", id, err)
	}
}

func TestBadInput_Headers(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	before := ts.state()
	cases := []struct {
		name        string
		header      map[string]string
		status      int
		code, field string
	}{
		{"author-name not base64", map[string]string{"author-name": "alice"}, 400, railyard.EINVALID, "author-name"},
		{"author-email not base64", map[string]string{"author-name": b64("alice"), "author-email": "a@b"}, 400, railyard.EINVALID, "author-email"},
		{"author-name not UTF-8", map[string]string{"author-name": b64("\xff")}, 400, railyard.EINVALID, "author-name"},
		{"author-name blank", map[string]string{"author-name": b64("  ")}, 400, railyard.EINVALID, "author-name"},
		{"author-name with <", map[string]string{"author-name": b64("a <b>")}, 400, railyard.EINVALID, "author-name"},
		{"text/plain body", map[string]string{"Content-Type": "text/plain"}, 415, railyard.EUNSUPPORTED, "Content-Type"},
		{"form body", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, railyard.EUNSUPPORTED, "Content-Type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header := map[string]string{"Content-Type": "application/json"}
			for k, v := range c.header {
				header[k] = v
			}
			ts.do("PUT", "/api/v1/environments/qa", header, strings.NewReader(`{}`)).wantError(t, c.status, c.code, c.field)
			ts.unchanged(before)
		})
	}
}

func TestActorHeaders(t *testing.T) {
	ts := newTestServer(t, Options{DefaultActor: railyard.Actor{Name: "ci", Email: "ci@example.com"}})
	cases := []struct {
		header map[string]string
		want   railyard.Actor
	}{
		{nil, railyard.Actor{Name: "ci", Email: "ci@example.com"}},
		{map[string]string{"author-name": b64("Zoë")}, railyard.Actor{Name: "Zoë"}},
		{map[string]string{"author-name": b64("Zoë"), "author-email": b64("zoe@example.com")}, railyard.Actor{Name: "Zoë", Email: "zoe@example.com"}},
		{map[string]string{"author-email": b64("zoe@example.com")}, railyard.Actor{Name: "ci", Email: "zoe@example.com"}},
	}
	for i, c := range cases {
		header := map[string]string{"Content-Type": "application/json"}
		for k, v := range c.header {
			header[k] = v
		}
		var res railyard.Result
		ts.do("PUT", fmt.Sprintf("/api/v1/environments/e%d", i), header, strings.NewReader(`{}`)).wantStatus(t, 201).json(t, &res)
		if res.Event.Actor != c.want {
			t.Errorf("headers %v: got actor %+v, want %+v", c.header, res.Event.Actor, c.want)
		}
	}
}

func TestMethodNotAllowed_AllowHeader(t *testing.T) {
	ts := newTestServer(t, Options{})
	a := ts.do("PATCH", "/api/v1/environments/staging", nil, nil)
	a.wantError(t, 405, codeMethodNotAllowed, "")
	if allow := a.header.Get("Allow"); !strings.Contains(allow, "PUT") || !strings.Contains(allow, "DELETE") || !strings.Contains(allow, "GET") {
		t.Fatalf("got Allow %q, want GET, PUT and DELETE", allow)
	}
}

func TestClient_ErrorsAreDomainErrors(t *testing.T) {
	ts := newTestServer(t, Options{})
	c := NewClient(ts.http.URL + "/nothing-here")
	c.HTTPClient = ts.http.Client()
	_, err := c.FindEnvironments(ctx)
	wantError(t, err, railyard.ENOTFOUND, "")

	// A proxy in front of Railyard may answer with HTML or plain text.
	proxy := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.Error(w, "upstream connect error", nethttp.StatusBadGateway)
	}))
	defer proxy.Close()
	err = NewClient(proxy.URL).Health(ctx)
	e := wantError(t, err, railyard.EINTERNAL, "")
	if !strings.Contains(e.Message, "502") || !strings.Contains(e.Message, "upstream connect error") {
		t.Fatalf("got %q, want the status and the body", e.Message)
	}

	err = NewClient("http://127.0.0.1:1").Health(ctx)
	if err == nil || railyard.ErrorCode(err) != railyard.EINTERNAL {
		t.Fatalf("got %v, want an internal error for an unreachable server", err)
	}
}
