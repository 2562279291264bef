package http

import (
	"encoding/json"
	nethttp "net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

// routeKeys lists "METHOD path" of the document's operations, sorted.
func routeKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	var keys []string
	for p, ops := range d.Paths {
		for m := range ops {
			keys = append(keys, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(keys)
	return keys
}

func TestOpenAPI_DescribesEveryRoute(t *testing.T) {
	ts := newTestServer(t, Options{})
	a := ts.do("GET", "/api/v1/openapi.json", nil, nil).wantStatus(t, 200)
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("got Content-Type %q", ct)
	}
	var fromRoutes []string
	for _, rt := range ts.server.routes {
		fromRoutes = append(fromRoutes, rt.method+" "+openAPIPath(rt.pattern))
		// Every route of the table is registered on the mux.
		if _, pattern := ts.server.mux.Handler(newRequest(t, rt.method, examplePath(rt.pattern))); pattern != rt.method+" "+rt.pattern {
			t.Errorf("%s %s: the mux matched %q", rt.method, rt.pattern, pattern)
		}
	}
	sort.Strings(fromRoutes)
	fromDoc := routeKeys(t, a.body)
	if strings.Join(fromRoutes, "\n") != strings.Join(fromDoc, "\n") {
		t.Fatalf("routes and document differ:\nroutes:\n%s\ndocument:\n%s", strings.Join(fromRoutes, "\n"), strings.Join(fromDoc, "\n"))
	}
	if len(fromRoutes) < 45 {
		t.Fatalf("got %d routes, want every route of the API", len(fromRoutes))
	}
}

func TestOpenAPI_WellFormed(t *testing.T) {
	ts := newTestServer(t, Options{})
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	body := ts.do("GET", "/api/v1/openapi.json", nil, nil).wantStatus(t, 200).body
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("got openapi %q", doc.OpenAPI)
	}
	ids := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			id, _ := op["operationId"].(string)
			if other, dup := ids[id]; dup || id == "" {
				t.Errorf("%s %s: operationId %q is empty or also used by %s", method, path, id, other)
			}
			ids[id] = method + " " + path
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s %s has no summary", method, path)
			}
			if _, ok := op["responses"].(map[string]any)["500"]; !ok {
				t.Errorf("%s %s does not document 500", method, path)
			}
		}
	}
	// Every $ref resolves.
	for _, ref := range findRefs(body) {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("unresolved $ref %s", ref)
		}
	}
	for _, name := range []string{"Error", "Result", "Release", "Environment", "EnvironmentConfig", "Overview", "Lock", "Event", "Blocker", "ApplicationDetail"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("no schema %s", name)
		}
	}
	props := doc.Components.Schemas["ApplicationDetail"]["properties"].(map[string]any)
	for _, p := range []string{"name", "team", "releases", "environments"} {
		if _, ok := props[p]; !ok {
			t.Errorf("ApplicationDetail lacks %q (embedded fields must be flattened)", p)
		}
	}
}

// findRefs returns every "$ref" value in a JSON document.
func findRefs(doc []byte) []string {
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var root any
	_ = json.Unmarshal(doc, &root)
	walk(root)
	return refs
}

// newRequest is a request for the router, never sent.
func newRequest(t *testing.T, method, path string) *nethttp.Request {
	t.Helper()
	return httptest.NewRequest(method, path, nil)
}

// examplePath fills a pattern's wildcards with valid values.
func examplePath(pattern string) string {
	r := strings.NewReplacer("{$}", "", "{env}", "staging", "{group}", "prod", "{app}", "checkout", "{team}", "payments", "{id}", "x", "{version}", "1")
	return r.Replace(pattern)
}

// TestFallback sends requests no route matches to the fallback handler
// (the web UI), except under /api/, which stays JSON.
func TestFallback(t *testing.T) {
	fallback := nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.WriteHeader(nethttp.StatusTeapot)
	})
	ts := newTestServer(t, Options{UI: fallback})
	ts.do("GET", "/", nil, nil).wantStatus(t, nethttp.StatusTeapot)
	ts.do("GET", "/apps/checkout", nil, nil).wantStatus(t, nethttp.StatusTeapot)
	ts.do("GET", "/api/v1/nothing", nil, nil).wantError(t, 404, railyard.ENOTFOUND, "")
	ts.do("GET", "/api/v1/environments", nil, nil).wantStatus(t, 200)
	ts.do("DELETE", "/api/v1/overview", nil, nil).wantError(t, 405, codeMethodNotAllowed, "")
	ts.do("GET", "/apps/../api/v1/overview", nil, nil).wantError(t, 400, railyard.EINVALID, "path")
}
