package http

import (
	nethttp "net/http"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
)

// echoHandler answers with its name and the path and query it was given.
type echoHandler struct {
	name   string
	status int
}

func (h *echoHandler) ServeHTTP(w nethttp.ResponseWriter, r *nethttp.Request) {
	w.WriteHeader(h.status)
	_, _ = w.Write([]byte(h.name + " " + r.Method + " " + r.URL.RequestURI()))
}

// TestRouter_GitServerIsMountedUnderItsPath checks the one router: the
// Git server gets every path under GitPath/ as it was sent (no cleaning,
// no redirect: it checks its paths itself), the web UI the other paths
// outside /api/, and the API stays JSON.
func TestRouter_GitServerIsMountedUnderItsPath(t *testing.T) {
	t.Parallel()
	git := &echoHandler{name: "git", status: nethttp.StatusOK}
	web := &echoHandler{name: "ui", status: nethttp.StatusTeapot}
	ts := newTestServer(t, Options{UI: web, Git: git})
	cases := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/git/manifests.git/info/refs?service=git-upload-pack", 200, "git GET /git/manifests.git/info/refs?service=git-upload-pack"},
		{"POST", "/git/manifests.git/git-upload-pack", 200, "git POST /git/manifests.git/git-upload-pack"},
		{"PUT", "/git/manifests.git/HEAD", 200, "git PUT /git/manifests.git/HEAD"},
		{"GET", "/git/manifests.git/../../api/v1/overview", 200, "git GET /git/manifests.git/../../api/v1/overview"},
		{"GET", "/git/manifests.git//HEAD", 200, "git GET /git/manifests.git//HEAD"},
		// Not under the prefix: a ServeMux would redirect the first to
		// "/git/manifests.git/"; here it is a page of the UI.
		{"GET", "/git/manifests.git", 418, "ui GET /git/manifests.git"},
		{"GET", "/git/manifests.gitx/HEAD", 418, "ui GET /git/manifests.gitx/HEAD"},
		{"GET", "/", 418, "ui GET /"},
	}
	for _, c := range cases {
		a := ts.do(c.method, c.path, nil, nil).wantStatus(t, c.status)
		if string(a.body) != c.body {
			t.Errorf("%s %s: got %q, want %q", c.method, c.path, a.body, c.body)
		}
	}
	ts.do("GET", "/api/v1/environments", nil, nil).wantStatus(t, 200)
	ts.do("GET", "/api/v1/nothing", nil, nil).wantError(t, 404, railyard.ENOTFOUND, "")
	ts.do("DELETE", "/api/v1/overview", nil, nil).wantError(t, 405, codeMethodNotAllowed, "")
	ts.do("GET", "/apps/../api/v1/overview", nil, nil).wantError(t, 400, railyard.EINVALID, "path")
}

// TestRouter_WithoutGitServer routes the Git server's paths as any other
// when there is none (serve --no-git-export).
func TestRouter_WithoutGitServer(t *testing.T) {
	t.Parallel()
	web := &echoHandler{name: "ui", status: nethttp.StatusTeapot}
	ts := newTestServer(t, Options{UI: web})
	a := ts.do("GET", "/git/manifests.git/info/refs", nil, nil).wantStatus(t, 418)
	if got := string(a.body); got != "ui GET /git/manifests.git/info/refs" {
		t.Errorf("got %q, want the UI's answer", got)
	}
	ts.do("GET", "/git/manifests.git/../x", nil, nil).wantError(t, 400, railyard.EINVALID, "path")
	api := newTestServer(t, Options{})
	api.do("GET", "/git/manifests.git/info/refs", nil, nil).wantError(t, 404, railyard.ENOTFOUND, "")
}

// TestRouter_GuardIsInFrontOfTheGitServer refuses a request to the Git
// server that the guard refuses anywhere else, before the Git server
// sees it.
func TestRouter_GuardIsInFrontOfTheGitServer(t *testing.T) {
	t.Parallel()
	git := &countingHandler{}
	ts := newTestServer(t, Options{AllowedHosts: []string{"localhost"}, UI: &echoHandler{name: "ui", status: 418}, Git: git})
	req, err := nethttp.NewRequest("GET", ts.http.URL+GitPath+"/info/refs?service=git-upload-pack", nil)
	noErr(t, err)
	req.Host = "evil.example"
	resp, err := ts.http.Client().Do(req)
	noErr(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != nethttp.StatusForbidden || git.count() != 0 {
		t.Errorf("a rebound request reached the Git server: %d, %d requests", resp.StatusCode, git.count())
	}
	cross, err := nethttp.NewRequest("POST", ts.http.URL+GitPath+"/git-upload-pack", strings.NewReader("0000"))
	noErr(t, err)
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	resp2, err := ts.http.Client().Do(cross)
	noErr(t, err)
	defer resp2.Body.Close()
	if resp2.StatusCode != nethttp.StatusForbidden || git.count() != 0 {
		t.Errorf("a cross-site POST reached the Git server: %d, %d requests", resp2.StatusCode, git.count())
	}
}
