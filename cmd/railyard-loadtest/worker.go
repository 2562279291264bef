package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// phase is one stretch of load: the prepopulation or the measured run.
type phase struct {
	mix Mix
	// releases ends the phase after this many release requests (0: no
	// limit); duration after this long (0: no limit).
	releases int
	duration time.Duration
	// rate is the open-loop rate of operations per second (0: closed loop).
	rate float64
	// stop, if set, ends the phase when it is closed.
	stop <-chan struct{}
}

// phaseResult is what the workers of a phase did.
type phaseResult struct {
	start, end time.Time
	ops        [numOps]opStats
	// duringTrains are the releases whose request overlapped a release
	// train's: in an open loop from the release's scheduled start, so
	// that a release held back while every worker waited on a train
	// counts too.
	duringTrains opStats
	// created counts releases answered 201, existing those answered 200
	// (the same version with the same content was there already).
	created, existing int
	// held are the locks the workers still hold at the end.
	held []heldLock
}

// seconds is the phase's length.
func (p *phaseResult) seconds() float64 { return p.end.Sub(p.start).Seconds() }

// heldLock is an environment lock a worker created and has not deleted.
type heldLock struct{ env, id string }

// runPhase runs the workers of p until its end. Requests in flight when
// the phase ends are completed and counted; ctx cancels everything.
func (r *runner) runPhase(ctx context.Context, p phase) *phaseResult {
	stop, halt := context.WithCancel(ctx)
	defer halt()
	if p.duration > 0 {
		var cancel context.CancelFunc
		stop, cancel = context.WithTimeout(stop, p.duration)
		defer cancel()
	}
	if p.stop != nil {
		go func() {
			select {
			case <-p.stop:
				halt()
			case <-stop.Done():
			}
		}()
	}
	relStart := r.relSeq.Load()
	res := &phaseResult{start: time.Now()}
	var ticks chan time.Time
	if p.rate > 0 {
		ticks = make(chan time.Time)
		go dispatch(stop, ticks, res.start, p.rate)
	}
	workers := make([]*worker, r.opts.Clients)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{id: i, r: r, rng: rand.New(rand.NewPCG(r.opts.Seed, uint64(i)<<32|uint64(r.phases))), spans: p.mix.Trains > 0}
		workers[i] = w
		wg.Go(func() { w.run(ctx, stop, halt, &p, relStart, ticks) })
	}
	wg.Wait()
	res.end = time.Now()
	r.phases++
	res.collect(workers)
	// Workers that found the limit reached took a number each: give
	// the next phase the first one not sent.
	r.relSeq.Store(relStart + int64(len(res.ops[opRelease].latencies)))
	return res
}

// collect merges what the workers did.
func (res *phaseResult) collect(workers []*worker) {
	var trains []span
	for _, w := range workers {
		trains = append(trains, w.trains...)
	}
	trains = mergeSpans(trains)
	for _, w := range workers {
		for o := range numOps {
			res.ops[o].merge(&w.stats[o])
		}
		for _, rel := range w.releases {
			if overlaps(trains, rel.span) {
				res.duringTrains.record(rel.answer, rel.latency)
			}
		}
		res.created += w.created
		res.existing += w.existing
		if w.lock != nil {
			res.held = append(res.held, *w.lock)
		}
	}
}

// dispatch sends the intended start time of each operation of an open
// loop: the i-th at start + i/rate. When every worker is busy the send
// waits, and the operation's latency, counted from its intended start,
// includes the wait: a slow server cannot hide behind a slowed client.
func dispatch(stop context.Context, ticks chan<- time.Time, start time.Time, rate float64) {
	defer close(ticks)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-stop.Done():
				return
			case <-timer.C:
			}
		}
		select {
		case ticks <- at:
		case <-stop.Done():
			return
		}
	}
}

// worker is one concurrent client. Its fields are its own: results are
// merged when the phase ends.
type worker struct {
	id    int
	r     *runner
	rng   *rand.Rand
	stats [numOps]opStats
	// releases and trains are the spans of its requests, to tell which
	// releases overlapped a train; releases are kept only when spans is
	// set (the mix has trains).
	spans             bool
	releases          []releaseSpan
	trains            []span
	created, existing int
	lock              *heldLock
	lockSeq           int
	body              bytes.Buffer
	manifests         []envManifest
}

// run sends operations until the phase stops.
func (w *worker) run(ctx, stop context.Context, halt context.CancelFunc, p *phase, relStart int64, ticks <-chan time.Time) {
	for {
		var begin time.Time
		if ticks != nil {
			select {
			case at, ok := <-ticks:
				if !ok {
					return
				}
				begin = at
			case <-stop.Done():
				return
			}
		} else if stop.Err() != nil {
			return
		}
		total := p.mix.total(w.r.noTrains.Load())
		if total == 0 {
			return
		}
		switch p.mix.pick(w.rng.IntN(total)) {
		case opRelease:
			n := w.r.relSeq.Add(1) - 1
			if p.releases > 0 && n >= relStart+int64(p.releases) {
				halt()
				return
			}
			w.release(ctx, n, begin)
		case opLockCreate:
			if w.lock != nil {
				w.unlock(ctx, begin)
			} else {
				w.lockEnvironment(ctx, begin)
			}
		case opTrain:
			w.train(ctx, begin)
		}
	}
}

// since is the latency of a request that began at begin (its intended
// start in an open loop) or, when begin is zero, at sent.
func since(begin, sent, end time.Time) time.Duration {
	if begin.IsZero() {
		return end.Sub(sent)
	}
	return end.Sub(begin)
}

// release publishes release number n: application n mod apps, version
// FirstVersion + n div apps.
func (w *worker) release(ctx context.Context, n int64, begin time.Time) {
	r := w.r
	apps := int64(r.opts.Apps)
	key := releaseKey{app: appName(int(n % apps)), version: r.opts.FirstVersion + n/apps}
	contentType, body := w.releaseBody(key)
	sent := time.Now()
	a := r.client.release(ctx, contentType, body)
	end := time.Now()
	elapsed := since(begin, sent, end)
	w.stats[opRelease].record(a, elapsed)
	if w.spans {
		from := begin
		if from.IsZero() {
			from = sent
		}
		w.releases = append(w.releases, releaseSpan{span: span{from, end}, answer: a, latency: elapsed})
	}
	switch {
	case a.err != nil:
	case a.status == http.StatusCreated:
		w.created++
		r.liveCreated.Add(1)
		r.tracker.Load().ack(key, end)
	case a.status == http.StatusOK:
		w.existing++
	}
	r.count(a)
}

// releaseBody builds the upload of a release in the worker's buffer.
func (w *worker) releaseBody(key releaseKey) (string, []byte) {
	r := w.r
	if w.manifests == nil {
		w.manifests = make([]envManifest, len(r.opts.Envs))
	}
	for i, env := range r.opts.Envs {
		w.manifests[i] = envManifest{Env: env, Content: r.gen.appendManifest(w.manifests[i].Content[:0], key.app, key.version, env)}
	}
	v := strconv.FormatInt(key.version, 10)
	req := &releaseRequest{
		Application:    key.app,
		Version:        key.version,
		Team:           r.opts.Team,
		SourceCommitID: sourceCommitID(key.app, key.version),
		SourceAuthor:   "Load Test <" + actorEmail + ">",
		SourceMessage:  "Release " + key.app + " " + v + " (railyard-loadtest)",
		DisplayVersion: "1." + v,
		Manifests:      w.manifests,
	}
	w.body.Reset()
	contentType, err := writeReleaseBody(&w.body, releaseBoundary, req)
	if err != nil {
		// Writing to a bytes.Buffer with a valid boundary cannot fail.
		panic(err)
	}
	return contentType, w.body.Bytes()
}

// lockEnvironment creates an environment lock on a random environment.
func (w *worker) lockEnvironment(ctx context.Context, begin time.Time) {
	r := w.r
	l := heldLock{env: r.opts.Envs[w.rng.IntN(len(r.opts.Envs))], id: fmt.Sprintf("loadtest-%d-%d-%d", r.phases, w.id, w.lockSeq)}
	w.lockSeq++
	sent := time.Now()
	a := r.client.createLock(ctx, l.env, l.id, "railyard-loadtest: lock "+l.id)
	w.stats[opLockCreate].record(a, since(begin, sent, time.Now()))
	if a.ok() {
		w.lock = &l
	}
	r.count(a)
}

// unlock deletes the worker's lock.
func (w *worker) unlock(ctx context.Context, begin time.Time) {
	r := w.r
	sent := time.Now()
	a := r.client.deleteLock(ctx, w.lock.env, w.lock.id)
	w.stats[opLockDelete].record(a, since(begin, sent, time.Now()))
	w.lock = nil
	r.count(a)
}

// train runs a release train into the train target. A server that
// answers 404 before any train succeeded does not have the endpoint (or
// the target): trains are left out of the mix from then on.
func (w *worker) train(ctx context.Context, begin time.Time) {
	r := w.r
	sent := time.Now()
	a := r.client.train(ctx, r.opts.TrainTarget, r.opts.TrainTeam)
	end := time.Now()
	w.trains = append(w.trains, span{sent, end})
	w.stats[opTrain].record(a, since(begin, sent, end))
	switch {
	case a.ok():
		r.trainOK.Store(true)
	case a.err == nil && a.status == http.StatusNotFound && !r.trainOK.Load():
		r.noTrains.Store(true)
	}
	r.count(a)
}

// span is the time from one moment to another.
type span struct{ from, to time.Time }

// releaseSpan is one release request: from its start (its scheduled
// start in an open loop) until its answer.
type releaseSpan struct {
	span
	answer  answer
	latency time.Duration
}

// mergeSpans sorts spans and merges the overlapping ones.
func mergeSpans(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.from.Compare(b.from) })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && !s.from.After(out[n-1].to) {
			if s.to.After(out[n-1].to) {
				out[n-1].to = s.to
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// overlaps reports whether s overlaps one of the sorted, disjoint spans.
func overlaps(sorted []span, s span) bool {
	// The first span that ends after s starts is the only candidate.
	i, _ := slices.BinarySearchFunc(sorted, s.from, func(t span, at time.Time) int {
		if t.to.After(at) {
			return 1
		}
		return -1
	})
	return i < len(sorted) && sorted[i].from.Before(s.to)
}
