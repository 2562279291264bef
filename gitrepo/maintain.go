package gitrepo

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Every batch installs one pack in the exporter's repository. Left alone
// their number grows without bound, and every reader (the built-in Git
// server, Argo CD's fetches, the exporter's own lookups) searches all of
// them. `git gc --auto` would instead repack the whole repository once
// there are 50, on the export path, at a cost that grows with the
// repository. So Run repacks in the background, geometrically:
// `git repack --geometric=2 -d` rolls the smallest packs into one until
// every pack holds at least twice the objects of all smaller packs
// together. The number of packs stays logarithmic in the number of
// objects, a repack rewrites mostly recent objects, and export never
// waits for it. Git makes this safe while readers and the exporter work:
// a new pack is complete before the packs it replaces are deleted, and
// those packs stay readable by anyone who has them open.

// repacker runs the background repacks of one Run, one at a time.
type repacker struct {
	x       *Exporter
	running atomic.Bool
	wg      sync.WaitGroup
	// since counts the batches exported since the last repack started.
	since int
}

// batchesDone notes that n more batches were exported and starts a
// repack when RepackEvery of them have accumulated and none is running.
func (r *repacker) batchesDone(ctx context.Context, n int) {
	r.since += n
	if r.since < r.x.cfg.RepackEvery || !r.running.CompareAndSwap(false, true) {
		return
	}
	r.since = 0
	r.wg.Go(func() {
		defer r.running.Store(false)
		defer func() {
			if v := recover(); v != nil { // never take the process down
				r.x.cfg.Logger.Error("git repack panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			}
		}()
		err := r.x.repack(ctx)
		if err != nil && ctx.Err() == nil {
			r.x.cfg.Logger.Warn("git repack failed", "error", err)
		}
		if r.x.afterRepack != nil {
			r.x.afterRepack(err)
		}
	})
}

// wait waits for the running repack, which ends early if ctx has ended.
func (r *repacker) wait() { r.wg.Wait() }

// repackTimeouts is how many git timeouts a repack may take: it may read
// much of the repository.
const repackTimeouts = 10

// repack rolls the repository's small packs into bigger ones.
func (x *Exporter) repack(ctx context.Context) error {
	_, err := x.git.WithTimeout(repackTimeouts*x.cfg.GitTimeout).Run(ctx, "repack", "-d", "-q", "--geometric=2")
	return err
}
