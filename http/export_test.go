package http

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

func TestExportStatusWithoutExport(t *testing.T) {
	ts := newTestServer(t, Options{})
	ts.seedEnvironments()
	st, err := ts.client.ExportStatus(ctx)
	noErr(t, err)
	last, _ := ts.engine.LastEventID(ctx)
	if st.Enabled || st.State != railyard.ExportStateDisabled || st.LastEventID != last || st.PendingEvents != 0 {
		t.Errorf("got %+v, want disabled with lastEventId %d", st, last)
	}
	metrics := string(ts.do("GET", "/metrics", nil, nil).wantStatus(t, 200).body)
	for _, want := range []string{"railyard_export_up 1\n", "railyard_last_event_id 3\n"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	for _, name := range []string{"railyard_export_pending_events", "railyard_export_state", "railyard_export_panics_total"} {
		if strings.Contains(metrics, name) {
			t.Errorf("metrics show %s without export", name)
		}
	}
}

func TestExportStatusAndMetrics(t *testing.T) {
	pushed := t0.Add(-time.Minute)
	want := railyard.ExportStatus{Enabled: true, LastEventID: 12, LastExportedEventID: 9, PendingEvents: 3,
		OldestPendingSeconds: 4.5, LastError: "git push to https://git.example.com/m.git timed out after 2m0s",
		State: railyard.ExportStateStalled, ConsecutiveFailures: 4, Panics: 1, GitTimeouts: 3,
		LastPushAt: &pushed, Head: "0123456789abcdef0123456789abcdef01234567", Remote: "https://git.example.com/m.git", Branch: "main"}
	ts := newTestServer(t, Options{ExportStatus: func(context.Context) (railyard.ExportStatus, error) { return want, nil }})
	got, err := ts.client.ExportStatus(ctx)
	noErr(t, err)
	if got.LastPushAt == nil || !got.LastPushAt.Equal(pushed) {
		t.Fatalf("lastPushAt: got %v", got.LastPushAt)
	}
	got.LastPushAt = want.LastPushAt
	if *got != want {
		t.Errorf("got %+v\nwant %+v", *got, want)
	}
	ts.do("GET", "/api/v1/overview", nil, nil).wantStatus(t, 200)
	metrics := string(ts.do("GET", "/metrics", nil, nil).wantStatus(t, 200).body)
	for _, line := range []string{
		"railyard_export_pending_events 3\n",
		"railyard_export_oldest_pending_seconds 4.5\n",
		"railyard_export_last_exported_event_id 9\n",
		"railyard_last_event_id 12\n",
		"railyard_export_up 0\n",
		`railyard_export_state{state="ok"} 0` + "\n",
		`railyard_export_state{state="retrying"} 0` + "\n",
		`railyard_export_state{state="stalled"} 1` + "\n",
		`railyard_export_state{state="stopped"} 0` + "\n",
		"railyard_export_consecutive_failures 4\n",
		"# TYPE railyard_export_panics_total counter\nrailyard_export_panics_total 1\n",
		"# TYPE railyard_export_git_timeouts_total counter\nrailyard_export_git_timeouts_total 3\n",
		`railyard_http_requests_total{method="GET",route="/api/v1/overview",status="200"} 1` + "\n",
		`railyard_http_request_duration_seconds_count{method="GET",route="/api/v1/overview"} 1` + "\n",
	} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %q", line)
		}
	}
}

func TestExportStatusError(t *testing.T) {
	ts := newTestServer(t, Options{ExportStatus: func(context.Context) (railyard.ExportStatus, error) {
		return railyard.ExportStatus{}, errors.New("database is locked")
	}})
	ts.expectInternal = true
	ts.do("GET", "/api/v1/export-status", nil, nil).wantError(t, 500, railyard.EINTERNAL, "")
}
