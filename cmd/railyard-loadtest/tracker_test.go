package main

import (
	"testing"
	"time"
)

func TestTracker(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a, b, c, d := releaseKey{"a", 1}, releaseKey{"b", 1}, releaseKey{"c", 1}, releaseKey{"d", 1}
	tr := newTracker()
	tr.ack(a, at(0))
	tr.ack(b, at(10))
	// c arrives before its acknowledgement is recorded: delay 0.
	tr.arrived([]releaseKey{c, {"other", 9}}, at(15))
	tr.ack(c, at(20))
	if got := tr.pending(); got != 2 {
		t.Fatalf("pending = %d, want 2 (a and b)", got)
	}
	tr.arrived([]releaseKey{a}, at(100))
	tr.arrived([]releaseKey{b}, at(300))
	e := tr.report()
	if e.Acknowledged != 3 || e.InGit != 3 || e.TimedOut || len(e.Missing) != 0 {
		t.Fatalf("report = %+v, want 3 of 3 in git", e)
	}
	if want := (Latency{P50: 100, P90: 290, P99: 290, Max: 290}); *e.LatencyMs != want {
		t.Errorf("latency = %+v, want %+v", *e.LatencyMs, want)
	}
	// Last acknowledgement at 20 ms, everything in at 300 ms.
	if e.FinalExportLagMs == nil || *e.FinalExportLagMs != 280 {
		t.Errorf("final export lag = %v, want 280", e.FinalExportLagMs)
	}

	tr.ack(d, at(400))
	e = tr.report()
	if !e.TimedOut || e.FinalExportLagMs != nil || len(e.Missing) != 1 || e.Missing[0] != "d/1" {
		t.Errorf("with d missing: timed out %v, lag %v, missing %v", e.TimedOut, e.FinalExportLagMs, e.Missing)
	}
}
