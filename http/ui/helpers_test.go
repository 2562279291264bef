package ui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/http/ui"
	"github.com/railyard-cd/railyard/sqlite"
)

var (
	alice = railyard.Actor{Name: "Alice Example", Email: "alice@example.com"}
	bob   = railyard.Actor{Name: "Bob Builder", Email: "bob@example.com"}
	t0    = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

// fixture is an engine over a real SQLite store with a clock the test
// moves, and the UI served on 127.0.0.1.
type fixture struct {
	t   testing.TB
	eng *railyard.Engine
	db  *sqlite.DB
	srv *httptest.Server
	h   *ui.Handler

	mu  sync.Mutex
	now time.Time
	// export is what the ExportStatus option reports.
	export railyard.ExportStatus
}

// newFixture returns an empty installation with the UI served.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, now: t0, db: db}
	f.eng = railyard.NewEngine(db)
	f.eng.Now = f.clock
	f.h = ui.NewHandler(f.eng, ui.Options{
		ExportStatus: func(context.Context) (railyard.ExportStatus, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.export, nil
		},
		CSRFKey: []byte("test key"),
		Logger:  slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	f.srv = httptest.NewServer(f.h)
	t.Cleanup(func() {
		f.h.Close()
		f.srv.Close()
		db.Close()
	})
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// advance moves the clock.
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// must applies a command as actor and fails the test on error.
func (f *fixture) must(actor railyard.Actor, cmd railyard.Command) *railyard.Result {
	f.t.Helper()
	res, err := f.eng.ApplyOne(context.Background(), actor, cmd)
	if err != nil {
		f.t.Fatalf("%s: %v (%s)", cmd.Kind(), err, railyard.ErrorMessage(err))
	}
	return res
}

// release publishes a release with a manifest for every environment.
func (f *fixture) release(app string, version int64, display, team, commit, message string) {
	f.t.Helper()
	m := map[string]string{}
	for _, env := range []string{"development", "staging", "de-prod", "jp-prod"} {
		m[env] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + app + "\n"
	}
	f.must(alice, &railyard.CreateRelease{Application: app, Version: version, DisplayVersion: display, Team: team,
		Manifests: m, SourceCommitID: commit, SourceAuthor: "Alice Example <alice@example.com>", SourceMessage: message,
		SourceBranch: "main", CILink: "https://ci.example.com/build/" + fmt.Sprint(version)})
}

// seed builds the installation the page tests read:
//
//	development (latest) → staging → prod group {de-prod, jp-prod}
//	checkout (payments) 1.0.0, 1.1.0, 1.2.0; cart (shop) 2.0.0; search 5
//
// staging runs what development ran before checkout 1.2.0; an application
// lock holds checkout in staging, an environment lock freezes jp-prod and
// a team lock holds shop in de-prod.
func (f *fixture) seed() *fixture {
	f.t.Helper()
	f.must(alice, &railyard.PutEnvironment{Name: "development", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}})
	f.must(alice, &railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}})
	f.must(alice, &railyard.PutEnvironment{Name: "de-prod", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod",
		DeployWindows: []railyard.DeployWindow{{Kind: "deny", Schedule: "0 22 * * *", Duration: "8h", TimeZone: "Europe/Berlin"}}}})
	f.must(alice, &railyard.PutEnvironment{Name: "jp-prod", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod",
		BranchRestriction: "^main$", ArgoCD: &railyard.ArgoCDConfig{Destination: railyard.ArgoCDDestination{Name: "jp-cluster", Namespace: "shop"}}}})
	f.release("checkout", 1, "1.0.0", "payments", "4f1c2e9aa1b2c3d4e5f60718293a4b5c6d7e8f90", "First release")
	f.release("cart", 1, "2.0.0", "shop", "aaaabbbbccccddddeeeeffff0000111122223333", "Cart with coupons")
	f.release("search", 5, "", "", "", "")
	f.advance(time.Hour)
	f.release("checkout", 2, "1.1.0", "payments", "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", "Fix rounding")
	f.advance(time.Hour)
	f.must(bob, &railyard.ReleaseTrain{Environment: "staging"})
	f.must(bob, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: "staging", Application: "checkout", ID: "db-migration"}, Message: "Migrating the orders table"})
	f.must(bob, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockEnvironment, Environment: "jp-prod", ID: "freeze"}, Message: "Golden week freeze"})
	f.must(alice, &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockTeam, Environment: "de-prod", Team: "shop", ID: "audit"}, Message: "Shop audit"})
	f.advance(30 * time.Minute)
	f.release("checkout", 3, "1.2.0", "payments", "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b", "Faster checkout\n\nWith a longer body.")
	f.advance(5 * time.Minute)
	return f
}

// client is a browser without JavaScript: cookies, no redirects followed.
type client struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (f *fixture) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: f.t, base: f.srv.URL, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a read answer.
type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// get fetches path.
func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post sends a form with the CSRF token of the browser's last page.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", c.token())
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token loads the identity page and returns its CSRF token.
func (c *client) token() string {
	c.t.Helper()
	m := csrfRE.FindStringSubmatch(c.get("/ui/identity").body)
	if m == nil {
		c.t.Fatal("no CSRF token on /ui/identity")
	}
	return m[1]
}

// identify says who the browser is.
func (c *client) identify(a railyard.Actor) *client {
	c.t.Helper()
	res := c.post("/ui/identity", url.Values{"name": {a.Name}, "email": {a.Email}, "next": {"/"}})
	if res.status != http.StatusSeeOther {
		c.t.Fatalf("identify: status %d, want 303\n%s", res.status, res.body)
	}
	return c
}

// wantStatus fails the test unless the answer has the status.
func wantStatus(t testing.TB, what string, res response, status int) {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s: got status %d, want %d\n%s", what, res.status, status, excerpt(res.body))
	}
}

// wantContains fails the test unless every fragment is in the body.
func wantContains(t testing.TB, what, body string, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(body, f) {
			t.Errorf("%s: the page does not contain %q\n%s", what, f, excerpt(body))
		}
	}
}

// excerpt returns the main element of a page, for failure messages.
func excerpt(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	return railyard.Truncate(body, 4000)
}

// fragment returns the part of body from the first occurrence of start to
// the end of the first occurrence of end after it.
func fragment(t testing.TB, body, start, end string) string {
	t.Helper()
	i := strings.Index(body, start)
	if i < 0 {
		t.Fatalf("no %q in the page\n%s", start, excerpt(body))
	}
	j := strings.Index(body[i:], end)
	if j < 0 {
		t.Fatalf("no %q after %q in the page", end, start)
	}
	return body[i : i+j+len(end)]
}

// state returns "current/queued" of app in env, "-" for none.
func (f *fixture) state(app, env string) string {
	f.t.Helper()
	d, err := f.eng.FindApplication(context.Background(), app)
	if err != nil {
		f.t.Fatal(err)
	}
	ae := d.Environments[env]
	p := func(v *int64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	return p(ae.Version) + "/" + p(ae.QueuedVersion)
}
