package gitrepo

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/railyard-cd/railyard"
)

// packBytes is the size of every pack in the repository dir.
func packBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var n int64
	for _, p := range packs(t, dir) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// TestSingleEventBatchesAppendDeltas exports single-event batches into an
// environment of 500 applications, as a steady trickle of releases does:
// the repository grows by what the events change, not by a whole copy of
// the directories of 500 entries they touch (applications/ and the
// environment's applications/, about 20 KB each), which a batch of its
// own used to store whole in its pack. The history is intact and fsck
// clean.
func TestSingleEventBatchesAppendDeltas(t *testing.T) {
	t.Parallel()
	e := newLocalTestEnv(t)
	e.must(envCmd("development", railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	const apps = 500
	for i := 0; i < apps; i += 100 {
		var cmds []railyard.Command
		for j := i; j < i+100; j++ {
			cmds = append(cmds, releaseCmd(fmt.Sprintf("app-%03d", j), 1, "team", "development"))
		}
		e.must(cmds...)
	}
	e.sync()
	e.x.cfg.BatchSize = 1
	before := packBytes(t, e.remote)
	const batches = 10
	for v := int64(2); v < 2+batches; v++ {
		e.must(releaseCmd(fmt.Sprintf("app-%03d", 100+v), v, "team", "development"))
		e.sync()
	}
	// Each event adds its blobs, its commit, the few small directories
	// it creates whole, and deltas: about 3 KB.
	if grown := packBytes(t, e.remote) - before; grown > batches*6<<10 {
		t.Errorf("packs grew by %d bytes in %d single-event batches, want under %d", grown, batches, batches*6<<10)
	}
	if keeps, _ := filepath.Glob(filepath.Join(e.remote, "objects", "pack", "*.keep")); len(keeps) != 1 {
		t.Errorf(".keep files: %v, want the tail's", keeps)
	}
	assertTrailers(t, e, 1+apps+batches)
	fsck(t, e.remote)
}

// TestNextLimit checks how many events each read asks for: twice the
// last read's limit while events are small, up to BatchSize, and as many
// as fit batchBytes when they are big.
func TestNextLimit(t *testing.T) {
	t.Parallel()
	small := &railyard.Event{Payload: make([]byte, 1000)}
	big := &railyard.Event{Payload: make([]byte, 100<<10), Changes: []railyard.Change{
		{Release: &railyard.Release{Manifests: map[string]string{"a": string(make([]byte, 50<<10)), "b": string(make([]byte, 50<<10))}}}}}
	for _, c := range []struct {
		name            string
		last, batchSize int
		events          []*railyard.Event
		want            int
	}{
		{"caught up", 64, 500, nil, firstLimit},
		{"caught up, small events", 64, 500, []*railyard.Event{small, small}, firstLimit},
		{"backlog of small events", 2, 500, []*railyard.Event{small, small}, 4},
		{"backlog at BatchSize", 400, 500, manyOf(small, 400), 500},
		{"BatchSize below the limit", 7, 7, manyOf(small, 7), 7},
		{"backlog of big events", 64, 500, manyOf(big, 64), batchBytes / (200 << 10)},
		{"events bigger than batchBytes", 1, 500, []*railyard.Event{{Payload: make([]byte, 2*batchBytes)}}, 1},
	} {
		if got := nextLimit(c.last, c.batchSize, c.events); got != c.want {
			t.Errorf("%s: nextLimit(%d, %d, …) = %d, want %d", c.name, c.last, c.batchSize, got, c.want)
		}
	}
}

func manyOf(ev *railyard.Event, n int) []*railyard.Event {
	events := make([]*railyard.Event, n)
	for i := range events {
		events[i] = ev
	}
	return events
}

// TestBigEventsAreExportedInBatchesBoundedByBytes exports a backlog of
// 60 releases of 10 environments × 10 KB manifests (about 200 KB per
// event, manifests in the payload and in the changes): with the default
// BatchSize of 500 they would be read, and held twice over, in one batch
// of 12 MB; the batches hold about batchBytes each (the first asks for
// firstLimit events: 3 MB).
func TestBigEventsAreExportedInBatchesBoundedByBytes(t *testing.T) {
	t.Parallel()
	e := newLocalTestEnv(t)
	envs := make([]string, 10)
	var cmds []railyard.Command
	for i := range envs {
		envs[i] = fmt.Sprintf("env-%02d", i)
		cmds = append(cmds, envCmd(envs[i], railyard.EnvironmentConfig{Upstream: &railyard.Upstream{Latest: true}}))
	}
	e.must(cmds...)
	e.sync()
	for i := 0; i < 60; i++ {
		e.must(releaseWith10KB(fmt.Sprintf("app-%05d", i), 1, envs))
	}
	before := e.x.batches
	e.sync()
	if got := e.x.batches - before; got < 2 || got > 6 {
		t.Errorf("60 events of 200 KB in %d batches, want 2 to 6 (about %d KB each)", got, batchBytes>>10)
	}
	assertTrailers(t, e, len(envs)+60)
}
