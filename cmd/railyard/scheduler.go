package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/railyard-cd/railyard"
)

// scheduler runs Railyard's own work beside the API: Reconcile (remove
// expired locks, deploy queued versions nothing blocks any more, such as
// when a deploy window opened, drop what a branch restriction refuses) and
// the release trains environments schedule for themselves. It is the edge
// where their errors end: they are logged, and the next run tries again.
// A scheduler runs in one goroutine; several servers on one store are
// safe, since the engine runs each scheduled train once.
type scheduler struct {
	engine *railyard.Engine
	logger *slog.Logger
	// wake returns a channel that receives once d has passed (time.After);
	// nil means the scheduler runs at its ticks only, which is how tests
	// drive it without sleeping.
	wake func(d time.Duration) <-chan time.Time
}

// run runs at once, then at every tick and, between ticks, at the
// engine's next wake-up (a lock expires, a deploy window opens or closes,
// a train is due), until ctx is done. Every change to the state may move
// that wake-up (a new lock with an expiry, new windows), so the scheduler
// asks for it again after each commit. The first run starts the scheduled
// trains that fired after since (a server that was down catches up with
// each missed train once); every later run those that fired after the
// run before. A train that fails is logged and not retried: it runs again
// at its next fire time.
func (s *scheduler) run(ctx context.Context, since time.Time, ticks <-chan time.Time) {
	var changes <-chan struct{}
	if s.wake != nil {
		signals, unsubscribe := s.engine.Subscribe()
		defer unsubscribe()
		changes = signals
	}
	last, due := since, true
	var wakeup <-chan time.Time
	for {
		if due {
			last = s.runOnce(ctx, last)
		}
		if s.wake != nil {
			wakeup = s.nextWakeup(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
			due = true
		case <-wakeup:
			due = true
		case <-changes:
			due = false // only when to wake up may have changed
		}
	}
}

// runOnce reconciles, then runs the scheduled trains that fired in
// (last, now], and returns now: where the next run continues.
func (s *scheduler) runOnce(ctx context.Context, last time.Time) time.Time {
	ev, err := s.engine.Reconcile(ctx)
	switch {
	case err != nil:
		s.logError(ctx, "reconcile", err)
	case ev != nil:
		s.logger.Info("reconciled", "event_id", ev.ID, "description", ev.Summary())
	}
	now := s.now()
	if !last.Before(now) {
		return last
	}
	events, err := s.engine.RunScheduledTrains(ctx, last, now)
	for _, ev := range events {
		s.logger.Info("scheduled release train", "event_id", ev.ID, "description", ev.Summary())
	}
	if err != nil {
		s.logError(ctx, "scheduled release trains", err)
	}
	return now
}

// nextWakeup returns a channel that receives at the engine's next
// wake-up time, or nil if nothing is scheduled.
func (s *scheduler) nextWakeup(ctx context.Context) <-chan time.Time {
	next, err := s.engine.NextWakeup(ctx)
	if err != nil {
		s.logError(ctx, "next wake-up", err)
		return nil
	}
	if next.IsZero() {
		return nil
	}
	return s.wake(max(next.Sub(s.now()), minWakeupDelay))
}

// now reads the engine's clock, so that the scheduler and the engine
// agree on what time it is.
func (s *scheduler) now() time.Time {
	if s.engine.Now != nil {
		return s.engine.Now()
	}
	return time.Now()
}

// logError logs err unless the server is shutting down.
func (s *scheduler) logError(ctx context.Context, what string, err error) {
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return
	}
	s.logger.Error(what, "error", err)
}
