package gitrepo

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/railyard-cd/railyard"
)

// TestStatusHealthyAsSoonAsAPushSucceeds takes the remote away, then back:
// during the catch-up, the first push that goes through clears the error,
// although a backlog remains.
func TestStatusHealthyAsSoonAsAPushSucceeds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newTestEnv(t)
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	e.sync()
	away := e.remote + ".away"
	if err := os.Rename(e.remote, away); err != nil {
		t.Fatal(err)
	}
	for v := int64(1); v <= 5; v++ {
		e.must(releaseCmd("checkout", v, "payments", "development"))
	}
	for i := 0; i < 2; i++ {
		if err := e.x.Sync(ctx); err == nil {
			t.Fatal("sync with the remote away: no error")
		}
	}
	if err := os.Rename(away, e.remote); err != nil {
		t.Fatal(err)
	}
	e.x.cfg.BatchSize = 2 // events 2-3, 4-5 and 6
	var seen []railyard.ExportStatus
	e.x.failAt = func(step string) error {
		if step == stepBuilt { // before each push
			st, err := e.x.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, st)
		}
		return nil
	}
	e.sync()
	if len(seen) != 3 {
		t.Fatalf("%d pushes, want 3", len(seen))
	}
	if st := seen[0]; st.State != railyard.ExportStateRetrying || !strings.HasPrefix(st.LastError, "cannot reach the manifest repository "+e.remote) ||
		st.ConsecutiveFailures != 2 || st.PendingEvents != 5 {
		t.Errorf("before the first push: %+v", st)
	}
	for i, st := range seen[1:] {
		if st.State != railyard.ExportStateOK || st.LastError != "" || st.LastErrorAt != nil || st.ConsecutiveFailures != 0 ||
			st.LastExportedEventID != int64(3+2*i) || st.PendingEvents != int64(3-2*i) {
			t.Errorf("before push %d, after a successful one: %+v", i+2, st)
		}
	}
	assertTrailers(t, e, 6)
}
