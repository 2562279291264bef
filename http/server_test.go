package http

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/internal/syncbuf"
	"github.com/railyard-cd/railyard/sqlite"
)

// t0 is the test clock's start: a fixed time, so results are exact.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// testClock is an injectable clock that tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testServer is a real server on 127.0.0.1 over a real SQLite store.
type testServer struct {
	t      testing.TB
	engine *railyard.Engine
	server *Server
	http   *httptest.Server
	client *Client
	clock  *testClock
	log    *syncbuf.Buffer
	db     *sqlite.DB
	// dbClosed is set by tests that close the store themselves.
	dbClosed bool
	// expectInternal is set by tests that provoke internal errors.
	expectInternal bool
}

// newTestServer starts a server; opts.Logger is replaced by a buffer that
// the cleanup checks: no test may cause an unexpected internal error.
func newTestServer(t testing.TB, opts Options) *testServer {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatalf("open store: %v", err)
	}
	ts := &testServer{t: t, clock: &testClock{now: t0}, log: &syncbuf.Buffer{}, db: db}
	ts.engine = railyard.NewEngine(db)
	ts.engine.Now = ts.clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(ts.log, nil))
	ts.server = NewServer(ts.engine, opts)
	// The net/http server gets the timeouts of the options, as serve's.
	ts.http = httptest.NewUnstartedServer(ts.server.Handler())
	ts.server.ConfigureHTTPServer(ts.http.Config)
	ts.http.Start()
	ts.client = NewClient(ts.http.URL)
	ts.client.HTTPClient = ts.http.Client()
	ts.client.Actor = railyard.Actor{Name: "Alice", Email: "alice@example.com"}
	t.Cleanup(func() {
		ts.http.Close()
		if !ts.dbClosed {
			if err := db.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		}
		if logs := ts.log.String(); logs != "" && !ts.expectInternal {
			t.Errorf("unexpected server log:\n%s", logs)
		}
	})
	return ts
}

var ctx = context.Background()

// noErr fails the test on err.
func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantError checks that err is a domain error with code and field.
func wantError(t testing.TB, err error, code, field string) *railyard.Error {
	t.Helper()
	e := railyard.AsError(err)
	if e == nil {
		t.Fatalf("got error %v, want a *railyard.Error with code %s", err, code)
	}
	if e.Code != code || e.Field != field {
		t.Fatalf("got code %q field %q (%s), want code %q field %q", e.Code, e.Field, e.Message, code, field)
	}
	return e
}

// answer is a raw HTTP answer.
type answer struct {
	status int
	header nethttp.Header
	body   []byte
}

// json decodes the answer's body into v.
func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer %d is not JSON: %v\n%s", a.status, err, a.body)
	}
}

// error decodes the answer as the error JSON and checks status, code and field.
func (a answer) wantError(t testing.TB, status int, code, field string) *railyard.Error {
	t.Helper()
	if a.status != status {
		t.Fatalf("got status %d, want %d: %s", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("got Content-Type %q, want application/json", ct)
	}
	var e railyard.Error
	a.json(t, &e)
	if e.Code != code || e.Field != field {
		t.Fatalf("got code %q field %q (%s), want code %q field %q", e.Code, e.Field, e.Message, code, field)
	}
	if e.Message == "" {
		t.Fatalf("error has no message: %s", a.body)
	}
	return &e
}

// wantStatus checks the status of the answer.
func (a answer) wantStatus(t testing.TB, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("got status %d, want %d: %s", a.status, status, a.body)
	}
	return a
}

// do sends a raw request; header values are set as given.
func (ts *testServer) do(method, path string, header map[string]string, body io.Reader) answer {
	ts.t.Helper()
	req, err := nethttp.NewRequest(method, ts.http.URL+path, body)
	if err != nil {
		ts.t.Fatalf("request: %v", err)
	}
	if req.URL.RawPath == "" && strings.Contains(path, "%") {
		req.URL.RawPath = strings.SplitN(path, "?", 2)[0]
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatalf("read answer: %v", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// doJSON sends body (a string, or a value marshalled to JSON) as JSON.
func (ts *testServer) doJSON(method, path string, body any) answer {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	return ts.do(method, path, map[string]string{"Content-Type": "application/json"}, rd)
}

// b64 encodes a header value as Kuberpult's clients do.
func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// snapshot is everything a refused request must leave unchanged.
type snapshot struct {
	Overview     *railyard.Overview
	Applications []*railyard.ApplicationDetail
	Locks        []*railyard.Lock
	LastEventID  int64
}

// state reads the whole state through the engine (not through HTTP, so a
// broken handler cannot hide a change).
func (ts *testServer) state() snapshot {
	ts.t.Helper()
	var s snapshot
	var err error
	s.Overview, err = ts.engine.Overview(ctx)
	noErr(ts.t, err)
	apps, err := ts.engine.FindApplications(ctx)
	noErr(ts.t, err)
	for _, app := range apps {
		detail, err := ts.engine.FindApplication(ctx, app.Name)
		noErr(ts.t, err)
		s.Applications = append(s.Applications, detail)
	}
	s.Locks, err = ts.engine.FindLocks(ctx, railyard.LockFilter{})
	noErr(ts.t, err)
	s.LastEventID, err = ts.engine.LastEventID(ctx)
	noErr(ts.t, err)
	return s
}

// unchanged fails the test if the state differs from before.
func (ts *testServer) unchanged(before snapshot) {
	ts.t.Helper()
	after := ts.state()
	if !reflect.DeepEqual(before, after) {
		b, _ := json.Marshal(before)
		a, _ := json.Marshal(after)
		ts.t.Fatalf("state changed:\nbefore %s\nafter  %s", b, a)
	}
}

// Fixture names and content.
const (
	manifestDev  = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\ndata:\n  env: development\n"
	manifestStg  = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\ndata:\n  env: staging\n"
	manifestProd = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\ndata:\n  env: production\n"
	commitA      = "0123456789abcdef0123456789abcdef01234567"
)

// seedEnvironments creates development (latest), staging and production
// (group prod), through the engine.
func (ts *testServer) seedEnvironments() {
	ts.t.Helper()
	_, err := ts.engine.Apply(ctx, railyard.DefaultActor,
		&railyard.PutEnvironment{Name: "development", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}},
		&railyard.PutEnvironment{Name: "staging", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}}},
		&railyard.PutEnvironment{Name: "production", Config: railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}, EnvironmentGroup: "prod"}},
	)
	if err != nil {
		ts.t.Fatalf("seed environments: %v", err)
	}
}

// release returns a release of checkout with manifests for all three
// environments.
func release(version int64) *railyard.CreateRelease {
	return &railyard.CreateRelease{
		Application: "checkout", Version: version, Team: "payments", SourceCommitID: commitA,
		SourceAuthor: "Bob <bob@example.com>", SourceMessage: "Add a button", SourceBranch: "main",
		Manifests: map[string]string{"development": manifestDev, "staging": manifestStg, "production": manifestProd},
	}
}

// seedRelease publishes a release through the engine.
func (ts *testServer) seedRelease(cr *railyard.CreateRelease) *railyard.Result {
	ts.t.Helper()
	res, err := ts.engine.ApplyOne(ctx, railyard.DefaultActor, cr)
	noErr(ts.t, err)
	return res
}
