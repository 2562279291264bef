package gitrepo

import (
	"context"
	"fmt"

	"github.com/railyard-cd/railyard"
)

// Export is a pipeline of two stages: while one batch is pushed, the next
// is read and built on top of it. Building is Railyard's own CPU, pushing
// is mostly git's (pack-objects here, index-pack and the connectivity
// check on the remote), so on two cores the two overlap.
//
// Exactly once and in order still hold, because only the build runs
// ahead: pushes are strictly one after the other, each a fast-forward of
// the one before, and a batch is pushed only once the push before it has
// succeeded. x.base and x.exported are what the next batch builds on: the
// last batch built, which may not be pushed yet. What the remote holds is
// recorded only when its push succeeds (settle): the local branch, the
// status. When a push fails, the batch built on it is dropped with the
// rest of the exporter's state (ready = false) and export resumes from
// what the remote really holds, as after a crash.

// batchPush is the publication of one built batch.
type batchPush struct {
	tip  string // the batch's last commit
	old  string // the commit it builds on, "" for none
	last int64  // the batch's last event
	done chan struct{}
	err  error // set before done is closed
}

// stage builds events as commits on the last batch built. If an event
// cannot be written it returns the index of that event (else -1).
func (x *Exporter) stage(ctx context.Context, events []*railyard.Event) (*batchPush, int, error) {
	tip, failed, err := x.build(ctx, events)
	if err != nil {
		x.idx = newIndex() // the failed build changed it
		return nil, failed, err
	}
	return &batchPush{tip: tip, old: x.base, last: events[len(events)-1].ID, done: make(chan struct{})}, -1, nil
}

// advance makes the built batch p what the next batch builds on.
func (x *Exporter) advance(p *batchPush) error {
	if err := x.fail(stepBuilt); err != nil {
		return err
	}
	x.base, x.exported = p.tip, p.last
	return nil
}

// start publishes p: a push to the remote in the background, or in a
// local repository at once (a compare-and-swap of the branch costs
// nothing worth overlapping). A panic while pushing is p's error.
func (x *Exporter) start(ctx context.Context, p *batchPush) {
	publish := func() {
		defer close(p.done)
		defer func() {
			if v := recover(); v != nil {
				p.err = recovered(0, v)
			}
		}()
		p.err = x.publish(ctx, p.old, p.tip)
	}
	if x.local() {
		publish()
		return
	}
	go publish()
}

// settle waits for p's publication and records it: the local branch moves
// to what the remote now holds, and the status says so. If it failed,
// the exporter forgets what it built on top and resumes from the remote.
func (x *Exporter) settle(ctx context.Context, p *batchPush) error {
	<-p.done
	if p.err != nil {
		x.ready = false
		return p.err
	}
	if err := x.fail(stepPushed); err != nil {
		x.ready = false
		return err
	}
	if !x.local() {
		if _, err := x.git.Run(ctx, "update-ref", "refs/heads/"+x.cfg.Branch, p.tip); err != nil {
			x.ready = false
			return fmt.Errorf("move local branch: %w", err)
		}
	}
	now := x.cfg.Now()
	x.mu.Lock()
	x.status.LastExportedEventID, x.status.Head, x.status.LastPushAt = p.last, p.tip, &now
	// A push went through: the export works again, even if a backlog
	// remains after an outage.
	x.healthyLocked()
	x.mu.Unlock()
	x.batches++
	return nil
}

// exportBatch writes events as commits on base and publishes them, with
// no other batch in flight. If an event cannot be written, the events
// before it are still exported, and the error names it.
func (x *Exporter) exportBatch(ctx context.Context, events []*railyard.Event) error {
	p, failed, err := x.stage(ctx, events)
	if err != nil {
		return x.buildFailed(ctx, events, failed, err)
	}
	if err := x.advance(p); err != nil {
		return err
	}
	x.start(ctx, p)
	return x.settle(ctx, p)
}

// buildFailed handles a batch whose build failed with err, with no push in
// flight: the events before the one that failed (failed > 0) are exported
// alone, and the exporter resumes from the repository.
func (x *Exporter) buildFailed(ctx context.Context, events []*railyard.Event, failed int, err error) error {
	if failed > 0 && ctx.Err() == nil {
		if err := x.exportBatch(ctx, events[:failed]); err != nil {
			return err
		}
	}
	x.ready = false // rebuild the index from the repository
	return err
}

// pushConfig is how the exporter's git push packs a batch. The batch's
// objects are already in the repository as the pack writer wrote them:
// trees as deltas of their previous version, blobs whole. pack.window=0
// sends them so, reusing those deltas, instead of searching every new
// blob and whole tree against ten others for a smaller delta: that search
// was a third of pack-objects' time, and its deep blob deltas cost the
// remote's index-pack more again to resolve (BENCHMARKS.md, "Push mode").
var pushConfig = []string{"-c", "pack.window=0"}

// pushNice is the niceness of git push and every process it starts
// (pack-objects, ssh, git-remote-http; for a file:// remote also the
// receiving side). Catching up a backlog pushes for a long time: at a
// lower priority it takes the CPU the API leaves, instead of slowing the
// API down (BENCHMARKS.md, "Push mode").
var pushNice = 5
