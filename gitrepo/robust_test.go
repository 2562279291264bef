package gitrepo

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
	"github.com/railyard-cd/railyard/internal/syncbuf"
)

// rewritingSource is the engine as the exporter's EventSource, with the
// events it reads rewritten by the test: malformed events, as a bug
// anywhere before export could produce them.
type rewritingSource struct {
	*railyard.Engine
	mu      sync.Mutex
	rewrite func(ev *railyard.Event) // applied to a copy of every event read
}

func (s *rewritingSource) setRewrite(f func(ev *railyard.Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rewrite = f
}

func (s *rewritingSource) FindEvents(ctx context.Context, filter railyard.EventFilter) ([]*railyard.Event, error) {
	events, err := s.Engine.FindEvents(ctx, filter)
	s.mu.Lock()
	rewrite := s.rewrite
	s.mu.Unlock()
	if rewrite == nil {
		return events, err
	}
	out := make([]*railyard.Event, len(events))
	for i, ev := range events {
		c := *ev
		c.Changes = slices.Clone(ev.Changes)
		rewrite(&c)
		out[i] = &c
	}
	return out, err
}

// logRecords decodes the JSON log records in s with message msg.
func logRecords(t testing.TB, s *syncbuf.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// newRewritingExporter returns an exporter of e's events through src, to
// e's remote, logging JSON to logs, retrying at once.
func newRewritingExporter(t testing.TB, e *testEnv, src *rewritingSource, logs *syncbuf.Buffer) *Exporter {
	t.Helper()
	x := NewExporter(src, Config{
		Dir:        filepath.Join(e.dir, "w.git"),
		RemoteURL:  e.remote,
		ArgoCD:     argocd.Options{RepoURL: "https://git.example.com/manifests.git", TargetRevision: "main"},
		Now:        func() time.Time { return t0 },
		Logger:     slog.New(slog.NewJSONHandler(logs, nil)),
		MinBackoff: time.Millisecond,
		MaxBackoff: time.Millisecond,
	})
	if err := x.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return x
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestPanicWhileExportingIsRecovered feeds the exporter an event whose
// change is malformed (a release.create without its release): export
// reports the panic in its status, log and counters, exports the events
// before it, retries with backoff, and catches up once the event reads
// well, without the process going down.
func TestPanicWhileExportingIsRecovered(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	logs := &syncbuf.Buffer{}
	src := &rewritingSource{Engine: e.eng}
	src.setRewrite(func(ev *railyard.Event) {
		if ev.ID == 3 {
			for i := range ev.Changes {
				if ev.Changes[i].Op == railyard.ChangeReleaseCreate {
					ev.Changes[i].Release = nil
				}
			}
		}
	})
	x := newRewritingExporter(t, e, src, logs)
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	for v := int64(1); v <= 3; v++ {
		e.must(releaseCmd("checkout", v, "payments", "development"))
	}
	const want = "export of event 3 panicked: runtime error: invalid memory address or nil pointer dereference"
	err := x.Sync(context.Background())
	if err == nil || err.Error() != want {
		t.Fatalf("sync: got %v, want %s", err, want)
	}
	st, err := x.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.State != railyard.ExportStateRetrying || st.LastError != want || st.Panics != 1 || st.ConsecutiveFailures != 1 ||
		st.LastExportedEventID != 2 || st.PendingEvents != 2 {
		t.Errorf("status after the panic: %+v", st)
	}
	assertTrailers(t, e, 2) // the events before the malformed one are exported
	recs := logRecords(t, logs, "git export panicked; it is retried with backoff")
	if len(recs) != 1 || recs[0]["event"] != float64(3) || recs[0]["panic"] != "runtime error: invalid memory address or nil pointer dereference" ||
		!strings.Contains(recs[0]["stack"].(string), "gitrepo.(*builder).putRelease") {
		t.Errorf("log of the panic: %v", recs)
	}

	// Run retries with backoff; once the event reads well, export
	// catches up.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { x.Run(ctx); close(done) }()
	waitFor(t, "two more panics", func() bool {
		st, _ := x.Status(context.Background())
		return st.Panics >= 3
	})
	src.setRewrite(nil)
	waitFor(t, "export to catch up", func() bool {
		st, _ := x.Status(context.Background())
		return st.LastExportedEventID == 4
	})
	cancel()
	<-done
	st, _ = x.Status(context.Background())
	if st.State != railyard.ExportStateOK || st.LastError != "" || st.ConsecutiveFailures != 0 || st.Panics < 3 {
		t.Errorf("status after catching up: %+v", st)
	}
	assertTrailers(t, e, 4)
	fsck(t, e.remote)
}

// TestReleaseCreatedAndDeletedInOneEvent exports an event that creates a
// release and deletes it again (cleanup of a version published below the
// ones kept): the release appears and disappears within the commit.
func TestReleaseCreatedAndDeletedInOneEvent(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	src := &rewritingSource{Engine: e.eng}
	src.setRewrite(func(ev *railyard.Event) {
		if ev.ID == 3 {
			ev.Changes = append(ev.Changes, railyard.Change{Op: railyard.ChangeReleaseDelete, Application: "checkout", Version: 2})
		}
	})
	x := newRewritingExporter(t, e, src, &syncbuf.Buffer{})
	e.must(envCmd("development", railyard.EnvironmentConfig{}))
	for v := int64(1); v <= 3; v++ {
		e.must(releaseCmd("checkout", v, "payments", "development"))
	}
	if err := x.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertTrailers(t, e, 4)
	if got := e.git("ls-tree", "--name-only", "main:applications/checkout/releases"); got != "1\n3\n" {
		t.Errorf("releases of checkout: got %q, want 1 and 3", got)
	}
	third := strings.TrimSpace(e.git("log", "--format=%H", "--grep=^"+EventTrailer+": 3$", "main"))
	if got := e.git("diff-tree", "-r", "--name-only", "--no-commit-id", third); got != "" {
		t.Errorf("the commit of event 3 changes %q, want nothing", got)
	}
	fsck(t, e.remote)
}
