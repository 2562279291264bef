package railyard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/sqlite"
)

// harness is an engine over a real SQLite store with a clock the test
// moves by hand.
type harness struct {
	t     testing.TB
	eng   *railyard.Engine
	now   time.Time
	actor railyard.Actor
}

var (
	alice = railyard.Actor{Name: "Alice", Email: "alice@example.com"}
	bob   = railyard.Actor{Name: "Bob", Email: "bob@example.com"}
	t0    = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

func newHarness(t testing.TB) *harness {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "railyard.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &harness{t: t, now: t0, actor: alice}
	h.eng = railyard.NewEngine(db)
	h.eng.Now = func() time.Time { return h.now }
	return h
}

// chain creates development (latest) → staging → production, and the
// production group "prod" of de-prod and jp-prod fed from staging.
func (h *harness) chain() *harness {
	h.t.Helper()
	h.put("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}})
	h.put("staging", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "development"}})
	h.put("production", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Environment: "staging"}})
	return h
}

func (h *harness) put(name string, cfg railyard.EnvironmentConfig) {
	h.t.Helper()
	h.must(&railyard.PutEnvironment{Name: name, Config: cfg})
}

// must applies a command and fails the test on error.
func (h *harness) must(cmd railyard.Command) *railyard.Result {
	h.t.Helper()
	res, err := h.eng.ApplyOne(context.Background(), h.actor, cmd)
	if err != nil {
		h.t.Fatalf("%s: %v (%s)", cmd.Kind(), err, railyard.ErrorMessage(err))
	}
	return res
}

// fail applies a command that must fail with code, and returns the error.
func (h *harness) fail(code string, cmd railyard.Command) *railyard.Error {
	h.t.Helper()
	_, err := h.eng.ApplyOne(context.Background(), h.actor, cmd)
	if railyard.ErrorCode(err) != code {
		h.t.Fatalf("%s: got error %v, want code %s", cmd.Kind(), err, code)
	}
	return railyard.AsError(err)
}

// release publishes a release of app with manifests for envs.
func (h *harness) release(app string, version int64, team string, envs ...string) *railyard.Result {
	h.t.Helper()
	return h.must(releaseCmd(app, version, team, envs...))
}

func releaseCmd(app string, version int64, team string, envs ...string) *railyard.CreateRelease {
	m := map[string]string{}
	for _, e := range envs {
		m[e] = fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  env: %s\n", app, e)
	}
	return &railyard.CreateRelease{Application: app, Version: version, Team: team, Manifests: m,
		SourceCommitID: "0123456789abcdef0123456789abcdef01234567", SourceAuthor: "Alice <alice@example.com>",
		SourceMessage: "fix checkout", SourceBranch: "main"}
}

// state returns "current/queued" of app in env, "-" for none.
func (h *harness) state(app, env string) string {
	h.t.Helper()
	d, err := h.eng.FindApplication(context.Background(), app)
	if err != nil {
		h.t.Fatal(err)
	}
	ae := d.Environments[env]
	if ae == nil {
		h.t.Fatalf("no environment %s in application %s", env, app)
	}
	return fmt.Sprintf("%s/%s", ptr(ae.Version), ptr(ae.QueuedVersion))
}

func ptr(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

// lastEvent returns the newest event.
func (h *harness) lastEvent() *railyard.Event {
	h.t.Helper()
	events, err := h.eng.FindEvents(context.Background(), railyard.EventFilter{Limit: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	if len(events) == 0 {
		h.t.Fatal("no events")
	}
	return events[0]
}

func (h *harness) lastEventID() int64 {
	h.t.Helper()
	id, err := h.eng.LastEventID(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return id
}

// snapshot captures the whole visible state, to check that a refused
// command changed nothing.
func (h *harness) snapshot() string {
	h.t.Helper()
	ctx := context.Background()
	ov, err := h.eng.Overview(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ov.Environments {
		cfg, _ := json.Marshal(e.Config)
		fmt.Fprintf(&b, "env %s %s\n", e.Name, cfg)
	}
	for _, a := range ov.Applications {
		d, err := h.eng.FindApplication(ctx, a.Name)
		if err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(&b, "app %s team=%s releases=%d\n", a.Name, a.Team, len(d.Releases))
		for _, env := range ov.Environments {
			c := a.Environments[env.Name]
			fmt.Fprintf(&b, "  %s %s/%s locks=%d\n", env.Name, ptr(c.Version), ptr(c.QueuedVersion), len(c.Locks))
		}
	}
	locks, err := h.eng.FindLocks(ctx, railyard.LockFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range locks {
		fmt.Fprintf(&b, "lock %+v\n", l.Key())
	}
	fmt.Fprintf(&b, "last event %d\n", h.lastEventID())
	return b.String()
}
