package main

import (
	"slices"
	"sync"
	"time"
)

// tracker matches the acknowledgements of releases with their arrival in
// the watched branch. A release may be seen before the worker that sent
// it has recorded the answer (the export can be that fast); its delay is
// then 0. It is safe for concurrent use.
type tracker struct {
	mu sync.Mutex
	// acked holds the releases acknowledged and not yet seen.
	acked map[releaseKey]time.Time
	// early holds the releases seen before their acknowledgement.
	early map[releaseKey]time.Time
	// delays are the times from acknowledgement to arrival.
	delays      []time.Duration
	acks        int
	lastAck     time.Time
	lastArrival time.Time
}

func newTracker() *tracker {
	return &tracker{acked: map[releaseKey]time.Time{}, early: map[releaseKey]time.Time{}}
}

// ack records that the server acknowledged k at t.
func (t *tracker) ack(k releaseKey, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.acks++
	if at.After(t.lastAck) {
		t.lastAck = at
	}
	if seen, ok := t.early[k]; ok {
		delete(t.early, k)
		t.arrive(at, seen)
		return
	}
	t.acked[k] = at
}

// arrived records that keys were in the branch at t.
func (t *tracker) arrived(keys []releaseKey, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if acked, ok := t.acked[k]; ok {
			delete(t.acked, k)
			t.arrive(acked, at)
		} else {
			t.early[k] = at
		}
	}
}

// arrive records one arrival; t.mu is held.
func (t *tracker) arrive(acked, seen time.Time) {
	t.delays = append(t.delays, max(seen.Sub(acked), 0))
	if seen.After(t.lastArrival) {
		t.lastArrival = seen
	}
}

// pending is the number of acknowledged releases not yet seen.
func (t *tracker) pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.acked)
}

// arrivedCount is the number of acknowledged releases seen.
func (t *tracker) arrivedCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.delays)
}

// EndToEnd is the report of the releases' way into Git.
type EndToEnd struct {
	// Remote and Branch are what was watched.
	Remote string `json:"remote"`
	Branch string `json:"branch"`
	// Acknowledged is the number of releases the server created (201)
	// in the measured phase; InGit how many of them reached the branch
	// within the timeout; Missing lists (up to 20 of) the others as
	// "<app>/<version>".
	Acknowledged int      `json:"acknowledged"`
	InGit        int      `json:"inGit"`
	Missing      []string `json:"missing"`
	// LatencyMs is the time from each acknowledgement until the first
	// poll that saw the release in the branch; null when none arrived.
	LatencyMs *Latency `json:"latencyMs"`
	// FinalExportLagMs is the time from the last acknowledgement until
	// every acknowledged release was in the branch; null when some never
	// arrived (TimedOut).
	FinalExportLagMs *float64 `json:"finalExportLagMs"`
	TimedOut         bool     `json:"timedOut"`
	// PollErrors counts polls of the remote that failed; LastPollError
	// is the last of them.
	PollErrors    int    `json:"pollErrors"`
	LastPollError string `json:"lastPollError,omitempty"`
}

// report summarizes what was seen.
func (t *tracker) report() EndToEnd {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := EndToEnd{Acknowledged: t.acks, InGit: len(t.delays), Missing: []string{}}
	e.LatencyMs = summarize(slices.Clone(t.delays))
	if len(t.acked) == 0 {
		if t.acks > 0 {
			lag := ms(max(t.lastArrival.Sub(t.lastAck), 0))
			e.FinalExportLagMs = &lag
		}
		return e
	}
	e.TimedOut = true
	for k := range t.acked {
		e.Missing = append(e.Missing, k.String())
	}
	slices.Sort(e.Missing)
	if len(e.Missing) > 20 {
		e.Missing = e.Missing[:20]
	}
	return e
}
