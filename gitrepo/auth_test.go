package gitrepo

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
)

// authServer is an https Git server that accepts pushes only with the
// basic-auth token a host such as GitHub expects.
func authServer(t *testing.T, repo, token string) (url, caFile string) {
	t.Helper()
	if _, err := (&gitcli.Git{Dir: repo}).Run(context.Background(), "config", "http.receivepack", "true"); err != nil {
		t.Fatal(err)
	}
	gitPath, _ := exec.LookPath("git")
	backend := &cgi.Handler{Path: gitPath, Args: []string{"http-backend"}, Root: "/repo.git",
		Env: append(gitcli.BaseEnv(), "GIT_PROJECT_ROOT="+repo, "GIT_HTTP_EXPORT_ALL=1", "REMOTE_USER=railyard")}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/repo.git", caFile
}

func TestHTTPSRemoteWithToken(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	url, caFile := authServer(t, e.remote, "s3cret-token")
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.must(releaseCmd("checkout", 1, "payments", "development"))

	for _, tc := range []struct {
		name, token, wantErr string
	}{
		{"no token", "", "cannot reach the manifest repository " + url + ": git ls-remote: "},
		{"wrong token", "wrong-token", "cannot reach the manifest repository " + url + ": git ls-remote: "},
		{"right token", "s3cret-token", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := NewExporter(e.eng, Config{Dir: filepath.Join(e.dir, "work-"+strings.ReplaceAll(tc.name, " ", "-")+".git"),
				RemoteURL: url, Token: tc.token, CAFile: caFile})
			if err := x.Open(context.Background()); err != nil {
				t.Fatal(err)
			}
			err := x.Sync(context.Background())
			st, _ := x.Status(context.Background())
			if tc.wantErr == "" {
				if err != nil || st.LastExportedEventID != 2 {
					t.Fatalf("got %v, status %+v", err, st)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error starting %q", err, tc.wantErr)
			}
			for _, s := range []string{err.Error(), st.LastError} {
				if strings.Contains(s, "s3cret") || strings.Contains(s, "wrong-token") {
					t.Errorf("a token leaked: %q", s)
				}
			}
			if st.LastError == "" || st.PendingEvents != 2 {
				t.Errorf("status: %+v", st)
			}
		})
	}
	assertTrailers(t, e, 2)
}

func TestTokenOverPlainHTTPIsRefused(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	x := NewExporter(e.eng, Config{Dir: filepath.Join(e.dir, "w.git"), RemoteURL: "http://git.example.com/m.git", Token: "t"})
	err := x.Open(context.Background())
	want := "gitrepo: refusing to send Git credentials to http://git.example.com/m.git over unencrypted http: use https"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	// Credentials in the URL itself, a token as the user name too.
	for _, remote := range []string{"http://s3cret@git.example.com/m.git", "http://user:s3cret@git.example.com/m.git"} {
		x := NewExporter(e.eng, Config{Dir: filepath.Join(e.dir, "w.git"), RemoteURL: remote})
		if err := x.Open(context.Background()); err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", RedactURL(remote), err, want)
		}
	}
}

func TestFileURLRemote(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.x = NewExporter(e.eng, Config{Dir: filepath.Join(e.dir, "w.git"), RemoteURL: "file://" + e.remote})
	if err := e.x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.must(envCmd("development", railyard.EnvironmentConfig{}))
	e.sync()
	assertTrailers(t, e, 1)
}
