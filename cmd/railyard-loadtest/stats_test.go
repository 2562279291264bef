package main

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"none", nil, 50, 0},
		{"one sample is every percentile", []time.Duration{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		// Nearest rank: ceil(0.5 × 3) = 2nd sample, never an interpolation.
		{"p50 of three", []time.Duration{1, 2, 3}, 50, 2},
		{"p50 of four", []time.Duration{1, 2, 3, 4}, 50, 2},
		{"p99 of ten is the max", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"tiny p is the min", []time.Duration{1, 2, 3}, 0.001, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.samples, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %g) = %v, want %v", tt.samples, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	if got := summarize(nil); got != nil {
		t.Errorf("summarize(nil) = %+v, want nil", got)
	}
	// Unsorted input: summarize sorts it.
	d := []time.Duration{3 * time.Millisecond, 1500 * time.Microsecond, 10 * time.Millisecond, 2 * time.Millisecond}
	got := *summarize(d)
	want := Latency{P50: 2, P90: 10, P99: 10, Max: 10}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
}

func TestOpStats(t *testing.T) {
	var a, b opStats
	a.record(answer{status: http.StatusCreated}, 1*time.Millisecond)
	a.record(answer{status: http.StatusConflict, body: []byte(`{"message":"first"}`)}, 2*time.Millisecond)
	b.record(answer{status: http.StatusConflict, body: []byte(`{"message":"second"}`)}, 3*time.Millisecond)
	b.record(answer{err: errors.New("connection refused")}, 4*time.Millisecond)
	b.record(answer{status: http.StatusOK}, 5*time.Millisecond)
	a.merge(&b)
	r := a.report(2)
	if r.Requests != 5 || r.OK != 2 || r.PerSecond != 2.5 {
		t.Errorf("requests %d, ok %d, per second %g; want 5, 2, 2.5", r.Requests, r.OK, r.PerSecond)
	}
	if r.Errors["409"] != 2 || r.Errors[transportError] != 1 || len(r.Errors) != 2 {
		t.Errorf("errors = %v, want 409×2 transport×1", r.Errors)
	}
	if got := r.ErrorSamples["409"]; got != `{"message":"first"}` {
		t.Errorf("409 sample = %q, want the first answer", got)
	}
	if r.LatencyMs == nil || r.LatencyMs.Max != 5 || r.LatencyMs.P50 != 3 {
		t.Errorf("latency = %+v, want p50 3 ms, max 5 ms", r.LatencyMs)
	}
	if got := formatErrors(r.Errors); got != "409×2 transport×1" {
		t.Errorf("formatErrors = %q", got)
	}
}

func TestOverlaps(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	sp := func(from, to int) span {
		return span{t0.Add(time.Duration(from) * time.Millisecond), t0.Add(time.Duration(to) * time.Millisecond)}
	}
	// Trains 10–20 and 15–30 merge; 50–60 stands alone.
	trains := mergeSpans([]span{sp(50, 60), sp(15, 30), sp(10, 20)})
	if want := []span{sp(10, 30), sp(50, 60)}; !slices.Equal(trains, want) {
		t.Fatalf("mergeSpans = %v, want %v", trains, want)
	}
	tests := []struct {
		release span
		want    bool
	}{
		{sp(0, 5), false},
		{sp(0, 10), false}, // ends as the train starts
		{sp(0, 11), true},
		{sp(12, 13), true},
		{sp(29, 40), true},
		{sp(30, 40), false}, // starts as the train ends
		{sp(31, 49), false},
		{sp(40, 70), true}, // the train runs within the release
		{sp(61, 70), false},
	}
	for _, tt := range tests {
		if got := overlaps(trains, tt.release); got != tt.want {
			t.Errorf("overlaps(%v) = %v, want %v", tt.release, got, tt.want)
		}
	}
	if overlaps(nil, sp(0, 100)) {
		t.Error("a release overlaps no train at all")
	}
}

func TestDispatch(t *testing.T) {
	stop, cancel := context.WithCancel(context.Background())
	ticks := make(chan time.Time)
	start := time.Now()
	go dispatch(stop, ticks, start, 1000)
	for i := range 20 {
		at := <-ticks
		if want := start.Add(time.Duration(i) * time.Millisecond); !at.Equal(want) {
			t.Fatalf("tick %d at %v after the start, want %v", i, at.Sub(start), want.Sub(start))
		}
	}
	cancel()
	for range ticks {
		// Drain until dispatch closes the channel.
	}
}

// TestTruncateText checks that a cut never splits a rune: an error body
// quoted in the report stays valid UTF-8.
func TestTruncateText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc…"},
		{"aé", 2, "a…"}, // byte 2 is the middle of "é"
		{"ééé", 4, "éé…"},
		{"日本語", 1, "…"},
	}
	for _, tt := range tests {
		if got := truncateText(tt.s, tt.n); got != tt.want {
			t.Errorf("truncateText(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
