package http

import (
	"bytes"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"reflect"
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
		t.Run(railyard.Truncate(name, 20), func(t *testing.T) {
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
			_, err = ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "staging", Team: name, ID: "x"}, Message: "m"})
			wantError(t, err, railyard.EINVALID, "team")
			_, err = ts.client.CreateLock(ctx, railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "/" + name}, Message: "m"})
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

// TestBadInput_NothingUnexportable is issue 10's list of input that was
// accepted although Git export could not write it, or that encoding/json
// silently changed: each case is a 400 (or 409) naming the field, with
// the exact message, and changes nothing.
func TestBadInput_NothingUnexportable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(1))
	before := ts.state()
	const rel = "/api/v1/applications/checkout/releases"
	manifest := `"manifests":{"staging":"a: b"}`
	tooLarge := func(v string) string {
		return "version " + v + " is too large: versions go up to 9007199254740991 (2^53-1)"
	}
	digitsOnly := func(v string) string {
		return fmt.Sprintf("version %q must be a positive integer written with digits only (no sign, spaces or leading zeros), such as 5", v)
	}
	ctl := func(field, at string) string {
		return field + " must not contain control characters (found " + at + ")"
	}
	jsonHeader := map[string]string{"Content-Type": "application/json"}
	cases := []struct {
		name, method, path string
		header             map[string]string
		body               string
		status             int
		field, message     string
	}{
		// Versions are bounded to 2^53-1 wherever they enter.
		{"release version int64 max", "POST", rel, jsonHeader, `{"version":9223372036854775807,` + manifest + `}`, 400, "version", tooLarge("9223372036854775807")},
		{"release version 2^53", "POST", rel, jsonHeader, `{"version":9007199254740992,` + manifest + `}`, 400, "version", tooLarge("9007199254740992")},
		{"release version past int64", "POST", rel, jsonHeader, `{"version":9223372036854775808,` + manifest + `}`, 400, "version", "version: expected an integer, got JSON number 9223372036854775808"},
		{"deploy version 2^53", "POST", "/api/v1/applications/checkout/environments/staging/deploy", jsonHeader, `{"version":9007199254740992}`, 400, "version", tooLarge("9007199254740992")},
		{"rollback version 2^53", "POST", "/api/v1/applications/checkout/environments/staging/rollback", jsonHeader, `{"version":9007199254740992}`, 400, "version", tooLarge("9007199254740992")},
		{"batch deploy version 2^53", "POST", "/api/v1/batch", jsonHeader, `{"commands":[{"kind":"deploy","params":{"application":"checkout","environment":"staging","version":9007199254740992}}]}`, 400, "version", tooLarge("9007199254740992")},
		{"path version +5", "GET", rel + "/+5", nil, "", 400, "version", digitsOnly("+5")},
		{"path version 05", "GET", rel + "/05", nil, "", 400, "version", digitsOnly("05")},
		{"path version with a space", "GET", rel + "/%201", nil, "", 400, "version", digitsOnly(" 1")},
		{"path version 2^53", "GET", rel + "/9007199254740992", nil, "", 400, "version", tooLarge("9007199254740992")},
		{"Kuberpult manifests version +1", "POST", "/api/application/checkout/release/manifests/+1", jsonHeader, "", 400, "version", digitsOnly("+1")},
		// Strict JSON.
		{"duplicate key", "POST", rel, jsonHeader, `{"version":3,"version":4,` + manifest + `}`, 400, "version", "version is given more than once: give each field once"},
		{"duplicate manifest", "POST", rel, jsonHeader, `{"manifests":{"staging":"a: b","staging":"a: c"}}`, 400, "manifests[staging]", "manifests[staging] is given more than once: give each field once"},
		{"duplicate key in config", "PUT", "/api/v1/environments/qa", jsonHeader, `{"upstream":{"latest":true,"latest":false}}`, 400, "upstream.latest", "upstream.latest is given more than once: give each field once"},
		{"duplicate key in batch params", "POST", "/api/v1/batch", jsonHeader, `{"commands":[{"kind":"deploy","params":{"application":"checkout","application":"cart"}}]}`, 400, "commands[0].params.application", "commands[0].params.application is given more than once: give each field once"},
		{"key in the wrong case", "POST", rel, jsonHeader, `{"VERSION":3,` + manifest + `}`, 400, "VERSION", `unknown field "VERSION": field names are case-sensitive, use "version"`},
		{"nested key in the wrong case", "PUT", "/api/v1/environments/qa", jsonHeader, `{"upstream":{"Latest":true}}`, 400, "upstream.Latest", `unknown field "Latest": field names are case-sensitive, use "latest"`},
		{"invalid UTF-8", "POST", rel, jsonHeader, "{\"sourceAuthor\":\"Bob \xff\"," + manifest + "}", 400, "sourceAuthor", "sourceAuthor is not valid UTF-8 (byte 0xFF at byte 21 of the body)"},
		{"lone surrogate", "POST", rel, jsonHeader, `{"sourceAuthor":"Bob \udc00",` + manifest + `}`, 400, "sourceAuthor", "sourceAuthor is not valid JSON: invalid surrogate pair `\\udc00\",\"man` in string (at byte 21)"},
		// Text that reaches Git or a terminal.
		{"NUL in displayVersion", "POST", rel, jsonHeader, `{"displayVersion":"1.2\u0000",` + manifest + `}`, 400, "displayVersion", ctl("displayVersion", "U+0000 at byte 3")},
		{"ANSI escape in sourceBranch", "POST", rel, jsonHeader, `{"sourceBranch":"\u001b[31mmain",` + manifest + `}`, 400, "sourceBranch", ctl("sourceBranch", "U+001B at byte 0")},
		{"NUL in a lock message", "PUT", "/api/v1/environments/staging/locks/freeze", jsonHeader, `{"message":"freeze\u0000"}`, 400, "message", ctl("message", "U+0000 at byte 6")},
		{"NUL in a Kuberpult lock message", "PUT", "/environments/staging/locks/freeze", jsonHeader, `{"message":"freeze\u0000"}`, 400, "message", ctl("message", "U+0000 at byte 6")},
		{"duplicate key in a Kuberpult lock", "PUT", "/environments/staging/locks/freeze", jsonHeader, `{"message":"a","message":"b"}`, 400, "message", "message is given more than once: give each field once"},
		{"C1 in a train ciLink", "POST", "/api/v1/environments/staging/release-train", jsonHeader, `{"ciLink":"https://ci/\u009b"}`, 400, "ciLink", ctl("ciLink", "U+009B at byte 11")},
		{"credentials in a ciLink", "POST", rel, jsonHeader, `{"ciLink":"https://bot:s3cret@ci.example.com/job/1",` + manifest + `}`, 400, "ciLink", "ciLink must not contain a user name or password (the part before '@'): links are shown to everyone who reads the history and the manifest repository"},
		{"a token as user name in a lock's ciLink", "PUT", "/api/v1/environments/staging/locks/freeze", jsonHeader, `{"message":"m","ciLink":"https://ghp_token@ci.example.com/1"}`, 400, "ciLink", "ciLink must not contain a user name or password (the part before '@'): links are shown to everyone who reads the history and the manifest repository"},
		{"ESC in the actor", "PUT", "/api/v1/environments/qa", map[string]string{"Content-Type": "application/json", "author-name": b64("Eve\x1b[8m")}, `{}`, 400, "author-name", ctl("author-name", "U+001B at byte 3")},
		{"newline in the actor e-mail", "PUT", "/api/v1/environments/qa", map[string]string{"Content-Type": "application/json", "author-name": b64("Eve"), "author-email": b64("eve@x\nRailyard-Event: 1")}, `{}`, 400, "author-email", ctl("author-email", "U+000A at byte 5")},
		// Manifests Kubernetes would refuse.
		{"duplicate YAML key", "POST", rel, jsonHeader, `{"manifests":{"staging":"metadata:\n  name: a\n  name: b\n"}}`, 400, "manifests[staging]", `manifests[staging] is not valid YAML: yaml: line 3: mapping key "name" already defined at line 2`},
		// Environment configurations export could not write.
		{"annotation key of 2000 characters", "PUT", "/api/v1/environments/qa5", jsonHeader,
			`{"argocd":{"destination":{"server":"https://kubernetes.default.svc"},"applicationAnnotations":{"` + strings.Repeat("k", 2000) + `":"x"}}}`, 400, "argocd.applicationAnnotations",
			`argocd.applicationAnnotations key "` + strings.Repeat("k", 60) + `…" is not a valid Kubernetes annotation name: the name must be at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional prefix such as "example.com/"`},
		{"sync option without value", "PUT", "/api/v1/environments/qa5", jsonHeader,
			`{"argocd":{"destination":{"server":"https://kubernetes.default.svc"},"syncOptions":["CreateNamespace"]}}`, 400, "argocd.syncOptions[0]",
			`argocd.syncOptions[0] "CreateNamespace" is not an Argo CD sync option: write Key=Value, such as "CreateNamespace=true"`},
		{"timeZone Local", "PUT", "/api/v1/environments/qa", jsonHeader, `{"deployWindows":[{"kind":"deny","schedule":"0 22 * * *","duration":"8h","timeZone":"Local"}]}`, 400, "deployWindows[0].timeZone",
			`deployWindows[0].timeZone "Local" means the server's own time zone, which depends on the host: name an IANA time zone such as "Europe/Berlin", or leave it out for UTC`},
		{"train timeZone Local", "PUT", "/api/v1/environments/qa", jsonHeader, `{"upstream":{"environment":"staging"},"releaseTrains":[{"schedule":"0 6 * * *","timeZone":"Local"}]}`, 400, "releaseTrains[0].timeZone",
			`releaseTrains[0].timeZone "Local" means the server's own time zone, which depends on the host: name an IANA time zone such as "Europe/Berlin", or leave it out for UTC`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			e := ts.do(c.method, c.path, c.header, body).wantError(t, c.status, railyard.EINVALID, c.field)
			if e.Message != c.message {
				t.Errorf("got message\n%s\nwant\n%s", e.Message, c.message)
			}
			ts.unchangedFor(t, before)
		})
	}
}

// TestBadInput_KuberpultReleaseForm checks the same rules on the
// multipart upload: text fields, the version and the manifests, with
// the multipart field names.
func TestBadInput_KuberpultReleaseForm(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	before := ts.state()
	digitsOnly := func(v string) string {
		return fmt.Sprintf("version %q must be a positive integer written with digits only (no sign, spaces or leading zeros), such as 5", v)
	}
	cases := []struct {
		name, part, value string
		field, message    string
	}{
		{"version +5", "version", "+5", "version", digitsOnly("+5")},
		{"version with a space", "version", " 5", "version", digitsOnly(" 5")},
		{"version with a newline", "version", "5\n", "version", digitsOnly("5\n")},
		{"version 05", "version", "05", "version", digitsOnly("05")},
		{"version 2^53", "version", "9007199254740992", "version", "version 9007199254740992 is too large: versions go up to 9007199254740991 (2^53-1)"},
		{"version int64 max", "version", "9223372036854775807", "version", "version 9223372036854775807 is too large: versions go up to 9007199254740991 (2^53-1)"},
		{"NUL in display_version", "display_version", "1.2\x00", "display_version", "display_version must not contain control characters (found U+0000 at byte 3)"},
		{"ANSI in source_author", "source_author", "\x1b[2JBob", "source_author", "source_author must not contain control characters (found U+001B at byte 0)"},
		{"newline in source_branch", "source_branch", "main\nx", "source_branch", "source_branch must not contain control characters (found U+000A at byte 4)"},
		{"bidi override in source_message", "source_message", "fix \u202e", "source_message", "source_message must not contain bidirectional embedding, override or isolate characters (found U+202E at byte 4)"},
		{"invalid UTF-8 in source_message", "source_message", "fix \xff", "source_message", "source_message is not UTF-8 text"},
		{"duplicate YAML key", "manifests[staging]", "metadata:\n  name: a\n  name: b\n", "manifests[staging]", `manifests[staging] is not valid YAML: yaml: line 3: mapping key "name" already defined at line 2`},
		{"invalid UTF-8 in a manifest", "manifests[staging]", "a: \xff\n", "manifests[staging]", "manifests[staging] is not UTF-8 text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := []formPart{{"application", "", "checkout"}, {"manifests[development]", "m", manifestDev}}
			if strings.HasPrefix(c.part, "manifests[") {
				form = append(form, formPart{c.part, "m", c.value})
			} else {
				form = append(form, formPart{c.part, "", c.value})
			}
			e := ts.postForm("/release", form).wantError(t, 400, railyard.EINVALID, c.field)
			if e.Message != c.message {
				t.Errorf("got message\n%s\nwant\n%s", e.Message, c.message)
			}
			ts.unchangedFor(t, before)
		})
	}
}

// TestBadInput_AutomaticVersionAtTheBound: once an application has version
// 2^53-1, a release without a version has no next version to take: 409.
func TestBadInput_AutomaticVersionAtTheBound(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	ts.seedRelease(release(railyard.MaxVersion))
	before := ts.state()
	want := "checkout already has version 9007199254740991, the highest allowed (2^53-1), so there is no next version: give an unused lower version explicitly"
	e := ts.doJSON("POST", "/api/v1/applications/checkout/releases", `{"manifests":{"staging":"a: b"}}`).wantError(t, 409, railyard.ECONFLICT, "version")
	if e.Message != want {
		t.Errorf("got %q, want %q", e.Message, want)
	}
	e = ts.postForm("/release", []formPart{{"application", "", "checkout"}, {"manifests[staging]", "m", manifestStg}}).wantError(t, 409, railyard.ECONFLICT, "version")
	if e.Message != want {
		t.Errorf("multipart: got %q, want %q", e.Message, want)
	}
	ts.unchangedFor(t, before)
}

// unchangedFor fails t (not the test that made ts) if the state differs
// from before, so that each case of a table reports on its own.
func (ts *testServer) unchangedFor(t *testing.T, before snapshot) {
	t.Helper()
	if after := ts.state(); !reflect.DeepEqual(before, after) {
		t.Fatalf("state changed: last event %d, was %d", after.LastEventID, before.LastEventID)
	}
}
