package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
	"github.com/railyard-cd/railyard/sqlite"
)

// testNow is the time of every test server and CLI clock, so that outputs
// are exact.
var testNow = time.Date(2025, 11, 21, 9, 0, 0, 0, time.UTC)

// unreachableServer is an address where nothing listens: commands that
// must fail before any request use it, so that a request shows as exit 3.
const unreachableServer = "http://127.0.0.1:1"

// testServer is a real Railyard server: the SQLite store in a temporary
// directory, the engine with a fixed clock, and the HTTP server on
// 127.0.0.1.
type testServer struct {
	URL    string
	Engine *railyard.Engine
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	engine := railyard.NewEngine(db)
	engine.Now = func() time.Time { return testNow }
	srv := httptest.NewServer(rhttp.NewServer(engine, rhttp.Options{}).Handler())
	t.Cleanup(srv.Close)
	return &testServer{URL: srv.URL, Engine: engine}
}

// result is what one run of the CLI printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs railyard commands in-process against one server, as one author.
type cli struct {
	t      *testing.T
	server string
	env    map[string]string
	stdin  string
	// build is what `railyard version` reports (nil: the test binary's).
	build *buildInfo
}

func newCLI(t *testing.T, server string) *cli {
	return &cli{t: t, server: server, env: map[string]string{
		"RAILYARD_SERVER":       server,
		"RAILYARD_AUTHOR_NAME":  "Jane Doe",
		"RAILYARD_AUTHOR_EMAIL": "jane@example.com",
		// No config file and no git: tests see only what they set.
		"RAILYARD_CONFIG": "",
		"HOME":            t.TempDir(),
	}}
}

// run runs one command line and returns what it printed and its exit code.
func (c *cli) run(args ...string) result {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{
		Stdin:      strings.NewReader(c.stdin),
		Stdout:     &stdout,
		Stderr:     &stderr,
		Getenv:     func(k string) string { return c.env[k] },
		Now:        func() time.Time { return testNow },
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
		GitConfig:  func(context.Context, string) string { return "" },
		Build:      c.build,
	}
	err := m.Run(context.Background(), args)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	code := m.ReportError(err)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// ok runs a command line that must succeed and returns its output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("railyard %s: exit code %d, want 0\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		c.t.Errorf("railyard %s: unexpected stderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	return r.stdout
}

// fail runs a command line that must fail with code and returns its
// standard error.
func (c *cli) fail(code int, args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Fatalf("railyard %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r.stderr
}

// writeFile writes a file in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// equal reports a difference between got and want.
func equal(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", what, got, want)
	}
}

// environmentsYAML is the quick start's chain of environments.
const environmentsYAML = `# development gets every new release; staging and production get what
# release trains bring from the environment before them.
- name: development
  config:
    upstream:
      latest: true
- name: staging
  config:
    upstream:
      environment: development
- name: production
  config:
    upstream:
      environment: staging
`

// manifest is a small valid manifest.
func manifest(version string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\ndata:\n  version: \"" + version + "\"\n"
}
