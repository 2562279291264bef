package railyard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/railyard-cd/railyard/internal/cron"
)

// Reconcile is Railyard's periodic housekeeping, applied as SystemActor:
// it removes expired locks, deploys queued versions whose blockers are all
// gone (a lock expired, a deploy window opened) and drops queued versions
// that a branch restriction refuses. One event if anything changed.
type Reconcile struct{}

// SchedulerActor is the actor of the release trains Railyard runs on the
// schedules of environments (EnvironmentConfig.ReleaseTrains).
var SchedulerActor = Actor{Name: "Railyard scheduler", Email: "railyard@localhost"}

// Reconcile runs Railyard's housekeeping as SystemActor: it removes
// expired locks, deploys every queued version whose blockers are all gone
// (a lock expired or was removed, a deploy window opened) and drops queued
// versions a branch restriction refuses. It returns the event, or nil if
// nothing changed. The server runs it periodically (and at NextWakeup).
func (e *Engine) Reconcile(ctx context.Context) (*Event, error) {
	res, err := e.ApplyOne(ctx, SystemActor, &Reconcile{})
	if err != nil {
		return nil, err
	}
	return res.Event, nil
}

// ExpireLocks is Reconcile under its former name, which removed expired
// locks only.
func (e *Engine) ExpireLocks(ctx context.Context) (*Event, error) {
	return e.Reconcile(ctx)
}

// Kind implements Command.
func (*Reconcile) Kind() string { return KindReconcile }

// Validate implements Command.
func (*Reconcile) Validate() error { return nil }

func (*Reconcile) apply(ctx context.Context, c *commandContext) (*Result, error) {
	removed, expired, err := c.removeExpiredLocks(ctx)
	if err != nil {
		return nil, err
	}
	deps, err := c.tx.FindDeployments(ctx, DeploymentFilter{Queued: true})
	if err != nil {
		return nil, err
	}
	byEnv := make(map[string][]*Deployment)
	for _, d := range deps {
		if d.QueuedVersion != nil {
			byEnv[d.Environment] = append(byEnv[d.Environment], d)
		}
	}
	var deployed queuedDeploys
	var dropped []string
	for _, env := range slices.Sorted(maps.Keys(byEnv)) {
		cfg, err := c.environment(ctx, env)
		if err != nil {
			return nil, err
		}
		run, err := c.deployQueued(ctx, byEnv[env], queueRules{dropRestricted: true,
			reason: reconcileReason(expired[env], len(cfg.Config.DeployWindows) > 0)})
		if err != nil {
			return nil, err
		}
		for i, label := range run.deployed {
			note := ""
			if run.reasons[i] == reasonWindowOpened {
				note = reasonWindowOpened
			}
			deployed.add(label, env, note)
		}
		for _, label := range run.dropped {
			dropped = append(dropped, label+" in "+env)
		}
	}
	if len(c.changes) == 0 {
		return &Result{Outcome: OutcomeUnchanged}, nil
	}
	c.describeScaled(describeReconcile(removed, deployed, dropped), compactReconcile(removed, deployed, dropped),
		reconcileDetails(removed, deployed, dropped))
	return &Result{Outcome: OutcomeUpdated}, nil
}

// removeExpiredLocks deletes every expired lock. It returns their
// descriptions and the expired locks by environment.
func (c *commandContext) removeExpiredLocks(ctx context.Context) ([]string, map[string][]*Lock, error) {
	locks, err := c.tx.FindLocks(ctx, LockFilter{})
	if err != nil {
		return nil, nil, err
	}
	var removed []string
	expired := make(map[string][]*Lock)
	for _, l := range locks {
		if !l.Expired(c.now) {
			continue
		}
		if err := c.deleteLock(ctx, l, "expired "+describeTime(*l.ExpiresAt)); err != nil {
			return nil, nil, err
		}
		removed = append(removed, fmt.Sprintf("%s (%s)", l.describe(), l.ID))
		expired[l.Environment] = append(expired[l.Environment], l)
	}
	return removed, expired, nil
}

// reconcileReason says why a queued version is deployed now: a lock that
// held it expired, or else its environment's deploy window opened (or,
// without windows, its last blocker went some other way).
func reconcileReason(expired []*Lock, hasWindows bool) func(*Deployment, string) string {
	return func(dep *Deployment, team string) string {
		for _, l := range expired {
			if l.applies(dep.Application, team) {
				return reasonLastBlockerRemoved
			}
		}
		if hasWindows {
			return reasonWindowOpened
		}
		return reasonLastBlockerRemoved
	}
}

// describeReconcile says what Reconcile did, naming everything: "Remove
// expired locks: development (short); deploy queued checkout 2 to
// development".
func describeReconcile(removed []string, deployed queuedDeploys, dropped []string) string {
	var parts []string
	if len(removed) > 0 {
		parts = append(parts, "Remove expired locks: "+strings.Join(removed, ", "))
	}
	var byNote labelGroups
	for _, d := range deployed {
		byNote.add(d.note, d.label+" to "+d.env)
	}
	for _, g := range byNote {
		s := "deploy queued " + strings.Join(g.names, ", ")
		if g.label != "" {
			s += " (" + g.label + ")"
		}
		parts = append(parts, s)
	}
	if len(dropped) > 0 {
		parts = append(parts, fmt.Sprintf("drop queued %s (%s)", strings.Join(dropped, ", "), SkipBranchRestricted))
	}
	return capitalize(strings.Join(parts, "; "))
}

// compactReconcile says what Reconcile did in counts: "Remove 2 expired
// locks, deploy 2,000 queued applications to production".
func compactReconcile(removed []string, deployed queuedDeploys, dropped []string) string {
	var parts []string
	if len(removed) > 0 {
		parts = append(parts, "remove "+countOf(len(removed), "expired lock"))
	}
	if len(deployed) > 0 {
		parts = append(parts, "deploy "+deployed.count(""))
	}
	if len(dropped) > 0 {
		parts = append(parts, fmt.Sprintf("drop %s (%s)", countOf(len(dropped), "queued version"), SkipBranchRestricted))
	}
	return capitalize(strings.Join(parts, ", "))
}

// reconcileDetails is one line per removed lock, deployed and dropped
// version.
func reconcileDetails(removed []string, deployed queuedDeploys, dropped []string) []string {
	lines := make([]string, 0, len(removed)+len(deployed)+len(dropped))
	for _, r := range removed {
		lines = append(lines, "Remove expired lock "+r)
	}
	lines = append(lines, deployed.details()...)
	for _, d := range dropped {
		lines = append(lines, fmt.Sprintf("Drop queued %s (%s)", d, SkipBranchRestricted))
	}
	return lines
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// NextWakeup returns the next time at which Reconcile or
// RunScheduledTrains has something to do on their own: the earliest lock
// expiry, change of an environment's deploy windows, or scheduled train
// after now. It is the zero time if nothing is scheduled. The server may
// sleep until then (and should still run Reconcile now and then).
func (e *Engine) NextWakeup(ctx context.Context) (time.Time, error) {
	now := normalizeTime(e.now())
	var next time.Time
	consider := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	err := e.store.View(ctx, func(tx Tx) error {
		locks, err := tx.FindLocks(ctx, LockFilter{})
		if err != nil {
			return err
		}
		for _, l := range locks {
			if l.ExpiresAt != nil {
				consider(maxTime(*l.ExpiresAt, now))
			}
		}
		envs, err := tx.FindEnvironments(ctx)
		if err != nil {
			return err
		}
		for _, env := range envs {
			if err := envWakeups(env, now, consider); err != nil {
				return err
			}
		}
		return nil
	})
	return next, err
}

// envWakeups passes the next window change and scheduled trains of env
// after now to consider.
func envWakeups(env *Environment, now time.Time, consider func(time.Time)) error {
	if len(env.Config.DeployWindows) > 0 {
		st, err := EvaluateDeployWindows(env.Config.DeployWindows, now)
		if err != nil {
			return fmt.Errorf("environment %s: %w", env.Name, err)
		}
		if st.NextChange != nil {
			consider(*st.NextChange)
		}
	}
	for _, st := range env.Config.ReleaseTrains {
		s, err := cron.Parse(st.Schedule, st.TimeZone)
		if err != nil {
			return fmt.Errorf("environment %s: release train schedule: %w", env.Name, err)
		}
		if t, ok := s.Next(now); ok {
			consider(t)
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// dueTrain is a scheduled train whose schedule fired.
type dueTrain struct {
	env, team string
	at        time.Time
}

// RunScheduledTrains runs, as SchedulerActor, the release train of every
// environment schedule (EnvironmentConfig.ReleaseTrains) that fired in
// (since, until]: once, for its latest fire time in that interval, even
// if it fired several times (a server that was down catches up with one
// train, not many). A fire time whose train already has an event is not
// run again, so overlapping intervals, restarts and several servers are
// safe; a train that changed nothing leaves no event, and running it
// again changes nothing either unless the upstream moved meanwhile. It
// returns the events of the trains that changed something; the failure of
// one train does not stop the others, and all failures are returned
// joined.
func (e *Engine) RunScheduledTrains(ctx context.Context, since, until time.Time) ([]*Event, error) {
	if !since.Before(until) {
		return nil, Errorf(EINVALID, "since (%s) must be before until (%s)", describeTime(since), describeTime(until)).WithField("since")
	}
	// A train never runs before its time: its event must not be older
	// than the fire time it records (that is how a rerun is recognized).
	if now := normalizeTime(e.now()); until.After(now) {
		until = now
	}
	if !since.Before(until) {
		return nil, nil
	}
	var due []dueTrain
	err := e.store.View(ctx, func(tx Tx) error {
		envs, err := tx.FindEnvironments(ctx)
		if err != nil {
			return err
		}
		SortEnvironments(envs)
		for _, env := range envs {
			for _, st := range env.Config.ReleaseTrains {
				s, err := cron.Parse(st.Schedule, st.TimeZone)
				if err != nil {
					return fmt.Errorf("environment %s: release train schedule: %w", env.Name, err)
				}
				if at, ok := s.Latest(until, since); ok {
					due = append(due, dueTrain{env: env.Name, team: st.Team, at: normalizeTime(at)})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var events []*Event
	var errs []error
	for _, d := range due {
		at := d.at
		res, err := e.ApplyOne(ctx, SchedulerActor, &ReleaseTrain{Environment: d.env, Team: d.team, ScheduledAt: &at})
		if err != nil {
			errs = append(errs, fmt.Errorf("scheduled release train to %s at %s: %w", d.env, describeTime(at), err))
			continue
		}
		if res.Event != nil {
			events = append(events, res.Event)
		}
	}
	return events, errors.Join(errs...)
}

// minWakeupDelay bounds how soon the scheduler runs again after a run, so
// that a wake-up time that keeps being "now" cannot spin.
const minWakeupDelay = time.Second

// Scheduler runs Railyard's own work beside the API: Reconcile (remove
// expired locks, deploy queued versions nothing blocks any more, such as
// when a deploy window opened, drop what a branch restriction refuses) and
// the release trains environments schedule for themselves. It is the edge
// where their errors end: they are logged, and the next run tries again.
// A scheduler runs in one goroutine (Run); several servers on one store
// are safe, since the engine runs each scheduled train once.
type Scheduler struct {
	Engine *Engine
	Logger *slog.Logger
	// Wake returns a channel that receives once d has passed (time.After);
	// nil means the scheduler runs at its ticks only, which is how tests
	// drive it without sleeping.
	Wake func(d time.Duration) <-chan time.Time
}

// Run runs at once, then at every tick and, between ticks, at the
// engine's next wake-up (a lock expires, a deploy window opens or closes,
// a train is due), until ctx is done. Every change to the state may move
// that wake-up (a new lock with an expiry, new windows), so the scheduler
// asks for it again after each commit. The first run starts the scheduled
// trains that fired after since (a server that was down catches up with
// each missed train once); every later run those that fired after the
// run before. A train that fails is logged and not retried: it runs again
// at its next fire time.
func (s *Scheduler) Run(ctx context.Context, since time.Time, ticks <-chan time.Time) {
	var changes <-chan struct{}
	if s.Wake != nil {
		signals, unsubscribe := s.Engine.Subscribe()
		defer unsubscribe()
		changes = signals
	}
	last, due := since, true
	var wakeup <-chan time.Time
	for {
		if due {
			last = s.runOnce(ctx, last)
		}
		if s.Wake != nil {
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
func (s *Scheduler) runOnce(ctx context.Context, last time.Time) time.Time {
	ev, err := s.Engine.Reconcile(ctx)
	switch {
	case err != nil:
		s.logError(ctx, "reconcile", err)
	case ev != nil:
		s.Logger.Info("reconciled", "event_id", ev.ID, "description", ev.Summary())
	}
	now := s.Engine.now()
	if !last.Before(now) {
		return last
	}
	events, err := s.Engine.RunScheduledTrains(ctx, last, now)
	for _, ev := range events {
		s.Logger.Info("scheduled release train", "event_id", ev.ID, "description", ev.Summary())
	}
	if err != nil {
		s.logError(ctx, "scheduled release trains", err)
	}
	return now
}

// nextWakeup returns a channel that receives at the engine's next
// wake-up time, or nil if nothing is scheduled.
func (s *Scheduler) nextWakeup(ctx context.Context) <-chan time.Time {
	next, err := s.Engine.NextWakeup(ctx)
	if err != nil {
		s.logError(ctx, "next wake-up", err)
		return nil
	}
	if next.IsZero() {
		return nil
	}
	return s.Wake(max(next.Sub(s.Engine.now()), minWakeupDelay))
}

// logError logs err unless the server is shutting down.
func (s *Scheduler) logError(ctx context.Context, what string, err error) {
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return
	}
	s.Logger.Error(what, "error", err)
}
