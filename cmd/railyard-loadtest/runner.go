package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// runner runs the load of one invocation. Its atomics are shared by the
// workers; everything else is set up before the workers start.
type runner struct {
	opts     Options
	client   *client
	gen      *manifestGen
	progress io.Writer

	// tracker matches acknowledgements with arrivals in Git; a new one
	// per phase. Never nil.
	tracker atomic.Pointer[tracker]
	watch   *watchLoop
	memory  *memorySampler

	// relSeq is the number of the next release.
	relSeq atomic.Int64
	// phases counts the phases run; it makes lock ids unique across them.
	phases int
	// noTrains is set once the server answered 404 to a train before any
	// succeeded; trainOK once one succeeded.
	noTrains atomic.Bool
	trainOK  atomic.Bool

	// Live counters of the progress line.
	liveRequests atomic.Int64
	liveErrors   atomic.Int64
	liveCreated  atomic.Int64
}

// count updates the live counters with one answer.
func (r *runner) count(a answer) {
	r.liveRequests.Add(1)
	if !a.ok() {
		r.liveErrors.Add(1)
	}
}

// Run runs the load that opts describe against opts.Server and reports
// it: setup, prepopulation, the measured run, the release of the locks it
// still holds, and the wait for Git. The progress line, if asked for, is
// written to progress. An error means the run could not be made; what
// went wrong with requests is in the report.
func Run(ctx context.Context, opts Options, progress io.Writer) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	r := &runner{
		opts:     opts,
		client:   newClient(opts.Server, opts.Clients, opts.RequestTimeout),
		gen:      newManifestGen(opts.ManifestSize, opts.Envs, opts.Seed),
		progress: progress,
	}
	defer r.client.close()
	r.tracker.Store(newTracker())
	if opts.Setup != "" {
		if err := r.client.setupEnvironments(ctx, opts.Setup, opts.Group, opts.Envs); err != nil {
			return nil, err
		}
	}
	stop, err := r.startObserving(ctx)
	if err != nil {
		return nil, err
	}
	defer stop()
	rep := newReport(&r.opts)
	if opts.Prepopulate > 0 {
		if rep.Prepopulate, err = r.prepopulate(ctx); err != nil {
			return nil, err
		}
	}
	r.measure(ctx, rep)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return rep, nil
}

// startObserving starts what watches the server while the load runs: the
// Git watcher (--git-remote) and the memory sampler (--pid). The returned
// function stops them.
func (r *runner) startObserving(ctx context.Context) (stop func(), err error) {
	bg, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var cleanup []func()
	stop = func() {
		cancel()
		wg.Wait()
		for _, f := range cleanup {
			f()
		}
	}
	if r.opts.GitRemote != "" {
		tmp, err := os.MkdirTemp("", "railyard-loadtest-watch-")
		if err != nil {
			stop()
			return nil, err
		}
		cleanup = append(cleanup, func() { os.RemoveAll(tmp) })
		w, err := openWatcher(ctx, r.opts.GitRemote, r.opts.GitBranch, tmp)
		if err != nil {
			stop()
			return nil, fmt.Errorf("watch %s: %w", r.opts.GitRemote, err)
		}
		if r.opts.GitPoll == 0 {
			// A local repository costs a rev-parse to poll; a URL costs
			// a request to its server.
			r.opts.GitPoll = 50 * time.Millisecond
			if w.url != "" {
				r.opts.GitPoll = 500 * time.Millisecond
			}
		}
		r.watch = &watchLoop{w: w, tracker: &r.tracker, interval: r.opts.GitPoll}
		wg.Go(func() { r.watch.run(bg) })
	}
	if r.opts.PID > 0 {
		if _, err := readProcMemory(r.opts.PID); err != nil {
			stop()
			return nil, fmt.Errorf("--pid %d: %w", r.opts.PID, err)
		}
		r.memory = &memorySampler{pid: r.opts.PID}
		wg.Go(func() { r.memory.run(bg) })
	}
	return stop, nil
}

// measure runs the measured phase, releases the locks the workers still
// hold, waits for Git and fills in the report.
func (r *runner) measure(ctx context.Context, rep *Report) {
	r.tracker.Store(newTracker())
	if r.memory != nil {
		r.memory.peakKiB.Store(0)
	}
	stopProgress := r.startProgress(ctx, "run")
	defer stopProgress()
	cpuStart := takeCPUSnapshot(r.opts.PID)
	res := r.runPhase(ctx, phase{mix: r.opts.Mix, releases: r.opts.Releases, duration: r.opts.Duration, rate: r.opts.Rate, stop: r.opts.Stop})
	rep.addPhase(res, r)
	rep.Counts.LocksDeletedAtEnd = r.releaseLocks(ctx, res.held)
	if r.watch != nil {
		r.waitExported(ctx, r.tracker.Load(), r.opts.GitTimeout)
		e := r.tracker.Load().report()
		e.Remote, e.Branch = r.opts.GitRemote, r.opts.GitBranch
		e.PollErrors, e.LastPollError = r.watch.errorCount()
		rep.EndToEnd = &e
	}
	rep.Machine = newMachine(cpuStart, takeCPUSnapshot(r.opts.PID))
	if r.memory != nil {
		rep.Memory = r.memory.report()
	}
}

// prepopulate publishes opts.Prepopulate releases round-robin over the
// applications and waits until they are all in Git.
func (r *runner) prepopulate(ctx context.Context) (*PrepopulateReport, error) {
	stopProgress := r.startProgress(ctx, "prepopulate")
	defer stopProgress()
	res := r.runPhase(ctx, phase{mix: Mix{Releases: 1}, releases: r.opts.Prepopulate})
	ops := &res.ops[opRelease]
	pre := &PrepopulateReport{
		Releases:  len(ops.latencies),
		Created:   res.created,
		Existing:  res.existing,
		Errors:    ops.report(0).Errors,
		Seconds:   round2(res.seconds()),
		PerSecond: round2(float64(len(ops.latencies)) / res.seconds()),
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if errs := ops.errorCount(); errs > 0 {
		return nil, fmt.Errorf("prepopulate: %d of %d releases failed, first answers: %v", errs, len(ops.latencies), ops.samples)
	}
	if r.watch != nil {
		ok := r.waitExported(ctx, r.tracker.Load(), r.opts.PrepopulateTimeout)
		pre.ExportWaitSeconds = round2(time.Since(res.end).Seconds())
		if !ok {
			return nil, fmt.Errorf("prepopulate: %d acknowledged releases did not reach %s within %s", r.tracker.Load().pending(), r.opts.GitRemote, r.opts.PrepopulateTimeout)
		}
	}
	return pre, nil
}

// waitExported waits until every release t tracks has arrived, at most
// timeout; it reports whether they all did.
func (r *runner) waitExported(ctx context.Context, t *tracker, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(r.opts.GitPoll)
	defer tick.Stop()
	for t.pending() > 0 {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-tick.C:
		}
	}
	return true
}

// releaseLocks deletes the locks the workers still hold, so that the run
// leaves no environment locked; it returns how many it deleted. These
// requests are not part of the measured operations.
func (r *runner) releaseLocks(ctx context.Context, held []heldLock) int {
	n := 0
	for _, l := range held {
		if r.client.deleteLock(ctx, l.env, l.id).ok() {
			n++
		}
	}
	return n
}

// watchLoop polls the watcher and hands arrivals to the current tracker.
type watchLoop struct {
	w        *watcher
	tracker  *atomic.Pointer[tracker]
	interval time.Duration

	mu      sync.Mutex
	errs    int
	lastErr string
}

// run polls until ctx is done.
func (l *watchLoop) run(ctx context.Context) {
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		keys, at, err := l.w.poll(ctx)
		switch {
		case err != nil && !errors.Is(ctx.Err(), context.Canceled):
			l.mu.Lock()
			l.errs++
			l.lastErr = err.Error()
			l.mu.Unlock()
		case len(keys) > 0:
			l.tracker.Load().arrived(keys, at)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// errorCount returns the number of failed polls and the last error.
func (l *watchLoop) errorCount() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs, l.lastErr
}

// startProgress prints a progress line every second until the returned
// function is called, if the options ask for it.
func (r *runner) startProgress(ctx context.Context, name string) func() {
	if !r.opts.Progress || r.progress == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	p := &progressLine{w: r.progress, terminal: isTerminal(r.progress)}
	go func() {
		defer close(done)
		start := time.Now()
		// The counters run over every phase: show this phase's part.
		baseRequests, baseCreated, baseErrors := r.liveRequests.Load(), r.liveCreated.Load(), r.liveErrors.Load()
		lastRequests := baseRequests
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				p.finish()
				return
			case <-tick.C:
			}
			requests := r.liveRequests.Load()
			line := fmt.Sprintf("[%s %4.0fs] %d requests (%d/s), %d releases created, %d errors",
				name, time.Since(start).Seconds(), requests-baseRequests, requests-lastRequests, r.liveCreated.Load()-baseCreated, r.liveErrors.Load()-baseErrors)
			lastRequests = requests
			if r.watch != nil {
				t := r.tracker.Load()
				line += fmt.Sprintf(", in git %d, waiting %d", t.arrivedCount(), t.pending())
			}
			if r.memory != nil {
				line += fmt.Sprintf(", server rss %.0f MiB", mib(r.memory.lastKiB.Load()))
			}
			p.print(line)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
